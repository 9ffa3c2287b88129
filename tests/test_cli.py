"""The command line, end to end.

The process contract (exit codes, one line on stderr, never a traceback, stdout not a
terminal) is tested through real subprocesses (`run_cli`); the many other behaviours run
`green_lint.cli.main` in this process (`cli`), which is the same code without the start-up
cost. The inputs trigger only GL001 and GL103, whatever other rules the pack holds.
"""

from __future__ import annotations

import concurrent.futures
import difflib
import json
import os
import pickle
import re
import stat
import subprocess
import sys
from pathlib import Path

import jsonschema
import libcst as cst
import pytest

import green_lint.cache
import green_lint.check
import green_lint.fix
from green_lint import __version__, runner, write_back
from green_lint.cache import CacheLocation
from green_lint.engine import LintSettings
from green_lint.fix import fix_source
from green_lint.registry import all_rules, rule_by_code
from green_lint.rule import Fix, Rule
from green_lint.source import load_source

SARIF_SCHEMA = Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json"
ANSI = re.compile(r"\x1b\[[0-9;]*m")

CALL = 'GridSearchCV(SVC(), {"C": [1, 10]}, cv=3)'
GRID = f"from sklearn.model_selection import GridSearchCV\nfrom sklearn.svm import SVC\n\nsearch = {CALL}\n"
GRID_FIXED = (
    "from sklearn.experimental import enable_halving_search_cv  # noqa: F401\n"
    "from sklearn.model_selection import GridSearchCV, HalvingGridSearchCV\n"
    "from sklearn.svm import SVC\n"
    "\n"
    f"search = Halving{CALL}\n"
)
# Where GL103 reports GRID's call: row 4, from column 10 to the end of the call.
GRID_START = {"row": 4, "column": 10}
GRID_END = {"row": 4, "column": 10 + len(CALL)}
CLEAN = "import os\n\nprint(os.getcwd())\n"
SYNTAX_ERROR = "def train(:\n    pass\n"

