"""Turn the runs of each script into the report's data: one JSON-ready dict.

Every report format (terminal, JSON, Markdown, HTML) renders this dict, so they cannot
disagree.
"""

from __future__ import annotations

import os
import platform
import re
from collections import Counter
from collections.abc import Sequence
from statistics import median
from typing import Any

from green_lint.verify.checks import JOULES_PER_KWH
from green_lint.verify.footprint import footprint
from green_lint.verify.programs import Program
from green_lint.verify.results import compare_results, stdout_diff
from green_lint.verify.results import words as result_words
from green_lint.verify.runs import Run, RunSettings, per_loop
from green_lint.verify.stats import Comparison, compare, verdict_words

# The verdict rests on the GPU's measured energy when it is at least this share of the total.
GPU_SHARE_FOR_VERDICT = 50.0
TOO_SHORT_NOTE = "too short to measure energy; figures are time-based"
IMPLAUSIBLE_NOTE = (
    "codecarbon's energy estimate failed the plausibility checks in every run of the {version} "
    "version; figures are time-based"
)
# The run figures that add up over a window's loops: shown per run of the program, as
# every figure of the report is (a peak of memory or a result line does not add up).
PER_LOOP_FIELDS = (
    "energy_kwh",
    "cpu_energy_kwh",
    "ram_energy_kwh",
    "gpu_energy_j",
    "emissions_kg",
    "codecarbon_duration_s",
    "cpu_s",
)
RUN_FIELDS = (*PER_LOOP_FIELDS, "peak_rss_mb", "result_line", "stdout_sha256")


def script_summary(program: Program, runs: Sequence[Run], settings: RunSettings) -> dict[str, Any]:
    """The summary of one script that was measured (or failed to be)."""
    entry = _script_head(program)
    entry["runs"] = [_run_entry(run) for run in runs]
    # In the runs' copies of the folder: the user's own folder is never written.
    entry["files_written"] = sorted({path for run in runs for path in run.written})
    measured = [run for run in runs if not run.warmup and run.completed]
    entry["invalid_runs"] = sum(1 for run in measured if not run.valid)
    entry.update(_results(runs, dict(settings.tolerances)))
    failed = next((run for run in runs if not run.completed), None)
    if failed is not None:
        entry["verdict"] = "failed"
        entry["message"] = _failure_message(failed, settings) + _left_out_hint(failed, program)
        entry["stderr_tail"] = failed.stderr_tail
        return entry
    # The k-th measured run of each version ran in pair k (runs stop at the first failure).
    before = [run for run in measured if run.version == "before"]
    after = [run for run in measured if run.version == "after"]
    count = min(len(before), len(after))
    before, after = before[:count], after[:count]
    # Energy only from pairs whose two estimates passed the plausibility checks; time and
    # CPU time come from the probe's own clock and getrusage, so every pair counts there.
    plausible = [(b, a) for b, a in zip(before, after, strict=True) if b.valid and a.valid]
    note = None
    if not plausible:
        without = next(
            (
                name
                for name, runs_of in (("before", before), ("after", after))
                if not any(r.valid for r in runs_of)
            ),
            "before",
        )
        note = IMPLAUSIBLE_NOTE.format(version=without)
    _add_comparisons(entry, before, after, plausible, energy_note=note)
    entry["footprint"] = footprint(entry["energy"], settings.runs_per_day)
    return entry


def skipped_summary(program: Program, verdict: str, message: str) -> dict[str, Any]:
    """A script that was not run: nothing to fix, or no after version could be made."""
    entry = _script_head(program)
    entry.update(verdict=verdict, message=message, runs=[])
    return entry


