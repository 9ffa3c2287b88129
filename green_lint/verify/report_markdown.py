"""The Markdown report: for a pull-request comment or $GITHUB_STEP_SUMMARY."""

from __future__ import annotations

from typing import Any

from green_lint.verify.report_text import (
    JOULES_PER_KWH,
    gpu_line,
    is_modelled,
    result_cell,
    result_lines,
    saving_cell,
)


def render_markdown(report: dict[str, Any]) -> str:
    method, scripts = report["method"], report["scripts"]
    lines = ["## green-lint verify: energy and time before and after the fixes", ""]
    measured = [entry for entry in scripts if entry.get("energy")]
    if measured:
        lines += [
            "| script | rules | verdict | energy before → after | energy saving (95% CI) "
            "| time before → after | time saving (95% CI) | CPU s before → after | same result? |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        lines += [_row(entry) for entry in measured]
        lines.append("")
    for entry in scripts:
        if entry["verdict"] == "failed":
            lines.append(f"- **{_cell(entry['path'])}: failed.** {_cell(entry['message'])}")
            if entry.get("stderr_tail"):
                lines += [
                    "",
                    "  ```text",
                    *[f"  {line}" for line in entry["stderr_tail"].splitlines()],
                    "  ```",
                ]
        elif entry["verdict"] == "nothing-to-fix":
            lines.append(f"- {_cell(entry['path'])}: {_cell(entry['message'])}")
        elif entry.get("same_result") is False or entry.get("nondeterministic"):
            lines.append(f"- {_cell(entry['path'])}:")
            lines += [f"  {line.strip()}" for line in result_lines(entry)]
        if gpu_line(entry):
            lines.append(f"- {_cell(entry['path'])}: {_cell(gpu_line(entry))}")
        lines += [
            f"- {_cell(entry['path'])}: warning: {_cell(warning)}" for warning in entry.get("warnings", [])
        ]
    lines += [f"- warning: {_cell(warning)}" for warning in method.get("warnings", [])]
    lines += ["", _method_text(method)]
    return "\n".join(lines).rstrip() + "\n"


def _row(entry: dict[str, Any]) -> str:
    energy, time, cpu_time = entry["energy"], entry["time"], entry["cpu_time"]
    cells = [
        f"`{entry['path']}`",
        ", ".join(entry["rules"]) or "—",
        entry["verdict_text"],
        (
            f"{energy['before_kwh_median'] * JOULES_PER_KWH:.1f} J → {energy['after_kwh_median'] * JOULES_PER_KWH:.1f} J"
            + (" (modelled)" if is_modelled(entry) else "")
        )
        if energy["measurable"]
        else "—",
        saving_cell(energy) if energy["measurable"] else "too short to measure",
        f"{time['before_s_median']:.2f} s → {time['after_s_median']:.2f} s",
        saving_cell(time),
        f"{cpu_time['before_s_median']:.2f} → {cpu_time['after_s_median']:.2f}",
        "yes"
        if entry["same_result"]
        else ("**changed**" if entry["same_result"] is False else result_cell(entry)),
    ]
    return "| " + " | ".join(_cell(cell) for cell in cells) + " |"


def _method_text(method: dict[str, Any]) -> str:
    text = (
        f"Measured with codecarbon {method.get('codecarbon') or '?'} (CPU power method "
        f"`{method.get('cpu_power_method') or 'unknown'}`), tracking mode {method['tracking_mode']}, "
        f"country {method['country']}; {method['repeat']} alternating pairs of runs after "
        f"{method['warmup']} warm-up run(s) per version; savings from the pairs' ratios (geometric "
        "mean), with 95% t-intervals."
    )
    if method.get("note"):
        text += f" {method['note']}"
    return f"<sub>{text}</sub>"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
