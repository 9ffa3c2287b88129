"""Run the two versions of a script in fresh child processes, warm-up first, then in pairs.

The order alternates, A B B A A B ..., so that a drift of the machine (other tenants'
load, thermal state) falls on both versions alike.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from green_lint.verify import sandbox
from green_lint.verify.checks import plausibility_problems, too_short
from green_lint.verify.stats import compare

STDERR_TAIL_LINES = 20
MEASURE_POWER_SECS = 1.0
# The longest tracked window that equal loops for both versions may make (see
# calibrated_loops).
MAX_WINDOW_SECONDS = 30.0
# Warm-ups run again at most this many times per version while its window is too short.
CALIBRATION_RUNS = 3


@dataclass(frozen=True)
class RunSettings:
    country: str = "FRA"
    tracking_mode: str = "process"
    meter: str = "codecarbon"  # of GPU energy: codecarbon's own tracking, or Zeus's windows
    # Pairs of measured runs: exactly these when not adaptive; the first ones when adaptive.
    repeat: int = 5
    warmup: int = 1
    # Adaptive: after `repeat` pairs, more pairs until the verdict on wall and on CPU time
    # is decided (saving, cost, or no difference above 5%) or their interval's half-width
    # is at most `precision` points of percent, or `max_time` seconds of measuring have
    # gone, or `max_pairs`. Half the minimum effect: at ±5 points an identical program
    # stayed "inconclusive" in half the trials (its interval straddled ±5%).
    adaptive: bool = False
    precision: float = 2.5
    max_time: float = 600.0
    max_pairs: int = 60
    # Each run in a scratch copy of the script's folder (see sandbox.py); large read-only
    # inputs under `data` are linked into it.
    isolate: bool = True
    data: tuple[Path, ...] = ()
    # RESULT values compared within an absolute tolerance: (name, tolerance).
    tolerances: tuple[tuple[str, float], ...] = ()
    # For the report's projection of a year of runs.
    runs_per_day: float = 1.0
    # A version whose warm-up run is too short for the tracker runs this many times at
    # most in one tracked window (calibrated like timeit's autorange).
    max_loops: int = 1000
    timeout: float = 600.0
    args: tuple[str, ...] = ()
    measure_power_secs: float = MEASURE_POWER_SECS


@dataclass(frozen=True)
class Version:
    """One side of the comparison: the file that runs, and the original it stands for."""

    name: str  # "before" | "after"
    code_path: Path
    shown_path: Path


@dataclass
class Run:
    version: str
    warmup: bool
    figures: dict[str, Any] = field(default_factory=dict)
    exit_code: int | None = None
    timed_out: bool = False
    loops: int = 1  # runs of the program in its tracked window
    stderr_tail: str = ""
    problems: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)  # files of the folder's copy it wrote
    # Files of the --data inputs it wrote: in the user's folder (they are linked).
    written_to_data: list[str] = field(default_factory=list)

    @property
    def completed(self) -> bool:
        """The script ran to its end with status 0 and the probe reported figures."""
        return (
            not self.timed_out
            and not self.written_to_data
            and self.exit_code == 0
            and "wall_s" in self.figures
        )

    @property
    def valid(self) -> bool:
        """Completed, and its energy estimate passed the plausibility checks."""
        return self.completed and not self.problems

    @property
    def too_short(self) -> bool:
        return too_short(self.figures)


def schedule(warmup: int, repeat: int) -> list[tuple[str, bool]]:
    """(version, is_warmup) in the order to run: warm-ups, then alternating pairs."""
    plan = [(name, True) for _ in range(warmup) for name in ("before", "after")]
    for index in range(repeat):
        pair = ("before", "after") if index % 2 == 0 else ("after", "before")
        plan += [(name, False) for name in pair]
    return plan


def run_pairs(
    versions: dict[str, Version],
    settings: RunSettings,
    work_dir: Path,
    progress: Callable[[int, int, str, bool, Run | None], None] = lambda *_: None,
) -> list[Run]:
    """Every run of the schedule, and more pairs when adaptive; stops after the first run
    that does not complete."""
    plan = schedule(settings.warmup, settings.repeat)
    runs: list[Run] = []
    start = time.monotonic()
    # The same files for every run of a version; raises SandboxProblem before any run.
    folders = {name: version.shown_path.parent for name, version in versions.items()}
    plans = (
        {folder: sandbox.plan_copy(folder, settings.data) for folder in set(folders.values())}
        if settings.isolate
        else {}
    )
    pairs = settings.repeat
    loops = dict.fromkeys(versions, 1)
    seconds_per_loop: dict[str, float] = {}  # from each version's latest warm-up
    done = 0  # steps of the plan run (a warm-up run again is not a step of its own)

    def one(name: str, warmup: bool) -> Run:
        number, total = len(runs) + 1, len(plan) + len(runs) - done  # the re-runs too
        progress(number, total, name, warmup, None)
        files = plans[folders[name]] if settings.isolate else None
        run = run_once(versions[name], settings, work_dir, warmup, files, loops[name])
        runs.append(run)
        progress(number, total, name, warmup, run)
        return run

    def warm_up(name: str) -> Run:
        """A warm-up, and the loops it calibrates. A first loop pays the imports that later
        loops find done, so loops calibrated on one run can still make a window too
        short: the warm-up then runs again with them (CALIBRATION_RUNS times at most)."""
        nonlocal loops
        again = 0
        while True:
            run = one(name, True)
            if not run.completed:
                return run
            seconds_per_loop[name] = max(run.figures["wall_s"] / run.figures.get("loops", 1), 0.001)
            calibrated = calibrated_loops(seconds_per_loop, list(versions), settings)
            short = run.too_short and calibrated[name] > loops[name]
            loops = calibrated
            if not short or again == CALIBRATION_RUNS:
                return run
            again += 1

    while True:
        for name, warmup in plan[done:]:
            run = warm_up(name) if warmup else one(name, warmup)
            done += 1
            if not run.completed:
                return runs
        if not settings.adaptive or pairs >= settings.max_pairs or measured_enough(runs, settings, start):
            return runs
        pairs += 1
        plan = schedule(settings.warmup, pairs)


def calibrated_loops(
    seconds_per_loop: dict[str, float], names: list[str], settings: RunSettings
) -> dict[str, int]:
    """How many times each version runs in one tracked window.

    A version shorter than two of the tracker's intervals runs enough times for three
    (like timeit's autorange). Both versions run the same number of loops when that keeps
    every window under MAX_WINDOW_SECONDS: the first loop of a window is the slowest (cold
    caches), and unequal loops weighed it unequally (an identical copy measured 2% slower).
    When one version is far faster, equal loops would run the slow one for minutes (484
    loops of a 1.2 s program): each then runs its own, and the first-loop bias is small
    beside such a change."""
    needed = {name: _autorange(seconds, settings) for name, seconds in seconds_per_loop.items()}
    common = max(needed.values(), default=1)
    if all(common * seconds <= MAX_WINDOW_SECONDS for seconds in seconds_per_loop.values()):
        return dict.fromkeys(names, common)
    return {name: needed.get(name, common) for name in names}


def _autorange(seconds: float, settings: RunSettings) -> int:
    if seconds >= 2 * settings.measure_power_secs:
        return 1  # long enough for the tracker as it is
    return max(1, min(settings.max_loops, math.ceil(3 * settings.measure_power_secs / seconds)))


def per_loop(run: Run, name: str) -> float:
    """A figure of one run of the program (the window's, divided by its loops)."""
    return run.figures[name] / run.figures.get("loops", 1)


def measured_enough(runs: list[Run], settings: RunSettings, start: float) -> bool:
    """Whether adaptive measuring can stop: the budget is spent, or wall and CPU time are
    each known to `precision` points or have a clear verdict."""
    if time.monotonic() - start >= settings.max_time:
        return True
    measured = [run for run in runs if not run.warmup and run.completed]
    before = [run for run in measured if run.version == "before"]
    after = [run for run in measured if run.version == "after"]
    for figure in ("wall_s", "cpu_s"):
        comparison = compare(
            [per_loop(run, figure) for run in before], [per_loop(run, figure) for run in after]
        )
        precise = comparison.half_width is not None and comparison.half_width <= settings.precision
        if not precise and comparison.verdict == "inconclusive":
            return False
    return True


def run_once(
    version: Version,
    settings: RunSettings,
    work_dir: Path,
    warmup: bool = False,
    files: list[str] | None = None,
    loops: int = 1,
) -> Run:
    """One child process: the probe runs the script under a fresh codecarbon tracker, in
    a copy of its folder made of `files` (in the folder itself when None)."""
    # One prefix for both versions: paths of different lengths shift the memory layout
    # (the environment, argv, the working folder), which alone made an identical copy
    # measure a few percent apart.
    run_dir = Path(tempfile.mkdtemp(prefix="run-", dir=work_dir))
    copy = None
    code_path, shown_path = version.code_path, version.shown_path
    if files is not None:
        copy = sandbox.make(shown_path.parent, files, run_dir / "work", settings.data)
        shown_path = copy.root / version.shown_path.name
        if version.code_path != version.shown_path:  # the fixed version stands in for the script
            shutil.copyfile(version.code_path, shown_path)
            copy.mark()
        code_path = shown_path
    result_path = run_dir / "result.json"
    stderr_path = run_dir / "stderr.txt"
    command = [
        sys.executable,
        "-m",
        "green_lint.verify.probe",
        "--result",
        str(result_path),
        "--stdout-file",
        str(run_dir / "stdout.txt"),
        "--work-dir",
        str(run_dir),
        "--code-path",
        str(code_path),
        "--shown-path",
        str(shown_path),
        "--country",
        settings.country,
        "--tracking-mode",
        settings.tracking_mode,
        "--measure-power-secs",
        str(settings.measure_power_secs),
        "--loops",
        str(loops),
        "--meter",
        settings.meter,
        "--",
        *settings.args,
    ]
    environment = {**os.environ, "CODECARBON_LOG_LEVEL": "error", "PYTHONDONTWRITEBYTECODE": "1"}
    run = Run(version=version.name, warmup=warmup, loops=loops)
    _become_subreaper()
    with open(stderr_path, "wb") as stderr:
        child = subprocess.Popen(
            command,
            cwd=shown_path.parent,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            # Its own process group, so that a timeout kills what the script started too.
            start_new_session=True,
        )
        try:
            child.wait(timeout=deadline(settings, loops))
        except subprocess.TimeoutExpired:
            run.timed_out = True
        finally:
            _kill_group(child)
            _kill_escaped()
    run.stderr_tail = _tail(stderr_path)
    if copy is not None:
        run.written = copy.written()
        run.written_to_data = copy.written_to_data()
    if result_path.exists():
        run.figures = json.loads(result_path.read_text(encoding="utf-8"))
        run.exit_code = run.figures.get("exit_code")
        run.problems = plausibility_problems(run.figures)
    elif not run.timed_out:
        run.exit_code = child.returncode if child.returncode != 0 else -1
    return run


# What the measuring process needs before the program's first run: Python, then
# codecarbon's tracker, whose first start in a process takes 1.3 to 2 s (CODECARBON.md).
PROBE_START_SECONDS = 15.0


def deadline(settings: RunSettings, loops: int) -> float:
    """Seconds before a window's process is killed: `--timeout` counts per run of the
    program, and a window of short runs repeats it `loops` times."""
    return settings.timeout * loops + PROBE_START_SECONDS


def _kill_group(child: subprocess.Popen) -> None:
    """Kill the child's whole process group: also what the script left running."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signal.SIGKILL)
    # A process in uninterruptible sleep may outlive SIGKILL for a while.
    with contextlib.suppress(subprocess.TimeoutExpired):
        child.wait(timeout=10)


def _become_subreaper() -> None:
    """Make this process the parent of orphans left by the runs (Linux): a grandchild that
    leaves the run's process group with `setsid()` is then still ours to find and stop."""
    global _SUBREAPER
    if _SUBREAPER or not sys.platform.startswith("linux"):
        return
    _SUBREAPER = True
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        PR_SET_CHILD_SUBREAPER = 36
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


_SUBREAPER = False


def _kill_escaped(rounds: int = 20) -> None:
    """Kill the processes a run left behind in sessions of their own: once their parent
    died they were handed to us (`_become_subreaper`), in a process group not ours."""
    for _ in range(rounds):
        escaped = _adopted_in_other_groups()
        if not escaped:
            return
        for pid in escaped:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)


def _adopted_in_other_groups() -> list[int]:
    me, my_group = os.getpid(), os.getpgid(0)
    found = []
    with contextlib.suppress(OSError):
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[1]) == me and int(fields[2]) != my_group:
                found.append(int(entry))
    return found


def _tail(path: Path, lines: int = STDERR_TAIL_LINES, most: int = 64 * 1024) -> str:
    """The last lines of a file, reading at most its last `most` bytes."""
    try:
        with path.open("rb") as handle:
            handle.seek(max(handle.seek(0, os.SEEK_END) - most, 0))
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.rstrip().splitlines()[-lines:])
