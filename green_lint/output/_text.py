"""What the full and concise formats share: the line that names a finding, and the summary."""

from __future__ import annotations

from green_lint.findings import Finding
from green_lint.output._style import BOLD, CYAN, GREEN, RED, paint
from green_lint.output.report import RunReport


def finding_line(report: RunReport, finding: Finding) -> str:
    """`path:row:col: CODE [*] message`, with `cell N:` after the path of a notebook."""
    color = report.color
    separator = paint(":", CYAN, color=color)
    parts = [paint(finding.filename, BOLD, color=color)]
    if finding.cell is not None:
        parts.append(f"cell {finding.cell}")
    parts += [str(finding.location.row), str(finding.location.column)]
    code = paint(finding.code, BOLD, RED, color=color)
    marker = f"{paint('[*]', CYAN, color=color)} " if report.fix_is_applicable(finding) else ""
    return f"{separator.join(parts)}{separator} {code} {marker}{finding.message}"


def summary(report: RunReport) -> str:
    """The closing sentence, worded as ruff words it."""
    errors = report.files_with_errors
    if not report.findings and not report.fixed:
        if errors:  # not "All checks passed!": some files were not checked to the end
            sentence = f"No findings, but {plural(errors, 'file')} had an error (on standard error)."
            return paint(sentence, BOLD, RED, color=report.color)
        return paint("All checks passed!", BOLD, GREEN, color=report.color)
    ended = f" {plural(errors, 'file')} had an error (on standard error)." if errors else ""
    return _found_sentence(report) + _fix_hints(report) + ended


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _found_sentence(report: RunReport) -> str:
    remaining = len(report.findings)
    if report.fixed:
        total = report.fixed + remaining
        return f"Found {plural(total, 'finding')} ({report.fixed} fixed, {remaining} remaining)."
    files = len({finding.filename for finding in report.findings})
    return f"Found {plural(remaining, 'finding')} in {plural(files, 'file')}."


def _fix_hints(report: RunReport) -> str:
    fixable = report.fixable_count()
    hidden = report.hidden_unsafe_count()
    hints = []
    if fixable:
        hints.append(f"{fixable} fixable with --fix")
    if hidden:
        hints.append(f"{hidden} {'more' if fixable else 'fixable'} with --unsafe-fixes")
    return f" {', '.join(hints)}." if hints else ""
