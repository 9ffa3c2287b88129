"""`green-lint verify`: end to end through the CLI, and its statistics and checks in isolation.

The end-to-end tests run the gallery of fixtures/verify/ at a small scale, with 2 pairs
of runs and no warm-up, so that the whole file stays within a few minutes on 2 cores.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from green_lint.verify.checks import plausibility_problems, too_short
from green_lint.verify.programs import find_scripts
from green_lint.verify.report_html import render_html
from green_lint.verify.report_markdown import render_markdown
from green_lint.verify.report_text import render_text
from green_lint.verify.runs import Run, RunSettings, schedule
from green_lint.verify.stats import bootstrap_ci95, compare, verdict, verdict_words
from green_lint.verify.summary import TOO_SHORT_NOTE, method_summary, script_summary
from tests.processes import alive

GALLERY = Path(__file__).resolve().parent.parent / "fixtures" / "verify"
SMALL_SCALE = "0.05"
J = 1 / 3.6e6  # kWh per joule


def verify(
    *args: str, cwd: Path, scale: str = SMALL_SCALE, extra_env: dict | None = None, timeout: float = 400
) -> subprocess.CompletedProcess:
    environment = {**os.environ, "GREEN_LINT_VERIFY_SCALE": scale, **(extra_env or {})}
    return subprocess.run(
        [sys.executable, "-m", "green_lint", "verify", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def snapshot(folder: Path) -> dict[str, str]:
    """Every file and folder under `folder` with the hash of its content."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        if path.is_file()
        else "dir"
        for path in sorted(folder.rglob("*"))
    }


def copy_gallery(target: Path, *stems: str) -> Path:
    target.mkdir()
    shutil.copy(GALLERY / "_gallery.py", target)
    for stem in stems:
        for path in GALLERY.glob(f"{stem}*.py"):
            shutil.copy(path, target)
    return target


# -- end to end ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def gallery_run(tmp_path_factory):
    """One verify run over three gallery programs: a rule's fix and two suggested files."""
    root = tmp_path_factory.mktemp("gallery")
    project = copy_gallery(
        root / "project", "gl201_apply_axis1", "gl202_concat_in_loop", "gl204_load_in_loop"
    )
    before = snapshot(project)
    report_path = root / "report.json"
    completed = verify(
        "project",
        "--repeat",
        "2",
        "--warmup",
        "0",
        "--report",
        str(report_path),
        "--output-format",
        "markdown",
        cwd=root,
    )
    return {
        "completed": completed,
        "report": json.loads(report_path.read_text(encoding="utf-8")) if report_path.exists() else None,
        "unchanged": snapshot(project) == before,
    }


def entry_for(report: dict, name: str) -> dict:
    return next(entry for entry in report["scripts"] if entry["path"].endswith(name))


def test_gallery_run_succeeds_and_leaves_the_folder_unchanged(gallery_run):
    completed = gallery_run["completed"]
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert gallery_run["unchanged"]
    assert "run 1/4" in completed.stderr  # progress goes to stderr


def test_gallery_report_has_every_key(gallery_run):
    report = gallery_run["report"]
    method = report["method"]
    assert {"codecarbon", "cpu_power_method", "country", "repeat", "tracking_mode"} <= set(method)
    assert method["country"] == "FRA" and method["repeat"] == 2 and method["tracking_mode"] == "process"
    assert method["codecarbon"] and method["cpu_power_method"]
    assert len(report["scripts"]) == 3
    for entry in report["scripts"]:
        assert {
            "path",
            "rules",
            "verdict",
            "same_result",
            "result_before",
            "result_after",
            "energy",
            "time",
            "runs",
        } <= set(entry)
        assert entry["verdict"] in ("saving", "no-difference", "cost")
        assert {"before_kwh_median", "after_kwh_median", "saving_percent", "ci95_percent"} <= set(
            entry["energy"]
        )
        assert {"before_s_median", "after_s_median", "saving_percent", "ci95_percent"} <= set(entry["time"])
        assert len(entry["runs"]) == 4
        assert [run["version"] for run in entry["runs"]] == ["before", "after", "after", "before"]
        for run in entry["runs"]:
            keys = {
                "version",
                "energy_kwh",
                "emissions_kg",
                "duration_s",
                "cpu_s",
                "peak_rss_mb",
                "exit_code",
                "valid",
            }
            assert keys <= set(run)
            assert run["exit_code"] == 0 and run["energy_kwh"] >= 0 and run["duration_s"] > 0


