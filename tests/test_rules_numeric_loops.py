"""GL203 python-numeric-loop: the advice tier, the section-2 shapes and the njit fix's
limits (the fixtures under fixtures/GL203 pin the programs down)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from green_lint.engine import LintSettings, lint_source
from green_lint.registry import select_rules
from green_lint.source import load_source

NUMPY = "import numpy as np\n"


def lint(code: str):
    text = textwrap.dedent(code).lstrip("\n")
    source = load_source(Path("t.py"), "t.py", text.encode("utf-8"))
    return lint_source(source, LintSettings(rules=select_rules(["GL203"])))


def rows(code: str) -> list[int]:
    return [finding.location.row for finding in lint(code)]


def only(code: str):
    (finding,) = lint(code)
    return finding


# -- the njit fix: only where Numba compiles the body ---------------------------------
@pytest.mark.parametrize(
    "body",
    [
        "out[i] = a[i] * 2\n        print(out[i])",  # print of numbers compiles
        "out[i] = np.linalg.norm(a) * a[i]",
        "out[i] = int(a[i])",  # a cast
        "out[i] = 1.0",  # a constant store
    ],
)
def test_numba_supported_bodies_get_the_njit_fix(body):
    code = (
        NUMPY
        + f"def kernel(a):\n    out = np.zeros(a.shape[0])\n    for i in range(a.shape[0]):\n        {body}\n    return out\nr = kernel(np.ones(100))\n"
    )
    finding = only(code)
    assert finding.fix is not None and "numba.njit" in finding.message


@pytest.mark.parametrize(
    "body",
    [
        "out[i] = helper(a[i])",  # the user's own function
        "out[i] = a[i] * 2\n        print('value', out[i])",  # text
        "out[i] = float(str(a[i]))",
    ],
)
def test_bodies_numba_rejects_get_advice_without_fix(body):
    code = NUMPY + (
        "def helper(x):\n    return x\n\n\n"
        f"def kernel(a):\n    out = np.zeros(a.shape[0])\n    for i in range(a.shape[0]):\n        {body}\n    return out\n"
        "r = kernel(np.ones(100))\n"
    )
    finding = only(code)
    assert finding.fix is None and "numba.njit" in finding.message and "vectoris" not in finding.message


# -- generator reductions ----------------------------------------------------------------
def test_generator_reductions_over_array_elements():
    code = NUMPY + textwrap.dedent(
        """
        d = np.loadtxt("x.csv")
        label = d[:, 0]
        weight = d[:, 1] * 2.0
        wpos = sum(weight[i] for i in range(len(label)) if label[i] == 1.0)
        err = sum(1 for i in range(len(label)) if int(label[i] > 0.5) != weight[i])
        small = sum(weight[i] for i in range(10))
        names = ["a", "b"]
        text = sum(len(names[i]) for i in range(len(names)))
        custom = sum(score(weight[i]) for i in range(len(weight)))
        """
    )
    found = lint(code)
    assert [f.location.row for f in found] == [6, 7]
    assert "boolean mask" in found[0].message and "`label`" in found[0].message


def test_predictions_are_arrays_without_a_numpy_import():
    code = "preds = bst.predict(dtest)\nlabels = dtest.get_label()\n" + (
        "e = sum(1 for i in range(len(preds)) if int(preds[i] > 0.5) != labels[i])\n"
    )
    assert rows(code) == [3]


# -- the advice tier: stores, scatters, arithmetic ------------------------------------
def test_kernel_matrix_and_argmax_rows_in_methods():
    code = NUMPY + textwrap.dedent(
        """
        class SVM:
            def fit(self, X):
                n = len(X)
                k = np.zeros((n, n))
                for i in range(n):
                    for j in range(n):
                        k[i, j] = self.kernel(X[i], X[j])
                return k

            def predict(self, X):
                p = self.model.predict(X)
                out = np.zeros(len(X))
                for r in range(p.shape[0]):
                    out[r] = np.argmax(p[r])
                return out
        """
    )
    assert rows(code) == [7, 15]


def test_one_row_user_function_and_whole_rows_are_not_flagged():
    code = NUMPY + textwrap.dedent(
        """
        def predict(self, X):
            out = np.zeros(X.shape[0])
            for i in range(X.shape[0]):
                out[i] = self.predict_row(X[i, :])
            rows = np.zeros((X.shape[0], 3))
            for i in range(X.shape[0]):
                rows[i, :] = self.transform(X[i])
            return out
        """
    )
    assert rows(code) == []


@pytest.mark.parametrize(
    "loop",
    [
        "for i, v in enumerate(labels):\n    onehot[i, v] = 1",
        "for c, members in enumerate(groups):\n    for s in members:\n        assigned[s] = c",
        "for i, s in enumerate(sentences):\n    for t, ch in enumerate(s):\n        x3[i, t, ids[ch]] = 1",
    ],
)
def test_scatters_are_flagged(loop):
    setup = (
        NUMPY + "labels = np.arange(100) % 3\nonehot = np.zeros((100, 3))\ngroups = [[0, 1], [2]]\n"
        "assigned = np.zeros(3)\nsentences = ['ab'] * 100\nids = {'a': 0, 'b': 1}\nx3 = np.zeros((100, 2, 2))\n"
    )
    finding = only(setup + loop + "\n")
    assert "fancy indexing" in finding.message and finding.fix is None


@pytest.mark.parametrize(
    "loop",
    [
        "for t, ch in enumerate(seed):\n    batch[0, t, ids[ch]] = 1",  # one sample of a batch
        "for f in range(data.shape[1]):\n    mask[data[:, f] < 0.1] = -1",  # a mask store
        "for i in range(5):\n    small[i] = 1",  # a literal small range
    ],
)
def test_scatter_lookalikes_are_not_flagged(loop):
    setup = (
        NUMPY + "seed = 'abc'\nids = {'a': 0, 'b': 1, 'c': 2}\nbatch = np.zeros((1, 3, 3))\n"
        "data = np.ones((50, 3))\nmask = np.ones(50)\nsmall = np.zeros(5)\n"
    )
    assert rows(setup + loop + "\n") == []


def test_plausible_sequences_parameters_bounding_and_indexed_in_arithmetic():
    code = NUMPY + textwrap.dedent(
        """
        import math

        def distance(x1, x2):
            d = 0
            for i in range(len(x1)):
                d += pow(x1[i] - x2[i], 2)
            return math.sqrt(d)

        def join(tokens):
            text = ""
            for i in range(len(tokens)):
                text = text + tokens[i] + " "
            return text

        def count(words):
            n = 0
            for i in range(len(words)):
                if words[i] == "the":
                    n += 1
            return n
        """
    )
    assert rows(code) == [7]


def test_tensors_passed_as_parameters_are_not_numeric_sequences():
    code = "import torch\n" + textwrap.dedent(
        """
        def double(x):
            out = []
            for i in range(len(x)):
                out.append(x[i] * 2)
            return out

        r = double(torch.ones(100))
        """
    )
    assert rows(code) == []


def test_self_attributes_assigned_arrays():
    code = NUMPY + textwrap.dedent(
        """
        class M:
            def fit(self, X):
                self.alphas = np.ravel(X)
                self.alphas = self.alphas[self.alphas > 0]

            def score(self, x):
                total = 0.0
                for i in range(len(self.alphas)):
                    total += self.alphas[i] * self.kernel(self.alphas[i], x)
                return total
        """
    )
    assert rows(code) == [10]


def test_loops_that_also_train_or_plot_are_not_flagged():
    code = NUMPY + textwrap.dedent(
        """
        import matplotlib.pyplot as plt
        x = np.linspace(0, 1, 500)
        y = np.zeros(500)
        for i in range(500):
            y[i] = x[i] * 2
            plt.plot(x[i], y[i])
        for epoch in range(500):
            lr = x[epoch] * 0.1
            model.fit(x, y, lr=lr)
        """
    )
    assert rows(code) == []


def test_math_on_elements_of_an_array_passed_in():
    code = NUMPY + textwrap.dedent(
        """
        import math
        def sigmoid(x):
            a = []
            for item in x:
                a.append(1 / (1 + math.exp(-item)))
            return a
        def rows_total(x):
            t = 0
            for row in x:
                t += row * 2
            return t
        v = np.arange(-10.0, 10.0, 0.2)
        s = sigmoid(v)
        r = rows_total(v)
        """
    )
    assert rows(code) == [6]


def test_star_import_does_not_hide_range():
    code = (
        NUMPY
        + "from helpers import *\n"
        + textwrap.dedent(
            """
        def make_diagonal(x):
            m = np.zeros((len(x), len(x)))
            for i in range(len(m[0])):
                m[i, i] = x[i]
            return m
        """
        )
    )
    assert rows(code) == [6]


# -- torch --------------------------------------------------------------------------------
def test_torch_scores_filled_one_at_a_time():
    code = "import torch\nfrom torch.autograd import Variable\n" + textwrap.dedent(
        """
        def weights(self, h, enc):
            n = len(enc)
            s = Variable(torch.zeros(n))
            s = s.cuda()
            for i in range(n):
                s[i] = self.score(h, enc[i])
            ids = torch.zeros(n, dtype=torch.long)
            for i in range(n):
                ids[i] = self.vocab(enc[i])
            rows = torch.zeros(n, 4)
            for i in range(n):
                rows[i] = self.row(enc[i])
            return s
        """
    )
    finding = only(code)
    assert finding.location.row == 8 and "tensor `s`" in finding.message


# -- already compiled, small, not arrays ------------------------------------------------
@pytest.mark.parametrize(
    "source",
    [
        "import numba\n@numba.njit\ndef f(a):\n    out = np.zeros(a.shape[0])\n    for i, v in enumerate(a):\n        out[i] = v * 2\n    return out\n",
        "K = 10\nw = np.ones(K)\nfor i in range(K):\n    w[i] *= float(i)\n",
        "class zeros:\n    def __init__(self, n):\n        self.items = {}\n"
        "def f(n):\n    z = zeros(n)\n    for i in range(n):\n        z[i] = i * 2\n",
        "x = np.linspace(0, 1, 100)\ny = 2 * x + np.sin(x)\n",
    ],
)
def test_negatives(source):
    assert rows(NUMPY + source) == []


# -- the tree-level prefilter ------------------------------------------------------------
def _may_flag(code: str) -> bool:
    import ast

    from green_lint.rules._numeric_prefilter import may_hold_element_loops

    text = textwrap.dedent(code).lstrip("\n")
    return may_hold_element_loops(ast.parse(text), text)


@pytest.mark.parametrize(
    "code",
    [
        "for i in range(n):\n    out[i] = a[i] * 2\n",
        "def f(m):\n    for i in range(3):\n        for j in range(4):\n            pass\n        m[\n            j] += 1\n",
        "i = 0\nwhile i < n:\n    s += a[i]\n    i += 1\n",
        "for x, y in zip(features, targets):\n    w += x * y\n",
        "for v in values:\n    total += math.exp(v)\n",
        "s = sum(w[i] for i in range(n))\n",
        "y = 0\x0c\nfor i in range(n):\n    out[i] = a[i] * 2\n",  # a form feed breaks no line
        "s = sum(w[i] * v[i]\n        for i in range(n))\n",
        "class K:\n    def f(self):\n        try:\n            for k in keys:\n                self.w[k] -= 1\n        except KeyError:\n            pass\n",
    ],
)
def test_the_tree_prefilter_keeps_every_shape_the_rule_flags(code):
    assert _may_flag(code)


@pytest.mark.parametrize(
    "code",
    [
        "for name in names:\n    print(np.mean(data[column]))\n",
        "while not done:\n    done = step(a[0])\n",
        "x = a[i] + b[i]\nfor i in range(3):\n    print(i)\n",
        "total = sum(values)\n",
    ],
)
def test_the_tree_prefilter_declines_loops_that_index_nothing_by_their_variables(code):
    assert not _may_flag(code)


def test_a_file_the_tree_prefilter_declines_is_not_parsed_for_gl203(monkeypatch):
    from green_lint import engine

    parsed: list[str] = []
    real_parse = engine.parse_trusted
    monkeypatch.setattr(engine, "parse_trusted", lambda text: parsed.append(text) or real_parse(text))
    assert lint(NUMPY + "for i in range(n):\n    print(i + np.pi)\nout[i] += 1\n") == []
    assert parsed == []
    kernel = "def kernel(a):\n    out = np.zeros(a.shape[0])\n    for i in range(a.shape[0]):\n        out[i] = a[i] * 2\n    return out\n"
    assert rows(NUMPY + kernel) == [4]
    assert len(parsed) == 1


def test_a_counted_while_loop_inside_a_for_loop_is_still_checked():
    code = NUMPY + (
        "def twice(a, repeats):\n"
        "    out = np.zeros(a.shape[0])\n"
        "    for k in range(repeats):\n"
        "        i = 0\n"
        "        while i < a.shape[0]:\n"
        "            out[i] = a[i] * 2.0\n"
        "            i += 1\n"
        "    return out\n"
        "r = twice(np.ones(100), 3)\n"
    )
    assert rows(code) == [6]
