"""Did the fixed program compute the same thing? Its `RESULT` lines, value by value.

A script prints `RESULT name=value` lines (several names on a line, several lines): each
value is compared before and after, numbers with their relative change and, with
`--tolerance name=0.005`, within an absolute tolerance. A `RESULT` line without `name=`
pairs is compared as a whole. Without any `RESULT` line, the last lines of standard output
are compared and a diff of them shown, not hashes. A value that differs between runs of
the same version is reported as nondeterministic: its comparison cannot be trusted."""

from __future__ import annotations

import difflib
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

PAIR = re.compile(r"([A-Za-z_][\w.\-]*)=(\S+)")
WHOLE_LINE = "RESULT"  # the name of a RESULT line without name=value pairs


def values_of(lines: Sequence[str]) -> dict[str, str]:
    """name -> value text of a run's RESULT lines (a later line wins). What the lines hold
    besides `name=value` pairs (`RESULT loss 1.5`, the `car` of `label=red car`) is
    compared too, as one text under WHOLE_LINE: a change there is a change of result."""
    found: dict[str, str] = {}
    rest = []
    for line in lines:
        body = line[len("RESULT") :].strip()
        found.update(PAIR.findall(body))
        text = " ".join(PAIR.sub(" ", body).split())
        if text:
            rest.append(text)
    if rest:
        found[WHOLE_LINE] = " | ".join(rest)
    return found


def compare_results(
    before: Sequence[Sequence[str]], after: Sequence[Sequence[str]], tolerances: Mapping[str, float]
) -> list[dict[str, Any]]:
    """One entry per name printed by either version: its value before and after (the most
    common over the runs), the relative change of a number, and whether it is the same."""
    runs_before = [values_of(lines) for lines in before]
    runs_after = [values_of(lines) for lines in after]
    names = sorted({name for run in (*runs_before, *runs_after) for name in run})
    entries = []
    for name in names:
        seen_before = [run.get(name) for run in runs_before]
        seen_after = [run.get(name) for run in runs_after]
        value_before, value_after = _most_common(seen_before), _most_common(seen_after)
        entry: dict[str, Any] = {
            "name": name,
            "before": value_before,
            "after": value_after,
            "change_percent": _change(value_before, value_after),
            "tolerance": tolerances.get(name),
            "nondeterministic": len(set(seen_before)) > 1 or len(set(seen_after)) > 1,
        }
        entry["same"] = _same(value_before, value_after, tolerances.get(name))
        entries.append(entry)
    return entries


def stdout_diff(before: str, after: str) -> str:
    """A unified diff of the last lines of standard output, before -> after."""
    return "\n".join(
        difflib.unified_diff(
            before.splitlines(), after.splitlines(), "before (last lines)", "after (last lines)", lineterm=""
        )
    )


def words(entries: Sequence[dict[str, Any]]) -> str:
    """`accuracy 0.940 -> 0.935 (-0.5%), loss 0.2 (same)` for a report line."""
    parts = []
    for entry in entries:
        label = "" if entry["name"] == WHOLE_LINE else f"{entry['name']} "
        if entry["before"] == entry["after"]:
            parts.append(f"{label}{entry['before']}")
            continue
        change = f" ({entry['change_percent']:+.1f}%)" if entry["change_percent"] is not None else ""
        within = " within tolerance" if entry["same"] else ""
        parts.append(f"{label}{entry['before']} -> {entry['after']}{change}{within}")
    return ", ".join(parts)


def parse_tolerances(items: Sequence[str]) -> dict[str, float]:
    """`["accuracy=0.005"]` -> {"accuracy": 0.005}; raises ValueError with the bad item."""
    found = {}
    for item in items:
        name, _, value = item.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not name or math.isnan(number) or number < 0:
            raise ValueError(f"--tolerance takes NAME=VALUE with a number of 0 or more, not {item!r}")
        found[name] = number
    return found


def _most_common(values: Sequence[str | None]) -> str | None:
    return Counter(values).most_common(1)[0][0] if values else None


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        number = float(text.rstrip("%,;"))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _change(before: str | None, after: str | None) -> float | None:
    first, second = _number(before), _number(after)
    if first is None or second is None or first == 0:
        return None
    return (second - first) / abs(first) * 100


def _same(before: str | None, after: str | None, tolerance: float | None) -> bool:
    if before == after:
        return True
    first, second = _number(before), _number(after)
    if tolerance is None or first is None or second is None:
        return False
    return abs(second - first) <= tolerance
