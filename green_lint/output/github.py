"""GitHub Actions workflow commands, which the runner turns into pull-request annotations."""

from __future__ import annotations

from green_lint.findings import Finding
from green_lint.output.report import RunReport, message_with_cell

_COMMANDS = {"info": "notice", "warning": "warning", "error": "error"}


def render(report: RunReport) -> str:
    return "".join(_command(report, finding) + "\n" for finding in report.findings)


def _command(report: RunReport, finding: Finding) -> str:
    properties = {
        "title": f"green-lint ({finding.code})",
        "file": report.relative_path(finding.filename),
        "line": finding.location.row,
        "endLine": finding.end_location.row,
    }
    # GitHub ignores columns on annotations that span several lines.
    if finding.location.row == finding.end_location.row:
        properties["col"] = finding.location.column
        properties["endColumn"] = finding.end_location.column
    rendered = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    command = _COMMANDS.get(finding.severity, "warning")
    message = escape_data(f"{finding.code} {message_with_cell(finding)}")
    return f"::{command} {rendered}::{message}"


def escape_data(text: str) -> str:
    """Escape a command's message as @actions/core's escapeData does."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value as @actions/core's escapeProperty does."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
