"""The HTML report: one self-contained page (no network assets) with an inline SVG chart."""

from __future__ import annotations

from html import escape
from typing import Any

from green_lint.verify.report_text import JOULES_PER_KWH, gpu_line, is_modelled, result_cell, saving_cell

COLOURS = {"before": "#c0392b", "after": "#1e8449"}
CHART_WIDTH, CHART_HEIGHT, MARGIN = 640, 220, 48

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; max-width: 72rem; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
pre { background: #f7f7f7; padding: 0.8rem; overflow-x: auto; font-size: 0.85rem; }
.verdict { font-weight: bold; }
.failed { color: #c0392b; }
.note { color: #555; font-size: 0.9rem; }
"""


def render_html(report: dict[str, Any]) -> str:
    method, scripts = report["method"], report["scripts"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>green-lint verify</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>green-lint verify</h1>",
        f'<p class="note">{escape(_method_text(method))}</p>',
        _summary_table(scripts),
    ]
    for entry in scripts:
        parts.append(_script_section(entry))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _method_text(method: dict[str, Any]) -> str:
    text = (
        f"codecarbon {method.get('codecarbon') or '?'}, CPU power method "
        f"{method.get('cpu_power_method') or 'unknown'}, tracking mode {method['tracking_mode']}, "
        f"country {method['country']}, {method['repeat']} pairs after {method['warmup']} warm-up run(s) "
        f"per version. Machine: {method['machine'].get('cpu_model')}, {method['machine'].get('cores')} cores."
    )
    if method.get("note"):
        text += " " + method["note"]
    return text


def _summary_table(scripts: list[dict[str, Any]]) -> str:
    rows = [
        "<table><tr><th>script</th><th>rules</th><th>verdict</th><th>energy saving (95% CI)</th>"
        "<th>time saving (95% CI)</th><th>CPU s before → after</th><th>same result</th></tr>"
    ]
    for entry in scripts:
        if entry.get("energy"):
            energy = saving_cell(entry["energy"]) if entry["energy"]["measurable"] else "too short to measure"
            if entry["energy"]["measurable"] and is_modelled(entry):
                energy += " (modelled)"
            cpu = entry["cpu_time"]
            cpu_cell = f"{cpu['before_s_median']:.2f} → {cpu['after_s_median']:.2f}"
            cells = [entry["verdict_text"], energy, saving_cell(entry["time"]), cpu_cell, result_cell(entry)]
        else:
            cells = [f"{entry['verdict']}: {entry['message']}", "-", "-", "-", "-"]
        rows.append(
            "<tr>"
            + "".join(
                f"<td>{escape(str(cell))}</td>"
                for cell in [entry["path"], ", ".join(entry["rules"]) or "-", *cells]
            )
            + "</tr>"
        )
    rows.append("</table>")
    return "\n".join(rows)


def _script_section(entry: dict[str, Any]) -> str:
    parts = [f"<h2>{escape(entry['path'])}</h2>"]
    if entry["verdict"] in ("failed", "nothing-to-fix"):
        css = "verdict failed" if entry["verdict"] == "failed" else "verdict"
        parts.append(f'<p class="{css}">{escape(entry["verdict"])}: {escape(entry["message"] or "")}</p>')
        if entry.get("stderr_tail"):
            parts.append(f"<pre>{escape(entry['stderr_tail'])}</pre>")
    else:
        parts.append(f'<p class="verdict">{escape(entry["verdict_text"])}</p>')
        if gpu_line(entry):
            parts.append(f"<p>{escape(gpu_line(entry))}</p>")
        parts.append(_result_text(entry))
    if entry.get("runs"):
        parts.append(energy_chart(entry["runs"]))
    if entry.get("diff"):
        parts.append(
            f"<h3>The change ({escape(entry['after'] or '')})</h3><pre>{escape(entry['diff'])}</pre>"
        )
    return "\n".join(parts)


def _result_text(entry: dict[str, Any]) -> str:
    if entry.get("same_result") is None:
        return ""
    if entry["same_result"]:
        return (
            f"<p>Same result ({escape(entry['compared'])}): <code>{escape(entry['result_before'])}</code></p>"
        )
    return (
        f"<p>Result changed ({escape(entry['compared'])}):</p><table>"
        f"<tr><th>before</th><td><code>{escape(entry['result_before'])}</code></td></tr>"
        f"<tr><th>after</th><td><code>{escape(entry['result_after'])}</code></td></tr></table>"
    )


def energy_chart(runs: list[dict[str, Any]]) -> str:
    """Energy of every run in the order they ran; hollow marks were left out."""
    points = [(index, run) for index, run in enumerate(runs) if run.get("energy_kwh") is not None]
    if not points:
        return ""
    top = max(run["energy_kwh"] * JOULES_PER_KWH for _, run in points) * 1.1 or 1.0
    plot_width, plot_height = CHART_WIDTH - 2 * MARGIN, CHART_HEIGHT - 2 * MARGIN
    step = plot_width / max(len(runs) - 1, 1)

    def position(index: int, joules: float) -> tuple[float, float]:
        return MARGIN + index * step, MARGIN + plot_height * (1 - joules / top)

    marks = []
    for index, run in points:
        x, y = position(index, run["energy_kwh"] * JOULES_PER_KWH)
        colour = COLOURS[run["version"]]
        fill = colour if run["valid"] and not run["warmup"] else "none"
        title = (
            f"{run['version']}{' warm-up' if run['warmup'] else ''}: "
            f"{run['energy_kwh'] * JOULES_PER_KWH:.2f} J, {run['duration_s']:.2f} s"
            f"{'' if run['valid'] else ' (left out: ' + '; '.join(run['problems']) + ')'}"
        )
        marks.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{fill}" stroke="{colour}" stroke-width="2">'
            f"<title>{escape(title)}</title></circle>"
        )
    axis_y = MARGIN + plot_height
    legend = "".join(
        f'<circle cx="{MARGIN + 10 + 90 * n}" cy="14" r="5" fill="{colour}"/>'
        f'<text x="{MARGIN + 20 + 90 * n}" y="18" font-size="12">{name}</text>'
        for n, (name, colour) in enumerate(COLOURS.items())
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{CHART_WIDTH}" height="{CHART_HEIGHT}" '
        f'role="img" aria-label="energy per run">'
        f'<line x1="{MARGIN}" y1="{MARGIN}" x2="{MARGIN}" y2="{axis_y}" stroke="#888"/>'
        f'<line x1="{MARGIN}" y1="{axis_y}" x2="{CHART_WIDTH - MARGIN}" y2="{axis_y}" stroke="#888"/>'
        f'<text x="4" y="{MARGIN + 4}" font-size="11">{top:.1f} J</text>'
        f'<text x="4" y="{axis_y}" font-size="11">0 J</text>'
        f'<text x="{CHART_WIDTH / 2 - 60}" y="{CHART_HEIGHT - 12}" font-size="11">'
        "runs in order (hollow: warm-up or left out)</text>"
        f"{legend}{''.join(marks)}</svg>"
    )
