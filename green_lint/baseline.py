"""Baselines: record today's findings, then report only new ones.

A finding is identified by its code, its path and the text of the flagged lines (stripped),
not by its row: adding or removing lines elsewhere in the file keeps it matched, while
editing the flagged statement makes it new. Entries are counted, so a second occurrence of
the same flagged text is new too.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from green_lint.errors import UsageProblem
from green_lint.findings import Finding

FORMAT_VERSION = 1


def fingerprint(finding: Finding, source_text: str) -> str:
    """A hash of the code, the path and the flagged lines' stripped text."""
    lines = source_text.splitlines()
    start = (finding.source_location or finding.location).row
    end = (finding.source_end_location or finding.end_location).row
    flagged = "\n".join(line.strip() for line in lines[start - 1 : end])
    digest = hashlib.sha256(f"{finding.code}\0{_portable(finding.filename)}\0{flagged}".encode())
    return digest.hexdigest()[:24]


def _portable(path: str) -> str:
    return Path(os.path.normpath(path)).as_posix()


@dataclass
class BaselineOutcome:
    kept: list[Finding]
    hidden: int
    stale_entries: int


def write_baseline(path: Path, findings: Iterable[Finding], texts: Mapping[str, str]) -> int:
    entries = [
        {
            "code": finding.code,
            "path": _portable(finding.filename),
            "fingerprint": fingerprint(finding, texts.get(finding.filename, "")),
            "message": finding.message,
        }
        for finding in findings
    ]
    document = {"tool": "green-lint", "version": FORMAT_VERSION, "findings": entries}
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return len(entries)


def read_baseline(path: Path) -> Counter:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        entries = document["findings"]
        return Counter((e["code"], e["path"], e["fingerprint"]) for e in entries)
    except FileNotFoundError:
        raise UsageProblem(f"baseline file {str(path)!r} does not exist (create it with --write-baseline)") from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise UsageProblem(f"baseline file {str(path)!r} is not a green-lint baseline: {error}") from None


def apply_baseline(baseline: Counter, findings: Iterable[Finding], texts: Mapping[str, str]) -> BaselineOutcome:
    remaining = Counter(baseline)
    kept: list[Finding] = []
    hidden = 0
    for finding in findings:
        key = (finding.code, _portable(finding.filename), fingerprint(finding, texts.get(finding.filename, "")))
        if remaining[key] > 0:
            remaining[key] -= 1
            hidden += 1
        else:
            kept.append(finding)
    return BaselineOutcome(kept=kept, hidden=hidden, stale_entries=sum(remaining.values()))
