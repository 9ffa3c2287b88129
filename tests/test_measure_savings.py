"""scripts/measure_savings.py: the README's table of measured savings names what was
measured, row by row (issue #15, done-when: the table is regenerated with the new method)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("measure_savings", ROOT / "scripts" / "measure_savings.py")
measure_savings = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(measure_savings)


def _figure(saving: float, low: float, high: float, **more) -> dict:
    return {"saving_percent": saving, "ci95_percent": [low, high], **more}


def _report() -> dict:
    measured = {
        "path": "fixtures/verify/gl301_inference_autograd.py",
        "rules": ["GL301"],
        "verdict": "saving",
        "verdict_text": "saves 8% CPU time (95% CI 6 to 9%) (energy modelled from time, not measured)",
        "after": "fix",
        "cpu_time": _figure(8.0, 6.0, 9.0),
        "time": _figure(7.5, 5.0, 10.0),
        "energy": _figure(7.0, 5.0, 9.0, measurable=True, method="modelled", note=None),
        "same_result": True,
    }
    short = {
        **measured,
        "path": "fixtures/verify/gl203_numeric_loop.py",
        "rules": ["GL203"],
        "energy": {"measurable": False, "note": "too short to measure energy; figures are time-based"},
        "same_result": False,
        "result_before": "RESULT total=1",
        "result_after": "RESULT total=2",
    }
    one_pair = {
        **measured,
        "path": "fixtures/verify/gl305_unbatched_inference.py",
        "rules": ["GL305"],
        "energy": {
            **_figure(90.0, 0, 0, measurable=True, method="modelled", note=None),
            "ci95_percent": None,
        },
    }
    failed = {
        "path": "fixtures/verify/gl205_x.py",
        "rules": ["GL205"],
        "verdict": "failed",
        "message": "boom",
    }
    skipped = {"path": "fixtures/verify/gl999_none.py", "rules": [], "verdict": "nothing-to-fix"}
    method = {"machine": {"cpu_model": "CPU", "cores": 2}, "adaptive": True, "repeat": 5, "max_time_s": 300}
    return {
        "method": {**method, "warmup": 1, "note": "No RAPL."},
        "scripts": [measured, short, one_pair, failed, skipped],
    }


def test_each_row_names_the_figure_of_its_verdict_and_labels_modelled_energy():
    table = measure_savings.savings_table(_report()).splitlines()
    assert table[0].startswith("| rule | what changed | verdict, on the figure it rests on | CPU time saving")
    rows = {line.split(" | ")[0]: line for line in table if line.startswith("| GL")}
    assert set(rows) == {"| GL203", "| GL205", "| GL301", "| GL305"}  # nothing-to-fix has no row
    assert "saves 8% CPU time (95% CI 6 to 9%)" in rows["| GL301"]
    assert "| 8% (6 to 9%) | 8% (5 to 10%) | 7% (5 to 9%), modelled | yes |" in rows["| GL301"]
    assert "— (too short to measure energy)" in rows["| GL203"]
    assert "changed: `RESULT total=1` → `RESULT total=2`" in rows["| GL203"]
    assert "failed: boom" in rows["| GL205"]
    # Energy from one plausible pair: a figure without an interval, said so.
    assert "90% (one pair: no interval), modelled" in rows["| GL305"]
    assert "adaptive (at least 5, at most 300 s per program)" in table[-1]


def test_the_readme_table_is_the_scripts_current_layout():
    """The README's table was written by this script as it is now (regenerate it with
    `python scripts/measure_savings.py` after changing the layout)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split(measure_savings.START, 1)[1].split(measure_savings.END, 1)[0].strip()
    header = measure_savings.savings_table({"method": {}, "scripts": []}).splitlines()[:2]
    assert table.splitlines()[:2] == header
    assert "| GL301 |" in table and "savings from the pairs' ratios with 95% t-intervals" in table
