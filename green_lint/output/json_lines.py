"""One compact DESIGN.md finding object per line, for streaming consumers."""

from __future__ import annotations

import json

from green_lint.output.report import RunReport


def render(report: RunReport) -> str:
    return "".join(json.dumps(finding.to_json(), separators=(",", ":")) + "\n" for finding in report.findings)
