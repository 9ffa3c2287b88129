"""verify says when its measurement was noisy, with the next step (issue #15, section 3)."""

from __future__ import annotations

from green_lint.verify.noise import machine_warnings, run_warnings, steal_warning
from green_lint.verify.report_markdown import render_markdown
from green_lint.verify.report_text import render_text
from green_lint.verify.runs import Run


def _runs(version: str, walls, cpus=None) -> list[Run]:
    cpus = cpus or walls
    return [
        Run(version, False, {"wall_s": wall, "cpu_s": cpu}, exit_code=0)
        for wall, cpu in zip(walls, cpus, strict=True)
    ]


def test_a_busy_machine_and_a_changing_clock_are_named_with_what_to_do():
    (load,) = machine_warnings(load=3.0, cores=2, governor="performance")
    assert load.startswith("load average 3.0 on 2 cores") and "idle machine" in load
    (governor,) = machine_warnings(load=0.1, cores=2, governor="powersave")
    assert "'powersave'" in governor and "cpupower frequency-set -g performance" in governor
    assert machine_warnings(load=0.5, cores=2, governor="performance") == []


def test_steal_time_over_five_percent_is_reported():
    assert steal_warning((100, 10_000), (400, 12_000)) is not None
    assert "15%" in steal_warning((100, 10_000), (400, 12_000))
    assert steal_warning((100, 10_000), (150, 12_000)) is None
    assert steal_warning(None, (150, 12_000)) is None


def test_drift_outliers_and_waiting_are_seen_in_the_runs():
    drifting = _runs("before", [1.00, 1.03, 1.06, 1.10, 1.14, 1.18]) + _runs("after", [0.9] * 6)
    (drift,) = run_warnings(drifting)
    assert drift.startswith("the before runs drifted by +18% from first to last") and "--warmup" in drift
    spiky = _runs("before", [1.0, 1.01, 0.99, 1.0, 3.0, 1.02]) + _runs(
        "after", [0.9, 0.91, 0.9, 0.89, 0.9, 0.9]
    )
    (outlier,) = run_warnings(spiky)
    assert outlier.startswith("1 before run(s) far slower or faster")
    waiting = _runs("before", [2.0] * 3, [0.4] * 3) + _runs("after", [1.0] * 3, [0.3] * 3)
    (waits,) = run_warnings(waiting)
    assert "used the CPU for 25% of its wall time" in waits
    steady = _runs("before", [1.0, 1.02, 0.99, 1.01, 1.0]) + _runs("after", [0.5, 0.51, 0.5, 0.49, 0.5])
    assert run_warnings(steady) == []


def test_the_reports_show_the_warnings():
    entry = {
        "path": "train.py",
        "rules": ["GL301"],
        "verdict": "nothing-to-fix",
        "message": "nothing to fix",
        "warnings": ["the before runs drifted by +18% from first to last"],
    }
    method = {
        "codecarbon": "3.3.2",
        "cpu_power_method": "cpu_load",
        "tracking_mode": "process",
        "country": "FRA",
        "repeat": 5,
        "warmup": 1,
        "note": None,
        "warnings": ["load average 3.0 on 2 cores"],
    }
    text = render_text({"method": method, "scripts": [entry]})
    assert "Warning: load average 3.0 on 2 cores" in text
    markdown = render_markdown({"method": method, "scripts": [entry]})
    assert "- train.py: warning: the before runs drifted by +18%" in markdown
    assert "- warning: load average 3.0 on 2 cores" in markdown