def test_a_clearly_faster_suggested_file_is_a_saving_with_the_same_result(gallery_run):
    report = gallery_run["report"]
    for name in ("gl202_concat_in_loop.py", "gl204_load_in_loop.py"):
        entry = entry_for(report, name)
        assert entry["after"] == "suggested"
        assert entry["verdict"] == "saving", entry["verdict_text"]
        assert entry["same_result"] is True
        assert entry["result_before"].startswith("RESULT")
        # At this scale the runs are far shorter than two codecarbon intervals.
        assert entry["energy"]["measurable"] is False
        assert entry["energy"]["saving_percent"] is None
        assert TOO_SHORT_NOTE in entry["verdict_text"]


def test_a_rules_own_fix_is_the_after_version(gallery_run):
    entry = entry_for(gallery_run["report"], "gl201_apply_axis1.py")
    assert entry["after"] == "fix"
    assert entry["rules"] == ["GL201"]
    assert '-    df["c"] = df.apply(' in entry["diff"]
    assert entry["same_result"] is True


def test_markdown_on_stdout(gallery_run):
    stdout = gallery_run["completed"].stdout
    assert stdout.startswith("## green-lint verify")
    assert "| script | rules | verdict |" in stdout
    assert "gl202_concat_in_loop.py" in stdout


def test_html_report_is_self_contained(gallery_run):
    page = render_html(gallery_run["report"])
    assert page.startswith("<!DOCTYPE html>")
    assert "<svg" in page and "<circle" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page and "<script" not in page
    # The diff is shown, escaped.
    assert "df[&quot;c&quot;]" in page or "df[&#x27;c&#x27;]" in page