def method_summary(
    entries: Sequence[dict[str, Any]], settings: RunSettings, codecarbon_version: str | None
) -> dict[str, Any]:
    """How the figures were measured: codecarbon, its CPU power method, the machine."""
    figures = next(
        (run for entry in entries for run in entry.get("runs", []) if run.get("cpu_power_method")), {}
    )
    method = figures.get("cpu_power_method")
    summary = {
        "codecarbon": figures.get("codecarbon_version") or codecarbon_version,
        "cpu_power_method": method,
        "cpu_power_w": figures.get("cpu_power_w"),
        "ram_power_w": figures.get("ram_power_w"),
        "country": settings.country,
        "repeat": settings.repeat,
        "adaptive": settings.adaptive,
        "max_time_s": settings.max_time if settings.adaptive else None,
        "warmup": settings.warmup,
        "tracking_mode": settings.tracking_mode,
        "measure_power_secs": settings.measure_power_secs,
        "rapl": method == "RAPL" if method else None,
        "machine": {
            "cpu_model": _cpu_model() or figures.get("cpu_model"),
            "cores": os.cpu_count(),
            "platform": platform.platform(),
        },
    }
    summary["note"] = _method_note(summary, figures.get("cpu_count"))
    summary["gpu"] = _gpu_method(entries, settings)
    return summary


def _gpu_method(entries: Sequence[dict[str, Any]], settings: RunSettings) -> dict[str, Any] | None:
    """Which meter read the GPUs and what it found; None when no run saw a GPU or an error."""
    runs = [run for entry in entries for run in entry.get("runs", [])]
    found = next((run for run in runs if run.get("gpu_model")), None)
    error = next((run["gpu_error"] for run in runs if run.get("gpu_error")), None)
    if found is None and error is None:
        return None
    return {
        "meter": settings.meter,
        "devices": found.get("gpu_model") if found else None,
        "source": found.get("gpu_method") if found else None,
        "error": error,
    }


def _script_head(program: Program) -> dict[str, Any]:
    return {
        "path": program.display_path,
        "rules": list(program.rules),
        "after": program.after_source,
        "suggested_path": str(program.suggested_path) if program.suggested_path else None,
        "verdict": None,
        "verdict_text": None,
        "message": None,
        "stderr_tail": None,
        "same_result": None,
        "result_before": None,
        "result_after": None,
        "compared": None,
        "energy": None,
        "time": None,
        "cpu_time": None,
        "gpu_energy": None,
        "diff": program.diff(),
    }


def _run_entry(run: Run) -> dict[str, Any]:
    figures = run.figures
    loops = figures.get("loops", 1)

    def shown(name: str, value: Any) -> Any:
        return value / loops if name in PER_LOOP_FIELDS and isinstance(value, int | float) else value

    entry = {
        "version": run.version,
        "warmup": run.warmup,
        "duration_s": figures["wall_s"] / loops if "wall_s" in figures else None,
        **{name: shown(name, figures.get(name)) for name in RUN_FIELDS},
        "exit_code": run.exit_code,
        "timed_out": run.timed_out,
        "valid": run.valid,
        "written": run.written,
        "written_to_data": run.written_to_data,
        "loops": figures.get("loops", 1),
        "too_short": run.too_short if run.completed else None,
        "problems": list(run.problems),
    }
    for name in (
        "codecarbon_version",
        "cpu_power_method",
        "cpu_power_w",
        "ram_power_w",
        "cpu_model",
        "cpu_count",
        "gpu_meter",
        "gpu_model",
        "gpu_method",
        "gpu_error",
    ):
        entry[name] = figures.get(name)
    return entry


def _results(runs: Sequence[Run], tolerances: dict[str, float]) -> dict[str, Any]:
    """Did the after version compute the same thing? Its RESULT values when it prints
    some (see results.py), else the last lines of its standard output."""
    completed = [run for run in runs if run.completed]
    by_version = {name: [run for run in completed if run.version == name] for name in ("before", "after")}
    if not by_version["before"] or not by_version["after"]:
        return {}
    if any(run.figures.get("result_lines") or run.figures.get("result_line") for run in completed):
        lines = {
            name: [
                run.figures.get("result_lines") or [run.figures.get("result_line") or ""]
                for run in version_runs
            ]
            for name, version_runs in by_version.items()
        }
        entries = compare_results(lines["before"], lines["after"], tolerances)
        return {
            "unused_tolerances": sorted(set(tolerances) - {entry["name"] for entry in entries}),
            "compared": "RESULT values",
            "same_result": all(entry["same"] for entry in entries),
            "results": entries,
            "result_before": "; ".join(f"{e['name']}={e['before']}" for e in entries),
            "result_after": "; ".join(f"{e['name']}={e['after']}" for e in entries),
            "result_words": result_words(entries),
            "nondeterministic": [entry["name"] for entry in entries if entry["nondeterministic"]],
        }
    tails = {
        name: [run.figures.get("stdout_tail", "") for run in version_runs]
        for name, version_runs in by_version.items()
    }
    before, after = (Counter(tails[name]).most_common(1)[0][0] for name in ("before", "after"))
    return {
        "unused_tolerances": sorted(tolerances),  # no RESULT value to apply them to
        "compared": "stdout",
        "same_result": before == after,
        "results": [],
        "result_before": before,
        "result_after": after,
        "stdout_diff": None if before == after else stdout_diff(before, after),
        "nondeterministic": ["stdout"] if any(len(set(seen)) > 1 for seen in tails.values()) else [],
    }


