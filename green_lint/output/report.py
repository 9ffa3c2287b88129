"""Everything an output format needs to know about one run."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from green_lint import __version__
from green_lint.findings import Finding
from green_lint.lines import split_lines
from green_lint.rule import Rule


@dataclass(kw_only=True)
class RunReport:
    findings: list[Finding]
    rules: dict[str, type[Rule]]
    root: Path
    # filename (or f"{filename}:cell{N}" for a notebook cell) -> its text, for code frames.
    sources: dict[str, str] = field(default_factory=dict)
    files_checked: int = 0
    # Files whose check or fix ended in an error, reported on standard error.
    files_with_errors: int = 0
    fixed: int = 0
    unsafe_fixes_enabled: bool = False
    color: bool = False
    show_fixes: bool = True
    statistics: bool = False
    # No summary line: only the findings (ruff's --quiet).
    quiet: bool = False
    version: str = __version__
    _lines: dict[str, list[str]] = field(default_factory=dict, init=False, repr=False, compare=False)

    def relative_path(self, filename: str) -> str:
        """The path from the repository root, with forward slashes; as given when outside it."""
        # Try plain absolute paths first, then resolved ones, since either the root or the
        # working directory may have been reached through a symlink.
        for normalise in (os.path.abspath, os.path.realpath):
            relative = _relative_inside(normalise(filename), normalise(self.root))
            if relative is not None:
                return _forward_slashes(relative)
        return _forward_slashes(filename)

    def source_line(self, finding: Finding, row: int) -> str | None:
        """The text of a 1-based row of the finding's file or cell, None when unknown."""
        lines = self._source_lines(source_key(finding))
        if lines is None or not 1 <= row <= len(lines):
            return None
        return lines[row - 1]

    def _source_lines(self, key: str) -> list[str] | None:
        if key not in self._lines:
            text = self.sources.get(key)
            if text is None:
                return None
            self._lines[key] = split_lines(text)
        return self._lines[key]

    def fix_is_applicable(self, finding: Finding) -> bool:
        """Whether `--fix` would apply the finding's fix with this run's settings."""
        if finding.fix is None:
            return False
        return finding.fix.applicability == "safe" or self.unsafe_fixes_enabled

    def fixable_count(self) -> int:
        return sum(self.fix_is_applicable(finding) for finding in self.findings)

    def hidden_unsafe_count(self) -> int:
        """Findings whose fix `--unsafe-fixes` would enable."""
        return sum(
            finding.fix is not None and not self.fix_is_applicable(finding) for finding in self.findings
        )


def source_key(finding: Finding) -> str:
    """The key of `RunReport.sources` that holds the text the finding's rows refer to."""
    if finding.cell is None:
        return finding.filename
    return f"{finding.filename}:cell{finding.cell}"


def message_with_cell(finding: Finding) -> str:
    """The message, prefixed by the notebook cell for formats that can only show a line."""
    if finding.cell is None:
        return finding.message
    return f"cell {finding.cell}: {finding.message}"


def _relative_inside(path: str, root: str) -> str | None:
    try:
        relative = os.path.relpath(path, root)
    except ValueError:  # another drive on Windows
        return None
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        return None
    return relative


def _forward_slashes(path: str) -> str:
    return path.replace(os.sep, "/")
