"""What one run costs and what a year of runs would: joules and grams of CO2e per run,
their projection at `--runs-per-day`, and the same run's emissions in a few regions, from
codecarbon's own carbon intensity per country (its offline data): where a job runs can
matter as much as how it is written."""

from __future__ import annotations

import importlib.util
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from green_lint.verify.checks import JOULES_PER_KWH

# A spread of grids, from mostly hydro and nuclear to mostly coal.
REGIONS = ("SWE", "FRA", "GBR", "DEU", "USA", "CHN", "IND", "POL")


@lru_cache(maxsize=1)
def carbon_intensities() -> dict[str, tuple[str, float]]:
    """ISO code -> (country name, g CO2e per kWh) from codecarbon's data; empty without it."""
    # Found, not imported: importing codecarbon costs a second and loads GPU libraries,
    # one of which (amdsmi) prints to stdout when ROCm is missing.
    spec = importlib.util.find_spec("codecarbon")
    if spec is None or not spec.submodule_search_locations:
        return {}
    path = Path(spec.submodule_search_locations[0]) / "data" / "private_infra" / "global_energy_mix.json"
    try:
        data = path.read_text(encoding="utf-8")
    except OSError:
        return {}
    found = {}
    for code, country in json.loads(data).items():
        intensity = country.get("carbon_intensity")
        if isinstance(intensity, int | float):
            found[code] = (country.get("country_name", code), float(intensity))
    return found


def footprint(energy: dict[str, Any], runs_per_day: float) -> dict[str, Any] | None:
    """Per run and per year, before and after, from the energy medians of a script's entry;
    None when the runs were too short to measure energy."""
    if not energy.get("measurable"):
        return None
    before_kwh, after_kwh = energy["before_kwh_median"], energy["after_kwh_median"]
    per_year = runs_per_day * 365
    intensities = carbon_intensities()
    return {
        "method": energy.get("method"),
        "runs_per_day": runs_per_day,
        "joules_per_run": {"before": before_kwh * JOULES_PER_KWH, "after": after_kwh * JOULES_PER_KWH},
        "grams_co2e_per_run": {
            "before": energy["before_emissions_kg_median"] * 1000,
            "after": energy["after_emissions_kg_median"] * 1000,
        },
        "kwh_per_year": {"before": before_kwh * per_year, "after": after_kwh * per_year},
        "kg_co2e_per_year": {
            "before": energy["before_emissions_kg_median"] * per_year,
            "after": energy["after_emissions_kg_median"] * per_year,
        },
        "regions": [
            {
                "region": code,
                "name": intensities[code][0],
                "g_per_kwh": intensities[code][1],
                "grams_co2e_per_run_before": before_kwh * intensities[code][1],
                "grams_co2e_per_run_after": after_kwh * intensities[code][1],
            }
            for code in REGIONS
            if code in intensities
        ],
    }


def footprint_lines(found: dict[str, Any] | None) -> list[str]:
    """Two lines for the terminal report."""
    if not found:
        return []
    label = " (modelled)" if found["method"] == "modelled" else ""
    joules, grams = found["joules_per_run"], found["grams_co2e_per_run"]
    year = found["kg_co2e_per_year"]
    lines = [
        f"  per run{label}: {joules['before']:.1f} J -> {joules['after']:.1f} J, "
        f"{grams['before']:.3g} g -> {grams['after']:.3g} g CO2e; per year at {found['runs_per_day']:g} run(s) "
        f"a day: {year['before']:.3g} kg -> {year['after']:.3g} kg CO2e"
    ]
    if found["regions"]:
        lines.append(
            "  the same run elsewhere (g CO2e, before -> after): "
            + ", ".join(
                f"{region['region']} {region['grams_co2e_per_run_before']:.2g} -> "
                f"{region['grams_co2e_per_run_after']:.2g}"
                for region in found["regions"]
            )
        )
    return lines