def _failure_message(run: Run, settings: RunSettings) -> str:
    phase = "warm-up run" if run.warmup else "run"
    if run.written_to_data:
        shown = ", ".join(run.written_to_data[:3]) + (" ..." if len(run.written_to_data) > 3 else "")
        return (
            f"a {phase} of the {run.version} version wrote into a --data input, in your folder ({shown}): "
            "--data inputs are linked, not copied, so verify cannot keep them from being written; pass "
            "inputs the script only reads, or let it write elsewhere; the comparison of this script stopped"
        )
    if run.timed_out:
        runs = f"{run.loops} runs of the program" if run.loops > 1 else "one run of the program"
        what = (
            f"timed out: its window of {runs} took over {settings.timeout:g} s a run "
            "(its process group was killed)"
        )
    elif "wall_s" not in run.figures:
        what = f"stopped without reporting figures (exit status {run.exit_code})"
    else:
        what = f"exited with status {run.exit_code}"
    return f"a {phase} of the {run.version} version {what}; the comparison of this script stopped"


# What Python says of a file it cannot open: `... No such file or directory: 'data/x.csv'`.
_MISSING_FILE = re.compile(r"No such file or directory: '([^']+)'")


def _left_out_hint(run: Run, program: Program) -> str:
    """When the run failed on a file that is beside the script but not in its copy (a
    file .gitignore ignores, or a link): how to hand it over."""
    for name in _MISSING_FILE.findall(run.stderr_tail):
        if os.path.isabs(name):
            continue
        beside = program.path.parent / name
        if beside.exists():
            return (
                f" ({name} is in the script's folder but not in the copy it runs in, which leaves out "
                f"what .gitignore ignores and links: pass it with --data {name})"
            )
    return ""


def _add_comparisons(
    entry: dict[str, Any],
    before: Sequence[Run],
    after: Sequence[Run],
    plausible: Sequence[tuple[Run, Run]],
    energy_note: str | None = None,
) -> None:
    def values(runs: Sequence[Run], name: str) -> list[float]:
        return [per_loop(run, name) for run in runs]

    energy_pairs = list(plausible) or list(zip(before, after, strict=True))
    energy_before, energy_after = [b for b, _ in energy_pairs], [a for _, a in energy_pairs]
    energy = compare(values(energy_before, "energy_kwh"), values(energy_after, "energy_kwh"))
    time = compare(values(before, "wall_s"), values(after, "wall_s"))
    cpu_time = compare(values(before, "cpu_s"), values(after, "cpu_s"))
    emissions = compare(values(energy_before, "emissions_kg"), values(energy_after, "emissions_kg"))
    if energy_note is None and any(run.too_short for run in (*before, *after)):
        energy_note = TOO_SHORT_NOTE
    measurable = energy_note is None
    counted = all(run.figures.get("cpu_power_method") == "RAPL" for run in (*before, *after))
    entry["energy"] = {
        "measurable": measurable,
        # "measured": hardware counters (RAPL); "modelled": codecarbon's formula of time.
        "method": "measured" if counted else "modelled",
        "formula": None if counted else energy_formula(before[0].figures if before else {}),
        "note": energy_note,
        **_figures(energy, "kwh", with_ratio=measurable),
        "before_emissions_kg_median": emissions.before_median,
        "after_emissions_kg_median": emissions.after_median,
        "parts": _energy_parts(energy_before, energy_after, counted),
    }
    entry["time"] = _figures(time, "s")
    entry["cpu_time"] = _figures(cpu_time, "s")
    # A peak, not a sum: a window's peak is one run's, whatever its loops.
    memory = compare(
        [run.figures["peak_rss_mb"] for run in before], [run.figures["peak_rss_mb"] for run in after]
    )
    entry["peak_rss_mb"] = {"before_median": memory.before_median, "after_median": memory.after_median}
    gpu, gpu_comparison = gpu_energy_summary(before, after)
    entry["gpu_energy"] = gpu
    if gpu_comparison is not None and gpu["share_percent"] >= GPU_SHARE_FOR_VERDICT:
        # The GPU's counter measures most of the energy: the verdict is on what it measured.
        entry["verdict"] = gpu_comparison.verdict
        entry["verdict_text"] = f"{verdict_words(gpu_comparison, 'GPU energy')} (measured, {gpu['source']})"
        entry["decision"] = _decision("GPU energy", gpu_comparison)
        return
    if measurable and counted:
        entry["verdict"] = energy.verdict
        entry["verdict_text"] = verdict_words(energy, "energy")
        entry["decision"] = _decision("energy", energy)
        return
    if measurable:  # modelled energy is a formula of time: the verdict is on time itself
        energy_note = "energy modelled from time, not measured"
    if _single_threaded(before, after):
        entry["verdict"] = cpu_time.verdict
        words = verdict_words(cpu_time, "CPU time")
        entry["decision"] = _decision("CPU time", cpu_time)
    else:
        entry["verdict"], words = _time_verdict(time, cpu_time)
        entry["decision"] = _decision("time", time)
    entry["verdict_text"] = f"{words} ({energy_note})"


