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


def fingerprint(finding: Finding, source_text: str, root: Path) -> str:
    """A hash of the code, the path (relative to `root`) and the flagged lines' text."""
    lines = source_text.splitlines()
    start = (finding.source_location or finding.location).row
    end = (finding.source_end_location or finding.end_location).row
    flagged = "\n".join(line.strip() for line in lines[start - 1 : end])
    digest = hashlib.sha256(f"{finding.code}\0{portable_path(finding.filename, root)}\0{flagged}".encode())
    return digest.hexdigest()[:24]


def portable_path(filename: str, root: Path) -> str:
    """The path relative to the project root, so that a baseline works from any folder."""
    absolute = Path(os.path.abspath(filename))
    try:
        return absolute.relative_to(root.resolve()).as_posix()
    except ValueError:
        return Path(os.path.normpath(filename)).as_posix()


@dataclass
class BaselineOutcome:
    kept: list[Finding]
    hidden: int
    stale_entries: int


def write_baseline(path: Path, findings: Iterable[Finding], texts: Mapping[str, str], root: Path) -> int:
    entries = [
        {
            "code": finding.code,
            "path": portable_path(finding.filename, root),
            "fingerprint": fingerprint(finding, texts.get(finding.filename, ""), root),
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
        raise UsageProblem(
            f"baseline file {str(path)!r} does not exist (create it with --write-baseline)"
        ) from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise UsageProblem(f"baseline file {str(path)!r} is not a green-lint baseline: {error}") from None


def apply_baseline(
    baseline: Counter, findings: Iterable[Finding], texts: Mapping[str, str], root: Path
) -> BaselineOutcome:
    remaining = Counter(baseline)
    kept: list[Finding] = []
    hidden = 0
    for finding in findings:
        text = texts.get(finding.filename, "")
        key = (finding.code, portable_path(finding.filename, root), fingerprint(finding, text, root))
        if remaining[key] > 0:
            remaining[key] -= 1
            hidden += 1
        else:
            kept.append(finding)
    return BaselineOutcome(kept=kept, hidden=hidden, stale_entries=sum(remaining.values()))