def test_no_op_change_is_not_a_saving(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    program = "total = 0\nfor i in range(1_500_000):\n    total += i % 7\nprint(f'RESULT total={total}')\n"
    (project / "busy.py").write_text(program, encoding="utf-8")
    (project / "busy.suggested.py").write_text("# The same program.\n" + program, encoding="utf-8")
    report_path = tmp_path / "report.json"
    completed = verify(
        # A warm-up per version: a cold first run would otherwise weigh on one side only;
        # five pairs: with fewer, a burst of load on one side can pass for a saving.
        "project/busy.py",
        "--repeat",
        "5",
        "--warmup",
        "1",
        "--report",
        str(report_path),
        cwd=tmp_path,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    entry = json.loads(report_path.read_text(encoding="utf-8"))["scripts"][0]
    assert entry["verdict"] != "saving", entry["verdict_text"]
    assert entry["same_result"] is True


def test_failing_script_exits_1_with_its_stderr_tail(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    # A script that reads the network fails like any other error.
    (project / "fetch.py").write_text(
        "import socket\nprint('starting')\nsocket.create_connection(('192.0.2.1', 80), timeout=5)\n",
        encoding="utf-8",
    )
    (project / "fetch.suggested.py").write_text("print('RESULT nothing')\n", encoding="utf-8")
    before = snapshot(project)
    report_path = tmp_path / "report.json"
    completed = verify(
        "project", "--repeat", "1", "--warmup", "0", "--report", str(report_path), cwd=tmp_path
    )
    assert completed.returncode == 1
    assert "FAILED" in completed.stdout
    assert "exited with status 1" in completed.stdout
    assert "network access to ('192.0.2.1', 80) is not allowed" in completed.stdout
    entry = json.loads(report_path.read_text(encoding="utf-8"))["scripts"][0]
    assert entry["verdict"] == "failed"
    assert "Traceback" in entry["stderr_tail"]
    assert len(entry["runs"]) == 1  # the comparison stopped at the failure
    assert snapshot(project) == before


def test_timeout_kills_the_whole_process_group(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    pid_file = tmp_path / "pids.txt"
    (project / "hang.py").write_text(
        "import os, subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'])\n"
        "with open(os.environ['PID_FILE'], 'w') as f:\n"
        "    f.write(f'{os.getpid()} {child.pid}')\n"
        "time.sleep(300)\n",
        encoding="utf-8",
    )
    (project / "hang.suggested.py").write_text("print('RESULT done')\n", encoding="utf-8")
    started = time.monotonic()
    completed = verify(
        "project/hang.py",
        "--repeat",
        "1",
        "--warmup",
        "0",
        "--timeout",
        "20",
        cwd=tmp_path,
        extra_env={"PID_FILE": str(pid_file)},
    )
    assert completed.returncode == 1
    assert "timed out after 20 s" in completed.stdout
    assert time.monotonic() - started < 120
    pids = [int(pid) for pid in pid_file.read_text().split()]
    assert len(pids) == 2
    for pid in pids:
        assert not alive(pid), f"process {pid} survived the timeout"


def test_nothing_to_fix_says_so_and_exits_0(tmp_path):
    (tmp_path / "plain.py").write_text("print('RESULT 1')\n", encoding="utf-8")
    completed = verify("plain.py", cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert "nothing to fix" in completed.stdout


def test_usage_problems_exit_2(tmp_path):
    (tmp_path / "plain.py").write_text("print('RESULT 1')\n", encoding="utf-8")
    assert verify("missing.py", cwd=tmp_path).returncode == 2
    assert verify("plain.py", "--report", "out.txt", cwd=tmp_path).returncode == 2
    assert verify("plain.py", "--repeat", "0", cwd=tmp_path).returncode == 2
    assert verify("plain.py", "--tracking-mode", "cluster", cwd=tmp_path).returncode == 2


def test_country_and_tracking_mode_come_from_the_config(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.green-lint.verify]\ncountry = "DEU"\ntracking-mode = "machine"\nrepeat = 3\n', encoding="utf-8"
    )
    (tmp_path / "plain.py").write_text("print('RESULT 1')\n", encoding="utf-8")
    completed = verify("plain.py", "--output-format", "json", cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    method = json.loads(completed.stdout)["method"]
    assert (method["country"], method["tracking_mode"], method["repeat"]) == ("DEU", "machine", 3)
    completed = verify("plain.py", "--output-format", "json", "--country", "swe", cwd=tmp_path)
    assert json.loads(completed.stdout)["method"]["country"] == "SWE"


# -- statistics ----------------------------------------------------------------------


def test_bootstrap_interval_is_deterministic():
    before, after = [10.0, 10.4, 9.8, 10.1, 10.3], [2.0, 2.2, 1.9, 2.1, 2.05]
    first = bootstrap_ci95(before, after)
    assert first == bootstrap_ci95(before, after)
    low, high = first
    assert 75 < low <= high < 82


def test_verdicts():
    assert verdict(80.0, (75.0, 85.0)) == "saving"
    assert verdict(-12.0, (-15.0, -9.0)) == "cost"
    assert verdict(3.0, (-2.0, 8.0)) == "no-difference"
    # An interval that excludes 0 but a change too small to be told from noise.
    assert verdict(2.0, (0.5, 3.0)) == "no-difference"
    assert verdict(None, None) == "no-difference"


def test_verdict_words():
    saving = compare([10.0, 10.2, 9.9, 10.1, 10.0], [1.3, 1.3, 1.25, 1.35, 1.3])
    assert saving.verdict == "saving"
    assert verdict_words(saving, "energy").startswith("saves 87% energy (95% CI ")
    cost = compare([1.0, 1.01, 0.99, 1.0, 1.0], [1.12, 1.13, 1.11, 1.12, 1.12])
    assert verdict_words(cost, "energy").startswith("costs 12% more energy (95% CI ")
    same = compare([1.0, 1.1, 0.9, 1.05, 0.95], [1.02, 0.92, 1.08, 0.97, 1.0])
    assert verdict_words(same, "time") == "no measurable difference in time"


def test_schedule_alternates_after_warm_up():
    plan = schedule(warmup=1, repeat=3)
    assert plan[:2] == [("before", True), ("after", True)]
    assert [name for name, _ in plan[2:]] == ["before", "after", "after", "before", "before", "after"]


# -- physical bounds -----------------------------------------------------------------


def figures(**changes) -> dict:
    """A plausible process-mode run of 3 s on 2 CPUs, one core busy: 8 W TDP, 10 W RAM."""
    base = {
        "measured": True,
        "tracking_mode": "process",
        "measure_power_secs": 1.0,
        "cpu_power_method": "cpu_load",
        "cpu_power_w": 8.0,
        "ram_power_w": 10.0,
        "cpu_count": 2,
        "codecarbon_duration_s": 3.0,
        "wall_s": 2.98,
        "cpu_s": 2.9,
        "cpu_energy_kwh": 4.0 * 2.9 * J,
        "ram_energy_kwh": 10.0 * 3.0 * J,
        "energy_kwh": (4.0 * 2.9 + 30.0) * J,
        "emissions_kg": 1e-6,
        "peak_rss_mb": 120.0,
        "exit_code": 0,
        "result_line": "RESULT 1",
        "stdout_sha256": "0" * 64,
        "stdout_bytes": 9,
    }
    return {**base, **changes}


def test_a_plausible_run_passes():
    assert plausibility_problems(figures()) == []
    assert plausibility_problems(figures(tracking_mode="machine", cpu_energy_kwh=8.0 * 3.0 * J)) == []


def test_cpu_energy_above_the_assumed_power_is_flagged():
    problems = plausibility_problems(figures(cpu_energy_kwh=8.0 * 3.0 * 2 * J))
    assert any("exceeds the 8 W codecarbon assumed" in problem for problem in problems)


def test_ram_energy_not_following_ram_power_is_flagged():
    problems = plausibility_problems(figures(ram_energy_kwh=10.0 * 3.0 * 3 * J))
    assert any(problem.startswith("RAM energy") for problem in problems)


def test_cpu_energy_must_follow_cpu_time_in_process_mode():
    # Within the TDP bound, but twice what 2.9 CPU seconds at 4 W per core give.
    problems = plausibility_problems(figures(cpu_energy_kwh=4.0 * 2.9 * 1.9 * J))
    assert any("does not follow the CPU time" in problem for problem in problems)


def test_machine_mode_cannot_count_less_than_the_runs_own_load():
    problems = plausibility_problems(figures(tracking_mode="machine", cpu_energy_kwh=0.1 * J))
    assert any("below what this run's own CPU time implies" in problem for problem in problems)


def test_durations_must_agree():
    problems = plausibility_problems(figures(wall_s=1.0))
    assert any("disagrees with the wall time" in problem for problem in problems)


def test_too_short_runs():
    assert too_short(figures(codecarbon_duration_s=1.5))
    assert not too_short(figures())


def test_implausible_runs_are_left_out_of_the_medians_and_counted():
    settings = RunSettings(repeat=3, warmup=0)
    before = [figures(energy_kwh=e * J) for e in (40.0, 41.0)]
    inflated = figures(energy_kwh=400.0 * J, cpu_energy_kwh=8.0 * 3.0 * 5 * J)
    after = [figures(energy_kwh=e * J, wall_s=1.0 * 2.98) for e in (20.0, 21.0)]
    runs = [_run("before", f) for f in [*before, inflated]] + [_run("after", f) for f in after]
    for run in runs:
        run.problems = plausibility_problems(run.figures)
    program = _program()
    entry = script_summary(program, runs, settings)
    assert entry["invalid_runs"] == 1
    assert entry["energy"]["before_kwh_median"] == pytest.approx(40.5 * J)
    assert entry["energy"]["measurable"] is True
    assert entry["verdict"] == "saving"
    text = render_text({"method": method_summary([entry], settings, "3.3.2"), "scripts": [entry]})
    assert "1 run(s) failed the plausibility checks" in text
    assert "No RAPL" in text and "cpu_load" in text
    assert "saves 49% energy" in render_markdown(
        {"method": method_summary([entry], settings, "3.3.2"), "scripts": [entry]}
    )


def test_when_no_run_of_a_version_is_plausible_the_comparison_falls_back_to_time():
    settings = RunSettings(repeat=2, warmup=0)
    inflated = {"cpu_energy_kwh": 8.0 * 3.0 * 5 * J, "energy_kwh": 150 * J}
    runs = [_run("before", figures(**inflated)) for _ in range(2)]
    short = {"wall_s": 1.0, "codecarbon_duration_s": 1.0, "cpu_s": 0.9}
    short.update(cpu_energy_kwh=4.0 * 0.9 * J, ram_energy_kwh=10.0 * J, energy_kwh=13.6 * J)
    runs += [_run("after", figures(**short)) for _ in range(2)]
    for run in runs:
        run.problems = plausibility_problems(run.figures)
    entry = script_summary(_program(), runs, settings)
    assert entry["invalid_runs"] == 2
    assert entry["verdict"] == "saving"
    assert entry["energy"]["measurable"] is False and entry["energy"]["saving_percent"] is None
    assert "failed the plausibility checks in every run of the before version" in entry["verdict_text"]
    assert entry["time"]["saving_percent"] == pytest.approx((1 - 1.0 / 2.98) * 100)


def _short_runs(version: str, walls, cpus) -> list[Run]:
    """Runs too short to measure energy: the verdict is on time."""
    return [
        _run(version, figures(wall_s=wall, codecarbon_duration_s=wall, cpu_s=cpu, energy_kwh=wall * J))
        for wall, cpu in zip(walls, cpus, strict=True)
    ]


def test_a_wall_time_saving_that_cpu_time_does_not_show_is_not_a_saving():
    # Load from another process stretched the before runs' wall time, not their CPU time.
    runs = _short_runs("before", [1.9, 2.0, 2.1], [0.90, 0.91, 0.92])
    runs += _short_runs("after", [1.0, 1.05, 1.1], [0.90, 0.91, 0.92])
    entry = script_summary(_program(), runs, RunSettings(repeat=3, warmup=0))
    assert entry["energy"]["measurable"] is False
    assert entry["time"]["saving_percent"] > 40
    assert entry["verdict"] == "no-difference"
    assert "CPU time did not" in entry["verdict_text"]


def test_a_wall_time_saving_that_cpu_time_shows_is_a_saving():
    runs = _short_runs("before", [1.9, 2.0, 2.1], [1.80, 1.85, 1.90])
    runs += _short_runs("after", [1.0, 1.05, 1.1], [0.90, 0.91, 0.92])
    entry = script_summary(_program(), runs, RunSettings(repeat=3, warmup=0))
    assert entry["verdict"] == "saving"
    assert entry["verdict_text"].startswith("saves 4") and "% time" in entry["verdict_text"]


def _run(version: str, run_figures: dict) -> Run:
    return Run(version=version, warmup=False, figures=run_figures, exit_code=0)


def _program():
    from green_lint.verify.programs import Program

    return Program(
        Path("/project/a.py"),
        "a.py",
        "print(1)\n",
        after_text="print(2)\n",
        after_source="suggested",
        rules=["GL202"],
    )


# -- which files are scripts ---------------------------------------------------------


def test_find_scripts_skips_suggested_files_and_helpers(tmp_path):
    for name in ("a.py", "a.suggested.py", "_helper.py", "b.fixed.py", "__init__.py", "notes.txt"):
        (tmp_path / name).write_text("", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.py").write_text("", encoding="utf-8")
    assert [path.relative_to(tmp_path).as_posix() for path in find_scripts(tmp_path)] == ["a.py", "sub/c.py"]


def test_the_gallery_has_a_program_per_mission_rule():
    names = {path.name for path in GALLERY.glob("gl*.py")}
    for code in ("101", "102", "103", "201", "202", "203", "204", "301", "302", "304"):
        assert any(name.startswith(f"gl{code}_") and ".suggested." not in name for name in names), code
    for code in ("101", "102", "202", "204", "304"):
        assert any(name.startswith(f"gl{code}_") and name.endswith(".suggested.py") for name in names), code


def test_a_gap_within_the_run_to_run_spread_is_no_difference():
    # All three "after" runs faster, yet the medians lie closer than the runs spread.
    noisy = compare([1.05, 1.30, 1.60], [0.95, 0.99, 1.02])
    assert noisy.ci95_percent[0] > 0 and noisy.saving_percent > 5
    assert noisy.verdict == "no-difference"
    clear = compare([1.00, 1.05, 1.10], [0.20, 0.21, 0.22])
    assert clear.verdict == "saving"
