"""`green-lint verify`: end to end through the CLI, and its statistics and checks in isolation.

The end-to-end tests run the gallery of fixtures/verify/ at a small scale, with 2 pairs
of runs and no warm-up, so that the whole file stays within a few minutes on 2 cores.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import shutil
import statistics
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
from green_lint.verify.runs import Run, RunSettings, Version, run_once, schedule
from green_lint.verify.stats import compare, paired_saving, verdict, verdict_words
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
        assert entry["verdict"] in ("saving", "no-difference", "cost", "inconclusive")
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
        assert entry["results"] and all(value["same"] for value in entry["results"])
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
    assert "took over 20 s a run (its process group was killed)" in completed.stdout
    assert time.monotonic() - started < 120
    pids = [int(pid) for pid in pid_file.read_text().split()]
    assert len(pids) == 2
    for pid in pids:
        assert not alive(pid), f"process {pid} survived the timeout"


@pytest.mark.parametrize(
    "text",
    [
        "print('RESULT 1')\n",
        # An unused noqa's fix removes a comment: no run changes, so there is nothing to measure.
        "x = 1  # noqa: GL103\nprint('RESULT', x)\n",
    ],
)
def test_nothing_to_fix_says_so_and_exits_0(tmp_path, text):
    (tmp_path / "plain.py").write_text(text, encoding="utf-8")
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


def test_the_interval_is_a_t_interval_on_the_pairs_log_ratios():
    pairs = [(10.0, 2.0), (10.4, 2.2), (9.8, 1.9), (10.1, 2.1), (10.3, 2.05)]
    logs = [math.log(after / before) for before, after in pairs]
    mean, margin = statistics.fmean(logs), 2.776 * statistics.stdev(logs) / math.sqrt(5)
    saving, (low, high) = paired_saving(pairs)
    assert saving == pytest.approx((1 - math.exp(mean)) * 100)
    assert (low, high) == pytest.approx(
        ((1 - math.exp(mean + margin)) * 100, (1 - math.exp(mean - margin)) * 100)
    )
    assert 78 < low < saving < high < 82
    # One pair gives an estimate and no interval.
    assert paired_saving([(2.0, 1.0)]) == (pytest.approx(50.0), None)


def test_verdicts():
    assert verdict(80.0, (75.0, 85.0)) == "saving"
    assert verdict(-12.0, (-15.0, -9.0)) == "cost"
    # The interval holds 0 and changes above 5%: these runs cannot tell.
    assert verdict(3.0, (-2.0, 8.0)) == "inconclusive"
    # The interval excludes 0, but every value in it is under 5%: the same, for this purpose.
    assert verdict(2.0, (0.5, 3.0)) == "no-difference"
    assert verdict(-1.0, (-4.0, 2.5)) == "no-difference"
    assert verdict(None, None) == "inconclusive"
    assert verdict(6.0, None) == "inconclusive"


def test_verdict_words():
    saving = compare([10.0, 10.2, 9.9, 10.1, 10.0], [1.3, 1.3, 1.25, 1.35, 1.3])
    assert saving.verdict == "saving"
    assert verdict_words(saving, "energy").startswith("saves 87% energy (95% CI ")
    cost = compare([1.0, 1.01, 0.99, 1.0, 1.0], [1.12, 1.13, 1.11, 1.12, 1.12])
    assert verdict_words(cost, "energy").startswith("costs 12% more energy (95% CI ")
    same = compare([1.0, 1.01, 0.99, 1.0, 1.02], [1.0, 1.0, 1.0, 1.01, 1.01])
    assert verdict_words(same, "time").startswith("no difference in time larger than 5% (95% CI ")
    noisy = compare([1.0, 1.1, 0.9, 1.05, 0.95], [1.02, 0.92, 1.08, 0.97, 1.0])
    assert noisy.verdict == "inconclusive"
    words = verdict_words(noisy, "time")
    assert words.startswith(
        "inconclusive: with 5 pairs of runs this machine could only detect changes in time above ±"
    )
    assert f"±{noisy.half_width:.0f}%" in words


def _simulated(saving: float, noise: float, pairs: int, seed: int) -> str:
    """The verdict on `pairs` simulated pairs: a true `saving` (fraction), log-normal noise
    of `noise` on each run, and a drift of the machine shared by both runs of a pair."""
    rng = random.Random(seed)
    before, after = [], []
    for _ in range(pairs):
        machine = math.exp(rng.gauss(0, 0.05))
        before.append(machine * math.exp(rng.gauss(0, noise)))
        after.append(machine * (1 - saving) * math.exp(rng.gauss(0, noise)))
    return compare(before, after).verdict


def test_more_pairs_detect_a_real_saving_more_often_not_less():
    # The first version's range rule found a 20% saving with 8% noise 50% of the time at 5
    # pairs, 6% at 15 and 0% at 30.
    found = {
        pairs: sum(_simulated(0.20, 0.08, pairs, seed) == "saving" for seed in range(100))
        for pairs in (5, 15, 30)
    }
    assert found[5] <= found[15] <= found[30]
    assert found[15] >= 95 and found[30] >= 99


def test_identical_programs_are_never_a_saving_or_a_cost_and_rarely_inconclusive():
    verdicts = [_simulated(0.0, 0.02, 20, seed) for seed in range(100)]
    assert verdicts.count("saving") + verdicts.count("cost") <= 5
    assert verdicts.count("inconclusive") <= 5


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
    assert entry["energy"]["saving_percent"] == pytest.approx(49.4, abs=0.1)
    # Without RAPL the energy is codecarbon's formula of time: the verdict rests on CPU
    # time, which did not move here.
    assert entry["energy"]["method"] == "modelled"
    assert entry["energy"]["formula"].startswith("4 W per busy core x CPU time + RAM 10 W x wall time")
    assert entry["verdict"] == "no-difference"
    assert entry["verdict_text"].endswith("(energy modelled from time, not measured)")
    text = render_text({"method": method_summary([entry], settings, "3.3.2"), "scripts": [entry]})
    assert "1 run(s) failed the plausibility checks" in text
    assert "No RAPL" in text and "energy is modelled, not measured" in text and "cpu_load" in text


def test_energy_from_rapl_counters_is_measured_and_decides():
    settings = RunSettings(repeat=2, warmup=0)
    rapl = {"cpu_power_method": "RAPL"}
    runs = [_run("before", figures(energy_kwh=e * J, **rapl)) for e in (40.0, 41.0)]
    runs += [_run("after", figures(energy_kwh=e * J, **rapl)) for e in (20.0, 20.5)]
    entry = script_summary(_program(), runs, settings)
    assert entry["energy"]["method"] == "measured" and entry["energy"]["formula"] is None
    assert entry["verdict"] == "saving"
    assert "saves 50% energy" in render_markdown(
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
    assert entry["verdict"] == "inconclusive"
    assert "CPU time did not" in entry["verdict_text"]


def test_a_wall_time_saving_that_cpu_time_shows_is_a_saving():
    runs = _short_runs("before", [1.9, 2.0, 2.1], [1.80, 1.85, 1.90])
    runs += _short_runs("after", [1.0, 1.05, 1.1], [0.90, 0.91, 0.92])
    entry = script_summary(_program(), runs, RunSettings(repeat=3, warmup=0))
    assert entry["verdict"] == "saving"
    # One busy core (CPU time close to wall time): the verdict rests on CPU time.
    assert entry["verdict_text"].startswith("saves 5") and "% CPU time" in entry["verdict_text"]


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


def test_a_small_consistent_saving_is_found_where_the_range_rule_missed_it():
    # All three "after" runs faster in their pairs, though the sides' ranges overlap.
    steady = compare([1.05, 1.30, 1.60], [0.95, 1.18, 1.45])
    assert steady.verdict == "saving"
    clear = compare([1.00, 1.05, 1.10], [0.20, 0.21, 0.22])
    assert clear.verdict == "saving"


# -- adaptive runs -------------------------------------------------------------------


def _fake_runs(monkeypatch, saving: float, noise: float, seed: int = 0) -> list[str]:
    """Replace the child processes by runs of 1 s (before) with a true `saving`."""
    from green_lint.verify import runs as runs_module

    rng = random.Random(seed)
    ran: list[str] = []

    def run_once(version, settings, work_dir, warmup=False, files=None, loops=1):
        ran.append(version.name)
        seconds = (1.0 - saving if version.name == "after" else 1.0) * math.exp(rng.gauss(0, noise))
        return Run(version.name, warmup, figures(wall_s=seconds, cpu_s=seconds), exit_code=0)

    monkeypatch.setattr(runs_module, "run_once", run_once)
    return ran


def _versions():
    from green_lint.verify.runs import Version

    return {name: Version(name, Path(f"/{name}.py"), Path("/a.py")) for name in ("before", "after")}


def test_adaptive_runs_add_pairs_until_the_interval_is_narrow(monkeypatch, tmp_path):
    from green_lint.verify.runs import run_pairs

    ran = _fake_runs(monkeypatch, saving=0.0, noise=0.08)
    settings = RunSettings(repeat=5, warmup=0, adaptive=True, precision=5.0, max_pairs=60, isolate=False)
    runs = run_pairs(_versions(), settings, tmp_path)
    pairs = len(runs) // 2
    assert 5 < pairs < 60 and len(ran) == len(runs)
    comparison = compare(
        [r.figures["wall_s"] for r in runs if r.version == "before"],
        [r.figures["wall_s"] for r in runs if r.version == "after"],
    )
    assert comparison.half_width <= 5.0
    # One pair fewer was not yet precise enough.
    fewer = compare(
        [r.figures["wall_s"] for r in runs[:-2] if r.version == "before"],
        [r.figures["wall_s"] for r in runs[:-2] if r.version == "after"],
    )
    assert fewer.half_width > 5.0 and fewer.verdict == "inconclusive"


def test_adaptive_runs_stop_as_soon_as_a_large_saving_is_clear(monkeypatch, tmp_path):
    from green_lint.verify.runs import run_pairs

    _fake_runs(monkeypatch, saving=0.5, noise=0.02)
    settings = RunSettings(repeat=5, warmup=1, adaptive=True, isolate=False)
    assert len(run_pairs(_versions(), settings, tmp_path)) == 2 + 10


def test_adaptive_runs_keep_to_the_time_budget_and_fixed_runs_to_their_count(monkeypatch, tmp_path):
    from green_lint.verify.runs import run_pairs

    _fake_runs(monkeypatch, saving=0.0, noise=0.3)
    spent = RunSettings(repeat=5, warmup=0, adaptive=True, max_time=0.0, isolate=False)
    assert len(run_pairs(_versions(), spent, tmp_path)) == 10
    capped = RunSettings(repeat=5, warmup=0, adaptive=True, max_pairs=7, isolate=False)
    assert len(run_pairs(_versions(), capped, tmp_path)) == 14
    fixed = RunSettings(repeat=3, warmup=0, isolate=False)
    assert len(run_pairs(_versions(), fixed, tmp_path)) == 6


def test_repeat_turns_adaptive_runs_off(tmp_path):
    from green_lint.verify.command import VerifyRequest, _settings

    script = tmp_path / "a.py"
    script.write_text("print(1)\n")
    adaptive = _settings(VerifyRequest(path=script))
    assert adaptive.adaptive and adaptive.repeat == 5 and adaptive.max_time == 600.0
    fixed = _settings(VerifyRequest(path=script, repeat=3, max_time=30.0))
    assert not fixed.adaptive and fixed.repeat == 3


def _timed_runs(monkeypatch, wall) -> list[tuple[str, bool, int]]:
    """Replace each run by one whose window lasts `wall(version, loops)` seconds; returns
    the (version, warm-up, loops) asked for, in order."""
    from green_lint.verify import runs as runs_module

    asked: list[tuple[str, bool, int]] = []

    def run_once(version, settings, work_dir, warmup=False, files=None, loops=1):
        asked.append((version.name, warmup, loops))
        total = wall(version.name, loops)
        measured = figures(
            wall_s=total, cpu_s=total, codecarbon_duration_s=total, energy_kwh=total * 14 * J, loops=loops
        )
        return Run(version.name, warmup, measured, exit_code=0)

    monkeypatch.setattr(runs_module, "run_once", run_once)
    return asked


def test_a_version_too_short_for_the_tracker_runs_in_loops_and_is_reported_per_run(monkeypatch, tmp_path):
    from green_lint.verify.runs import run_pairs

    # Per run of the program: 0.1 s before, 0.05 s after.
    asked = _timed_runs(monkeypatch, lambda name, loops: (0.1 if name == "before" else 0.05) * loops)
    settings = RunSettings(repeat=2, warmup=1, isolate=False)
    runs = run_pairs(_versions(), settings, tmp_path)
    # Three tracker intervals of 1 s: 30 runs of the before version (0.1 s), 60 of the
    # after version (0.05 s); each warm-up runs again until its window is long enough.
    assert asked[:4] == [("before", True, 1), ("before", True, 30), ("after", True, 30), ("after", True, 60)]
    assert sorted(set(asked[4:])) == [("after", False, 60), ("before", False, 60)]
    entry = script_summary(_program(), runs, settings)
    assert entry["time"]["before_s_median"] == pytest.approx(0.1)
    assert entry["time"]["after_s_median"] == pytest.approx(0.05)
    assert entry["energy"]["measurable"] is True
    assert entry["energy"]["before_kwh_median"] == pytest.approx(0.1 * 14 * J)
    assert {run["loops"] for run in entry["runs"] if not run["warmup"]} == {60}
    # A peak of memory is not divided by the loops: 60 runs peak where one does.
    assert entry["peak_rss_mb"] == {"before_median": 120.0, "after_median": 120.0}
    # Each run of the report is a run of the program, not its window of 60.
    measured = [run for run in entry["runs"] if not run["warmup"] and run["version"] == "before"]
    assert [run["duration_s"] for run in measured] == pytest.approx([0.1, 0.1])
    assert [run["energy_kwh"] for run in measured] == pytest.approx([0.1 * 14 * J] * 2)
    assert [run["cpu_s"] for run in measured] == pytest.approx([0.1, 0.1])
    assert {run["peak_rss_mb"] for run in measured} == {120.0}


def test_a_far_faster_version_runs_its_own_loops_so_the_slow_one_is_not_run_for_minutes(
    monkeypatch, tmp_path
):
    from green_lint.verify.runs import MAX_WINDOW_SECONDS, run_pairs

    per_run = {"before": 1.2, "after": 0.005}  # a 99.6% saving, like GL201's gallery program
    asked = _timed_runs(monkeypatch, lambda name, loops: per_run[name] * loops)
    run_pairs(_versions(), RunSettings(repeat=2, warmup=1, isolate=False), tmp_path)
    measured = sorted({entry for entry in asked if not entry[1]})
    # Equal loops would be 600 for both: 12 minutes per run of the before version.
    assert measured == [("after", False, 600), ("before", False, 3)]
    assert all(loops * per_run[name] <= MAX_WINDOW_SECONDS for name, _, loops in asked)


def test_a_warm_up_runs_again_when_later_loops_are_faster_than_the_first(monkeypatch, tmp_path):
    """The first loop of a window imports the libraries; later loops find them imported.
    Loops calibrated on a one-loop warm-up then leave the window too short (GL101's
    gallery program: 1.45 s for one loop, 1.75 s for three), and its energy unmeasured."""
    from green_lint.verify.runs import run_pairs

    def wall(name: str, loops: int) -> float:
        return 2.1 * loops if name == "before" else 1.0 + 0.3 * (loops - 1)

    asked = _timed_runs(monkeypatch, wall)
    runs = run_pairs(_versions(), RunSettings(repeat=2, warmup=1, isolate=False), tmp_path)
    assert [entry for entry in asked if entry[1]] == [
        ("before", True, 1),
        ("after", True, 1),
        ("after", True, 3),  # 1.6 s: still too short
        ("after", True, 6),  # 2.5 s
    ]
    measured = [run for run in runs if not run.warmup]
    assert len(measured) == 4 and not any(run.too_short for run in measured)


def test_an_implausible_estimate_drops_its_pair_from_energy_only():
    settings = RunSettings(repeat=4, warmup=0)
    runs = [_run("before", figures(wall_s=2.98 + k / 100, energy_kwh=(40.0 + k) * J)) for k in range(4)]
    runs += [
        _run("after", figures(wall_s=1.49 + k / 100, cpu_s=1.45, energy_kwh=(20.0 + k) * J)) for k in range(4)
    ]
    runs[5].problems = ["CPU energy does not follow the CPU time"]  # the second after run
    entry = script_summary(_program(), runs, settings)
    assert entry["time"]["pairs"] == 4 and entry["cpu_time"]["pairs"] == 4
    assert entry["energy"]["pairs"] == 3
    # Pairs stay pairs: the third before run is compared with the third after run.
    assert entry["energy"]["before_kwh_median"] == pytest.approx(42.0 * J)
    assert entry["energy"]["after_kwh_median"] == pytest.approx(22.0 * J)


def test_the_timeout_counts_per_run_of_the_program_not_per_window(tmp_path):
    """A short program runs many times in one tracked window: five runs of 0.3 s with
    `--timeout 1` must complete, though the window (and the tracker's start) take longer."""
    script = tmp_path / "short.py"
    script.write_text("import time\ntime.sleep(0.3)\nprint('RESULT done')\n", encoding="utf-8")
    settings = RunSettings(repeat=1, warmup=0, timeout=1.0)
    run = run_once(Version("before", script, script), settings, tmp_path, loops=5)
    assert not run.timed_out
    assert run.completed, run.stderr_tail
    assert run.figures["loops"] == 5


def test_a_script_that_does_not_parse_says_so_not_nothing_to_fix(tmp_path):
    (tmp_path / "broken.py").write_text("def train(:\n    pass\n", encoding="utf-8")
    completed = verify("broken.py", "--output-format", "json", cwd=tmp_path)
    [entry] = json.loads(completed.stdout)["scripts"]
    assert entry["verdict"] == "failed"
    assert entry["message"].startswith("the script does not parse (line 1: ")
    assert completed.returncode == 1


def test_safe_only_names_the_unsafe_fixes_it_left_out(tmp_path):
    grid = (
        "from sklearn.model_selection import GridSearchCV\nfrom sklearn.svm import SVC\n\n"
        'search = GridSearchCV(SVC(), {"C": [1, 10]}, cv=3)\nprint("RESULT", 1)\n'
    )
    (tmp_path / "search.py").write_text(grid, encoding="utf-8")
    completed = verify("search.py", "--safe-only", "--output-format", "json", cwd=tmp_path)
    [entry] = json.loads(completed.stdout)["scripts"]
    assert entry["verdict"] == "nothing-to-fix"
    assert (
        entry["message"]
        == "nothing to fix safely: the fixes of GL103 are unsafe; measure them without --safe-only"
    )
