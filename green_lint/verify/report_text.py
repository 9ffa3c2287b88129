"""The terminal report: one table of all scripts, then a line in words for each."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from green_lint.verify.footprint import JOULES_PER_KWH, footprint_lines


def render_text(report: dict[str, Any]) -> str:
    method, scripts = report["method"], report["scripts"]
    lines = [_method_line(method)]
    if method.get("note"):
        lines.append(f"Note: {method['note']}")
    lines += [f"Warning: {warning}" for warning in method.get("warnings", [])]
    lines.append("")
    measured = [entry for entry in scripts if entry.get("energy")]
    if measured:
        energy = "modelled energy" if any(is_modelled(entry) for entry in measured) else "energy"
        lines += _table(
            [
                "script",
                "rules",
                "after",
                f"{energy} J before -> after",
                f"{energy} saving (95% CI)",
                "time s before -> after",
                "time saving (95% CI)",
                "CPU s before -> after",
                "same result",
            ],
            [_row(entry) for entry in measured],
        )
        lines.append("")
    for entry in scripts:
        lines += _entry_lines(entry)
    if not scripts:
        lines.append("No Python script found.")
    return "\n".join(lines).rstrip() + "\n"


def _method_line(method: dict[str, Any]) -> str:
    power = f", {method['cpu_power_w']:g} W CPU assumed" if method.get("cpu_power_w") else ""
    return (
        f"green-lint verify: codecarbon {method.get('codecarbon') or '?'} "
        f"(CPU power method: {method.get('cpu_power_method') or 'unknown'}{power}), "
        f"tracking mode {method['tracking_mode']}, country {method['country']}, "
        f"{method['repeat']} pairs of runs after {method['warmup']} warm-up run(s) per version"
    )


def _row(entry: dict[str, Any]) -> list[str]:
    energy, time, cpu_time = entry["energy"], entry["time"], entry["cpu_time"]
    return [
        entry["path"],
        ",".join(entry["rules"]) or "-",
        entry["after"] or "-",
        f"{_joules(energy['before_kwh_median'])} -> {_joules(energy['after_kwh_median'])}"
        if energy["measurable"]
        else "-",
        saving_cell(energy) if energy["measurable"] else "too short to measure",
        f"{time['before_s_median']:.2f} -> {time['after_s_median']:.2f}",
        saving_cell(time),
        f"{cpu_time['before_s_median']:.2f} -> {cpu_time['after_s_median']:.2f}",
        result_cell(entry),
    ]


def is_modelled(entry: dict[str, Any]) -> bool:
    return entry.get("energy", {}).get("method") == "modelled"


def saving_cell(figure: dict[str, Any]) -> str:
    saving, interval = figure.get("saving_percent"), figure.get("ci95_percent")
    if saving is None:
        return "-"
    if interval is None:
        return f"{saving:.0f}%"
    return f"{saving:.0f}% ({interval[0]:.0f} to {interval[1]:.0f}%)"


def result_cell(entry: dict[str, Any]) -> str:
    if entry.get("same_result") is None:
        return "-"
    return "yes" if entry["same_result"] else "CHANGED"


def _joules(kwh: float) -> str:
    return f"{kwh * JOULES_PER_KWH:.1f}"


def _entry_lines(entry: dict[str, Any]) -> list[str]:
    path, verdict = entry["path"], entry["verdict"]
    if verdict == "nothing-to-fix":
        return [f"{path}: {entry['message']}"]
    if verdict == "failed":
        lines = [f"{path}: FAILED: {entry['message']}"]
        if entry.get("stderr_tail"):
            lines.append("  stderr (last lines):")
            lines += [f"    | {line}" for line in entry["stderr_tail"].splitlines()]
        return lines
    lines = [f"{path}: {entry['verdict_text']}"]
    if gpu_line(entry):
        lines.append(f"  {gpu_line(entry)}")
    lines += result_lines(entry)
    lines += footprint_lines(entry.get("footprint"))
    lines += [f"  warning: {warning}" for warning in entry.get("warnings", [])]
    if entry.get("invalid_runs"):
        problems = sorted({problem for run in entry["runs"] for problem in run["problems"]})
        lines.append(
            f"  {entry['invalid_runs']} run(s) failed the plausibility checks and were left out: "
            + "; ".join(problems)
        )
    return lines


def gpu_line(entry: dict[str, Any]) -> str | None:
    """The GPU's energy, measured apart from CPU and RAM; None without a GPU."""
    gpu = entry.get("gpu_energy")
    if not gpu:
        return None
    source = f"measured with {gpu.get('source') or 'NVML'} via {gpu.get('meter')}"
    devices = f", {gpu['devices']}" if gpu.get("devices") else ""
    if not gpu["measurable"]:
        return f"GPU energy ({source}{devices}): {gpu['note']}"
    return (
        f"GPU energy ({source}{devices}): {gpu['before_j_median']:.1f} J -> {gpu['after_j_median']:.1f} J, "
        f"saving {saving_cell(gpu)}; {gpu['share_percent']:.0f}% of the before version's energy"
    )


def result_lines(entry: dict[str, Any]) -> list[str]:
    """What the two versions computed: RESULT values with their change, or a diff of the
    last lines of standard output; and what varied between runs of one version."""
    lines = []
    if entry.get("result_words") is not None and entry.get("same_result") is not None:
        state = "same result" if entry["same_result"] else "result changed"
        lines.append(f"  {state}: {entry['result_words']}")
    elif entry.get("same_result") is True:
        lines.append("  same result (last lines of stdout)")
    elif entry.get("same_result") is False:
        lines.append("  output changed (last lines of stdout):")
        lines += [f"    {line}" for line in (entry.get("stdout_diff") or "").splitlines()]
    if entry.get("nondeterministic"):
        lines.append(
            f"  nondeterministic: {', '.join(entry['nondeterministic'])} differed between runs of the same "
            "version, so the comparison of results cannot be trusted (seed the random generators)"
        )
    if entry.get("unused_tolerances"):
        lines.append(
            f"  --tolerance {', '.join(entry['unused_tolerances'])}: no RESULT value has that name, "
            "so it changed nothing (check the spelling against the script's RESULT lines)"
        )
    return lines


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=False)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(str(cell).ljust(width) for cell, width in zip(cells, widths, strict=False)).rstrip()

    return [line(header), line(["-" * width for width in widths]), *(line(row) for row in rows)]
