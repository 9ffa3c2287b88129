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
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from green_lint.errors import UsageProblem
from green_lint.findings import Finding
from green_lint.lines import split_lines

FORMAT_VERSION = 1


def fingerprint(finding: Finding, source_text: str, root: Path) -> str:
    """A hash of the code, the path (relative to `root`) and the flagged lines' text."""
    lines = split_lines(source_text)
    start = (finding.source_location or finding.location).row
    end = (finding.source_end_location or finding.end_location).row
    flagged = "\n".join(line.strip() for line in lines[start - 1 : end])
    digest = hashlib.sha256(f"{finding.code}\0{portable_path(finding.filename, root)}\0{flagged}".encode())
    return digest.hexdigest()[:24]


def portable_path(filename: str, root: Path) -> str:
    """The path relative to the baseline's folder (with `..` when outside it), so that a
    baseline works from any folder."""
    absolute = os.path.abspath(filename)
    # Plain paths first, then resolved ones: either may have been reached through a symlink.
    pairs = ((absolute, os.path.abspath(root)), (os.path.realpath(absolute), os.path.realpath(root)))
    for path, base in pairs:
        try:
            relative = os.path.relpath(path, base)
        except ValueError:  # another drive on Windows
            continue
        if relative != os.pardir and not relative.startswith(os.pardir + os.sep):
            return Path(relative).as_posix()
    try:
        return Path(os.path.relpath(*pairs[1])).as_posix()
    except ValueError:
        return Path(pairs[1][0]).as_posix()


@dataclass
class BaselineOutcome:
    kept: list[Finding]
    hidden: int
    stale_entries: int


@dataclass
class Baseline:
    entries: list[dict]

    def counts(self) -> Counter:
        return Counter((entry["code"], entry["path"], entry["fingerprint"]) for entry in self.entries)


def write_baseline(
    path: Path,
    findings: Iterable[Finding],
    texts: Mapping[str, str],
    root: Path,
    kept_entries: Iterable[dict] = (),
) -> int:
    """Write the findings (and `kept_entries`, already in baseline form); returns the count."""
    entries = [
        {
            "code": finding.code,
            "path": portable_path(finding.filename, root),
            "fingerprint": fingerprint(finding, texts.get(finding.filename, ""), root),
            "message": finding.message,
        }
        for finding in findings
    ]
    entries.extend(kept_entries)
    # Sorted by what identifies an entry, not by row: moving code keeps the file unchanged.
    entries.sort(key=lambda entry: (entry["path"], entry["code"], entry["fingerprint"]))
    document = {"tool": "green-lint", "version": FORMAT_VERSION, "findings": entries}
    _refuse_other_files(path)
    try:
        path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    except OSError as error:
        raise UsageProblem(f"cannot write the baseline {str(path)!r}: {error.strerror or error}") from None
    return len(entries)


def _refuse_other_files(path: Path) -> None:
    """--write-baseline replaces a baseline, never another file (`pyproject.toml`, a typo)."""
    if not os.path.lexists(path):
        return
    if path.is_dir():
        raise UsageProblem(f"cannot write the baseline {str(path)!r}: it is a folder")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        document = None
    if _problem(document) is not None:
        raise UsageProblem(
            f"{str(path)!r} exists and is not a green-lint baseline: not overwritten "
            "(remove it first, or choose another file)"
        )


def read_baseline(path: Path) -> Baseline:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageProblem(
            f"baseline file {str(path)!r} does not exist (create it with --write-baseline)"
        ) from None
    except IsADirectoryError:
        raise UsageProblem(f"baseline file {str(path)!r} is a folder") from None
    except OSError as error:
        raise UsageProblem(
            f"cannot read the baseline file {str(path)!r}: {error.strerror or error}"
        ) from None
    except ValueError as error:
        raise UsageProblem(f"baseline file {str(path)!r} is not valid JSON: {error}") from None
    problem = _problem(document)
    if problem:
        raise UsageProblem(
            f"baseline file {str(path)!r} is not a green-lint baseline: {problem} "
            "(write it again with --write-baseline)"
        )
    return Baseline(entries=document["findings"])


def _problem(document) -> str | None:
    if not isinstance(document, dict) or not isinstance(document.get("findings"), list):
        return 'expected an object with a "findings" list'
    version = document.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        return f"unsupported format version {version!r}"
    for number, entry in enumerate(document["findings"], start=1):
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(key), str) for key in ("code", "path", "fingerprint")
        ):
            return f'finding {number} lacks a "code", "path" or "fingerprint" string'
    return None


def apply_baseline(
    baseline: Baseline,
    findings: Iterable[Finding],
    texts: Mapping[str, str],
    root: Path,
    checked: Collection[str] | None = None,
) -> BaselineOutcome:
    """Hide the findings the baseline records. Entries left unmatched are stale when their
    file was linted (`checked`: portable paths; None: every file) or no longer exists;
    entries of other files say nothing about this run."""
    remaining = baseline.counts()
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
    stale = sum(count for (_, path, _), count in remaining.items() if covered(path, checked, root))
    return BaselineOutcome(kept=kept, hidden=hidden, stale_entries=stale)


def covered(entry_path: str, checked: Collection[str] | None, root: Path) -> bool:
    """Whether this run answers for a baseline entry: its file was linted, or is gone."""
    return checked is None or entry_path in checked or not (root / entry_path).exists()
