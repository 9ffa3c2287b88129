"""The output formats: one module per format, imported only when that format is asked for."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from green_lint.output.report import RunReport

FORMATS = ("full", "concise", "json", "json-lines", "github", "sarif", "gitlab")
# The formats --statistics can print in (counts as JSON for json, as text for the others).
STATISTICS_FORMATS = ("full", "concise", "json")


def render(fmt: str, report: RunReport) -> str:
    """The whole output of a run in format `fmt`, ending with a newline unless empty.

    With `report.statistics`, the per-rule counts replace the findings: as JSON for the
    json format, as text for every other.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown output format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if report.statistics:
        from green_lint.output import statistics

        return statistics.render_json(report) if fmt == "json" else statistics.render(report)
    module = importlib.import_module(f"green_lint.output.{fmt.replace('-', '_')}")
    return module.render(report)
