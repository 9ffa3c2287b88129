"""Identities of findings that survive edits elsewhere in the file, for CI deduplication.

A finding is known by its code, its file and the text of its first line, not by its row:
adding a line above it must not make code scanning or GitLab see a new finding. Several
findings of one code on identical lines are told apart by their order of occurrence.
"""

from __future__ import annotations

from collections import Counter

from green_lint.output.report import RunReport


def line_identities(report: RunReport) -> list[tuple[str, int]]:
    """Per finding, in order: the text to hash and its 1-based occurrence among equal texts."""
    seen: Counter[str] = Counter()
    identities = []
    for finding in report.findings:
        line = report.source_line(finding, finding.location.row) or ""
        identity = "\0".join((finding.code, report.relative_path(finding.filename), line.strip()))
        seen[identity] += 1
        identities.append((identity, seen[identity]))
    return identities
