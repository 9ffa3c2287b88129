"""Measure the verify gallery and regenerate README.md's table "Measured savings per rule".

    python scripts/measure_savings.py [--max-time 300] [--repeat N] [--from-report REPORT.json]

Runs `green-lint verify fixtures/verify/ --report <tmp>.json` with verify's adaptive runs
(or exactly N pairs; or reads a report made before), and writes the table between the markers `<!-- savings-table:start -->` and
`<!-- savings-table:end -->` of README.md. Without README.md or its markers, the table is
printed instead.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from green_lint.verify.stats import verdict

ROOT = Path(__file__).resolve().parent.parent
GALLERY = ROOT / "fixtures" / "verify"
README = ROOT / "README.md"
START, END = "<!-- savings-table:start -->", "<!-- savings-table:end -->"
RULE_IN_NAME = re.compile(r"^gl(\d{3})_", re.IGNORECASE)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, help="exactly this many pairs per program (default: adaptive)")
    parser.add_argument(
        "--max-time", type=float, default=300, help="adaptive runs: seconds per program at most (default 300)"
    )
    parser.add_argument("--from-report", type=Path, help="use this verify JSON report instead of measuring")
    options = parser.parse_args(argv)
    report = _load(options.from_report) if options.from_report else _measure(options.repeat, options.max_time)
    table = savings_table(report)
    if not README.is_file():
        print(table)
        print("README.md does not exist: the table above was not written anywhere.", file=sys.stderr)
        return 0
    text = README.read_text(encoding="utf-8")
    if START not in text or END not in text:
        print(table)
        print(
            f"README.md has no {START} ... {END} markers: the table above was not written.", file=sys.stderr
        )
        return 0
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    README.write_text(f"{head}{START}\n{table}\n{END}{tail}", encoding="utf-8")
    print(f"Updated the savings table in {README}.", file=sys.stderr)
    return 0


def _measure(repeat: int | None, max_time: float) -> dict[str, Any]:
    # Kept after the run: minutes of measuring are not lost to a failure of the table
    # (`--from-report` makes it again).
    report_path = Path(tempfile.mkdtemp(prefix="green-lint-savings-")) / "gallery.json"
    print(f"The verify report goes to {report_path}.", file=sys.stderr)
    command = [sys.executable, "-m", "green_lint", "verify", str(GALLERY), "--max-time", str(max_time)]
    if repeat is not None:
        command += ["--repeat", str(repeat)]
    completed = subprocess.run([*command, "--report", str(report_path)], cwd=ROOT, check=False)
    if completed.returncode not in (0, 1) or not report_path.exists():
        raise SystemExit(f"green-lint verify failed with exit status {completed.returncode}")
    return _load(report_path)


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def savings_table(report: dict[str, Any]) -> str:
    """The Markdown table of the README, with the machine and method named below it."""
    lines = [
        "| rule | what changed | verdict, on the figure it rests on | CPU time saving (95% CI) "
        "| wall time saving (95% CI) | energy saving (95% CI) | same result? |",
        "|---|---|---|---|---|---|---|",
    ]
    entries = [entry for entry in report["scripts"] if entry["verdict"] != "nothing-to-fix"]
    for entry in sorted(entries, key=_rule):
        cells = [_rule(entry), _what_changed(entry), _verdict_cell(entry)]
        cells += [_time_cell(entry, "cpu_time"), _time_cell(entry, "time"), _energy_cell(entry)]
        cells.append(_result_cell(entry))
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    method = report["method"]
    machine = method.get("machine", {})
    lines += [
        "",
        f"Measured by `scripts/measure_savings.py` on {machine.get('cpu_model') or 'an unknown CPU'} "
        f"({machine.get('cores')} cores) with codecarbon {method.get('codecarbon')} (CPU power method "
        f"`{method.get('cpu_power_method')}`, tracking mode {method.get('tracking_mode')}), "
        f"{_pairs(method)} alternating pairs of runs per program after {method.get('warmup')} warm-up "
        "run(s); savings from the pairs' ratios with 95% t-intervals. Each row is a whole program of "
        "`fixtures/verify/`, imports included. " + (method.get("note") or ""),
    ]
    return "\n".join(line.rstrip() for line in lines)


def _pairs(method: dict[str, Any]) -> str:
    if method.get("adaptive"):
        return (
            f"adaptive (at least {method.get('repeat')}, at most {method.get('max_time_s'):g} s per program)"
        )
    return str(method.get("repeat"))


def _rule(entry: dict[str, Any]) -> str:
    # A gallery program is named after the rule it demonstrates; other rules may fire on
    # it too (a preview rule on its evaluation code), or its own may not be written yet.
    match = RULE_IN_NAME.match(Path(entry["path"]).name)
    if match:
        return f"GL{match.group(1)}"
    return ", ".join(entry.get("rules") or []) or "?"


def _what_changed(entry: dict[str, Any]) -> str:
    path = Path(entry["path"])
    if not path.is_absolute():
        path = ROOT / path if (ROOT / path).exists() else GALLERY / path.name
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return entry.get("after") or "?"
    # The gallery's docstrings say it in one sentence: "What changed: ... ."
    match = re.search(r"^What changed: (.+?\.)(?:\s|$)", text, re.MULTILINE | re.DOTALL)
    return " ".join(match.group(1).split()) if match else (entry.get("after") or "?")


def _percent(figure: dict[str, Any] | None) -> str:
    if not figure or figure.get("saving_percent") is None:
        return "—"
    saving, interval = figure["saving_percent"], figure.get("ci95_percent")
    if not interval:  # one pair (the others left out): no interval to give
        return f"{saving:.0f}% (one pair: no interval)"
    low, high = interval
    text = f"{saving:.0f}% ({low:.0f} to {high:.0f}%)"
    kind = verdict(saving, (low, high))
    if kind == "no-difference":
        return f"no measurable difference: {text}"
    return text if kind == "saving" else f"costs {-saving:.0f}% more ({-high:.0f} to {-low:.0f}%)"


def _verdict_cell(entry: dict[str, Any]) -> str:
    if entry["verdict"] == "failed":
        return f"failed: {entry['message']}"
    return entry["verdict_text"]


def _energy_cell(entry: dict[str, Any]) -> str:
    energy = entry.get("energy")
    if entry["verdict"] == "failed" or not energy:
        return "—"
    if not energy["measurable"]:
        return f"— ({energy['note'].split(';')[0]})"
    return f"{_percent(energy)}, {energy.get('method') or 'modelled'}"


def _time_cell(entry: dict[str, Any], figure: str) -> str:
    return "—" if entry["verdict"] == "failed" or not entry.get(figure) else _percent(entry[figure])


def _result_cell(entry: dict[str, Any]) -> str:
    if entry.get("same_result") is None:
        return "—"
    if entry["same_result"]:
        return "yes"
    return f"changed: `{entry['result_before']}` → `{entry['result_after']}`"


if __name__ == "__main__":
    sys.exit(main())
