"""`--statistics`: how many findings of each rule, most frequent first (as ruff prints them)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

from green_lint.output._style import BOLD, CYAN, RED, paint
from green_lint.output.report import RunReport


@dataclass(frozen=True)
class CodeStatistic:
    code: str
    name: str
    count: int
    fixable: bool


def code_statistics(report: RunReport) -> list[CodeStatistic]:
    counts = Counter(finding.code for finding in report.findings)
    names = {finding.code: finding.name for finding in report.findings}
    fixable = {finding.code for finding in report.findings if report.fix_is_applicable(finding)}
    statistics = [CodeStatistic(code, names[code], count, code in fixable) for code, count in counts.items()]
    return sorted(statistics, key=lambda statistic: (-statistic.count, statistic.code))


def render(report: RunReport) -> str:
    statistics = code_statistics(report)
    if not statistics:
        return ""
    count_width = max(len(str(statistic.count)) for statistic in statistics)
    code_width = max(len(statistic.code) for statistic in statistics)
    # As ruff: the fixable column appears only when some rule is fixable.
    any_fixable = any(statistic.fixable for statistic in statistics)
    lines = []
    for statistic in statistics:
        count = paint(f"{statistic.count:>{count_width}}", BOLD, color=report.color)
        code = paint(f"{statistic.code:<{code_width}}", BOLD, RED, color=report.color)
        marker = _fixable_marker(statistic.fixable, report.color) if any_fixable else ""
        lines.append(f"{count}\t{code}\t{marker}{statistic.name}")
    return "\n".join(lines) + "\n"


def render_json(report: RunReport) -> str:
    statistics = [
        {"code": s.code, "name": s.name, "count": s.count, "fixable": s.fixable}
        for s in code_statistics(report)
    ]
    return json.dumps(statistics, indent=2) + "\n"


def _fixable_marker(fixable: bool, color: bool) -> str:
    return f"[{paint('*', CYAN, color=color)}] " if fixable else "[ ] "