DESIGN_KEYS = {
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


def write(folder: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(content.encode("utf-8"))


def findings_of(result) -> list[dict]:
    return json.loads(result.stdout)


def codes_by_file(result) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for finding in findings_of(result):
        found.setdefault(finding["filename"], []).append(finding["code"])
    return found


def assert_one_line_error(result, *needles: str) -> None:
    """Exit 2, nothing on stdout, one line `green-lint: error: ...` naming every needle."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.endswith("\n"), result.stderr
    assert result.stderr.startswith("green-lint: error: "), result.stderr
    for needle in needles:
        assert needle in result.stderr


def python_syntax_error(text: str) -> tuple[str, int, int]:
    """What CPython says about `text`: (message, row, column)."""
    try:
        compile(text, "<test>", "exec", flags=0x400, dont_inherit=True)
    except SyntaxError as error:
        return error.msg, error.lineno, error.offset
    raise AssertionError("the text parses")


# Commands


def test_a_path_alone_means_check_and_stdout_is_plain_when_not_a_terminal(run_cli, tmp_path):
    write(tmp_path, {"a.py": GRID})
    alone = run_cli("--no-cache", "a.py", cwd=tmp_path)
    check = run_cli("check", "--no-cache", "a.py", cwd=tmp_path)
    assert alone.returncode == check.returncode == 1
    assert alone.stdout == check.stdout
    assert alone.stdout.startswith("a.py:4:10: GL103 ")
    assert "\x1b[" not in alone.stdout  # a pipe is no terminal: no colour
    assert alone.stderr == check.stderr == ""


def test_no_path_means_the_current_folder(cli, tmp_path):
    write(tmp_path, {"sub/a.py": GRID, "b.py": CLEAN})
    default = cli("--output-format", "concise", cwd=tmp_path)
    explicit = cli("check", "--output-format", "concise", ".", cwd=tmp_path)
    check_alone = cli("check", "--output-format", "concise", cwd=tmp_path)
    assert default.returncode == explicit.returncode == check_alone.returncode == 1
    assert default.stdout == explicit.stdout == check_alone.stdout
    assert default.stdout.startswith(os.path.join("sub", "a.py") + ":4:10: GL103 ")


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(cli, tmp_path, flag):
    result = cli(flag, cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout == f"green-lint {__version__}\n"


@pytest.mark.parametrize("code", ["GL103", "gl103"])
def test_rule_prints_its_documentation(cli, tmp_path, code):
    result = cli("rule", code, cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("# GL103 exhaustive-grid-search\n")
    headings = re.findall(r"^## (.+)$", result.stdout, re.MULTILINE)
    assert headings == [
        "What it does",
        "Why it wastes energy",
        "Example",
        "Use instead",
        "Fix safety",
        "Evidence",
    ]
    assert "HalvingGridSearchCV" in result.stdout
    assert "Fix: unsafe fix." in result.stdout


def test_rule_with_an_unknown_code(cli, tmp_path):
    result = cli("rule", "GL999", cwd=tmp_path)
    assert_one_line_error(result, "'GL999'")
    assert "did you mean" in result.stderr or "valid codes are GL001, " in result.stderr


def test_rule_suggests_the_closest_code(cli, tmp_path):
    result = cli("rule", "GL1033", cwd=tmp_path)
    assert_one_line_error(result, "'GL1033'", "did you mean GL103?")


def test_rule_with_a_prefix_names_the_rules_under_it(cli, tmp_path):
    result = cli("rule", "gl1", cwd=tmp_path)
    assert_one_line_error(result, "'GL1' is a prefix of several rules", "GL101, GL102, ")
    assert "did you mean" not in result.stderr


def test_rules_lists_every_rule(cli, tmp_path):
    result = cli("rules", cwd=tmp_path)
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert len(lines) == len(all_rules())
    for line, rule in zip(lines, all_rules(), strict=True):
        assert line.startswith(f"{rule.code}  {rule.name} ")
        assert rule.summary in line
    assert any(line.startswith("GL103") and "unsafe fix" in line for line in lines)


def test_rules_as_json(cli, tmp_path):
    result = cli("rules", "--output-format", "json", cwd=tmp_path)
    assert result.returncode == 0
    rules = json.loads(result.stdout)
    assert [rule["code"] for rule in rules] == [rule.code for rule in all_rules()]
    gl103 = next(rule for rule in rules if rule["code"] == "GL103")
    assert gl103["name"] == "exhaustive-grid-search"
    assert gl103["fix"] == "unsafe"
    assert "## Evidence" in gl103["docs"]


def test_rules_with_an_unknown_format(cli, tmp_path):
    assert_one_line_error(cli("rules", "--output-format", "xml", cwd=tmp_path), "'xml'")


# Rule selection


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ((), {"a.py": ["GL103"], "broken.py": ["GL001"]}),
        (("--select", "GL"), {"a.py": ["GL103"], "broken.py": ["GL001"]}),
        # Files that do not parse are reported whatever the selection, as in ruff.
        (("--select", "GL1"), {"a.py": ["GL103"], "broken.py": ["GL001"]}),
        (("--select", "gl1"), {"a.py": ["GL103"], "broken.py": ["GL001"]}),
        (("--select", "GL0"), {"broken.py": ["GL001"]}),
        (("--select", "GL001,GL103"), {"a.py": ["GL103"], "broken.py": ["GL001"]}),
        (("--select", "GL001", "--select", "GL103"), {"a.py": ["GL103"], "broken.py": ["GL001"]}),
        (("--ignore", "GL103"), {"broken.py": ["GL001"]}),
        (("--ignore", "GL1"), {"broken.py": ["GL001"]}),
        (("--select", "GL1", "--ignore", "GL103"), {"broken.py": ["GL001"]}),
        (("--select", "GL1", "--ignore", "GL001"), {"a.py": ["GL103"]}),
        (("--select", "GL001", "--extend-select", "GL103"), {"a.py": ["GL103"], "broken.py": ["GL001"]}),
        (("--select", "GL001", "--extend-select", "GL1"), {"a.py": ["GL103"], "broken.py": ["GL001"]}),
        # The most specific selector wins, as in ruff.
        (("--select", "GL103", "--ignore", "GL1"), {"a.py": ["GL103"], "broken.py": ["GL001"]}),
    ],
)
def test_select_ignore_and_extend_select(cli, tmp_path, options, expected):
    write(tmp_path, {"a.py": GRID, "broken.py": SYNTAX_ERROR, "clean.py": CLEAN})
    result = cli("--no-cache", "--output-format", "json", *options, cwd=tmp_path)
    assert codes_by_file(result) == expected
    assert result.returncode == (1 if expected else 0)


@pytest.mark.parametrize(
    ("config", "options", "expected"),
    [
        # The flags win over the file, as in ruff: `--select` starts afresh, and
        # `--extend-select` adjusts what the file chose.
        ('ignore = ["GL103"]', ("--select", "GL103"), {"a.py": ["GL103"], "broken.py": ["GL001"]}),
        ('ignore = ["GL103"]', ("--select", "GL1"), {"a.py": ["GL103"], "broken.py": ["GL001"]}),
        ('ignore = ["GL103"]', ("--extend-select", "GL103"), {"a.py": ["GL103"], "broken.py": ["GL001"]}),
        ('ignore = ["GL1"]', ("--extend-select", "GL103"), {"a.py": ["GL103"], "broken.py": ["GL001"]}),
        ('ignore = ["GL103"]', (), {"broken.py": ["GL001"]}),
        ('select = ["GL103"]', ("--ignore", "GL1"), {"broken.py": ["GL001"]}),
        ('select = ["GL2"]', ("--extend-select", "GL103"), {"a.py": ["GL103"], "broken.py": ["GL001"]}),
        (
            'extend-select = ["GL103"]\nignore = ["GL001"]',
            ("--select", "GL103"),
            {"a.py": ["GL103"], "broken.py": ["GL001"]},
        ),
        ('ignore = ["GL001"]', ("--extend-select", "GL103"), {"a.py": ["GL103"]}),
    ],
)
def test_the_flags_win_over_the_config_file(cli, tmp_path, config, options, expected):
    write(
        tmp_path,
        {"a.py": GRID, "broken.py": SYNTAX_ERROR, "pyproject.toml": f"[tool.green-lint]\n{config}\n"},
    )
    result = cli("--no-cache", "--output-format", "json", *options, cwd=tmp_path)
    assert codes_by_file(result) == expected


@pytest.mark.parametrize(
    "options",
    [
        ("--select", "GL1033"),
        ("--ignore", "GL1033"),
        ("--extend-select", "GL1033"),
        ("--select", "GL001,GL1033"),
        ("--per-file-ignores", "*.py:GL1033"),
    ],
)
def test_an_unknown_code_is_a_usage_error(cli, tmp_path, options):
    write(tmp_path, {"a.py": GRID})
    result = cli(*options, "a.py", cwd=tmp_path)
    assert_one_line_error(result, "'GL1033'", "did you mean GL103?")


# Fixes


def test_fix_alone_does_not_apply_an_unsafe_fix(cli, tmp_path):
    write(tmp_path, {"a.py": GRID})
    result = cli("--fix", "a.py", cwd=tmp_path)
    assert result.returncode == 1
    assert (tmp_path / "a.py").read_text() == GRID
    assert "Found 1 finding in 1 file. 1 fixable with --unsafe-fixes." in result.stdout


def test_fix_with_unsafe_fixes_applies_them_once(cli, tmp_path):
    write(tmp_path, {"a.py": GRID})
    first = cli("--fix", "--unsafe-fixes", "a.py", cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    assert (tmp_path / "a.py").read_text() == GRID_FIXED
    assert first.stdout == "Found 1 finding (1 fixed, 0 remaining).\n"
    second = cli("--fix", "--unsafe-fixes", "a.py", cwd=tmp_path)
    assert second.returncode == 0
    assert (tmp_path / "a.py").read_text() == GRID_FIXED
    assert second.stdout == "All checks passed!\n"


def test_fix_reports_what_remains_with_frames_of_the_fixed_text(cli, tmp_path):
    # The first call is fixed (two import lines are added), the second has no fix.
    source = (
        "from sklearn.model_selection import GridSearchCV\n"
        "a = GridSearchCV(m, g)\n"
        "b = GridSearchCV(m, g, pre_dispatch=2)\n"
    )
    write(tmp_path, {"a.py": source})
    result = cli("--fix", "--unsafe-fixes", "a.py", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith("a.py:4:5: GL103 ")
    assert "4 | b = GridSearchCV(m, g, pre_dispatch=2)\n" in result.stdout
    assert "Found 2 findings (1 fixed, 1 remaining)." in result.stdout


class RenameTarget(Rule):
    """A test-only rule with a safe fix: `target` -> `renamed`."""

    code = "GL990"
    name = "rename-target"
    summary = "Test only"
    fix_safety = "safe"
    triggers = ("target",)

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == "target":
            self.report(node, "rename it", fix=Fix("Rename", {node: cst.Name("renamed")}, "safe"))


class BreakingFix(Rule):
    """A test-only rule whose (safe) fix produces code that does not parse."""

    code = "GL991"
    name = "breaking-fix"
    summary = "Test only"
    fix_safety = "safe"
    triggers = ("target",)

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == "target":
            # Valid for libcst's validation (matching quotes), not Python: `'a' + '`.
            self.report(node, "break it", fix=Fix("Break", {node: cst.SimpleString("'a' + '")}, "safe"))


def test_safe_fixes_apply_without_unsafe_fixes(tmp_path):
    text = GRID + "target = 1\n"
    source = load_source(tmp_path / "a.py", "a.py", text.encode())
    settings = LintSettings(rules=[RenameTarget, rule_by_code("GL103")])
    safe_only = fix_source(source, settings, unsafe=False)
    assert safe_only.text == GRID + "renamed = 1\n"
    assert [finding.code for finding in safe_only.remaining] == ["GL103"]
    everything = fix_source(source, settings, unsafe=True)
    assert everything.text == GRID_FIXED + "renamed = 1\n"
    assert everything.remaining == []


def test_a_fix_that_does_not_parse_is_not_applied(tmp_path):
    text = "x = target\n"
    source = load_source(tmp_path / "a.py", "a.py", text.encode())
    outcome = fix_source(source, LintSettings(rules=[BreakingFix]), unsafe=True)
    assert outcome.text == text
    assert outcome.applied == 0
    assert [finding.code for finding in outcome.remaining] == ["GL991"]
    assert len(outcome.errors) == 1
    assert "GL991" in outcome.errors[0] and "does not parse" in outcome.errors[0]


def test_the_runner_leaves_the_file_when_a_fix_does_not_parse(tmp_path):
    path = tmp_path / "a.py"
    path.write_text("x = target\n")
    job = runner.Job(path, "a.py")
    [result] = runner.run([job], LintSettings(rules=[BreakingFix]), runner.RunOptions("fix", True))
    assert path.read_text() == "x = target\n"
    assert result.fixed == 0
    assert [finding.code for finding in result.findings] == ["GL991"]
    assert len(result.errors) == 1 and result.errors[0].startswith("a.py: ")
    assert sorted(os.listdir(tmp_path)) == ["a.py"]


def test_diff_prints_the_fixes_and_writes_nothing(cli, tmp_path):
    write(tmp_path, {"a.py": GRID})
    path = tmp_path / "a.py"
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    before = path.stat()
    result = cli("--diff", "--unsafe-fixes", "a.py", cwd=tmp_path)
    assert result.returncode == 1
    expected = difflib.unified_diff(
        GRID.splitlines(keepends=True), GRID_FIXED.splitlines(keepends=True), "a/a.py", "b/a.py"
    )
    assert result.stdout == "".join(expected)
    assert result.stderr == "Would fix 1 finding.\n"
    assert path.read_text() == GRID
    assert path.stat().st_mtime_ns == before.st_mtime_ns
    assert sorted(os.listdir(tmp_path)) == ["a.py"]


def test_diff_without_a_diff_exits_0(cli, tmp_path):
    write(tmp_path, {"a.py": GRID, "clean.py": CLEAN})
    # GL103's fix is unsafe: without --unsafe-fixes there is nothing to show.
    safe_only = cli("--diff", "a.py", cwd=tmp_path)
    assert (safe_only.returncode, safe_only.stdout, safe_only.stderr) == (0, "", "")
    assert (tmp_path / "a.py").read_text() == GRID
    clean = cli("--diff", "--unsafe-fixes", "clean.py", cwd=tmp_path)
    assert (clean.returncode, clean.stdout, clean.stderr) == (0, "", "")


# Output formats


def _check_full(result) -> None:
    assert result.stdout.startswith("a.py:4:10: GL103 ")
    assert result.stdout.endswith("Found 1 finding in 1 file. 1 fixable with --unsafe-fixes.\n")


def _check_concise(result) -> None:
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("a.py:4:10: GL103 GridSearchCV")
    assert lines[1] == "Found 1 finding in 1 file. 1 fixable with --unsafe-fixes."


def _check_json(result) -> None:
    [finding] = json.loads(result.stdout)
    assert set(finding) == DESIGN_KEYS
    assert finding["code"] == "GL103"
    assert finding["name"] == "exhaustive-grid-search"
    assert finding["message"].startswith("GridSearchCV ")
    assert finding["severity"] == "warning"
    assert finding["filename"] == "a.py"
    assert finding["cell"] is None
    assert finding["location"] == GRID_START
    assert finding["end_location"] == GRID_END
    assert finding["noqa_row"] == 4
    assert finding["url"].endswith("#gl103")
    assert set(finding["fix"]) == {"applicability", "message", "edits"}
    assert finding["fix"]["applicability"] == "unsafe"
    for edit in finding["fix"]["edits"]:
        assert set(edit) == {"content", "location", "end_location"}
        assert set(edit["location"]) == set(edit["end_location"]) == {"row", "column"}


def _check_json_lines(result) -> None:
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    finding = json.loads(lines[0])
    assert set(finding) == DESIGN_KEYS
    assert (finding["code"], finding["location"]) == ("GL103", GRID_START)


def _check_github(result) -> None:
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("::warning title=green-lint (GL103),file=a.py,line=4,endLine=4,col=10,")
    assert "::GL103 GridSearchCV " in lines[0]


def _check_sarif(result) -> None:
    sarif = json.loads(result.stdout)
    jsonschema.Draft7Validator(json.loads(SARIF_SCHEMA.read_text())).validate(sarif)
    [run] = sarif["runs"]
    [sarif_result] = run["results"]
    assert sarif_result["ruleId"] == "GL103"
    region = sarif_result["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (4, 10)


def _check_gitlab(result) -> None:
    [issue] = json.loads(result.stdout)
    assert issue["check_name"] == "GL103"
    assert issue["location"] == {"path": "a.py", "lines": {"begin": 4, "end": 4}}


FORMAT_CHECKS = {
    "full": _check_full,
    "concise": _check_concise,
    "json": _check_json,
    "json-lines": _check_json_lines,
    "github": _check_github,
    "sarif": _check_sarif,
    "gitlab": _check_gitlab,
}


@pytest.mark.parametrize("fmt", list(FORMAT_CHECKS))
def test_output_format(cli, tmp_path, fmt):
    write(tmp_path, {"a.py": GRID, "clean.py": CLEAN})
    result = cli("--output-format", fmt, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == ""
    FORMAT_CHECKS[fmt](result)


@pytest.mark.parametrize("fmt", ["json", "sarif", "gitlab"])
def test_machine_formats_of_a_clean_run_are_valid(cli, tmp_path, fmt):
    write(tmp_path, {"clean.py": CLEAN})
    result = cli("--output-format", fmt, cwd=tmp_path)
    assert result.returncode == 0
    data = json.loads(result.stdout)
    if fmt == "sarif":
        jsonschema.Draft7Validator(json.loads(SARIF_SCHEMA.read_text())).validate(data)
        assert data["runs"][0]["results"] == []
    else:
        assert data == []


def test_an_unknown_output_format(cli, tmp_path):
    write(tmp_path, {"a.py": GRID})
    assert_one_line_error(cli("--output-format", "jsn", "a.py", cwd=tmp_path), "'jsn'", "did you mean json?")


def test_output_file_gets_the_output_instead_of_stdout(cli, tmp_path):
    write(tmp_path, {"a.py": GRID})
    result = cli("--output-format", "json", "--output-file", "report.json", "a.py", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    [finding] = json.loads((tmp_path / "report.json").read_text())
    assert finding["code"] == "GL103"
    # No colour in a file, even when asked for on the terminal.
    cli("-o", "report.txt", "a.py", cwd=tmp_path, env={"FORCE_COLOR": "1"})
    text = (tmp_path / "report.txt").read_text()
    assert text.startswith("a.py:4:10: GL103 ") and "\x1b[" not in text


def test_statistics(cli, tmp_path):
    write(tmp_path, {"a.py": GRID, "b.py": GRID, "broken.py": SYNTAX_ERROR})
    result = cli("--statistics", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stdout == "2\tGL103\texhaustive-grid-search\n1\tGL001\tsyntax-error\n"
    fixable = cli("--statistics", "--unsafe-fixes", cwd=tmp_path)
    assert fixable.stdout.splitlines()[0] == "2\tGL103\t[*] exhaustive-grid-search"
    as_json = cli("--statistics", "--output-format", "json", cwd=tmp_path)
    assert json.loads(as_json.stdout) == [
        {"code": "GL103", "name": "exhaustive-grid-search", "count": 2, "fixable": False},
        {"code": "GL001", "name": "syntax-error", "count": 1, "fixable": False},
    ]


def test_exit_zero(cli, tmp_path):
    write(tmp_path, {"a.py": GRID})
    result = cli("--exit-zero", "a.py", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("a.py:4:10: GL103 ")


def test_quiet_prints_no_summary(cli, tmp_path):
    write(tmp_path, {"a.py": GRID, "clean.py": CLEAN})
    result = cli("--quiet", "a.py", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith("a.py:4:10: GL103 ")
    assert "Found" not in result.stdout
    concise = cli("-q", "--output-format", "concise", "a.py", cwd=tmp_path)
    assert len(concise.stdout.splitlines()) == 1
    clean = cli("-q", "clean.py", cwd=tmp_path)
    assert (clean.returncode, clean.stdout) == (0, "")


# The cache


def test_no_cache_creates_no_cache(cli, tmp_path):
    write(tmp_path, {"a.py": GRID})
    assert cli("--no-cache", "a.py", cwd=tmp_path).returncode == 1
    assert sorted(os.listdir(tmp_path)) == ["a.py"]


def test_the_cache_serves_unchanged_files_and_drops_changed_ones(cli, tmp_path, monkeypatch):
    write(tmp_path, {"a.py": GRID})
    first = cli("a.py", cwd=tmp_path)
    assert first.returncode == 1
    assert (tmp_path / ".green-lint-cache").is_dir()

    def no_linting(*args, **kwargs):
        raise AssertionError("an unchanged file was linted again")

    with monkeypatch.context() as patch:
        patch.setattr(runner, "lint_source", no_linting)
        second = cli("a.py", cwd=tmp_path)
    assert (second.returncode, second.stdout, second.stderr) == (1, first.stdout, first.stderr)

    write(tmp_path, {"a.py": "# a line above\n" + GRID})
    third = cli("--output-format", "concise", "a.py", cwd=tmp_path)
    assert third.returncode == 1
    assert third.stdout.startswith("a.py:5:10: GL103 ")
    write(tmp_path, {"a.py": CLEAN})
    assert cli("a.py", cwd=tmp_path).stdout == "All checks passed!\n"


def test_the_cache_names_a_file_as_this_run_does(cli, tmp_path):
    # An editor passes absolute paths; the cache must not keep the name of an earlier run.
    write(tmp_path, {"pyproject.toml": "[tool.green-lint]\n", "sub/a.py": GRID})
    path = tmp_path / "sub" / "a.py"
    from_root = cli("--output-format", "concise", path, cwd=tmp_path)
    assert from_root.stdout.startswith(os.path.join("sub", "a.py") + ":4:10: GL103 ")
    from_sub = cli(path, cwd=tmp_path / "sub")
    assert from_sub.stdout.startswith("a.py:4:10: GL103 ")
    assert f"4 | search = {CALL}\n" in from_sub.stdout
    assert (tmp_path / ".green-lint-cache").is_dir()


# Parallel runs


def test_jobs_give_the_same_findings(run_cli, tmp_path):
    files = {f"pkg{index % 4}/m{index:02}.py": GRID.replace("cv=3", f"cv={index + 2}") for index in range(40)}
    files["pkg0/broken.py"] = SYNTAX_ERROR
    write(tmp_path, files)
    one = run_cli("--no-cache", "--jobs", "1", "--output-format", "json", cwd=tmp_path)
    two = run_cli("--no-cache", "--jobs", "2", "--output-format", "json", cwd=tmp_path)
    assert one.returncode == two.returncode == 1
    assert one.stderr == two.stderr == ""
    assert one.stdout == two.stdout
    assert len(json.loads(one.stdout)) == 41


class _RecordingPool:
    """Stands in for ProcessPoolExecutor: records that a pool was started, maps in-process,
    and copies arguments and results through pickle as a process boundary does."""

    started: list[int] = []

    def __init__(self, max_workers: int, initializer=None) -> None:
        _RecordingPool.started.append(max_workers)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        return None

    def map(self, function, items, chunksize=1):
        copy = lambda value: pickle.loads(pickle.dumps(value))  # noqa: E731
        return [copy(function(copy(item))) for item in items]


@pytest.mark.parametrize(
    ("file_count", "jobs", "pool"),
    [
        (1, None, False),
        (1, 2, False),
        (runner.POOL_THRESHOLD - 1, 2, False),
        (runner.POOL_THRESHOLD, 2, True),
        (30, 2, True),
        (30, 1, False),
    ],
)
def test_a_pool_starts_only_for_many_files(tmp_path, monkeypatch, file_count, jobs, pool):
    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", _RecordingPool)
    monkeypatch.setattr(runner.os, "cpu_count", lambda: 4)
    _RecordingPool.started = []
    for index in range(file_count):
        (tmp_path / f"m{index}.py").write_text(GRID)
    jobs_list = [runner.Job(tmp_path / f"m{index}.py", f"m{index}.py") for index in range(file_count)]
    settings = LintSettings(rules=[rule_by_code("GL001"), rule_by_code("GL103")])
    results = runner.run(jobs_list, settings, runner.RunOptions(jobs=jobs))
    assert _RecordingPool.started == ([jobs] if pool else [])
    assert [result.display_path for result in results] == [job.display_path for job in jobs_list]
    assert all([f.code for f in result.findings] == ["GL103"] for result in results)


def test_a_warm_run_through_the_pool_does_not_rewrite_the_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", _RecordingPool)
    _RecordingPool.started = []
    jobs = []
    for index in range(runner.POOL_THRESHOLD):
        (tmp_path / f"m{index}.py").write_text(GRID)
        jobs.append(runner.Job(tmp_path / f"m{index}.py", f"m{index}.py"))
    settings = LintSettings(rules=[rule_by_code("GL001"), rule_by_code("GL103")])
    options = runner.RunOptions(jobs=2, cache=CacheLocation(tmp_path / "cache"))
    cold = runner.run(jobs, settings, options)
    writes = []
    monkeypatch.setattr(green_lint.cache, "_write_file", lambda location, name, data: writes.append(name))
    warm = runner.run(jobs, settings, options)
    assert _RecordingPool.started == [2, 2]
    assert writes == []
    assert [r.findings for r in warm] == [r.findings for r in cold]
    (tmp_path / "m0.py").write_text(CLEAN)
    runner.run(jobs, settings, options)
    assert len(writes) == 1


# Configuration


def test_config_file_option(cli, tmp_path):
    write(
        tmp_path,
        {
            "a.py": GRID,
            "broken.py": SYNTAX_ERROR,
            "lint.toml": 'select = ["GL1", "GL001"]\nignore = ["GL103"]\n',
            "conf/pyproject.toml": '[tool.green-lint]\nselect = ["GL1"]\n',
        },
    )
    toml = cli("--config", "lint.toml", "--output-format", "json", cwd=tmp_path)
    assert codes_by_file(toml) == {"broken.py": ["GL001"]}
    pyproject = cli("--config", "conf/pyproject.toml", "--output-format", "json", cwd=tmp_path)
    assert codes_by_file(pyproject) == {"a.py": ["GL103"], "broken.py": ["GL001"]}
    # Flags win over the file.
    flags = cli(
        "--config", "conf/pyproject.toml", "--ignore", "GL001", "--output-format", "json", cwd=tmp_path
    )
    assert codes_by_file(flags) == {"a.py": ["GL103"]}


def test_output_format_from_the_config_and_flags_win(cli, tmp_path):
    write(tmp_path, {"pyproject.toml": '[tool.green-lint]\noutput-format = "json"\n', "a.py": GRID})
    assert [finding["code"] for finding in findings_of(cli("a.py", cwd=tmp_path))] == ["GL103"]
    concise = cli("--output-format", "concise", "a.py", cwd=tmp_path)
    assert concise.stdout.startswith("a.py:4:10: GL103 ")


def test_a_missing_config_file(cli, tmp_path):
    write(tmp_path, {"a.py": GRID})
    assert_one_line_error(cli("--config", "nope.toml", "a.py", cwd=tmp_path), "nope.toml")


def test_pyproject_is_found_upward_from_a_subfolder(cli, tmp_path):
    write(
        tmp_path,
        {
            "pyproject.toml": '[tool.green-lint]\nignore = ["GL103"]\n',
            # A pyproject without a [tool.green-lint] table does not count.
            "sub/pyproject.toml": '[project]\nname = "sub"\n',
            "sub/deeper/a.py": GRID,
        },
    )
    deeper = tmp_path / "sub" / "deeper"
    assert cli(cwd=deeper).stdout == "All checks passed!\n"
    assert cli("a.py", cwd=deeper).returncode == 0
    (tmp_path / "pyproject.toml").unlink()
    assert cli("a.py", cwd=deeper).returncode == 1


@pytest.mark.parametrize(
    ("table", "needles"),
    [
        ('[tool.green-lint]\nselectt = ["GL1"]\n', ("'selectt'", "did you mean 'select'?")),
        ('[tool.green-lint]\nselect = ["GL1033"]\n', ("'GL1033'", "'select'", "GL103")),
        ('[tool.green-lint]\nignore = ["XYZ"]\n', ("'XYZ'", "'ignore'")),
        ("[tool.green-lint.rules.GL103]\nfoo = 1\n", ("'foo'", "GL103")),
        ("[tool.green-lint.rules.GL1033]\nfoo = 1\n", ("'GL1033'", "GL103")),
        ('[tool.green-lint]\nrespect-gitignore = "yes"\n', ("'respect-gitignore'",)),
        ("[tool.green-lint\n", ("invalid TOML",)),
    ],
)
def test_config_errors(cli, tmp_path, table, needles):
    write(tmp_path, {"pyproject.toml": table, "a.py": GRID})
    result = cli("a.py", cwd=tmp_path)
    assert_one_line_error(result, "pyproject.toml", *needles)


def test_per_file_ignores(cli, tmp_path):
    write(
        tmp_path,
        {
            "pyproject.toml": '[tool.green-lint]\nper-file-ignores = { "legacy/*.py" = ["GL103"] }\n',
            "legacy/a.py": GRID,
            "new/a.py": GRID,
        },
    )
    result = cli("--output-format", "json", cwd=tmp_path)
    assert codes_by_file(result) == {os.path.join("new", "a.py"): ["GL103"]}
    both = cli("--per-file-ignores", "new/**:GL1", cwd=tmp_path)
    assert both.stdout == "All checks passed!\n"
    # Run from inside a folder, the globs stay relative to the project root.
    inside = cli("--output-format", "json", ".", cwd=tmp_path / "legacy")
    assert codes_by_file(inside) == {}


@pytest.mark.parametrize(
    ("settings", "linted"),
    [
        ("", ["keep/a.py", "skipme/a.py"]),  # build/ is excluded by default
        ('exclude = ["skipme"]', ["build/a.py", "keep/a.py"]),  # exclude replaces the defaults
        ('extend-exclude = ["skipme"]', ["keep/a.py"]),
        ('extend-exclude = ["keep/a.py"]', ["skipme/a.py"]),
    ],
)
def test_exclude_and_extend_exclude(cli, tmp_path, settings, linted):
    write(
        tmp_path,
        {
            "pyproject.toml": f"[tool.green-lint]\n{settings}\n",
            "keep/a.py": GRID,
            "build/a.py": GRID,
            "skipme/a.py": GRID,
        },
    )
    result = cli("--output-format", "json", cwd=tmp_path)
    assert sorted(codes_by_file(result)) == [os.path.normpath(path) for path in linted]


@pytest.mark.parametrize("respect", [None, True, False])
def test_respect_gitignore(cli, tmp_path, respect):
    (tmp_path / ".git").mkdir()
    settings = "" if respect is None else f"respect-gitignore = {str(respect).lower()}"
    write(
        tmp_path,
        {
            ".gitignore": "ignored.py\ngenerated/\n",
            "pyproject.toml": f"[tool.green-lint]\n{settings}\n",
            "ignored.py": GRID,
            "generated/a.py": GRID,
            "kept.py": GRID,
        },
    )
    result = cli("--output-format", "json", cwd=tmp_path)
    expected = ["kept.py"] if respect is not False else ["generated/a.py", "ignored.py", "kept.py"]
    assert sorted(codes_by_file(result)) == [os.path.normpath(path) for path in expected]


# Suppressions

NOQA_SOURCE = """\
from sklearn.model_selection import GridSearchCV
a = GridSearchCV(m, g)  # noqa
b = GridSearchCV(m, g)  # noqa: GL103
c = GridSearchCV(m, g)  # noqa: GL103, E501
d = GridSearchCV(m, g)  # noqa: E501
e = GridSearchCV(  # noqa: GL103
    m,
    g,
)
f = GridSearchCV(
    m,
    g,  # noqa: GL103
)
h = GridSearchCV(m, g)  # noqa:E501,GL103
i = GridSearchCV(m, g)  # NOQA: GL103
j = GridSearchCV(m, g)
"""


def test_noqa_comments(cli, tmp_path):
    write(tmp_path, {"a.py": NOQA_SOURCE})
    result = cli("--output-format", "json", "a.py", cwd=tmp_path)
    assert result.returncode == 1
    # d: only another tool's code; f: the comment is not on the reported (first) line.
    assert [finding["location"]["row"] for finding in findings_of(result)] == [5, 10, 16]


@pytest.mark.parametrize(
    ("header", "reported"),
    [
        ("# green-lint: noqa\n", False),
        ("# green-lint: noqa: GL103\n", False),
        ("#green-lint:noqa:GL001,GL103\n", False),
        ("# green-lint: noqa: GL001\n", True),
        ("x = 1  # green-lint: noqa\n", True),  # not a comment of its own
        ("# ruff: noqa\n", True),  # another tool's
    ],
)
def test_file_level_noqa(cli, tmp_path, header, reported):
    write(tmp_path, {"a.py": '"""Doc."""\n' + header + GRID})
    result = cli("--output-format", "json", "a.py", cwd=tmp_path)
    assert [finding["code"] for finding in findings_of(result)] == (["GL103"] if reported else [])
    assert result.returncode == (1 if reported else 0)


# Bad input


def test_bad_files_do_not_stop_the_run_and_lose_no_data(run_cli, tmp_path):
    bad = {
        "syntax.py": SYNTAX_ERROR,
        "latin1.py": b'name = "caf\xe9"\n',
        "binary.py": b"\x7fELF\x00\x01\x02\x03",
        "broken.ipynb": '{"cells": [',
        "empty.py": b"",
    }
    write(tmp_path, {**bad, "good.py": GRID})
    result = run_cli("--fix", "--unsafe-fixes", "--output-format", "json", ".", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr == ""
    findings = {finding["filename"]: finding for finding in findings_of(result)}
    assert sorted(findings) == ["binary.py", "broken.ipynb", "latin1.py", "syntax.py"]
    assert {finding["code"] for finding in findings.values()} == {"GL001"}
    message, row, column = python_syntax_error(SYNTAX_ERROR)
    assert findings["syntax.py"]["message"] == message
    assert findings["syntax.py"]["location"] == {"row": row, "column": column}
    assert "0xe9" in findings["latin1.py"]["message"]
    assert findings["latin1.py"]["location"] == {"row": 1, "column": 12}
    assert "NUL" in findings["binary.py"]["message"]
    assert findings["broken.ipynb"]["message"].startswith("not a valid notebook")
    for name, content in bad.items():
        expected = content if isinstance(content, bytes) else content.encode()
        assert (tmp_path / name).read_bytes() == expected, name
    assert (tmp_path / "good.py").read_text() == GRID_FIXED
    assert sorted(os.listdir(tmp_path)) == sorted([*bad, "good.py"])


@pytest.mark.parametrize("prefix", ["", "from sklearn.model_selection import GridSearchCV\n"])
def test_a_syntax_error_has_the_parsers_message_and_position(cli, tmp_path, prefix):
    # With GridSearchCV in the text, GL103 needs the libcst tree: the message must not change.
    text = prefix + "x = 1\ndef train(:\n    pass\n"
    write(tmp_path, {"a.py": text, "b.py": GRID})
    result = cli("--output-format", "json", cwd=tmp_path)
    assert result.returncode == 1
    message, row, column = python_syntax_error(text)
    syntax, grid = findings_of(result)
    assert (syntax["filename"], syntax["code"], syntax["message"]) == ("a.py", "GL001", message)
    assert (syntax["location"]["row"], syntax["location"]["column"]) == (row, column)
    assert (grid["filename"], grid["code"]) == ("b.py", "GL103")


def test_a_non_utf8_file_without_a_coding_line(cli, tmp_path):
    write(tmp_path, {"a.py": b"import os\nname = 'caf\xe9'\n", "b.py": b"\xff = 1\n"})
    result = cli("--output-format", "json", cwd=tmp_path)
    assert result.returncode == 1
    first, second = findings_of(result)
    assert first["code"] == second["code"] == "GL001"
    assert "byte 0xe9" in first["message"] and "utf-8" in first["message"]
    assert first["location"] == {"row": 2, "column": 12}
    # A bad byte on the first line, where Python looks for the coding declaration.
    assert "byte 0xff" in second["message"]
    assert second["location"] == {"row": 1, "column": 1}


LATIN1 = (
    "# -*- coding: latin-1 -*-\n"
    "from sklearn.model_selection import GridSearchCV\n"
    'label = "café"\n'
    "search = GridSearchCV(model, grid)\n"
)
LATIN1_FIXED = (
    "# -*- coding: latin-1 -*-\n"
    "from sklearn.experimental import enable_halving_search_cv  # noqa: F401\n"
    "from sklearn.model_selection import GridSearchCV, HalvingGridSearchCV\n"
    'label = "café"\n'
    "search = HalvingGridSearchCV(model, grid)\n"
)


def test_a_latin1_file_with_a_coding_line(cli, tmp_path):
    write(tmp_path, {"a.py": LATIN1.encode("latin-1")})
    check = cli("--output-format", "concise", "a.py", cwd=tmp_path)
    assert check.returncode == 1
    assert check.stdout.startswith("a.py:4:10: GL103 ")
    diff = cli("--diff", "--unsafe-fixes", "a.py", cwd=tmp_path)
    assert ' label = "café"\n' in diff.stdout  # decoded as latin-1, not as replacement characters
    fix = cli("--fix", "--unsafe-fixes", "a.py", cwd=tmp_path)
    assert fix.returncode == 0
    assert (tmp_path / "a.py").read_bytes() == LATIN1_FIXED.encode("latin-1")


def test_a_utf8_bom_is_kept(cli, tmp_path):
    bom = b"\xef\xbb\xbf"
    write(tmp_path, {"a.py": bom + GRID.encode()})
    check = cli("--output-format", "concise", "a.py", cwd=tmp_path)
    assert check.stdout.startswith("a.py:4:10: GL103 ")
    assert cli("--fix", "--unsafe-fixes", "a.py", cwd=tmp_path).returncode == 0
    assert (tmp_path / "a.py").read_bytes() == bom + GRID_FIXED.encode()


def test_crlf_line_endings_are_kept(cli, tmp_path):
    write(tmp_path, {"a.py": GRID.replace("\n", "\r\n")})
    check = cli("--output-format", "concise", "a.py", cwd=tmp_path)
    assert check.stdout.startswith("a.py:4:10: GL103 ")
    assert cli("--fix", "--unsafe-fixes", "a.py", cwd=tmp_path).returncode == 0
    assert (tmp_path / "a.py").read_bytes() == GRID_FIXED.replace("\n", "\r\n").encode()


def test_an_empty_file(cli, tmp_path):
    write(tmp_path, {"empty.py": ""})
    result = cli("empty.py", cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "All checks passed!\n", "")


def test_a_broken_notebook(cli, tmp_path):
    write(tmp_path, {"nb.ipynb": '{"cells": [1, 2', "other.ipynb": '{"no": "cells"}', "a.py": GRID})
    result = cli("--output-format", "json", cwd=tmp_path)
    assert result.returncode == 1
    found = {finding["filename"]: finding for finding in findings_of(result)}
    assert found["a.py"]["code"] == "GL103"
    for name in ("nb.ipynb", "other.ipynb"):
        assert found[name]["code"] == "GL001"
        assert found[name]["message"].startswith("not a valid notebook")


def test_a_folder_without_python_files(cli, tmp_path):
    write(tmp_path, {"docs/README.md": "# Hello\n", "docs/data.csv": "a,b\n"})
    result = cli("docs", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout == ""
    assert result.stderr == "green-lint: warning: no Python files found\n"


def test_a_path_that_does_not_exist(cli, tmp_path):
    write(tmp_path, {"a.py": GRID})
    assert_one_line_error(cli("a.py", "missing.py", cwd=tmp_path), "'missing.py'", "does not exist")


def test_a_symlink_loop(cli, tmp_path):
    write(tmp_path, {"src/a.py": GRID})
    (tmp_path / "src" / "loop").symlink_to(tmp_path / "src")
    (tmp_path / "src" / "self.py").symlink_to(tmp_path / "src" / "self.py")
    result = cli("--output-format", "concise", "src", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith(os.path.join("src", "a.py") + ":4:10: GL103 ")
    assert "symlink loop" in result.stderr
    assert all(line.startswith("green-lint: warning: ") for line in result.stderr.splitlines())
    assert "Traceback" not in result.stderr
    clean = tmp_path / "src" / "a.py"
    clean.write_text(CLEAN)
    assert cli("src", cwd=tmp_path).returncode == 0


# Notebooks


def fixed_notebook() -> dict:
    """`_notebook()` after its unsafe GL103 fix: only the sources of two cells change."""
    expected = _notebook()
    expected["cells"][0]["source"] = [
        "from sklearn.experimental import enable_halving_search_cv  # noqa: F401\n",
        "from sklearn.model_selection import GridSearchCV, HalvingGridSearchCV\n",
        "from sklearn.svm import SVC",
    ]
    expected["cells"][2]["source"][1] = "search = HalvingGridSearchCV(SVC(), grid)\n"
    return expected


def _notebook() -> dict:
    return {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": 1,
                "metadata": {"tags": ["setup"]},
                "outputs": [],
                "source": [
                    "from sklearn.model_selection import GridSearchCV\n",
                    "from sklearn.svm import SVC",
                ],
            },
            {"cell_type": "markdown", "metadata": {}, "source": ["# The search"]},
            {
                "cell_type": "code",
                "execution_count": 2,
                "metadata": {"scrolled": True},
                "outputs": [{"name": "stdout", "output_type": "stream", "text": ["fitted\n"]}],
                "source": [
                    "grid = {'C': [1, 10]}\n",
                    "search = GridSearchCV(SVC(), grid)\n",
                    "search.fit(X, y)",
                ],
            },
        ],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def test_notebook_findings_name_the_cell(cli, tmp_path):
    write(tmp_path, {"nb.ipynb": json.dumps(_notebook(), indent=1) + "\n"})
    result = cli("--output-format", "json", "nb.ipynb", cwd=tmp_path)
    assert result.returncode == 1
    [finding] = findings_of(result)
    assert finding["cell"] == 3
    assert finding["location"] == {"row": 2, "column": 10}
    full = cli("nb.ipynb", cwd=tmp_path)
    assert full.stdout.startswith("nb.ipynb:cell 3:2:10: GL103 ")
    assert "2 | search = GridSearchCV(SVC(), grid)\n" in full.stdout


def test_notebook_fix_rewrites_only_the_changed_cells(cli, tmp_path):
    original = _notebook()
    write(tmp_path, {"nb.ipynb": json.dumps(original, indent=1) + "\n"})
    result = cli("--fix", "--unsafe-fixes", "nb.ipynb", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    fixed = json.loads((tmp_path / "nb.ipynb").read_text())
    assert fixed == fixed_notebook()  # outputs, metadata, the markdown cell: all kept
    once = (tmp_path / "nb.ipynb").read_bytes()
    assert once == (json.dumps(fixed_notebook(), indent=1) + "\n").encode()
    again = cli("--fix", "--unsafe-fixes", "nb.ipynb", cwd=tmp_path)
    assert (again.returncode, again.stdout) == (0, "All checks passed!\n")
    assert (tmp_path / "nb.ipynb").read_bytes() == once


# Writing files safely


def test_fix_keeps_permissions_and_leaves_no_temporary_files(cli, tmp_path):
    write(tmp_path, {"a.py": GRID})
    path = tmp_path / "a.py"
    path.chmod(0o640)
    assert cli("--fix", "--unsafe-fixes", "a.py", cwd=tmp_path).returncode == 0
    assert path.read_text() == GRID_FIXED
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(os.listdir(tmp_path)) == ["a.py"]


def test_write_atomically_keeps_the_original_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "a.py"
    path.write_text(GRID)

    def failing_replace(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(runner.os, "replace", failing_replace)
    with pytest.raises(OSError, match="No space left"):
        write_back.write_atomically(path, GRID_FIXED.encode())
    assert path.read_text() == GRID
    assert sorted(os.listdir(tmp_path)) == ["a.py"]


def test_a_fix_that_cannot_be_written_is_an_error_not_a_crash(cli, tmp_path, monkeypatch):
    write(tmp_path, {"a.py": GRID, "b.py": GRID})

    def failing_replace(source, target):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(runner.os, "replace", failing_replace)
    result = cli("--fix", "--unsafe-fixes", "--output-format", "concise", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        "green-lint: error: a.py: cannot write the fixes: Permission denied",
        "green-lint: error: b.py: cannot write the fixes: Permission denied",
    ]
    assert (tmp_path / "a.py").read_text() == (tmp_path / "b.py").read_text() == GRID
    assert result.stdout.startswith("a.py:4:10: GL103 ")
    assert sorted(os.listdir(tmp_path)) == ["a.py", "b.py"]


# Exit codes and errors, through the real process


def test_exit_code_of_a_clean_run(run_cli, tmp_path):
    # A run with findings exits 1: test_a_path_alone_means_check...
    write(tmp_path, {"clean.py": CLEAN, "dirty.py": GRID})
    clean = run_cli("clean.py", cwd=tmp_path)
    assert (clean.returncode, clean.stdout, clean.stderr) == (0, "All checks passed!\n", "")


@pytest.mark.parametrize(
    ("args", "files", "needle"),
    [
        (("missing.py",), {}, "'missing.py'"),
        (("--select", "GL1033", "a.py"), {}, "'GL1033'"),
        (("--output-format", "xml", "a.py"), {}, "'xml'"),
        (("a.py",), {"pyproject.toml": '[tool.green-lint]\nselec = ["GL1"]\n'}, "'selec'"),
        (("rule", "GL999"), {}, "'GL999'"),
    ],
)
def test_errors_are_one_line_and_exit_2(run_cli, tmp_path, args, files, needle):
    write(tmp_path, {"a.py": GRID, **files})
    assert_one_line_error(run_cli(*args, cwd=tmp_path), needle)


def test_a_command_line_syntax_error_exits_2(run_cli, tmp_path):
    write(tmp_path, {"a.py": GRID})
    result = run_cli("--no-such-option", "a.py", cwd=tmp_path)
    assert result.returncode == 2
    assert "No such option" in result.stderr and "--no-such-option" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("args", [("--jobs", "0"), ("--output-format",), ("rule",)])
def test_bad_option_values_exit_2(cli, tmp_path, args):
    write(tmp_path, {"a.py": GRID})
    result = cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert "Error:" in result.stderr
    assert result.stdout == ""


def test_an_output_file_that_cannot_be_written(cli, tmp_path):
    write(tmp_path, {"a.py": GRID})
    result = cli("--output-file", os.path.join("no", "folder", "out.txt"), "a.py", cwd=tmp_path)
    assert_one_line_error(result, os.path.join("no", "folder", "out.txt"))


@pytest.mark.parametrize("message", ["boom", "boom\nsecond line\n  third"])
def test_an_internal_error_is_one_line(cli, tmp_path, monkeypatch, message):
    def crash(*args, **kwargs):
        raise RuntimeError(message)

    monkeypatch.setattr(green_lint.check, "run", crash)
    write(tmp_path, {"a.py": GRID})
    result = cli("a.py", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("green-lint: internal error: RuntimeError: boom (set GREEN_LINT_DEBUG=1")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def _crash_on(monkeypatch, name: str, message: str) -> None:
    real_lint_source = runner.lint_source

    def lint_source(source, settings):
        if source.display_path == name:
            raise ZeroDivisionError(message)
        return real_lint_source(source, settings)

    monkeypatch.setattr(runner, "lint_source", lint_source)
    monkeypatch.setattr(green_lint.fix, "lint_source", lint_source)


@pytest.mark.parametrize("fix", [False, True])
def test_a_rule_that_crashes_on_one_file_does_not_stop_the_run(cli, tmp_path, monkeypatch, fix):
    _crash_on(monkeypatch, "crash.py", "division by zero\nin a rule")
    write(tmp_path, {"crash.py": GRID, "z.py": GRID})
    options = ("--fix", "--unsafe-fixes") if fix else ()
    result = cli("--no-cache", "--output-format", "concise", *options, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "green-lint: error: crash.py: internal error: ZeroDivisionError: division by zero "
        "(set GREEN_LINT_DEBUG=1 for the traceback, and please report it)"
    ]
    assert (tmp_path / "crash.py").read_text() == GRID
    if fix:
        assert (tmp_path / "z.py").read_text() == GRID_FIXED
    else:
        assert result.stdout.startswith("z.py:4:10: GL103 ")
    assert result.stdout.endswith(" 1 file had an error (on standard error).\n")


def test_a_run_whose_only_trouble_is_an_error_does_not_say_all_checks_passed(cli, tmp_path, monkeypatch):
    _crash_on(monkeypatch, "crash.py", "division by zero")
    write(tmp_path, {"crash.py": GRID, "clean.py": CLEAN})
    result = cli("--no-cache", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == "No findings, but 1 file had an error (on standard error).\n"


def test_green_lint_debug_shows_the_traceback(cli, tmp_path, monkeypatch):
    _crash_on(monkeypatch, "crash.py", "division by zero")
    write(tmp_path, {"crash.py": GRID})
    with pytest.raises(ZeroDivisionError):
        cli("--no-cache", "crash.py", cwd=tmp_path, env={"GREEN_LINT_DEBUG": "1"})


# Colour


def test_colour_follows_no_color_and_force_color(cli, tmp_path):
    write(tmp_path, {"a.py": GRID})
    assert not ANSI.search(cli("a.py", cwd=tmp_path).stdout)
    forced = cli("a.py", cwd=tmp_path, env={"FORCE_COLOR": "1"}).stdout
    assert ANSI.search(forced)
    assert ANSI.sub("", forced) == cli("a.py", cwd=tmp_path).stdout
    assert not ANSI.search(cli("a.py", cwd=tmp_path, env={"NO_COLOR": "1"}).stdout)
    assert not ANSI.search(cli("a.py", cwd=tmp_path, env={"NO_COLOR": "1", "FORCE_COLOR": "1"}).stdout)


def test_force_color_in_a_real_process(run_cli, tmp_path):
    write(tmp_path, {"a.py": GRID})
    result = run_cli("--no-cache", "a.py", cwd=tmp_path, env={"FORCE_COLOR": "1"})
    assert result.returncode == 1
    assert ANSI.search(result.stdout)


def test_full_output(cli, tmp_path):
    write(tmp_path, {"a.py": GRID})
    message = findings_of(cli("--output-format", "json", "a.py", cwd=tmp_path))[0]["message"]
    result = cli("a.py", cwd=tmp_path)
    assert result.stdout == (
        f"a.py:4:10: GL103 {message}\n"
        "  |\n"
        f"4 | search = {CALL}\n"
        f"  |          {'^' * len(CALL)} GL103\n"
        "  |\n"
        "  = help: Use HalvingGridSearchCV (with the experimental import it needs)\n"
        "\n"
        "Found 1 finding in 1 file. 1 fixable with --unsafe-fixes.\n"
    )
    with_unsafe = cli("--unsafe-fixes", "a.py", cwd=tmp_path)
    assert with_unsafe.stdout.startswith(f"a.py:4:10: GL103 [*] {message}\n")
    assert with_unsafe.stdout.endswith("Found 1 finding in 1 file. 1 fixable with --fix.\n")


INFERENCE = (
    "import torch\n\n\ndef evaluate(model, batches):\n    model.eval()\n    out = []\n"
    "    for x in batches:\n        out.append(model(x))\n    return out\n"
)


@pytest.mark.skipif(
    os.name == "nt" or sys.platform == "darwin", reason="names are UTF-16 or UTF-8 only there"
)
def test_a_file_name_that_is_not_utf8_does_not_stop_the_other_files(run_cli, tmp_path):
    """Its name decodes with surrogates (PEP 383); the project index once failed to encode
    it, and every file that reads the project lost its findings to an internal error."""
    write(tmp_path, {"good.py": INFERENCE})
    (tmp_path / os.fsdecode(b"caf\xe9.py")).write_bytes(INFERENCE.encode())
    result = run_cli("--no-cache", "--output-format", "concise", ".", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stderr == ""
    assert result.stdout.count(" GL301 ") == 2
    assert "good.py:8:20: GL301" in result.stdout


def test_a_reader_that_stops_early_ends_the_run_quietly():
    """`green-lint rules | head -1`: no "internal error" about a broken pipe. The reading
    end is closed before the child can write (Python takes far longer to start), so the
    pipe is broken whatever its capacity."""
    process = subprocess.Popen(
        [sys.executable, "-m", "green_lint", "rules"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    process.stdout.close()
    _, errors = process.communicate(timeout=120)
    assert (process.returncode, errors) == (1, b"")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="a device that is always full: Linux's")
def test_an_output_that_cannot_be_written_is_one_clear_line():
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "green_lint", "rules"], stdout=full, stderr=subprocess.PIPE, text=True
        )
    assert result.returncode == 2
    assert result.stderr == "green-lint: error: cannot write the output: No space left on device\n"
