"""The output formats, on findings built by hand."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from green_lint.findings import Edit, Finding, Position, RelatedLocation, TextFix
from green_lint.output import FORMATS, render
from green_lint.output.report import RunReport
from green_lint.rule import Rule

SARIF_SCHEMA = Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json"
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")

SOURCE_A = "import sklearn\n\nsearch = GridSearchCV(model, grid)\nsearch.fit(X, y)\n"
SOURCE_B = "for row in df.iterrows():\n    total += row\n"


class FakeRule(Rule):
    """## What it does
    Flags what the tests need flagged.
    """

    code = "GL999"
    name = "fake-rule"
    summary = "A rule that exists only in tests"
    fix_safety = "unsafe"


class FakeInfoRule(Rule):
    """## What it does
    Gives advice.
    """

    code = "GL998"
    name = "fake-advice"
    summary = "Advice that exists only in tests"
    severity = "info"


def make_fix(applicability: str) -> TextFix:
    edit = Edit("HalvingGridSearchCV", Position(3, 10), Position(3, 22))
    return TextFix(applicability=applicability, message="Use HalvingGridSearchCV", edits=(edit,))


def make_finding(
    filename: str = "src/a.py",
    row: int = 3,
    column: int = 10,
    end: tuple[int, int] | None = None,
    *,
    fix: TextFix | None = None,
    message: str = "GridSearchCV fits every candidate",
    cell: int | None = None,
    rule: type[Rule] = FakeRule,
) -> Finding:
    end_row, end_column = end or (row, column + 12)
    return Finding(
        code=rule.code,
        name=rule.name,
        message=message,
        severity=rule.severity,
        filename=filename,
        location=Position(row, column),
        end_location=Position(end_row, end_column),
        noqa_row=row,
        url=rule.url(),
        fix=fix,
        cell=cell,
    )


def make_report(findings: list[Finding], tmp_path: Path, **options) -> RunReport:
    defaults = {
        "rules": {FakeRule.code: FakeRule, FakeInfoRule.code: FakeInfoRule},
        "root": tmp_path,
        "sources": {
            str(tmp_path / "src/a.py"): SOURCE_A,
            "src/a.py": SOURCE_A,
            "src/b.py": SOURCE_B,
            "nb.ipynb:cell3": "x = 1\nsearch = GridSearchCV(model, grid)\n",
        },
        "files_checked": 4,
    }
    return RunReport(findings=findings, **{**defaults, **options})


@pytest.fixture
def mixed_findings() -> list[Finding]:
    return [
        make_finding(fix=make_fix("safe")),
        make_finding(row=4, column=1, end=(4, 11), fix=make_fix("unsafe")),
        make_finding("src/b.py", row=1, column=12, end=(1, 24)),
    ]


# json and json-lines

FINDING_KEYS = {
    "code",
    "name",
    "message",
    "severity",
    "filename",
    "cell",
    "location",
    "end_location",
    "noqa_row",
    "url",
    "fix",
}


def assert_design_fields(obj: dict) -> None:
    assert set(obj) == FINDING_KEYS
    assert set(obj["location"]) == set(obj["end_location"]) == {"row", "column"}
    if obj["fix"] is not None:
        assert set(obj["fix"]) == {"applicability", "message", "edits"}
        for edit in obj["fix"]["edits"]:
            assert set(edit) == {"content", "location", "end_location"}
            assert set(edit["location"]) == set(edit["end_location"]) == {"row", "column"}


def test_json_has_exactly_the_design_fields(tmp_path, mixed_findings):
    objects = json.loads(render("json", make_report(mixed_findings, tmp_path)))
    assert len(objects) == 3
    for obj in objects:
        assert_design_fields(obj)
    assert objects[0]["fix"]["edits"][0]["location"] == {"row": 3, "column": 10}
    assert objects[0]["cell"] is None


def test_json_of_no_findings_is_an_empty_list(tmp_path):
    assert json.loads(render("json", make_report([], tmp_path))) == []


def test_json_lines_has_one_object_per_line(tmp_path, mixed_findings):
    output = render("json-lines", make_report(mixed_findings, tmp_path))
    lines = output.splitlines()
    assert len(lines) == 3
    for line, finding in zip(lines, mixed_findings, strict=True):
        obj = json.loads(line)
        assert_design_fields(obj)
        assert obj == finding.to_json()


# github


def test_github_command_for_a_one_line_finding(tmp_path):
    output = render("github", make_report([make_finding()], tmp_path))
    assert output == (
        "::warning title=green-lint (GL999),file=src/a.py,line=3,endLine=3,col=10,endColumn=22"
        "::GL999 GridSearchCV fits every candidate\n"
    )


def test_github_omits_columns_of_a_multi_line_finding(tmp_path):
    output = render("github", make_report([make_finding(end=(5, 2))], tmp_path))
    assert "line=3,endLine=5::" in output
    assert "col=" not in output
    assert "endColumn=" not in output


def test_github_escapes_message_and_properties(tmp_path):
    finding = make_finding("src/we:ird,name.py", message="100% done\r\nnext: a, b")
    output = render("github", make_report([finding], tmp_path))
    properties, message = output.rstrip("\n").split("::")[1:]
    assert "file=src/we%3Aird%2Cname.py," in properties
    assert message == "GL999 100%25 done%0D%0Anext: a, b"


def test_github_command_follows_severity(tmp_path):
    output = render("github", make_report([make_finding(rule=FakeInfoRule)], tmp_path))
    assert output.startswith("::notice ")
    error = make_finding()
    error.severity = "error"
    assert render("github", make_report([error], tmp_path)).startswith("::error ")


def test_github_paths_are_relative_to_the_root(tmp_path):
    finding = make_finding(str(tmp_path / "src" / "a.py"))
    output = render("github", make_report([finding], tmp_path))
    assert ",file=src/a.py," in output


def test_github_names_the_notebook_cell(tmp_path):
    finding = make_finding("nb.ipynb", row=2, column=10, cell=3)
    output = render("github", make_report([finding], tmp_path))
    assert "file=nb.ipynb,line=2," in output
    assert output.rstrip("\n").endswith("::GL999 cell 3: GridSearchCV fits every candidate")


# sarif


def render_sarif(report: RunReport) -> dict:
    return json.loads(render("sarif", report))


def test_sarif_is_valid(tmp_path, mixed_findings):
    notebook = make_finding("nb.ipynb", row=2, cell=3, rule=FakeInfoRule)
    cross_file = make_finding("src/b.py", row=2, column=5)
    cross_file.related = (
        RelatedLocation("src/a.py", Position(3, 1), "defined here"),
        RelatedLocation(str(tmp_path.parent / "outside.py"), Position(7, 1), "called here"),
    )
    sarif = render_sarif(make_report([*mixed_findings, notebook, cross_file], tmp_path))
    schema = json.loads(SARIF_SCHEMA.read_text())
    jsonschema.Draft7Validator(schema).validate(sarif)
    assert [len(result.get("relatedLocations", ())) for result in sarif["runs"][0]["results"]] == [
        0,
        0,
        0,
        0,
        2,
    ]
    assert sarif["version"] == "2.1.0"
    assert sarif["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"


def test_sarif_of_no_findings_is_valid(tmp_path):
    schema = json.loads(SARIF_SCHEMA.read_text())
    jsonschema.Draft7Validator(schema).validate(render_sarif(make_report([], tmp_path)))


def test_sarif_describes_every_rule(tmp_path):
    driver = render_sarif(make_report([], tmp_path))["runs"][0]["tool"]["driver"]
    assert driver["name"] == "green-lint"
    assert driver["version"]
    assert driver["informationUri"].startswith("https://")
    rules = {rule["id"]: rule for rule in driver["rules"]}
    assert set(rules) == {"GL998", "GL999"}
    rule = rules["GL999"]
    assert rule["name"] == "fake-rule"
    assert rule["shortDescription"]["text"] == FakeRule.summary
    assert rule["fullDescription"]["text"] == FakeRule.docs()
    assert rule["help"] == {"text": FakeRule.docs(), "markdown": FakeRule.docs()}
    assert rule["helpUri"] == FakeRule.url()
    assert rule["defaultConfiguration"]["level"] == "warning"
    assert rules["GL998"]["defaultConfiguration"]["level"] == "note"


def test_sarif_results(tmp_path):
    findings = [make_finding(str(tmp_path / "src" / "a.py")), make_finding("nb.ipynb", row=2, cell=3)]
    sarif = render_sarif(make_report(findings, tmp_path))
    run = sarif["runs"][0]
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    plain, notebook = run["results"]
    assert plain["ruleId"] == "GL999"
    assert rule_ids[plain["ruleIndex"]] == "GL999"
    assert plain["level"] == "warning"
    assert plain["message"]["text"] == "GridSearchCV fits every candidate"
    location = plain["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "src/a.py", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 3, "startColumn": 10, "endLine": 3, "endColumn": 22}
    notebook_location = notebook["locations"][0]["physicalLocation"]
    assert notebook_location["region"]["startLine"] == 2
    assert notebook_location["region"]["properties"] == {"cell": 3}
    assert notebook["message"]["text"].startswith("cell 3: ")


def fingerprints(report: RunReport) -> list[str]:
    results = render_sarif(report)["runs"][0]["results"]
    return [result["partialFingerprints"]["primaryLocationLineHash"] for result in results]


def test_sarif_fingerprints_are_stable_and_distinct(tmp_path, mixed_findings):
    first = fingerprints(make_report(mixed_findings, tmp_path))
    assert first == fingerprints(make_report(mixed_findings, tmp_path))
    assert len(set(first)) == len(first)
    assert all(re.fullmatch(r"[0-9a-f]{16}:\d+", fingerprint) for fingerprint in first)


def test_sarif_fingerprint_survives_a_line_inserted_above(tmp_path):
    before = fingerprints(make_report([make_finding()], tmp_path))
    shifted_source = {"src/a.py": "\n" + SOURCE_A}
    after = fingerprints(make_report([make_finding(row=4)], tmp_path, sources=shifted_source))
    assert before == after


def test_sarif_fingerprints_count_identical_lines(tmp_path):
    source = {"src/a.py": "fit()\nfit()\n"}
    findings = [make_finding(row=1, column=1), make_finding(row=2, column=1)]
    first, second = fingerprints(make_report(findings, tmp_path, sources=source))
    assert first.split(":")[0] == second.split(":")[0]
    assert (first.split(":")[1], second.split(":")[1]) == ("1", "2")


# gitlab


def test_gitlab_issues(tmp_path, mixed_findings):
    info = make_finding("src/b.py", row=2, column=5, end=(2, 10), rule=FakeInfoRule)
    issues = json.loads(render("gitlab", make_report([*mixed_findings, info], tmp_path)))
    assert len(issues) == 4
    for issue in issues:
        assert set(issue) == {"description", "check_name", "fingerprint", "severity", "location"}
        assert re.fullmatch(r"[0-9a-f]{32}", issue["fingerprint"])
    first = issues[0]
    assert first["description"] == "GL999 GridSearchCV fits every candidate"
    assert first["check_name"] == "GL999"
    assert first["severity"] == "minor"
    assert first["location"] == {"path": "src/a.py", "lines": {"begin": 3, "end": 3}}
    assert issues[3]["severity"] == "info"
    assert len({issue["fingerprint"] for issue in issues}) == 4
    again = json.loads(render("gitlab", make_report([*mixed_findings, info], tmp_path)))
    assert [issue["fingerprint"] for issue in again] == [issue["fingerprint"] for issue in issues]


# full and concise


def test_full_shows_the_code_frame_and_help(tmp_path):
    output = render("full", make_report([make_finding(fix=make_fix("safe"))], tmp_path))
    assert output.startswith("src/a.py:3:10: GL999 [*] GridSearchCV fits every candidate\n")
    assert (
        "  |\n"
        "3 | search = GridSearchCV(model, grid)\n"
        "  |          ^^^^^^^^^^^^ GL999\n"
        "  |\n"
        "  = help: Use HalvingGridSearchCV\n"
    ) in output


def test_full_underlines_a_multi_line_range_to_the_end_of_its_first_line(tmp_path):
    output = render("full", make_report([make_finding(row=3, column=10, end=(4, 5))], tmp_path))
    assert "3 | search = GridSearchCV(model, grid)\n  |          ^^^^^^^^^^^^^^^^^^^^^^^^^ GL999\n" in output
    assert "4 | search.fit(X, y)\n" in output


def test_full_without_source_has_no_frame(tmp_path):
    output = render("full", make_report([make_finding("src/missing.py")], tmp_path))
    assert output == (
        "src/missing.py:3:10: GL999 GridSearchCV fits every candidate\n\nFound 1 finding in 1 file.\n"
    )


def test_full_hides_help_without_show_fixes(tmp_path):
    report = make_report([make_finding(fix=make_fix("safe"))], tmp_path, show_fixes=False)
    assert "help:" not in render("full", report)


def test_summary_of_safe_unsafe_and_unfixable_findings(tmp_path, mixed_findings):
    output = render("full", make_report(mixed_findings, tmp_path))
    assert output.endswith(
        "\nFound 3 findings in 2 files. 1 fixable with --fix, 1 more with --unsafe-fixes.\n"
    )


def test_summary_counts_unsafe_fixes_as_fixable_when_enabled(tmp_path, mixed_findings):
    output = render("full", make_report(mixed_findings, tmp_path, unsafe_fixes_enabled=True))
    assert output.endswith("\nFound 3 findings in 2 files. 2 fixable with --fix.\n")
    assert output.count("[*]") == 2


def test_summary_with_only_unsafe_fixes(tmp_path):
    output = render("concise", make_report([make_finding(fix=make_fix("unsafe"))], tmp_path))
    assert output.endswith("\nFound 1 finding in 1 file. 1 fixable with --unsafe-fixes.\n")
    assert "[*]" not in output


def test_summary_uses_singulars(tmp_path):
    output = render("full", make_report([make_finding()], tmp_path))
    assert output.endswith("\nFound 1 finding in 1 file.\n")


def test_summary_when_nothing_is_found(tmp_path):
    assert render("full", make_report([], tmp_path)) == "All checks passed!\n"
    assert render("concise", make_report([], tmp_path)) == "All checks passed!\n"


def test_summary_after_fixing(tmp_path):
    remaining = [make_finding(fix=make_fix("unsafe"))]
    output = render("full", make_report(remaining, tmp_path, fixed=2))
    assert output.endswith("\nFound 3 findings (2 fixed, 1 remaining). 1 fixable with --unsafe-fixes.\n")
    all_fixed = render("concise", make_report([], tmp_path, fixed=1))
    assert all_fixed == "Found 1 finding (1 fixed, 0 remaining).\n"


def test_concise_has_one_line_per_finding(tmp_path, mixed_findings):
    output = render("concise", make_report(mixed_findings, tmp_path))
    assert output.splitlines() == [
        "src/a.py:3:10: GL999 [*] GridSearchCV fits every candidate",
        "src/a.py:4:1: GL999 GridSearchCV fits every candidate",
        "src/b.py:1:12: GL999 GridSearchCV fits every candidate",
        "Found 3 findings in 2 files. 1 fixable with --fix, 1 more with --unsafe-fixes.",
    ]


@pytest.mark.parametrize("fmt", ["full", "concise"])
def test_colour_only_when_asked(tmp_path, mixed_findings, fmt):
    plain = render(fmt, make_report(mixed_findings, tmp_path, color=False))
    coloured = render(fmt, make_report(mixed_findings, tmp_path, color=True))
    assert "\x1b[" not in plain
    assert "\x1b[" in coloured
    assert ANSI_ESCAPE.sub("", coloured) == plain


@pytest.mark.parametrize("fmt", ["full", "concise"])
def test_text_formats_show_the_notebook_cell(tmp_path, fmt):
    finding = make_finding("nb.ipynb", row=2, column=10, cell=3)
    output = render(fmt, make_report([finding], tmp_path))
    assert output.startswith("nb.ipynb:cell 3:2:10: GL999 GridSearchCV fits every candidate\n")


def test_full_frame_of_a_notebook_cell_uses_the_cell_text(tmp_path):
    finding = make_finding("nb.ipynb", row=2, column=10, cell=3)
    output = render("full", make_report([finding], tmp_path))
    assert "2 | search = GridSearchCV(model, grid)\n  |          ^^^^^^^^^^^^ GL999\n" in output


# statistics


def test_statistics_sorted_by_count(tmp_path, mixed_findings):
    info = make_finding("src/b.py", rule=FakeInfoRule)
    report = make_report([*mixed_findings, info], tmp_path, statistics=True)
    assert render("full", report).splitlines() == [
        "3\tGL999\t[*] fake-rule",
        "1\tGL998\t[ ] fake-advice",
    ]


def test_statistics_without_fixable_rules_has_no_marker(tmp_path):
    report = make_report([make_finding()], tmp_path, statistics=True)
    assert render("concise", report) == "1\tGL999\tfake-rule\n"


def test_statistics_as_json(tmp_path, mixed_findings):
    report = make_report(mixed_findings, tmp_path, statistics=True)
    assert json.loads(render("json", report)) == [
        {"code": "GL999", "name": "fake-rule", "count": 3, "fixable": True}
    ]


# dispatch


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders_no_findings(tmp_path, fmt):
    assert isinstance(render(fmt, make_report([], tmp_path)), str)


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown output format"):
        render("xml", make_report([], tmp_path))
