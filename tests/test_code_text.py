"""Triggers are checked on the code, not on the docstrings (issue #16): a library that
documents `GridSearchCV` in a "See Also" section does not make libcst parse the file."""

from __future__ import annotations

import ast
from pathlib import Path

from green_lint import engine
from green_lint.code_text import without_docstrings
from green_lint.engine import LintSettings, lint_source
from green_lint.registry import select_rules
from green_lint.source import load_source

DOCUMENTED = '''"""Model selection helpers: see GridSearchCV for an exhaustive search."""


def best(scores):
    """The best score.

    See Also
    --------
    SGDClassifier, GridSearchCV
    """
    return max(scores)
'''


def _lint(text: str, codes: list[str]):
    source = load_source(Path("example.py"), "example.py", text.encode())
    return lint_source(source, LintSettings(rules=select_rules(codes)))


def test_a_name_only_in_docstrings_does_not_get_the_file_parsed(monkeypatch):
    parsed: list[str] = []
    real = engine.parse_trusted
    monkeypatch.setattr(engine, "parse_trusted", lambda text: parsed.append(text) or real(text))
    assert _lint(DOCUMENTED, ["GL102", "GL103"]) == [] and parsed == []
    searched = DOCUMENTED + (
        "\n\nfrom sklearn.model_selection import GridSearchCV\nfrom sklearn.svm import SVC\n\n"
        "search = GridSearchCV(SVC(), {'C': [1, 10], 'gamma': [0.1, 0.01]}).fit(X, y)\n"
    )
    assert [finding.code for finding in _lint(searched, ["GL103"])] == ["GL103"]
    assert len(parsed) == 1


def test_only_docstrings_alone_on_their_lines_are_blanked():
    text = (
        '"""Module: GridSearchCV."""\n'
        "def f():\n"
        '    """Doc: DataLoader."""  # a comment\n'
        '    query = """DataLoader in a string that is data, not a docstring"""\n'
        "class A: '''inline: kept, the class statement shares its line'''\n"
        "def g():\n"
        '    "doc"; loader = DataLoader(x)\n'
    )
    code = without_docstrings(text, ast.parse(text))
    assert code.splitlines() == [
        "",
        "def f():",
        "",
        '    query = """DataLoader in a string that is data, not a docstring"""',
        "class A: '''inline: kept, the class statement shares its line'''",
        "def g():",
        '    "doc"; loader = DataLoader(x)',
    ]


def test_no_docstring_or_unusual_line_breaks_leave_the_text_alone():
    assert without_docstrings("x = 1\n", ast.parse("x = 1\n")) is None
    windows = '"""Doc."""\r\nx = 1\r\n'
    assert without_docstrings(windows, ast.parse(windows)) == "\nx = 1\n"
    old_mac = '"""Doc."""\rx = 1\r'  # CPython's line numbers could differ from a split on \n
    assert without_docstrings(old_mac, ast.parse(old_mac)) is None


def test_a_training_loop_documented_with_a_library_name_is_still_found_by_its_code():
    """The docstring's "xgboost" URL used to be what let GL102 see this hand-written
    boosting loop (eriklindernoren/ML-From-Scratch); its code must be enough."""
    boosting = (
        "import numpy as np\n\n\nclass Boosting:\n"
        '    """See http://xgboost.readthedocs.io/en/latest/model.html"""\n\n'
        "    def fit(self, X, y):\n"
        "        y_pred = np.zeros(np.shape(y))\n"
        "        for i in range(200):\n"
        "            tree = self.trees[i]\n"
        "            tree.fit(X, y - y_pred)\n"
        "            y_pred -= np.multiply(self.learning_rate, tree.predict(X))\n"
    )
    assert [finding.code for finding in _lint(boosting, ["GL102"])] == ["GL102"]
