"""One line model (Python's: \\n, \\r\\n, \\r) for rows, columns, edits and fixes.

Characters that `str.splitlines` treats as line ends but Python does not (form feed,
vertical tab, U+2028, ...) and CR-only files once put fixes on the wrong line."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from green_lint.engine import LintSettings, lint_source, text_edits
from green_lint.findings import Edit, Position
from green_lint.fix import apply_edits, fix_source
from green_lint.lines import advance, line_starts, split_lines
from green_lint.registry import select_rules
from green_lint.source import load_source

# Not line ends for Python, but line ends for str.splitlines.
SALT = ["\x0c", "\x0b", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]

GRID = (
    "from sklearn.model_selection import GridSearchCV\n"
    "from sklearn.svm import SVC\n"
    "{salt}\n"
    'search = GridSearchCV(SVC(), {{"C": [0.1, 1, 10], "gamma": [0.1, 1, 10]}}, cv=3)\n'
    "search.fit([[0]], [0])\n"
)

NO_GRAD = (
    "import torch\n"
    "# a comment {salt} with a salt character\n"
    "model = torch.nn.Linear(2, 2)\n"
    "model.eval()\n"
    "def predict(x):\n"
    "    return model(x)\n"
    "for batch in [torch.zeros(1, 2)]:\n"
    "    print(predict(batch))\n"
)


def _fix(code: str, rule: str, newline: str = "\n") -> str:
    code = code.replace("\n", newline)
    source = load_source(Path("a.py"), "a.py", code.encode("utf-8"))
    return fix_source(source, LintSettings(rules=select_rules([rule])), unsafe=True).text


@pytest.mark.parametrize("salt", SALT, ids=[f"U+{ord(c):04X}" for c in SALT])
def test_grid_search_fix_lands_on_its_line_whatever_characters_come_before(salt):
    salted = _fix(GRID.format(salt="# " + salt), "GL103")
    clean = _fix(GRID.format(salt="# "), "GL103")
    assert salted.replace(salt, "") == clean
    assert "search = HalvingGridSearchCV(SVC()" in salted
    assert "search.fit([[0]], [0])\n" in salted
    cst.parse_module(salted)


@pytest.mark.parametrize("salt", SALT, ids=[f"U+{ord(c):04X}" for c in SALT])
def test_no_grad_fix_does_not_duplicate_a_statement(salt):
    salted = _fix(NO_GRAD.format(salt=salt), "GL301")
    clean = _fix(NO_GRAD.format(salt=""), "GL301")
    assert salted.replace(salt, "") == clean
    assert salted.count("def predict(x):") == 1
    assert salted.count("@torch.no_grad()") == 1


@pytest.mark.parametrize("newline", ["\r", "\r\n"], ids=["CR", "CRLF"])
def test_fixes_in_cr_and_crlf_files_are_made_in_place_with_the_files_line_ends(newline):
    fixed = _fix(GRID.format(salt="#"), "GL103", newline)
    expected = _fix(GRID.format(salt="#"), "GL103")
    assert fixed == expected.replace("\n", newline)


def test_finding_rows_count_only_python_line_ends():
    code = "import numpy\n\x0c\n# \u2028 \x85\rfrom sklearn.model_selection import GridSearchCV\r\n" + (
        'GridSearchCV(None, {"C": [1, 2, 3], "g": [1, 2, 3]})\n'
    )
    source = load_source(Path("a.py"), "a.py", code.encode("utf-8"))
    findings = lint_source(source, LintSettings(rules=select_rules(["GL103"])))
    assert [finding.location.row for finding in findings] == [5]


def test_split_lines_and_line_starts_follow_python():
    text = "a\x0cb\rc\r\nd\u2028e\nf"
    assert split_lines(text) == ["a\x0cb", "c", "d\u2028e", "f"]
    assert split_lines(text, keepends=True) == ["a\x0cb\r", "c\r\n", "d\u2028e\n", "f"]
    assert line_starts(text) == [0, 4, 7, 11]
    assert advance(Position(2, 3), "x\ry\r\nzz") == Position(4, 3)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("a = 1\x0c\nb = 2\n", "a = 1\x0c\nb = 3\n"),
        ("x\u2028y = 1\rz = 2\r", "x\u2028y = 1\rz = 22\r"),
        ("p\x85q\r\nr\r\n", "p\x85q\r\nrr\r\ns\r\n"),
    ],
)
def test_text_edits_and_apply_edits_agree_on_salted_texts(old, new):
    assert apply_edits(old, text_edits(old, new)) == new


def test_a_fix_whose_edits_miss_their_place_is_refused_with_a_message(monkeypatch):
    """The old CR-only bug: edits appended at the end of the file left the finding, and the
    same fix was applied again each round ("10 fixed")."""
    import green_lint.fix as fix_module

    def misplaced(text: str, edits: list[Edit]) -> str:
        return text + "".join(edit.content for edit in edits)

    monkeypatch.setattr(fix_module, "apply_edits", misplaced)
    code = GRID.format(salt="#")
    source = load_source(Path("a.py"), "a.py", code.encode())
    outcome = fix_source(source, LintSettings(rules=select_rules(["GL103"])), unsafe=True)
    assert outcome.text == code
    assert outcome.applied == 0
    assert any("GL103 at line 4 left its finding in place" in error for error in outcome.errors)


def test_edit_positions_are_python_rows():
    text = "one\x0ctwo\nthree\n"
    assert apply_edits(text, [Edit("THREE", Position(2, 1), Position(2, 6))]) == "one\x0ctwo\nTHREE\n"
