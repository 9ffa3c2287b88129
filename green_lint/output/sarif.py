"""SARIF 2.1.0, the format GitHub code scanning and other security dashboards read."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from green_lint.findings import Finding
from green_lint.output._fingerprint import line_identities
from green_lint.output.report import RunReport, message_with_cell
from green_lint.rule import Rule

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/green-lint/green-lint"
SOURCE_ROOT = "%SRCROOT%"
_LEVELS = {"info": "note", "warning": "warning", "error": "error"}


def render(report: RunReport) -> str:
    rule_codes = sorted(report.rules)
    rule_indexes = {code: index for index, code in enumerate(rule_codes)}
    identities = line_identities(report)
    results = [
        _result(report, finding, rule_indexes, _fingerprint(identity, occurrence))
        for finding, (identity, occurrence) in zip(report.findings, identities, strict=True)
    ]
    run = {
        "tool": {
            "driver": {
                "name": "green-lint",
                "version": report.version,
                "informationUri": INFORMATION_URI,
                "rules": [_rule_descriptor(report.rules[code]) for code in rule_codes],
            }
        },
        "originalUriBaseIds": {SOURCE_ROOT: {"uri": report.root.resolve().as_uri() + "/"}},
        # Finding columns count characters, not UTF-16 code units (SARIF's default).
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    sarif = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return json.dumps(sarif, indent=2) + "\n"


def _rule_descriptor(rule: type[Rule]) -> dict[str, Any]:
    docs = rule.docs() or rule.summary
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": docs},
        "help": {"text": docs, "markdown": docs},
        "helpUri": rule.url(),
        "defaultConfiguration": {"level": _LEVELS.get(rule.severity, "warning")},
    }


def _result(
    report: RunReport, finding: Finding, rule_indexes: dict[str, int], fingerprint: str
) -> dict[str, Any]:
    result: dict[str, Any] = {"ruleId": finding.code}
    # A finding of a rule the report does not list (none should be) still gets a result.
    if finding.code in rule_indexes:
        result["ruleIndex"] = rule_indexes[finding.code]
    result.update(
        {
            "level": _LEVELS.get(finding.severity, "warning"),
            "message": {"text": message_with_cell(finding)},
            "locations": [{"physicalLocation": _physical_location(report, finding)}],
            "partialFingerprints": {"primaryLocationLineHash": fingerprint},
        }
    )
    if finding.related:
        result["relatedLocations"] = _related_locations(report, finding)
    return result


def _related_locations(report: RunReport, finding: Finding) -> list[dict[str, Any]]:
    """The other places the message names (a caller in another file, say), numbered from 1."""
    return [
        {
            "id": index,
            "physicalLocation": {
                "artifactLocation": _artifact_location(report.relative_path(related.filename)),
                "region": {"startLine": related.location.row},
            },
            "message": {"text": related.message},
        }
        for index, related in enumerate(finding.related, start=1)
    ]


def _physical_location(report: RunReport, finding: Finding) -> dict[str, Any]:
    region: dict[str, Any] = {
        "startLine": finding.location.row,
        "startColumn": finding.location.column,
        "endLine": finding.end_location.row,
        "endColumn": finding.end_location.column,
    }
    if finding.cell is not None:
        # Rows are relative to the cell: say which one, for tools that read the bag.
        region["properties"] = {"cell": finding.cell}
    return {"artifactLocation": _artifact_location(report.relative_path(finding.filename)), "region": region}


def _artifact_location(path: str) -> dict[str, str]:
    """A URI relative to the source root, or an absolute file URI for a file outside it."""
    if Path(path).is_absolute():
        return {"uri": Path(path).as_uri()}
    # Bytes, not text: a file name that is not UTF-8 is percent-encoded byte by byte.
    return {"uri": quote(os.fsencode(path)), "uriBaseId": SOURCE_ROOT}


def _fingerprint(identity: str, occurrence: int) -> str:
    return f"{hashlib.sha256(os.fsencode(identity)).hexdigest()[:16]}:{occurrence}"
