"""A suggested file is credited only to the rules whose findings it removes (issue #15,
section 7)."""

from __future__ import annotations

import pytest

from green_lint.verify.programs import RuleSelection, prepare

SCRIPT = (
    "import torch\nfrom sklearn.model_selection import GridSearchCV\nfrom sklearn.svm import SVC\nfrom torch import nn\n\n"
    "model = nn.Linear(4, 2)\n\n\ndef predict(batch):\n    model.eval()\n    return model(batch)\n\n\n"
    'search = GridSearchCV(SVC(), {"C": [0.1, 1, 10]}, cv=3)\n'
)


def test_only_the_rules_whose_findings_disappear_are_credited(tmp_path):
    script = tmp_path / "serve.py"
    script.write_text(SCRIPT)
    # The suggested version wraps inference in no_grad and keeps the grid search.
    (tmp_path / "serve.suggested.py").write_text(
        SCRIPT.replace("def predict(batch):", "@torch.no_grad()\ndef predict(batch):")
    )
    program = prepare(script, "serve.py", RuleSelection((), False))
    assert program.after_source == "suggested"
    assert program.rules == ["GL301"]


def test_the_footprint_gives_a_run_a_year_and_other_regions():
    from green_lint.verify.footprint import carbon_intensities, footprint, footprint_lines

    kwh = 1 / 3.6e6  # one joule
    energy = {
        "measurable": True,
        "method": "modelled",
        "before_kwh_median": 40 * kwh,
        "after_kwh_median": 10 * kwh,
        "before_emissions_kg_median": 2e-6,
        "after_emissions_kg_median": 5e-7,
    }
    found = footprint(energy, runs_per_day=100)
    assert found["joules_per_run"] == {"before": pytest.approx(40.0), "after": pytest.approx(10.0)}
    assert found["grams_co2e_per_run"]["before"] == pytest.approx(2e-3)
    assert found["kg_co2e_per_year"]["before"] == pytest.approx(2e-6 * 36500)
    intensities = carbon_intensities()
    france = next(region for region in found["regions"] if region["region"] == "FRA")
    assert france["g_per_kwh"] == intensities["FRA"][1] and 20 < france["g_per_kwh"] < 200
    assert france["grams_co2e_per_run_after"] == pytest.approx(10 * kwh * intensities["FRA"][1])
    assert len(found["regions"]) >= 6
    text = "\n".join(footprint_lines(found))
    assert "per run (modelled): 40.0 J -> 10.0 J" in text and "per year at 100 run(s) a day" in text
    assert footprint({**energy, "measurable": False}, 1) is None
