"""Is one run's energy estimate physically plausible?

codecarbon can over-count: in process mode its measurements may overlap (a measurement
under a GIL-bound script can take longer than the interval, and the next one integrates
from the same start), giving CPU energy above what the CPU it assumed could draw. Each
run is checked against the power codecarbon assumed times the duration, and against an
independent proxy, the CPU seconds from getrusage. A run that fails is left out of the
medians and counted in the report.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

JOULES_PER_KWH = 3.6e6
# Slack for the scheduling of codecarbon's measurements around start() and stop().
SLACK_SECONDS = 0.25
CPU_POWER_TOLERANCE = 1.10
RAM_ENERGY_RANGE = (0.5, 1.5)
# Process mode samples the children of the script only once a second, so it misses some
# of their CPU time (35-68% counted for a short-lived child); over-counting is the bug.
PROCESS_CPU_RANGE = (0.25, 1.5)
# CPU-load estimates (no RAPL): power follows the CPU load, so CPU time is a proxy.
LOAD_BASED_METHODS = ("cpu_load",)


def plausibility_problems(figures: Mapping[str, Any]) -> list[str]:
    """Why this run's energy estimate cannot be right; empty when it is plausible."""
    if not figures.get("measured"):
        return ["codecarbon returned no measurement"]
    duration = figures["codecarbon_duration_s"]
    problems = []
    problems += _duration_problems(duration, figures["wall_s"], figures["cpu_s"], figures.get("cpu_count"))
    problems += _cpu_power_problems(figures, duration)
    problems += _ram_power_problems(figures, duration)
    problems += _cpu_time_proxy_problems(figures, duration)
    return problems


def too_short(figures: Mapping[str, Any]) -> bool:
    """Whether codecarbon had fewer than two intervals to measure this run.

    stop() takes no final measurement when the last one is under 50 ms old, so a run of
    about one interval loses a part of its energy, and a very short one all of it.
    """
    duration = figures.get("codecarbon_duration_s") or figures.get("wall_s") or 0.0
    return duration < 2 * figures.get("measure_power_secs", 1.0)


def _duration_problems(duration: float, wall_s: float, cpu_s: float, cpu_count: Any) -> list[str]:
    problems = []
    if abs(duration - wall_s) > 0.5 + 0.1 * wall_s:
        problems.append(f"codecarbon's duration {duration:.2f} s disagrees with the wall time {wall_s:.2f} s")
    if isinstance(cpu_count, (int, float)) and cpu_count > 0 and cpu_s > cpu_count * wall_s * 1.05 + 0.1:
        problems.append(f"CPU time {cpu_s:.2f} s exceeds {cpu_count:g} cores x {wall_s:.2f} s")
    return problems


def _cpu_power_problems(figures: Mapping[str, Any], duration: float) -> list[str]:
    cpu_power = figures.get("cpu_power_w")
    if not cpu_power:
        return []
    cpu_joules = figures["cpu_energy_kwh"] * JOULES_PER_KWH
    limit = cpu_power * (duration + SLACK_SECONDS) * CPU_POWER_TOLERANCE
    if cpu_joules > limit:
        return [
            f"CPU energy {cpu_joules:.1f} J exceeds the {cpu_power:g} W codecarbon assumed x "
            f"{duration:.2f} s ({limit:.1f} J)"
        ]
    return []


def _ram_power_problems(figures: Mapping[str, Any], duration: float) -> list[str]:
    ram_power = figures.get("ram_power_w")
    if not ram_power:
        return []
    ram_joules = figures["ram_energy_kwh"] * JOULES_PER_KWH
    expected = ram_power * duration
    slack = ram_power * SLACK_SECONDS
    low, high = RAM_ENERGY_RANGE
    if not (low * expected - slack <= ram_joules <= high * expected + slack):
        return [
            f"RAM energy {ram_joules:.1f} J is not {ram_power:g} W x {duration:.2f} s "
            f"= {expected:.1f} J (allowed {low:g}-{high:g}x)"
        ]
    return []


def _cpu_time_proxy_problems(figures: Mapping[str, Any], duration: float) -> list[str]:
    cpu_power, cpu_count = figures.get("cpu_power_w"), figures.get("cpu_count")
    if figures.get("cpu_power_method") not in LOAD_BASED_METHODS or not cpu_power or not cpu_count:
        return []
    cpu_joules = figures["cpu_energy_kwh"] * JOULES_PER_KWH
    per_core = cpu_power / cpu_count
    slack = per_core * SLACK_SECONDS
    cpu_s = figures["cpu_s"]
    if figures.get("tracking_mode") == "process":
        expected = per_core * cpu_s
        low, high = PROCESS_CPU_RANGE
        if not (low * expected - slack <= cpu_joules <= high * expected + slack):
            return [
                f"CPU energy {cpu_joules:.1f} J does not follow the CPU time: {cpu_s:.2f} s x "
                f"{per_core:g} W per core = {expected:.1f} J (allowed {low:g}-{high:g}x)"
            ]
        return []
    # Machine mode counts the load of the whole machine, which includes this run's own:
    # power = TDP x (0.1 + 0.9 load^3), and the mean of load^3 is at least (mean load)^3.
    own_load = min(1.0, cpu_s / (duration * cpu_count)) if duration > 0 else 0.0
    floor = cpu_power * (0.1 + 0.9 * own_load**3) * duration * 0.5 - slack
    if cpu_joules < floor:
        return [
            f"CPU energy {cpu_joules:.1f} J is below what this run's own CPU time implies "
            f"({floor:.1f} J at least)"
        ]
    return []