def _energy_parts(before: Sequence[Run], after: Sequence[Run], counted: bool) -> dict[str, Any]:
    """codecarbon's energy split into CPU, RAM and GPU, each saying how it was found."""
    parts = {}
    for part, method in (
        ("cpu", "measured" if counted else "modelled"),
        ("ram", "modelled"),
        ("gpu", "measured"),
    ):
        name = f"{part}_energy_kwh"
        if not all(isinstance(run.figures.get(name), int | float) for run in (*before, *after)):
            continue
        if part == "gpu" and not any(run.figures.get(name) for run in (*before, *after)):
            continue  # no GPU
        comparison = compare([per_loop(run, name) for run in before], [per_loop(run, name) for run in after])
        parts[part] = {
            "method": method,
            "before_kwh_median": comparison.before_median,
            "after_kwh_median": comparison.after_median,
        }
    return parts


def gpu_energy_summary(
    before: Sequence[Run], after: Sequence[Run]
) -> tuple[dict[str, Any] | None, Comparison | None]:
    """The GPU energy of the runs, apart from CPU and RAM, and its comparison when every
    run measured some (a GPU that used nothing, or a run too short for codecarbon's
    intervals, cannot be compared)."""
    runs = (*before, *after)
    if not runs or not all(isinstance(run.figures.get("gpu_energy_j"), int | float) for run in runs):
        return None, None
    first = runs[0].figures
    comparison = compare(
        [per_loop(run, "gpu_energy_j") for run in before], [per_loop(run, "gpu_energy_j") for run in after]
    )
    zeus = first.get("gpu_meter") == "zeus"
    measurable = all(run.figures["gpu_energy_j"] > 0 for run in runs) and (
        zeus or not any(run.too_short for run in runs)
    )
    rest = [
        per_loop(run, "cpu_energy_kwh") * JOULES_PER_KWH + per_loop(run, "ram_energy_kwh") * JOULES_PER_KWH
        for run in before
        if isinstance(run.figures.get("cpu_energy_kwh"), int | float)
        and isinstance(run.figures.get("ram_energy_kwh"), int | float)
    ]
    gpu_j = comparison.before_median or 0.0
    rest_j = median(rest) if rest else 0.0
    summary = {
        "method": "measured",
        "meter": first.get("gpu_meter"),
        "source": first.get("gpu_method"),
        "devices": first.get("gpu_model"),
        "count": first.get("gpu_count"),
        "measurable": measurable,
        "note": None if measurable else "the GPU counters moved too little in some runs to compare",
        # Of the energy of the before version: GPU (measured) against CPU and RAM (codecarbon).
        "share_percent": 100 * gpu_j / (gpu_j + rest_j) if gpu_j + rest_j > 0 else 0.0,
        **_figures(comparison, "j", with_ratio=measurable),
    }
    return summary, comparison if measurable else None


