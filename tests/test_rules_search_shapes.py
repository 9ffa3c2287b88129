"""GL103 shapes from issue 14: one-candidate grids are not searches, nested loops over
named value lists are, and the HalvingGridSearchCV fix is withheld from code that reads
`cv_results_` by its shape."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from green_lint.engine import LintSettings, lint_source
from green_lint.registry import select_rules
from green_lint.source import load_source


def lint(source: str):
    text = textwrap.dedent(source)
    loaded = load_source(Path("example.py"), "example.py", text.encode("utf-8"))
    return lint_source(loaded, LintSettings(rules=select_rules(["GL103"])))


SKLEARN = """
import numpy as np
from sklearn.model_selection import GridSearchCV, ParameterGrid
from sklearn.svm import SVC
"""


# -- one candidate ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "grid",
    [
        "{}",
        "[]",
        "[{}]",
        '{"C": [1.0]}',
        '{"C": [1.0], "kernel": ("rbf",), "degree": range(3, 4)}',
        '[{"C": [1.0]}]',
        "single",
    ],
)
def test_a_grid_with_one_candidate_is_not_a_search(grid):
    source = SKLEARN + f'single = {{"C": [0.5]}}\nGridSearchCV(SVC(), {grid}).fit(X, y)\n'
    source += f"for params in ParameterGrid({grid}):\n    SVC(**params).fit(X, y)\n"
    assert lint(source) == []


def test_two_candidates_are_counted_and_one_is_never_written_as_all_1():
    [search, grid] = lint(
        SKLEARN
        + 'GridSearchCV(SVC(), [{"C": [1.0]}, {"C": [2.0]}], cv=2)\n'
        + 'for params in ParameterGrid({"C": [1.0, 2.0], "gamma": [0.1]}):\n    SVC(**params).fit(X, y)\n'
    )
    assert "fits all 2 candidates x 2 folds = 4 fits" in search.message
    assert "all 2 candidates" in grid.message
    assert "all 1 candidates" not in search.message + grid.message


def test_numpy_value_grids_are_counted():
    [finding] = lint(SKLEARN + 'GridSearchCV(SVC(), {"gamma": np.logspace(-3, 0, 20), "C": [1, 10]})\n')
    assert "fits all 40 candidates x 5 folds = 200 fits" in finding.message


# -- nested loops over named lists --------------------------------------------------------------
NAMED = """
from sklearn.svm import SVC
{setup}
{loops}
"""
LOOPS = """
for C in Cs:
    for g in gammas:
        SVC(C=C, gamma=g).fit(X, y)
