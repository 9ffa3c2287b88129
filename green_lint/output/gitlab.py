"""GitLab Code Quality report: a JSON array that merge requests show as code quality changes."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from green_lint.findings import Finding
from green_lint.output._fingerprint import line_identities
from green_lint.output.report import RunReport, message_with_cell

_SEVERITIES = {"info": "info", "warning": "minor", "error": "major"}


def render(report: RunReport) -> str:
    issues = [
        _issue(report, finding, _fingerprint(identity, occurrence))
        for finding, (identity, occurrence) in zip(report.findings, line_identities(report), strict=True)
    ]
    return json.dumps(issues, indent=2) + "\n"


def _issue(report: RunReport, finding: Finding, fingerprint: str) -> dict[str, Any]:
    return {
        "description": f"{finding.code} {message_with_cell(finding)}",
        "check_name": finding.code,
        "fingerprint": fingerprint,
        "severity": _SEVERITIES.get(finding.severity, "minor"),
        "location": {
            "path": _text(report.relative_path(finding.filename)),
            "lines": {"begin": finding.location.row, "end": finding.end_location.row},
        },
    }


def _fingerprint(identity: str, occurrence: int) -> str:
    return hashlib.md5(os.fsencode(f"{identity}\0{occurrence}"), usedforsecurity=False).hexdigest()


def _text(path: str) -> str:
    """A path as valid UTF-8: bytes of a file name that are not UTF-8 become U+FFFD."""
    return os.fsencode(path).decode("utf-8", errors="replace")
