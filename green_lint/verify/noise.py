"""Warnings that the measurement was noisy, the way pyperf and hyperfine give them: each
says what was seen and what to do next. They never change a verdict; they say how far to
trust it."""

from __future__ import annotations

import os
import statistics
from collections.abc import Sequence
from pathlib import Path

from green_lint.verify.runs import Run

GOVERNOR = Path("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")
PROC_STAT = Path("/proc/stat")


def machine_warnings(
    load: float | None = None, cores: int | None = None, governor: str | None = None
) -> list[str]:
    """Before measuring: other load, and a CPU frequency governor that changes the clock."""
    warnings = []
    cores = cores or os.cpu_count() or 1
    if load is None and hasattr(os, "getloadavg"):
        load = os.getloadavg()[0]
    if load is not None and load > 0.5 * cores:
        warnings.append(
            f"load average {load:.1f} on {cores} cores: other programs compete with the runs; close them or "
            "measure on an idle machine"
        )
    if governor is None:
        try:
            governor = GOVERNOR.read_text().strip()
        except OSError:
            governor = None
    if governor and governor != "performance":
        warnings.append(
            f"CPU frequency governor '{governor}': the clock changes with load, which moves times; "
            "`sudo cpupower frequency-set -g performance` while measuring"
        )
    return warnings


def cpu_ticks() -> tuple[int, int] | None:
    """(steal, total) jiffies of all CPUs since boot, from /proc/stat."""
    try:
        fields = PROC_STAT.read_text().splitlines()[0].split()[1:]
    except (OSError, IndexError):
        return None
    numbers = [int(field) for field in fields if field.isdigit()]
    return (numbers[7] if len(numbers) > 7 else 0), sum(numbers)


def steal_warning(start: tuple[int, int] | None, end: tuple[int, int] | None) -> str | None:
    """The share of CPU time the hypervisor gave to other machines during the runs."""
    if start is None or end is None or end[1] <= start[1]:
        return None
    share = (end[0] - start[0]) / (end[1] - start[1])
    if share <= 0.05:
        return None
    return (
        f"the hypervisor took {share:.0%} of the CPU time (steal) during the runs: other virtual machines "
        "share these cores; measure on a dedicated machine or repeat at a quieter time"
    )


def run_warnings(runs: Sequence[Run]) -> list[str]:
    """After measuring one script: drift, outliers, and a CPU/wall ratio that says the
    script waited."""
    measured = [run for run in runs if not run.warmup and run.completed]
    warnings = []
    for version in ("before", "after"):
        times = [run.figures["wall_s"] for run in measured if run.version == version]
        drift = _drift(times)
        if drift is not None:
            warnings.append(
                f"the {version} runs drifted by {drift:+.0%} from first to last: the machine's state changed "
                "(heat, background jobs); add warm-up runs (--warmup) or let the machine settle"
            )
        outliers = _outliers(times)
        if outliers:
            warnings.append(
                f"{outliers} {version} run(s) far slower or faster than the others: something else ran at the "
                "time; the paired analysis keeps them, so look at the runs in the JSON report"
            )
    ratios = [run.figures["cpu_s"] / run.figures["wall_s"] for run in measured if run.figures.get("wall_s")]
    if ratios and statistics.median(ratios) < 0.5:
        warnings.append(
            f"the script used the CPU for {statistics.median(ratios):.0%} of its wall time: it waits (input, "
            "sleep, the network, other load), and wall time measures the waiting as much as the work"
        )
    return warnings


def _drift(times: Sequence[float]) -> float | None:
    """The relative change along the runs when they move steadily one way (at least five
    runs, a rank correlation with their order of 0.8 or more, and more than 5%)."""
    if len(times) < 5:
        return None
    ranks = _ranks(times)
    order = list(range(len(times)))
    correlation = statistics.correlation(order, ranks)
    change = (times[-1] - times[0]) / times[0] if times[0] else 0.0
    return change if abs(correlation) >= 0.8 and abs(change) > 0.05 else None


def _outliers(times: Sequence[float]) -> int:
    """Runs further than 5 median absolute deviations from the median (at least five runs)."""
    if len(times) < 5:
        return 0
    median = statistics.median(times)
    spread = statistics.median(abs(time - median) for time in times)
    if spread == 0:
        return 0
    return sum(1 for time in times if abs(time - median) > 5 * spread)


def _ranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda index: values[index])
    ranks = [0.0] * len(values)
    for rank, index in enumerate(order):
        ranks[index] = float(rank)
    return ranks