def _decision(figure: str, comparison: Comparison) -> dict[str, Any]:
    """The figure the verdict rests on, with its saving and interval (for --fail-over)."""
    interval = comparison.ci95_percent
    return {
        "figure": figure,
        "saving_percent": comparison.saving_percent,
        "ci95_percent": list(interval) if interval else None,
    }


def energy_formula(figures: dict[str, Any]) -> str:
    """codecarbon's model when there are no counters, with the constants it used."""
    cpu, ram = figures.get("cpu_power_w"), figures.get("ram_power_w")
    count = figures.get("cpu_count") or 1
    cpu_text = f"{cpu:g} W" if isinstance(cpu, int | float) else "its assumed CPU power"
    ram_text = f"{ram:g} W" if isinstance(ram, int | float) else "its assumed RAM power"
    if figures.get("tracking_mode") == "machine":
        return f"CPU {cpu_text} x (0.1 + 0.9 x load^3) + RAM {ram_text}, over wall time (codecarbon, cpu_load mode)"
    per_core = f"{cpu / count:g} W" if isinstance(cpu, int | float) else cpu_text
    return (
        f"{per_core} per busy core x CPU time + RAM {ram_text} x wall time "
        "(codecarbon, cpu_load mode, process tracking)"
    )


def _single_threaded(before: Sequence[Run], after: Sequence[Run]) -> bool:
    """CPU time close to wall time in every run: one busy core, where CPU time measures
    the work itself and other load on the machine hardly moves it."""
    ratios = [
        run.figures["cpu_s"] / run.figures["wall_s"] for run in (*before, *after) if run.figures.get("wall_s")
    ]
    return bool(ratios) and all(0.8 <= ratio <= 1.2 for ratio in ratios)


def _time_verdict(time: Comparison, cpu_time: Comparison) -> tuple[str, str]:
    """The verdict on wall time, when CPU time agrees with it.

    Another process's load stretches the wall time of the runs it overlaps but hardly
    their CPU time (getrusage counts the script's own work), so a change of wall time that
    CPU time does not show is the machine, not the change: inconclusive."""
    if time.verdict in ("no-difference", "inconclusive") or cpu_time.verdict == time.verdict:
        return time.verdict, verdict_words(time, "time")
    return "inconclusive", (
        f"inconclusive: wall time moved by {time.saving_percent:.0f}% but CPU time "
        f"did not ({verdict_words(cpu_time, 'CPU time')}), so other load on the machine is the likelier cause"
    )


def _figures(comparison: Comparison, unit: str, with_ratio: bool = True) -> dict[str, Any]:
    return {
        f"before_{unit}_median": comparison.before_median,
        f"after_{unit}_median": comparison.after_median,
        f"before_{unit}_range": list(comparison.before_spread),
        f"after_{unit}_range": list(comparison.after_spread),
        "saving_percent": comparison.saving_percent if with_ratio else None,
        "ci95_percent": list(comparison.ci95_percent) if with_ratio and comparison.ci95_percent else None,
        "pairs": comparison.pairs,
    }


def _method_note(summary: dict[str, Any], cpu_count: Any) -> str | None:
    method = summary["cpu_power_method"]
    if method is None or method == "RAPL":
        return None
    power, ram = summary["cpu_power_w"], summary.get("ram_power_w")
    assumed = f"{power:g} W for {cpu_count} CPUs" if power and cpu_count else "an assumed CPU power"
    ram_text = f"{ram:g} W" if ram else "an assumed RAM power"
    return (
        f"No RAPL energy counters on this machine: energy is modelled, not measured. codecarbon "
        f"(method '{method}') multiplies time by assumed powers ({assumed}, its fallback for a CPU "
        f"it does not know; RAM {ram_text}, a floor charged for the whole wall time), so the "
        "energy figures follow time and CPU time, and the verdict rests on CPU time (one busy "
        "core) or on wall time confirmed by CPU time."
    )


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None
