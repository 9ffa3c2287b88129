"""GL001 on Python 2 files: "Python 2 syntax: file not checked" and what gave it away, at
CPython's location, with the exit code of any other syntax error. Python 3 syntax errors keep
CPython's own message. (No fixtures: every fixture must parse, see tests/test_engine.py.)"""

from __future__ import annotations

import json

import pytest

from green_lint.rules.syntax_error import python2_construct

PYTHON2 = "Python 2 syntax: file not checked"
SKLEARN = "from sklearn.model_selection import GridSearchCV\n"  # wakes GL103: the libcst path


def python_error(text: str) -> tuple[str, int, int]:
    try:
        compile(text, "<test>", "exec", flags=0x400, dont_inherit=True)
    except SyntaxError as error:
        return error.msg, error.lineno, error.offset
    raise AssertionError("the text parses")


def check(cli, tmp_path, text: str, *select: str):
    (tmp_path / "old.py").write_text(text, encoding="utf-8")
    args = ["check", "--no-cache", "--output-format", "json", "old.py"]
    if select:
        args[1:1] = ["--select", ",".join(select)]
    return cli(*args, cwd=tmp_path)


PYTHON2_FILES = {
    "print": ('import os\nprint "cwd:", os.getcwd()\n', "a print statement"),
    "print-name": ("x = 1\nprint x\n", "a print statement"),
    "except-comma": ("try:\n    import torch\nexcept ImportError, e:\n    torch = None\n", "`except X, e:`"),
    "backticks": ("x = 1\nlabel = `x` + 'a'\n", "a backtick repr"),
    "exec": ('exec "x = 1"\n', "an exec statement"),
    "octal": ('import os\nos.chmod("run.sh", 0755)\n', "an octal literal such as `0777`"),
    "ur-prefix": ('pattern = ur"\\d+"\n', 'a `ur""` string'),
    "raise-comma": ('raise ValueError, "bad shape"\n', '`raise E, "message"`'),
    "not-equal": ("if 1 <> 2:\n    pass\n", "the `<>` operator"),
    "long": ("total = 10L\n", "a long literal such as `10L`"),
}


@pytest.mark.parametrize("select", [(), ("GL001",)], ids=["libcst-path", "syntax-only-path"])
@pytest.mark.parametrize("name", PYTHON2_FILES)
def test_python2_files_are_named_as_such_at_cpythons_location(cli, tmp_path, name, select):
    text, what = PYTHON2_FILES[name]
    _, row, column = python_error(text)
    result = check(cli, tmp_path, SKLEARN + text, *select)
    assert result.returncode == 1
    [finding] = json.loads(result.stdout)
    assert finding["code"] == "GL001"
    assert finding["message"].startswith(f"{PYTHON2} ({what}).")
    assert "Python 3" in finding["message"]
    assert finding["location"] == {"row": row + 1, "column": column}
    assert finding["fix"] is None


PYTHON3_ERRORS = [
    "def train(:\n    pass\n",
    'x = "a" b\n',
    'print("loss"\nx = 1\n',
    "epochs = 1abc\n",
    "label = '`' +\n",
    "scores = [1, 2,, 3]\n",
    "try:\n    pass\nexcept:\n",
]


@pytest.mark.parametrize("text", PYTHON3_ERRORS)
def test_python3_syntax_errors_keep_cpythons_message(cli, tmp_path, text):
    message, row, column = python_error(text)
    result = check(cli, tmp_path, text)
    assert result.returncode == 1
    [finding] = json.loads(result.stdout)
    assert finding["code"] == "GL001"
    assert finding["message"] == message
    assert not finding["message"].startswith(PYTHON2)
    assert finding["location"] == {"row": row, "column": column}


def test_python3_code_that_mentions_python2_spellings_is_checked(cli, tmp_path):
    text = (
        '"""Old code read `print "x"` and `except ValueError, e:`."""\n'
        "import sys\n"
        'print >>sys.stderr, "parses in Python 3: a tuple"\n'
        "mask = 0o755\n"
    )
    result = check(cli, tmp_path, text)
    assert result.returncode == 0
    assert json.loads(result.stdout) == []


def test_exit_code_and_output_are_those_of_any_syntax_error(run_cli, tmp_path):
    (tmp_path / "old.py").write_text('print "x"\n', encoding="utf-8")
    (tmp_path / "broken.py").write_text("def train(:\n    pass\n", encoding="utf-8")
    old = run_cli("check", "--no-cache", "--output-format", "json", "old.py", cwd=tmp_path)
    broken = run_cli("check", "--no-cache", "--output-format", "json", "broken.py", cwd=tmp_path)
    assert old.returncode == broken.returncode == 1
    assert old.stderr == broken.stderr == ""
    [old_finding], [broken_finding] = json.loads(old.stdout), json.loads(broken.stdout)
    assert set(old_finding) == set(broken_finding)
    assert old_finding["message"].startswith(PYTHON2)
    assert broken_finding["message"] == "invalid syntax"


def test_a_python2_notebook_points_at_its_cell(cli, tmp_path):
    notebook = {
        "cells": [
            {"cell_type": "code", "source": ["import numpy as np"], "metadata": {}, "outputs": []},
            {"cell_type": "code", "source": ["x = np.ones(3)\n", "print x"], "metadata": {}, "outputs": []},
        ],
        "metadata": {"kernelspec": {"name": "python2", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 2,
    }
    (tmp_path / "old.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
    result = cli("check", "--no-cache", "--output-format", "json", "old.ipynb", cwd=tmp_path)
    assert result.returncode == 1
    [finding] = json.loads(result.stdout)
    assert finding["message"].startswith(f"{PYTHON2} (a print statement)")
    assert (finding["cell"], finding["location"]["row"]) == (2, 2)


@pytest.mark.parametrize(
    ("line", "message", "column"),
    [
        ("x = `y`", "invalid syntax", 1),  # CPython points elsewhere on the line
        ("x = u'a' r'b'", "invalid syntax", 10),  # `r'b'` after a space is no `ur''`
        ("raise", "invalid syntax", 6),
        ("size = 3rd", "invalid decimal literal", 8),
    ],
)
def test_only_the_construct_cpython_points_at_counts(line, message, column):
    assert python2_construct(line + "\n", message, 1, column) is None
