"""One line per finding, then the summary."""

from __future__ import annotations

from green_lint.output._text import finding_line, summary
from green_lint.output.report import RunReport


def render(report: RunReport) -> str:
    lines = [finding_line(report, finding) for finding in report.findings]
    if not report.quiet:
        lines.append(summary(report))
    return "\n".join(lines) + "\n" if lines else ""
