"""Related locations: a finding that names another place (often another file) carries it,
and the full and SARIF outputs and the cache keep it; the JSON output does not change."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import libcst as cst
import pytest

from green_lint import cache
from green_lint.discovery import display_path
from green_lint.engine import LintSettings, lint_source
from green_lint.findings import Finding, Position, RelatedLocation
from green_lint.output import render
from green_lint.output.report import RunReport
from green_lint.rule import Rule
from green_lint.source import load_source

SARIF_SCHEMA = Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json"
TRAIN = "from utils import evaluate\n\nfor epoch in range(3):\n    evaluate(model)\n"


class CalledFromElsewhere(Rule):
    """## What it does
    Flags calls of `evaluate`, naming where it is defined (exists only in these tests).
    """

    code = "GL990"
    name = "called-from-elsewhere"
    summary = "A rule that exists only in tests"
    options = {"defined_in": "", "defined_at": 12}

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "evaluate":
            defined_in = Path(self.settings["defined_in"])
            self.report(
                node,
                "`evaluate` runs the model with autograd on",
                related=((defined_in, self.settings["defined_at"], "`evaluate` is defined here"),),
            )


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A two-file project, with the current folder at its root as when green-lint runs there."""
    (tmp_path / "train.py").write_text(TRAIN)
    (tmp_path / "utils.py").write_text("import torch\n" * 11 + "def evaluate(model):\n    return model(1)\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def lint(path: Path, defined_in: Path) -> list[Finding]:
    settings = LintSettings(
        rules=[CalledFromElsewhere], rule_options={"GL990": {"defined_in": str(defined_in)}}
    )
    return lint_source(load_source(path, display_path(path), path.read_bytes()), settings)


def run_report(findings: list[Finding], root: Path) -> RunReport:
    return RunReport(
        findings=findings,
        rules={"GL990": CalledFromElsewhere},
        root=root,
        sources={"train.py": TRAIN},
        files_checked=1,
    )


def test_the_finding_carries_the_related_location_named_like_its_own_file(project):
    [finding] = lint(project / "train.py", project / "utils.py")
    assert (finding.filename, finding.location.row) == ("train.py", 4)
    assert finding.related == (RelatedLocation("utils.py", Position(12, 1), "`evaluate` is defined here"),)


def test_a_related_file_outside_the_current_folder_keeps_its_absolute_path(project, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "utils.py"
    [finding] = lint(project / "train.py", elsewhere)
    assert [related.filename for related in finding.related] == [str(elsewhere)]


def test_a_finding_without_related_locations_has_none():
    finding = Finding("GL990", "n", "m", "warning", "a.py", Position(1, 1), Position(1, 2), 1, "u")
    assert finding.related == ()


def test_sarif_shows_related_locations_and_stays_valid(project):
    findings = lint(project / "train.py", project / "utils.py")
    sarif = json.loads(render("sarif", run_report(findings, project)))
    jsonschema.Draft7Validator(json.loads(SARIF_SCHEMA.read_text())).validate(sarif)
    [result] = sarif["runs"][0]["results"]
    own = result["locations"][0]["physicalLocation"]["artifactLocation"]
    assert own == {"uri": "train.py", "uriBaseId": "%SRCROOT%"}
    assert result["relatedLocations"] == [
        {
            "id": 1,
            "physicalLocation": {
                "artifactLocation": {"uri": "utils.py", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 12},
            },
            "message": {"text": "`evaluate` is defined here"},
        }
    ]


def test_sarif_names_a_related_file_outside_the_root_by_its_file_uri(project, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "utils.py"
    findings = lint(project / "train.py", elsewhere)
    sarif = json.loads(render("sarif", run_report(findings, project)))
    jsonschema.Draft7Validator(json.loads(SARIF_SCHEMA.read_text())).validate(sarif)
    [related] = sarif["runs"][0]["results"][0]["relatedLocations"]
    assert related["physicalLocation"]["artifactLocation"] == {"uri": elsewhere.as_uri()}


def test_sarif_has_no_related_locations_key_when_there_are_none(project):
    [finding] = lint(project / "train.py", project / "utils.py")
    finding.related = ()
    [result] = json.loads(render("sarif", run_report([finding], project)))["runs"][0]["results"]
    assert "relatedLocations" not in result


def test_the_full_output_prints_a_note_line_per_related_location(project):
    findings = lint(project / "train.py", project / "utils.py")
    text = render("full", run_report(findings, project))
    lines = text.splitlines()
    note = "  = note: utils.py:12: `evaluate` is defined here"
    assert note in lines
    # Under the code frame of its finding, before the summary.
    assert lines.index(note) > lines.index("4 |     evaluate(model)")
    assert lines.index(note) < next(i for i, line in enumerate(lines) if line.startswith("Found "))


@pytest.mark.parametrize("fmt", ["concise", "json", "json-lines", "github", "gitlab"])
def test_the_other_outputs_do_not_change(project, fmt):
    [finding] = lint(project / "train.py", project / "utils.py")
    without = Finding(**{**finding.__dict__, "related": ()})
    assert render(fmt, run_report([finding], project)) == render(fmt, run_report([without], project))


def test_json_output_has_no_new_key(project):
    findings = lint(project / "train.py", project / "utils.py")
    [obj] = json.loads(render("json", run_report(findings, project)))
    assert "related" not in obj
    assert set(obj) == set(findings[0].to_json())
    assert "related" not in findings[0].to_json()


def round_trip(finding: Finding) -> Finding:
    return cache._finding_from_data(json.loads(json.dumps(cache._finding_to_data(finding))))


def test_the_cache_round_trips_related_locations(project):
    [finding] = lint(project / "train.py", project / "utils.py")
    assert round_trip(finding).related == finding.related


def test_a_cached_related_file_is_named_from_where_the_next_run_starts(project, monkeypatch):
    [finding] = lint(project / "train.py", project / "utils.py")
    data = json.loads(json.dumps(cache._finding_to_data(finding)))
    monkeypatch.chdir(project.parent)
    [related] = cache._finding_from_data(data).related
    assert related.filename == str(Path(project.name) / "utils.py")


def test_an_old_cache_entry_without_related_locations_reads_as_none(project):
    [finding] = lint(project / "train.py", project / "utils.py")
    data = cache._finding_to_data(finding)
    del data["related"]
    assert cache._finding_from_data(data).related == ()


@pytest.mark.parametrize(
    "related",
    [
        None,
        "utils.py",
        [["utils.py", 12, "x"]],
        [{"filename": "utils.py", "location": {"row": 12, "column": 1}}],
        [{"filename": 3, "location": {"row": 12, "column": 1}, "message": "x"}],
        [{"filename": "utils.py", "location": {"row": "12", "column": 1}, "message": "x"}],
        [{"filename": "utils.py", "location": {"row": True, "column": 1}, "message": "x"}],
    ],
)
def test_a_malformed_related_entry_is_a_cache_miss_not_an_error(project, related):
    [finding] = lint(project / "train.py", project / "utils.py")
    good = {"digest": "d", "findings": [cache._finding_to_data(finding)]}
    bad = {"digest": "d", "findings": [{**cache._finding_to_data(finding), "related": related}]}
    data = {"format": cache.FORMAT, "files": {"good": good, "bad": bad}}
    entries = cache._entries_from_data(json.loads(json.dumps(data)))
    assert set(entries) == {"good"}
    assert entries["good"][1][0].related == finding.related
