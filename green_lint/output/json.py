"""A JSON array of the DESIGN.md finding objects."""

from __future__ import annotations

import json

from green_lint.output.report import RunReport


def render(report: RunReport) -> str:
    return json.dumps([finding.to_json() for finding in report.findings], indent=2) + "\n"
