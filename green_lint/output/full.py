"""Each finding with a frame of the flagged code and its fix, then the summary (as ruff's full)."""

from __future__ import annotations

from green_lint.findings import Finding
from green_lint.output._style import BLUE, BOLD, CYAN, RED, paint
from green_lint.output._text import finding_line, summary
from green_lint.output.report import RunReport

# A long flagged range (a whole function) is cut: its first lines say where it is.
MAX_FRAME_ROWS = 5


def render(report: RunReport) -> str:
    blocks = [_finding_block(report, finding) for finding in report.findings]
    if not report.quiet:
        blocks.append(summary(report))
    return "\n\n".join(blocks) + "\n" if blocks else ""


def _finding_block(report: RunReport, finding: Finding) -> str:
    lines = [finding_line(report, finding), *_code_frame(report, finding)]
    if report.show_fixes and finding.fix is not None:
        indent = " " * _gutter_width(finding)
        lines.append(f"{indent} {paint('= help', BOLD, CYAN, color=report.color)}: {finding.fix.message}")
    if finding.related:
        indent = " " * _gutter_width(finding)
        note = paint("= note", BOLD, CYAN, color=report.color)
        lines += [
            f"{indent} {note}: {related.filename}:{related.location.row}: {related.message}"
            for related in finding.related
        ]
    return "\n".join(lines)


def _code_frame(report: RunReport, finding: Finding) -> list[str]:
    """The flagged lines, carets under the range on the first; empty when the text is unknown."""
    width = _gutter_width(finding)
    empty_gutter = _gutter("", width, report.color)
    frame = []
    for row in _shown_rows(finding):
        text = report.source_line(finding, row)
        if text is None:
            break
        frame.append(f"{_gutter(str(row), width, report.color)} {text}")
        if row == finding.location.row:
            frame.append(f"{empty_gutter} {_underline(report, finding, text)}")
    if not frame:
        return []
    if _shown_rows(finding)[-1] < finding.end_location.row:
        frame.append(f"{empty_gutter} ...")
    return [empty_gutter, *frame, empty_gutter]


def _shown_rows(finding: Finding) -> range:
    first = finding.location.row
    last = max(first, min(finding.end_location.row, first + MAX_FRAME_ROWS - 1))
    return range(first, last + 1)


def _gutter_width(finding: Finding) -> int:
    return len(str(_shown_rows(finding)[-1]))


def _gutter(label: str, width: int, color: bool) -> str:
    return paint(f"{label:>{width}} |", BOLD, BLUE, color=color)


def _underline(report: RunReport, finding: Finding, first_line: str) -> str:
    """Carets under the flagged range of the first line, ending the line when the range goes on."""
    start = finding.location.column - 1
    one_line = finding.end_location.row == finding.location.row
    end = finding.end_location.column - 1 if one_line else len(first_line)
    # Keep the line's tabs so that the carets line up whatever the terminal's tab width.
    indent = "".join("\t" if char == "\t" else " " for char in first_line[:start])
    carets = "^" * max(end - start, 1)
    return indent + paint(f"{carets} {finding.code}", BOLD, RED, color=report.color)