"""


@pytest.mark.parametrize(
    ("setup", "loops"),
    [
        ("Cs = [0.1, 1, 10]\ngammas = [0.01, 0.1]", LOOPS),
        (
            "def tune(X, y):\n    Cs = [0.1, 1, 10]\n    gammas = (0.01, 0.1)",
            textwrap.indent(LOOPS, "    "),
        ),
        ("def tune(X, y, Cs=[0.1, 1, 10], gammas=[0.01, 0.1]):", textwrap.indent(LOOPS, "    ")),
        ("def tune(Cs, gammas):", textwrap.indent(LOOPS, "    ") + "tune([0.1, 1, 10], [0.01, 0.1])"),
        (
            "class Tuner:\n    Cs = [0.1, 1, 10]\n    gammas = [0.01, 0.1]\n    def run(self):",
            textwrap.indent(
                LOOPS.replace("in Cs", "in self.Cs").replace("in gammas", "in self.gammas"), "        "
            ),
        ),
        (
            "import argparse\np = argparse.ArgumentParser()\n"
            "p.add_argument('--Cs', nargs='+', type=float, default=[0.1, 1, 10])\n"
            "p.add_argument('--gammas', nargs='+', type=float, default=[0.01, 0.1])\nargs = p.parse_args()",
            LOOPS.replace("in Cs", "in args.Cs").replace("in gammas", "in args.gammas"),
        ),
        (
            "Cs = [0.1, 1, 10]\ngammas = [0.01, 0.1]",
            LOOPS.replace("for C in Cs", "for i, C in enumerate(Cs)"),
        ),
    ],
    ids=["module", "function", "defaults", "call-site", "class", "argparse", "enumerate"],
)
def test_nested_loops_over_named_lists_are_a_search(setup, loops):
    [finding] = lint(NAMED.format(setup=setup, loops=loops))
    assert "all 3 x 2 = 6 combinations" in finding.message
    assert finding.fix is None


@pytest.mark.parametrize(
    "setup",
    [
        "Cs = [0.1, 1, 10]\ngammas = [0.1]",  # one value: one hyper-parameter varies
        "Cs = []\nCs.append(1.0)\nCs.append(2.0)\ngammas = [0.01, 0.1]",  # filled at run time
        "Cs = load_values()\ngammas = [0.01, 0.1]",  # not a literal value list
    ],
    ids=["one-value", "filled-list", "unknown"],
)
def test_named_lists_that_are_not_grids(setup):
    assert lint(NAMED.format(setup=setup, loops=LOOPS)) == []


def test_named_lists_of_data_are_not_grids():
    source = """
    from sklearn.svm import SVC
    datasets = [(X1, y1), (X2, y2)]
    Cs = [0.1, 1, 10]
    for features, labels in datasets:
        for C in Cs:
            SVC(C=C).fit(features, labels)
    """
    assert lint(source) == []


# -- fix safety: cv_results_ read by shape -----------------------------------------------------
SEARCH = """
import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
from sklearn.model_selection import GridSearchCV
from sklearn.svm import SVC
Cs = [0.1, 1.0, 10.0]
gammas = [0.01, 0.1]
search = GridSearchCV(SVC(), {"C": Cs, "gamma": gammas}, cv=3)
search.fit(X, y)
"""


@pytest.mark.parametrize(
    "reads",
    [
        'scores = search.cv_results_["mean_test_score"].reshape(len(Cs), len(gammas))',
        'scores = np.reshape(search.cv_results_["mean_test_score"], (3, 2))',
        'results = search.cv_results_\nscores = np.array(results["mean_test_score"]).reshape(3, -1)',
        'assert len(search.cv_results_["params"]) == 6',
        'frame = pd.DataFrame(search.cv_results_)\nframe.pivot(index="param_C", columns="param_gamma")',
        'plt.plot(Cs, search.cv_results_["mean_test_score"][::2])',
        'scores = search.cv_results_["mean_test_score"]\nplt.semilogx([0.1, 1.0, 10.0], scores[:3])',
        'for C, score in zip(Cs, search.cv_results_["mean_test_score"]):\n    print(C, score)',
        'print(search.cv_results_["mean_test_score"].shape)',
    ],
    ids=[
        "reshape",
        "np-reshape",
        "derived-reshape",
        "len",
        "pivot",
        "plot-grid-list",
        "plot-literal-list",
        "zip",
        "shape",
    ],
)
def test_no_halving_fix_when_results_are_read_by_shape(reads):
    [finding] = lint(SEARCH + reads + "\n")
    assert finding.message.startswith("GridSearchCV fits all 6 candidates x 3 folds")
    assert finding.fix is None


@pytest.mark.parametrize(
    "reads",
    [
        "",
        'best = search.cv_results_["params"][search.best_index_]',
        'table = pd.DataFrame(search.cv_results_).sort_values("rank_test_score")',
        'plt.semilogx(search.cv_results_["param_C"], search.cv_results_["mean_test_score"])',
        "print(len(Cs), np.reshape(X, (-1, 2)).shape)",  # shapes of other arrays
    ],
    ids=["none", "best-row", "sorted-table", "plot-own-columns", "other-arrays"],
)
def test_halving_fix_when_results_are_read_row_by_row(reads):
    [finding] = lint(SEARCH + reads + "\n")
    assert finding.fix is not None
    assert "HalvingGridSearchCV" in finding.fix.message


@pytest.mark.parametrize(
    "make_data",
    [
        "X = np.random.randn(rows, cols)",
        "X = torch.randn(rows, cols)",
        "X, y = make_classification(n_samples=rows, n_features=cols)",
    ],
)
def test_loops_over_data_sizes_are_not_grids(make_data):
    source = f"""
    import numpy as np
    import torch
    from sklearn.datasets import make_classification
    from sklearn.svm import SVC
    sizes = [100, 1000, 5000]
    widths = [10, 50]
    for rows in sizes:
        for cols in widths:
            {make_data}
            SVC().fit(X, y)
    """
    assert lint(source) == []
    # The same loops, passing the values to the model: a grid.
    assert len(lint(source.replace("SVC()", "SVC(C=rows, degree=cols)"))) == 1
