"""`green-lint check - --stdin-filename PATH`: the source on standard input, linted (or fixed)
as if it were the file PATH, which is never read or written.

Most tests run `green_lint.cli.main` in this process with `sys.stdin` replaced (`stdin_cli`);
the process contract (piped bytes, exit codes, never a traceback) goes through the real
`green-lint` console script (`console`).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from green_lint.engine import LintSettings
from green_lint.registry import rule_by_code
from green_lint.stdin import fix_buffer, lint_buffer
from tests.test_cli import CALL, GRID, GRID_FIXED, _notebook, fixed_notebook

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CONSOLE_SCRIPT = Path(sys.executable).with_name("green-lint")

# GL103 at row 4, column 10; its fix is unsafe.
CLEAN = "import os\n\nprint(os.getcwd())\n"
# Seven GL301 findings, each with a safe fix.
SAFE_FIXTURE = FIXTURES / "GL301" / "eval_functions.py"


@pytest.fixture
def stdin_cli(cli, monkeypatch):
    """`stdin_cli(data, *args, cwd=...)`: `cli` with `data` (text or bytes) on standard input."""

    def run(data: str | bytes, *args: object, cwd: Path):
        raw = data.encode("utf-8") if isinstance(data, str) else data
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
        return cli(*args, cwd=cwd)

    return run


@pytest.fixture
def console():
    """`console(data, *args, cwd=...)`: the installed `green-lint` script with `data` (bytes)
    piped in; returns the CompletedProcess with stdout and stderr as bytes."""
    assert CONSOLE_SCRIPT.is_file(), CONSOLE_SCRIPT

    def run(data: bytes, *args: object, cwd: Path) -> subprocess.CompletedProcess:
        env = {name: value for name, value in os.environ.items() if name not in ("NO_COLOR", "FORCE_COLOR")}
        env.pop("GREEN_LINT_DEBUG", None)
        return subprocess.run(
            [str(CONSOLE_SCRIPT), *map(str, args)],
            input=data,
            cwd=cwd,
            env=env,
            capture_output=True,
            timeout=120,
        )

    return run


def write(folder: Path, files: dict[str, str]) -> None:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")


def findings_of(result) -> list[dict]:
    return json.loads(result.stdout)


def assert_one_line_error(result, *needles: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("green-lint: error: "), result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr


# Linting standard input


def test_the_console_script_names_findings_after_the_stdin_filename(console, tmp_path):
    for command in (["check", "-"], ["-"]):
        result = console(GRID.encode(), *command, "--stdin-filename", "src/train.py", cwd=tmp_path)
        assert result.returncode == 1, result.stderr
        assert result.stdout.decode().startswith("src/train.py:4:10: GL103 ")
        assert result.stderr == b""
    # The file needs not exist and nothing is written: no file, no folder, no cache.
    assert os.listdir(tmp_path) == []


def test_without_a_filename_it_is_python_named_dash(stdin_cli, tmp_path):
    result = stdin_cli(GRID, "-", "--output-format", "json", cwd=tmp_path)
    assert result.returncode == 1
    [finding] = findings_of(result)
    assert (finding["filename"], finding["code"], finding["cell"]) == ("-", "GL103", None)
    assert finding["location"] == {"row": 4, "column": 10}


def test_json_output_is_that_of_the_same_file_on_disk(stdin_cli, cli, tmp_path):
    write(tmp_path, {"pkg/a.py": GRID})
    on_disk = cli("--no-cache", "--output-format", "json", "pkg/a.py", cwd=tmp_path)
    piped = stdin_cli(GRID, "-", "--stdin-filename", "pkg/a.py", "--output-format", "json", cwd=tmp_path)
    assert piped.returncode == on_disk.returncode == 1
    assert findings_of(piped) == findings_of(on_disk)
    assert findings_of(piped)[0]["filename"] == "pkg/a.py"


def test_the_file_on_disk_is_never_read(stdin_cli, tmp_path):
    write(tmp_path, {"a.py": CLEAN})
    assert stdin_cli(GRID, "-", "--stdin-filename", "a.py", cwd=tmp_path).returncode == 1
    write(tmp_path, {"a.py": GRID})
    clean = stdin_cli(CLEAN, "-", "--stdin-filename", "a.py", cwd=tmp_path)
    assert (clean.returncode, clean.stdout, clean.stderr) == (0, "All checks passed!\n", "")


@pytest.mark.parametrize(
    ("options", "code", "reported"),
    [
        ((), 1, True),
        (("--ignore", "GL103"), 0, False),
        (("--select", "GL2"), 0, False),
        (("--select", "GL103"), 1, True),
        (("--exit-zero",), 0, True),
    ],
)
def test_selection_and_exit_codes(stdin_cli, tmp_path, options, code, reported):
    result = stdin_cli(GRID, "-", "--stdin-filename", "a.py", *options, cwd=tmp_path)
    assert result.returncode == code, result.stdout + result.stderr
    assert ("a.py:4:10: GL103 " in result.stdout) == reported


def test_the_config_is_found_from_the_stdin_filename(stdin_cli, cli, tmp_path):
    write(tmp_path, {"project/pyproject.toml": '[tool.green-lint]\nignore = ["GL103"]\n'})
    inside = stdin_cli(GRID, "-", "--stdin-filename", "project/src/a.py", cwd=tmp_path)
    assert (inside.returncode, inside.stdout) == (0, "All checks passed!\n")
    outside = stdin_cli(GRID, "-", "--stdin-filename", "elsewhere/a.py", cwd=tmp_path)
    assert outside.returncode == 1
    assert outside.stdout.startswith(os.path.join("elsewhere", "a.py") + ":4:10: GL103 ")
    # No cache for standard input, though linting the project's files keeps one.
    assert not (tmp_path / "project" / ".green-lint-cache").exists()
    write(tmp_path, {"project/src/b.py": GRID})
    cli("project/src/b.py", cwd=tmp_path)
    assert (tmp_path / "project" / ".green-lint-cache").exists()


def test_per_file_ignores_follow_the_stdin_filename(stdin_cli, tmp_path):
    write(
        tmp_path, {"pyproject.toml": '[tool.green-lint]\nper-file-ignores = { "legacy/*.py" = ["GL103"] }\n'}
    )

    def codes(filename: str, *options: str, cwd: Path = tmp_path) -> list[str]:
        result = stdin_cli(
            GRID, "-", "--stdin-filename", filename, "--output-format", "json", *options, cwd=cwd
        )
        return [finding["code"] for finding in findings_of(result)]

    assert codes("legacy/a.py") == []
    assert codes("new/a.py") == ["GL103"]
    assert codes("new/a.py", "--per-file-ignores", "new/**:GL1") == []
    # From inside a folder, the globs stay relative to the project root.
    (tmp_path / "legacy").mkdir()
    assert codes("a.py", cwd=tmp_path / "legacy") == []


def test_a_requirements_file_is_read_as_one(stdin_cli, cli, tmp_path):
    text = (FIXTURES / "GL401" / "requirements.txt").read_text()
    write(tmp_path, {"requirements-dev.txt": text})
    on_disk = cli("--no-cache", "--output-format", "json", "requirements-dev.txt", cwd=tmp_path)
    piped = stdin_cli(
        text, "-", "--stdin-filename", "requirements-dev.txt", "--output-format", "json", cwd=tmp_path
    )
    assert findings_of(piped) == findings_of(on_disk)
    assert {finding["code"] for finding in findings_of(piped)} == {"GL401"}
    # The same text named as Python is not a dependency list.
    assert "GL401" not in stdin_cli(text, "-", "--stdin-filename", "deps.py", cwd=tmp_path).stdout


# Fixing standard input


def test_fix_writes_the_fixed_source_to_stdout(console, stdin_cli, tmp_path):
    source = SAFE_FIXTURE.read_bytes()
    result = console(source, "-", "--stdin-filename", "eval_functions.py", "--fix", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == SAFE_FIXTURE.with_name("eval_functions.fixed.py").read_bytes()
    assert b"Traceback" not in result.stderr
    assert b"7 fixed, 0 remaining" in result.stderr
    assert os.listdir(tmp_path) == []
    # What it wrote lints clean for that rule.
    again = stdin_cli(
        result.stdout, "-", "--stdin-filename", "eval_functions.py", "--select", "GL301", cwd=tmp_path
    )
    assert (again.returncode, again.stdout) == (0, "All checks passed!\n")


def test_fix_leaves_the_file_on_disk_alone(stdin_cli, tmp_path):
    write(tmp_path, {"a.py": "# the version on disk\n"})
    result = stdin_cli(SAFE_FIXTURE.read_bytes(), "-", "--stdin-filename", "a.py", "--fix", cwd=tmp_path)
    assert result.returncode == 0
    assert "torch.no_grad()" in result.stdout
    assert (tmp_path / "a.py").read_text() == "# the version on disk\n"
    assert sorted(os.listdir(tmp_path)) == ["a.py"]


def test_fix_prints_the_source_unchanged_and_the_findings_left_on_stderr(stdin_cli, tmp_path):
    safe_only = stdin_cli(GRID, "-", "--stdin-filename", "a.py", "--fix", cwd=tmp_path)
    assert safe_only.returncode == 1  # GL103's fix is unsafe: the finding stays
    assert safe_only.stdout == GRID
    assert safe_only.stderr.startswith("a.py:4:10: GL103 ")
    unsafe = stdin_cli(GRID, "-", "--stdin-filename", "a.py", "--fix", "--unsafe-fixes", cwd=tmp_path)
    assert (unsafe.returncode, unsafe.stdout) == (0, GRID_FIXED)
    assert "1 fixed, 0 remaining" in unsafe.stderr
    clean = stdin_cli(CLEAN, "-", "--fix", cwd=tmp_path)
    assert (clean.returncode, clean.stdout) == (0, CLEAN)
    json_report = stdin_cli(GRID, "-", "--fix", "--output-format", "json", cwd=tmp_path)
    assert json_report.stdout == GRID
    assert [finding["code"] for finding in json.loads(json_report.stderr)] == ["GL103"]


def test_diff_prints_the_diff(stdin_cli, tmp_path):
    result = stdin_cli(GRID, "-", "--stdin-filename", "a.py", "--diff", "--unsafe-fixes", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith("--- a/a.py\n+++ b/a.py\n")
    assert f"+search = Halving{CALL}\n" in result.stdout
    assert result.stderr == "Would fix 1 finding.\n"
    assert os.listdir(tmp_path) == []


# Notebooks


def test_a_notebook_on_stdin_has_findings_per_cell(stdin_cli, tmp_path):
    text = json.dumps(_notebook(), indent=1) + "\n"
    result = stdin_cli(text, "-", "--stdin-filename", "nb.ipynb", "--output-format", "json", cwd=tmp_path)
    assert result.returncode == 1
    [finding] = findings_of(result)
    assert (finding["filename"], finding["cell"], finding["location"]) == (
        "nb.ipynb",
        3,
        {"row": 2, "column": 10},
    )
    full = stdin_cli(text, "-", "--stdin-filename", "nb.ipynb", cwd=tmp_path)
    assert full.stdout.startswith("nb.ipynb:cell 3:2:10: GL103 ")


def test_fixing_a_notebook_on_stdin_writes_notebook_json(stdin_cli, tmp_path):
    text = json.dumps(_notebook(), indent=1) + "\n"
    result = stdin_cli(text, "-", "--stdin-filename", "nb.ipynb", "--fix", "--unsafe-fixes", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    fixed = json.loads(result.stdout)
    assert fixed == fixed_notebook()
    assert os.listdir(tmp_path) == []


def test_broken_notebook_json_is_a_finding_not_a_traceback(console, tmp_path):
    result = console(
        b'{"cells": [1, 2', "-", "--stdin-filename", "nb.ipynb", "--output-format", "json", cwd=tmp_path
    )
    assert result.returncode == 1
    assert b"Traceback" not in result.stderr
    [finding] = json.loads(result.stdout)
    assert (finding["filename"], finding["code"]) == ("nb.ipynb", "GL001")
    assert finding["message"].startswith("not a valid notebook")


# Bad input and usage errors


def test_invalid_utf8_is_a_clear_finding(console, tmp_path):
    data = b'name = "caf\xe9"\n'
    result = console(data, "-", "--stdin-filename", "a.py", cwd=tmp_path)
    assert result.returncode == 1
    assert b"Traceback" not in result.stderr
    assert result.stdout.decode().startswith("a.py:1:12: GL001 byte 0xe9 is not valid utf-8")
    # --fix gives the bytes back as they came, and the finding on stderr.
    fixed = console(data, "-", "--stdin-filename", "a.py", "--fix", cwd=tmp_path)
    assert (fixed.returncode, fixed.stdout) == (1, data)
    assert b"GL001 byte 0xe9 is not valid utf-8" in fixed.stderr
    assert b"Traceback" not in fixed.stderr


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (("--stdin-filename", "a.py"), ("--stdin-filename", "`-`")),
        (("check", "a.py", "--stdin-filename", "a.py"), ("--stdin-filename", "`-`")),
        (("-", "a.py"), ("`-`", "other paths")),
        (("-", "-"), ("`-`", "other paths")),
        (("-", "--stdin-filename", ""), ("--stdin-filename",)),
        (("-", "--add-noqa"), ("--add-noqa",)),
        (("-", "--write-baseline", "baseline.json"), ("--write-baseline",)),
    ],
)
def test_usage_errors(stdin_cli, tmp_path, args, needles):
    write(tmp_path, {"a.py": GRID})
    assert_one_line_error(stdin_cli(GRID, *args, cwd=tmp_path), *needles)
    assert sorted(os.listdir(tmp_path)) == ["a.py"]


def test_usage_errors_through_the_console_script(console, tmp_path):
    for args in (("--stdin-filename", "a.py"), ("-", "b.py")):
        result = console(GRID.encode(), *args, cwd=tmp_path)
        assert result.returncode == 2
        assert result.stdout == b""
        assert result.stderr.startswith(b"green-lint: error: ") and result.stderr.count(b"\n") == 1
        assert b"Traceback" not in result.stderr


# The module an editor integration calls


def test_lint_and_fix_buffer():
    settings = LintSettings(rules=[rule_by_code("GL103")])
    [finding] = lint_buffer(GRID.encode(), "src/a.py", settings)
    assert (finding.filename, finding.code) == ("src/a.py", "GL103")
    assert lint_buffer(GRID.encode(), "src/a.py", settings, frozenset({"GL103"})) == []
    fixed, remaining = fix_buffer(GRID.encode(), None, settings, unsafe=True)
    assert (fixed, remaining) == (GRID_FIXED.encode(), [])
    unfixed, left = fix_buffer(GRID.encode(), None, settings)
    assert unfixed == GRID.encode()
    assert [(f.filename, f.code) for f in left] == [("-", "GL103")]
