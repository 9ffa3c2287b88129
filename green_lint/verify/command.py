"""`green-lint verify`: run scripts before and after their fixes under codecarbon, and report.

Never touches the user's files: the fixed copy and every run's scratch files live in a
temporary folder, removed at the end.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import os
import shlex
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from green_lint import __version__
from green_lint.errors import UsageProblem
from green_lint.verify.choices import METERS, TRACKING_MODES
from green_lint.verify.git_revision import at_revision
from green_lint.verify.noise import cpu_ticks, machine_warnings, run_warnings, steal_warning
from green_lint.verify.programs import Program, RuleSelection, find_scripts, given_pair, prepare
from green_lint.verify.report_html import render_html
from green_lint.verify.report_json import render_json
from green_lint.verify.report_markdown import render_markdown
from green_lint.verify.report_text import render_text
from green_lint.verify.results import parse_tolerances
from green_lint.verify.runs import Run, RunSettings, Version, run_pairs
from green_lint.verify.sandbox import SandboxProblem
from green_lint.verify.summary import method_summary, script_summary, skipped_summary

OUTPUT_FORMATS: dict[str, Callable[[dict[str, Any]], str]] = {
    "full": render_text,
    "json": render_json,
    "markdown": render_markdown,
}
REPORT_SUFFIXES: dict[str, Callable[[dict[str, Any]], str]] = {
    ".json": render_json,
    ".md": render_markdown,
    ".markdown": render_markdown,
    ".html": render_html,
    ".htm": render_html,
}
# `repeat` None: adaptive, from MIN_PAIRS pairs until the interval is narrow enough or
# `max_time` seconds have gone; a number: exactly that many pairs.
DEFAULTS = {
    "country": "FRA",
    "repeat": None,
    "warmup": 1,
    "timeout": 600.0,
    "tracking_mode": "process",
    "max_time": 600.0,
    "meter": "codecarbon",
}
MIN_PAIRS = 5
EXIT_OK, EXIT_FAILED = 0, 1


@dataclass
class VerifyRequest:
    path: Path
    rules: list[str] | None = None
    safe_only: bool = False
    repeat: int | None = None
    warmup: int | None = None
    timeout: float | None = None
    max_time: float | None = None
    data: list[Path] | None = None
    tolerance: list[str] | None = None
    runs_per_day: float | None = None
    after: Path | None = None  # compare the script with this program
    against: str | None = None  # compare the script at this git revision with the working tree
    fail_over: float | None = None  # exit 1 when a regression's lower bound exceeds this percent
    args: str | None = None
    country: str | None = None
    tracking_mode: str | None = None
    meter: str | None = None  # of GPU energy
    report: Path | None = None
    output_format: str | None = None


def run_verify(request: VerifyRequest) -> int:
    output = _renderer(request.output_format or "full", OUTPUT_FORMATS, "output format")
    report_renderer = _report_renderer(request.report)
    _check_report_path(request.report)
    scripts = find_scripts(request.path)
    _check_pairing(request)
    settings = _settings(request)
    codecarbon_version = _require_codecarbon()
    selection = RuleSelection(tuple(request.rules or ()), request.safe_only)
    programs = [] if request.against else [_program(path, request, selection) for path in scripts]
    machine = machine_warnings()
    for warning in machine:
        _progress_line(f"warning: {warning}")
    entries = []
    with _terminate_as_interrupt(), tempfile.TemporaryDirectory(prefix="green-lint-verify-") as scratch:
        if request.against:
            before = at_revision(request.path, request.against, Path(scratch))
            programs = [given_pair(before, request.path, _display_path(request.path))]
        for program in programs:
            entries.append(_verify_program(program, settings, Path(scratch)))
    report = {
        "green_lint": __version__,
        "method": {**method_summary(entries, settings, codecarbon_version), "warnings": machine},
        "scripts": entries,
    }
    if request.report is not None:
        try:
            request.report.write_text(report_renderer(report), encoding="utf-8")
        except OSError as error:
            raise UsageProblem(f"cannot write {str(request.report)!r}: {error.strerror}") from None
    sys.stdout.write(output(report))
    if any(entry["verdict"] == "failed" for entry in entries):
        return EXIT_FAILED
    if request.fail_over is not None and _regressions(entries, request.fail_over):
        return EXIT_FAILED
    return EXIT_OK


def _program(path: Path, request: VerifyRequest, selection: RuleSelection) -> Program:
    if request.after is not None:
        return given_pair(path, request.after, _display_path(path))
    return prepare(path, _display_path(path), selection)


def _check_pairing(request: VerifyRequest) -> None:
    if request.after is None and request.against is None:
        if request.fail_over is not None:
            raise UsageProblem("--fail-over needs --against REF or --after FILE")
        return
    if request.after is not None and request.against is not None:
        raise UsageProblem("--after and --against each name the other program: use one")
    if not request.path.is_file():
        raise UsageProblem(f"--after and --against compare one script: {str(request.path)!r} is not a file")
    if request.after is not None and not request.after.is_file():
        raise UsageProblem(f"--after {str(request.after)!r} is not a file")
    if request.fail_over is not None and request.fail_over < 0:
        raise UsageProblem(f"--fail-over must be 0 or more percent, not {request.fail_over:g}")


def _regressions(entries: list[dict[str, Any]], limit: float) -> list[str]:
    """Scripts whose cost is surely above `limit` percent: the interval's best case is worse."""
    found = []
    for entry in entries:
        decision = entry.get("decision") or {}
        interval = decision.get("ci95_percent")
        if entry["verdict"] == "cost" and interval and -interval[1] > limit:
            found.append(entry["path"])
            _progress_line(
                f"{entry['path']}: {decision['figure']} regressed by at least {-interval[1]:.0f}% "
                f"(95% CI), over --fail-over {limit:g}%"
            )
    return found


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """On SIGTERM, unwind as on Ctrl-C: kill the running child's group, remove the scratch."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    # A closed terminal (SIGHUP) too: the scratch folder and the runs go with it.
    previous = {number: signal.signal(number, interrupt) for number in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _verify_program(program: Program, settings: RunSettings, scratch: Path) -> dict[str, Any]:
    if program.problem is not None and not program.has_after:
        return skipped_summary(program, "failed", program.problem)
    if not program.has_after:
        return skipped_summary(program, "nothing-to-fix", _nothing_to_fix_message(program))
    versions = _versions(program, scratch)
    if program.after_source == "given":
        what = str(program.suggested_path)
    elif program.suggested_path:
        what = f"suggested file {program.suggested_path.name}"
    else:
        what = "green-lint's fix"
    _progress_line(f"{program.display_path}: measuring against {what}")
    start = cpu_ticks()
    try:
        runs = run_pairs(versions, settings, scratch, _progress(program))
    except SandboxProblem as problem:
        return skipped_summary(program, "failed", str(problem))
    entry = script_summary(program, runs, settings)
    steal = steal_warning(start, cpu_ticks())
    entry["warnings"] = run_warnings(runs) + ([steal] if steal else [])
    return entry


def _versions(program: Program, scratch: Path) -> dict[str, Version]:
    if program.suggested_path is not None:
        after_code = program.suggested_path
    else:
        folder = Path(tempfile.mkdtemp(prefix="fixed-", dir=scratch))
        after_code = folder / program.path.name
        after_code.write_bytes(program.after_data or b"")
    return {
        "before": Version("before", program.path, program.path),
        "after": Version("after", after_code, program.after_home or program.path),
    }


def _nothing_to_fix_message(program: Program) -> str:
    suggested = program.path.stem + ".suggested.py"
    if program.unsafe_only:
        return (
            f"nothing to fix safely: the fixes of {', '.join(program.unsafe_only)} are unsafe; "
            "measure them without --safe-only"
        )
    if program.rules:
        return (
            f"nothing to fix mechanically (findings: {', '.join(program.rules)}); write {suggested} "
            "beside it to measure a change by hand"
        )
    return f"nothing to fix: no finding with a fix, and no {suggested} beside it"


def _progress(program: Program) -> Callable[[int, int, str, bool, Run | None], None]:
    def report(number: int, total: int, version: str, warmup: bool, run: Run | None) -> None:
        if run is None:
            return
        label = f"{version}{' (warm-up)' if warmup else ''}"
        if run.timed_out:
            outcome = "timed out"
        elif not run.completed:
            outcome = f"failed (exit status {run.exit_code})"
        else:
            outcome = f"{run.figures['wall_s']:.2f} s, {run.figures.get('energy_kwh', 0.0) * 3.6e6:.1f} J"
            if run.problems:
                outcome += " (implausible: left out)"
        _progress_line(f"  run {number}/{total} {label}: {outcome}")

    return report


def _progress_line(text: str) -> None:
    print(f"green-lint verify: {text}", file=sys.stderr, flush=True)


def _settings(request: VerifyRequest) -> RunSettings:
    configured = {**DEFAULTS, **_config_values(request.path)}
    chosen = {
        name: getattr(request, name) if getattr(request, name) is not None else configured[name]
        for name in DEFAULTS
    }
    adaptive = chosen["repeat"] is None
    if not adaptive and chosen["repeat"] < 1:
        raise UsageProblem(f"--repeat must be at least 1, not {chosen['repeat']}")
    if chosen["max_time"] <= 0:
        raise UsageProblem(f"--max-time must be a positive number of seconds, not {chosen['max_time']:g}")
    if chosen["warmup"] < 0:
        raise UsageProblem(f"--warmup must be 0 or more, not {chosen['warmup']}")
    if chosen["timeout"] <= 0:
        raise UsageProblem(f"--timeout must be a positive number of seconds, not {chosen['timeout']:g}")
    country = str(chosen["country"])
    if len(country) != 3 or not country.isalpha():
        raise UsageProblem(f"--country must be an ISO 3166 alpha-3 code such as FRA, not {country!r}")
    if chosen["tracking_mode"] not in TRACKING_MODES:
        raise UsageProblem(f"--tracking-mode must be process or machine, not {chosen['tracking_mode']!r}")
    if chosen["meter"] not in METERS:
        raise UsageProblem(f"--meter must be codecarbon or zeus, not {chosen['meter']!r}")
    if chosen["meter"] == "zeus" and importlib.util.find_spec("zeus") is None:
        raise UsageProblem(
            "--meter zeus measures GPUs with Zeus, which is not installed: pip install 'green-lint[gpu]'"
        )
    try:
        args = tuple(shlex.split(request.args or ""))
    except ValueError as error:
        raise UsageProblem(f"--args: {error}") from None
    return RunSettings(
        country=country.upper(),
        tracking_mode=chosen["tracking_mode"],
        meter=chosen["meter"],
        repeat=MIN_PAIRS if adaptive else int(chosen["repeat"]),
        warmup=int(chosen["warmup"]),
        timeout=float(chosen["timeout"]),
        args=args,
        adaptive=adaptive,
        max_time=float(chosen["max_time"]),
        data=tuple(_data_paths(request.data or [])),
        tolerances=tuple(_tolerances(request.tolerance or []).items()),
        runs_per_day=_runs_per_day(request.runs_per_day),
    )


def _runs_per_day(value: float | None) -> float:
    if value is None:
        return 1.0
    if value <= 0:
        raise UsageProblem(f"--runs-per-day must be a positive number, not {value:g}")
    return float(value)


def _tolerances(items: list[str]) -> dict[str, float]:
    try:
        return parse_tolerances(items)
    except ValueError as error:
        raise UsageProblem(str(error)) from None


def _data_paths(paths: list[Path]) -> list[Path]:
    for path in paths:
        if not path.exists():
            raise UsageProblem(f"--data {str(path)!r} does not exist")
    return [path.resolve() for path in paths]


def _config_values(path: Path) -> dict[str, Any]:
    """The `[tool.green-lint.verify]` table of the config that applies to `path`."""
    try:
        from green_lint.config import ConfigError, find_config, load_config
    except ImportError:
        return {}
    try:
        config = load_config(find_config(path.resolve()))
    except ConfigError as error:
        raise UsageProblem(str(error)) from None
    return {name: value for name, value in getattr(config, "verify", {}).items() if name in DEFAULTS}


def _require_codecarbon() -> str:
    # Only the child probe imports codecarbon; here it is enough to know it is there.
    if importlib.util.find_spec("codecarbon") is None:
        raise UsageProblem(
            "verify measures with codecarbon, which is not installed: pip install 'green-lint[verify]'"
        )
    try:
        return importlib.metadata.version("codecarbon")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _renderer(name: str, choices: dict[str, Callable], what: str) -> Callable[[dict[str, Any]], str]:
    if name not in choices:
        raise UsageProblem(f"unknown {what} {name!r}; choose from {', '.join(choices)}")
    return choices[name]


def _check_report_path(path: Path | None) -> None:
    """Before the first run, not after minutes of measuring: the report can be written."""
    if path is None:
        return
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise UsageProblem(f"--report {str(path)!r} is a folder")
    if not folder.is_dir():
        raise UsageProblem(f"--report {str(path)!r}: the folder {str(folder)!r} does not exist")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UsageProblem(f"--report {str(path)!r} cannot be written")


def _report_renderer(path: Path | None) -> Callable[[dict[str, Any]], str]:
    if path is None:
        return render_json
    suffix = path.suffix.lower()
    if suffix not in REPORT_SUFFIXES:
        raise UsageProblem(f"--report {str(path)!r}: the file name must end in .json, .md or .html")
    return REPORT_SUFFIXES[suffix]


def _display_path(path: Path) -> str:
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute)
    return relative if not relative.startswith("..") else absolute
