"""The tree prefilters skip the statements whose lines cannot hold what they look for
(issue #16); what they answer must not change."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from green_lint.engine import LintSettings, lint_source
from green_lint.registry import select_rules
from green_lint.rules import _loop_prefilter as loop_prefilter
from green_lint.rules._loop_prefilter import LineIndex, aliases_of, nodes_in_loops
from green_lint.rules._search_prefilter import may_hold_search
from green_lint.source import load_source


def _statement(text: str, index: int = 0) -> ast.stmt:
    return ast.parse(text).body[index]


def test_line_index_finds_the_rows_with_a_word():
    text = "a = 1\nfor x in y:\n    pass\nb = [i for i in z]\n"
    index = LineIndex(text, ("for",))
    tree = ast.parse(text)
    assert [index.mentioned(statement) for statement in tree.body] == [False, True, True]


def test_line_index_counts_a_lone_carriage_return_as_a_line_break():
    # Python ends a line at a lone CR: the comprehension is on row 3, the assignment on row 1.
    text = "a = 1\rb = 2\rc = [i for i in d]\r"
    tree = ast.parse(text)
    index = LineIndex(text, ("for",))
    assert [index.mentioned(statement) for statement in tree.body] == [False, False, True]


def test_line_index_counts_crlf_once():
    text = "a = 1\r\nb = 2\r\nc = [i for i in d]\r\n"
    tree = ast.parse(text)
    index = LineIndex(text, ("for",))
    assert [index.mentioned(statement) for statement in tree.body] == [False, False, True]


def test_a_decorator_line_belongs_to_its_definition():
    text = "@register([k for k in KEYS])\ndef handler():\n    return 1\n"
    assert LineIndex(text, ("for",)).mentioned(_statement(text))


def test_nodes_in_loops_reach_a_comprehension_in_a_decorator():
    text = "@register([load(k) for k in KEYS])\ndef handler():\n    return 1\n"
    tree = ast.parse(text)
    calls = [node.func.id for node in nodes_in_loops(tree, text) if isinstance(node, ast.Call)]
    assert calls == ["load"]


def test_nodes_in_loops_skip_nothing_a_loop_runs():
    text = (
        "def f(paths):\n"
        "    setup = open('a')\n"
        "    while pending():\n"
        "        step()\n"
        "    frames = {p: read(p) for p in paths}\n"
        "    return frames\n"
    )
    tree = ast.parse(text)
    calls = sorted(node.func.id for node in nodes_in_loops(tree, text) if isinstance(node, ast.Call))
    assert calls == ["pending", "read", "step"]


def test_aliases_of_reads_a_renaming_import_inside_a_function():
    text = "def f():\n    if True:\n        from pandas import concat as cc\n    return cc\n"
    assert aliases_of(ast.parse(text), text, frozenset({"concat"})) == {"concat", "cc"}


def test_aliases_of_without_a_renaming_does_not_walk(monkeypatch):
    def no_walk(body):
        raise AssertionError("walked the statements of a file with no renaming import")

    monkeypatch.setattr(loop_prefilter, "statements", no_walk)
    text = "from pandas import concat\n"
    assert aliases_of(ast.parse(text), text, frozenset({"concat"})) == {"concat"}


def test_search_prefilter_sees_nesting_and_names_only_in_code():
    nested = "def tune(xs, ys):\n    for a in xs:\n        for b in ys:\n            run(a, b)\n"
    across_a_definition = "for a in xs:\n    def inner():\n        for b in ys:\n            run(a, b)\n"
    comprehension = "pairs = [(a, b) for a in xs for b in ys]\n"
    renamed = "from itertools import product as grid\n\nfor a, b in grid(xs, ys):\n    run(a, b)\n"
    plain = "for a in xs:\n    run(a)\n"
    answers = [
        may_hold_search(ast.parse(text), text)
        for text in (nested, across_a_definition, comprehension, renamed, plain)
    ]
    assert answers == [True, False, True, True, False]


# Python reads identifiers in NFKC (PEP 3131): a full-width name in the text is a plain
# ASCII name in CPython's tree, while libcst, and so the rule, keeps the text's spelling.
FULL_WIDTH_GS = "\uff27\uff33"
FULL_WIDTH_I = "\uff49"


def _codes(text: str, code: str, prefilter: bool) -> list[str]:
    source = load_source(Path("example.py"), "example.py", text.encode())
    findings = lint_source(source, LintSettings(rules=select_rules([code]), prefilter=prefilter))
    return [finding.code for finding in findings]


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (
            "GL103",
            f"from sklearn.model_selection import GridSearchCV as {FULL_WIDTH_GS}\n"
            "from sklearn.svm import SVC\n\n"
            f"search = {FULL_WIDTH_GS}(SVC(), {{'C': [1, 10, 100], 'gamma': [0.1, 1]}}, cv=5)\n"
            "search.fit(X, y)\n",
        ),
        (
            "GL203",
            "import numpy as np\n\ndef scale(values, n):\n    out = np.zeros(n)\n"
            f"    for {FULL_WIDTH_I} in range(n):\n"
            f"        out[{FULL_WIDTH_I}] = values[{FULL_WIDTH_I}] * 2.0\n"
            "    return out\n",
        ),
    ],
)
def test_a_name_python_normalises_is_found_by_the_prefilters(code, text):
    assert _codes(text, code, prefilter=True) == _codes(text, code, prefilter=False) == [code]
