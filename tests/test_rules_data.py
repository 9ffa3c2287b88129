"""The data rules (GL201-GL204): the cases the fixtures do not pin down, and the helpers."""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst
import pytest

from green_lint.engine import LintSettings, lint_source
from green_lint.fix import fix_source
from green_lint.registry import select_rules
from green_lint.rules._data import enclosing_loop
from green_lint.rules._rowloop_columns import column_expression
from green_lint.source import load_source


def _source(code: str):
    text = textwrap.dedent(code).lstrip("\n")
    return load_source(Path("t.py"), "t.py", text.encode("utf-8"))


def lint(code: str, rule: str):
    return lint_source(_source(code), LintSettings(rules=select_rules([rule])))


def rows(code: str, rule: str) -> list[int]:
    return [finding.location.row for finding in lint(code, rule)]


def fixed(code: str, rule: str) -> str:
    return fix_source(_source(code), LintSettings(rules=select_rules([rule])), unsafe=True).text


def message(code: str, rule: str) -> str:
    (finding,) = lint(code, rule)
    return finding.message


PANDAS = "import numpy as np\nimport pandas as pd\ndf = pd.DataFrame({'a': [1.0], 'b': [2]})\n"
NUMPY = "import numpy as np\n"


# -- rule classes -------------------------------------------------------------------------
# -- GL201 --------------------------------------------------------------------------------
def test_gl201_apply_fix_parenthesises_where_needed_and_is_idempotent():
    code = (
        PANDAS
        + "x = df.apply(lambda r: r['a'] + r['b'], axis=1).sum() * 2\ny = (df.apply(lambda r: r.a - 1, axis=1))\n"
    )
    out = fixed(code, "GL201")
    assert "x = (df['a'] + df['b']).sum() * 2" in out
    assert 'y = (df["a"] - 1)' in out
    assert fixed(out, "GL201") == out


@pytest.mark.parametrize(
    "lambda_",
    [
        "lambda r: r['a'] * RATE",  # a name: message only
        "lambda r: abs(r['a'])",  # a call
        "lambda r: 0 < r['a'] < 3",  # a chained comparison does not vectorise
        "lambda r: r.size * 2",  # a Series attribute, not a column
        "lambda r: r[f'a'] * 2",  # not a plain string key
        "lambda r: r['a'] and r['b']",  # boolean operators do not vectorise
        "lambda r, k=1: r['a'] * k",
        "lambda r: 3",  # no column: the result would be a scalar
    ],
)
def test_gl201_apply_without_a_safe_rewrite_is_reported_without_fix(lambda_):
    findings = lint(PANDAS + f"RATE = 2\nout = df.apply({lambda_}, axis=1)\n", "GL201")
    assert len(findings) == 1 and findings[0].fix is None


def test_gl201_apply_with_extra_arguments_has_no_fix():
    findings = lint(PANDAS + "out = df.apply(lambda r: r['a'] * 2, axis=1, raw=False)\n", "GL201")
    assert len(findings) == 1 and findings[0].fix is None


def test_gl201_apply_of_a_call_receiver_has_no_fix():
    code = PANDAS + "out = pd.read_csv('x.csv').apply(lambda r: r['a'] * 2, axis=1)\n"
    findings = lint(code, "GL201")
    assert len(findings) == 1 and findings[0].fix is None


@pytest.mark.parametrize(
    "line",
    [
        "out = df.apply(f, axis=0)",
        "out = df.apply(f)",
        "out = df['a'].apply(np.sqrt)",
        "out = df.groupby('a').apply(f, axis=1)",
        "out = df.style.apply(f, axis=1)",
        "first = next(df.iterrows())",
        "rows = list(df.itertuples())",
        "pl_frame = pl.DataFrame({'a': [1]})\nfor r in pl_frame.apply(f, axis=1):\n    pass",
    ],
)
def test_gl201_not_flagged(line):
    code = PANDAS + "import polars as pl\ndef f(x):\n    return x\n" + line + "\n"
    assert rows(code, "GL201") == []


def test_gl201_own_iterrows_method_makes_unknown_receivers_unflagged_but_frames_still_flagged():
    code = PANDAS + textwrap.dedent(
        """
        class Table:
            def iterrows(self):
                return iter([])

        def use(table):
            for i, row in table.iterrows():
                pass
        for i, row in df.iterrows():
            pass
        """
    )
    assert rows(code, "GL201") == [12]


def test_gl201_index_loop_without_cell_access_is_not_flagged():
    code = PANDAS + "for i in range(len(df)):\n    print(df.columns[0], i)\n"
    assert rows(code, "GL201") == []


def test_gl201_column_loops_are_not_row_loops():
    code = (
        PANDAS
        + "dtypes = df.dtypes\nfor i in range(len(df.columns)):\n    print(dtypes.iloc[i], df.iloc[0, i])\n"
    )
    assert rows(code, "GL201") == []


def test_gl201_messages_name_the_column_expression():
    code = PANDAS + "for i, row in df.iterrows():\n    df.at[i, 'c'] = row['a'] * row['b']\n"
    assert "`df['c'] = df['a'] * df['b']`" in message(code, "GL201")  # the file's quotes
    code = PANDAS + "s = sum(r.a * 2 for r in df.itertuples())\n"
    assert '`(df["a"] * 2).sum()`' in message(code, "GL201")  # attribute -> "column"
    code = PANDAS + "for i in df.index:\n    if df.loc[i, 'a'] > 1:\n        df.loc[i, 'c'] = 5\n"
    assert "`df.loc[df['a'] > 1, 'c'] = 5`" in message(code, "GL201")


def test_gl201_generic_advice_names_the_alternatives():
    code = (
        PANDAS
        + "state = 0\nseen = []\nfor i, row in df.iterrows():\n    state = state * 0.9 + row['a']\n    seen.append(state)\n"
    )
    text = message(code, "GL201")
    assert "np.where" in text and "Polars" in text and "numba.njit" in text


def test_gl201_loops_calling_per_row_functions_get_cheap_iteration_advice():
    code = PANDAS + "for i, row in df.iterrows():\n    print(row['a'], row.b)\n"
    text = message(code, "GL201")
    assert "calls `print` for each row" in text and "`zip(df['a'], df[\"b\"])`" in text  # the file's quotes
    assert "`df.itertuples()`" in text
    code = PANDAS + "for row in df.itertuples():\n    print(row.a)\n"
    assert 'iterate over `df["a"]`' in message(code, "GL201")


# -- GL202 --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        "for i in range(2):\n    pass\nelse:\n    df = pd.concat([df, df])",
        "df = pd.concat([df, df])",
        "items = []\nfor i in range(2):\n    items = items.append(i)",
        "for i in range(2):\n    other = pd.concat([df, df])",
        "for i in range(2):\n    df.loc[0] = [1.0, 2]",
        "for i in range(2):\n    def grow(frame):\n        frame = pd.concat([frame, frame])\n        return frame",
        "acc = pl.DataFrame({'a': [0]})\nfor i in range(2):\n    acc = acc.append(acc)",
    ],
)
def test_gl202_not_flagged(body):
    assert rows(PANDAS + "import polars as pl\n" + body + "\n", "GL202") == []


def test_gl202_needs_a_pandas_import():
    code = "class F:\n    def append(self, x):\n        return self\nf = F()\nfor i in range(2):\n    f = f.append(i)\n"
    assert rows(code, "GL202") == []
    assert rows("import pandas as pd\n" + code, "GL202") == [7]


def test_gl202_dict_of_frames_grown_per_key_is_flagged():
    code = (
        PANDAS
        + "frames = {'a': df}\nfor key in ['a', 'a']:\n    frames[key] = pd.concat([frames[key], df])\n"
    )
    assert rows(code, "GL202") == [6]


# -- GL203 --------------------------------------------------------------------------------
KERNEL = """
def kernel(a):
    out = np.zeros(a.shape[0])
    for i in range(a.shape[0]):
        {body}
    return out
"""
CALL = "\nresult = kernel(np.ones(100))\n"


def _kernel(body: str, header: str = NUMPY, call: str = CALL) -> str:
    return header + textwrap.dedent(KERNEL).replace("{body}", body) + call


def test_gl203_njit_fix_with_each_numba_import_spelling():
    assert "import numba\n" in fixed(_kernel("out[i] = a[i] * 2"), "GL203")
    out = fixed(_kernel("out[i] = a[i] * 2", header=NUMPY + "import numba as nb\n"), "GL203")
    assert "@nb.njit\ndef kernel" in out and out.count("import numba") == 1
    out = fixed(_kernel("out[i] = a[i] * 2", header=NUMPY + "from numba import njit\n"), "GL203")
    assert "@njit\ndef kernel" in out


@pytest.mark.parametrize(
    "body",
    [
        "names = ['x']",
        "table = {}",
        "out[i] = sum(x for x in a)",
    ],
)
def test_gl203_loops_that_are_not_numeric_are_not_flagged(body):
    code = _kernel(body).replace("def kernel", "def helper(x):\n    return x\n\n\ndef kernel")
    assert rows(code, "GL203") == []


@pytest.mark.parametrize(
    "extra",
    [
        "    try:\n        pass\n    except ValueError:\n        pass\n",
        "    print('done')\n",
        "    with open('x') as f:\n        pass\n",
        "    label = 'x'\n",
        "    squares = [x * x for x in range(3)]\n",
        "    out[0] = helper(1.0)\n",
    ],
)
def test_gl203_no_fix_when_the_function_does_not_compile_in_nopython_mode(extra):
    code = _kernel("out[i] = a[i] * 2").replace("    return out", extra + "    return out")
    code = code.replace("def kernel", "def helper(x):\n    return x\n\n\ndef kernel")
    findings = lint(code, "GL203")
    assert len(findings) == 1 and findings[0].fix is None


@pytest.mark.parametrize(
    ("signature", "call"),
    [
        ("def kernel(a, *, scale=2):", CALL),  # keyword-only parameter
        ("def kernel(a, scale=SCALE_LIST):", CALL),  # a default that is not a number
        ("def kernel(a):", "\nresult = kernel([1.0, 2.0])\n"),  # called with a list
        ("def kernel(a):", "\nfunctions = [kernel]\n"),  # passed around as a value
        ("def kernel(a):", "\nresult = kernel(pd_frame)\n"),  # called with something unknown
    ],
)
def test_gl203_no_fix_for_unfit_signatures_or_callers(signature, call):
    code = _kernel("out[i] = a[i] * 2", header=NUMPY + "SCALE_LIST = [1]\npd_frame = object()\n", call=call)
    code = code.replace("def kernel(a):", signature)
    findings = lint(code, "GL203")
    assert len(findings) == 1 and findings[0].fix is None


def test_gl203_methods_and_nested_functions_get_advice_only():
    method = NUMPY + textwrap.dedent(
        """
        class K:
            def run(self, a: np.ndarray):
                out = np.zeros(a.shape[0])
                for i in range(a.shape[0]):
                    out[i] = a[i] * 2
                return out
        """
    )
    findings = lint(method, "GL203")
    assert len(findings) == 1 and findings[0].fix is None
    nested = NUMPY + textwrap.dedent(
        """
        def outer():
            def inner(a: np.ndarray):
                out = np.zeros(a.shape[0])
                for i in range(a.shape[0]):
                    out[i] = a[i] * 2
                return out
            return inner
        """
    )
    findings = lint(nested, "GL203")
    assert len(findings) == 1 and findings[0].fix is None


def test_gl203_one_finding_per_outermost_loop():
    code = NUMPY + textwrap.dedent(
        """
        def f(n: int):
            out = np.zeros((n, n))
            for i in range(n):
                for j in range(n):
                    out[i, j] = i * j
            for k in range(n):
                out[k, k] += 1
            return out
        """
    )
    assert rows(code, "GL203") == [5, 8]


def test_gl203_unannotated_list_parameter_gets_advice_without_fix():
    # Bounds the loop and is indexed in arithmetic: a numeric sequence, maybe a list (issue 14).
    code = (
        NUMPY
        + "def f(values):\n    total = 0\n    for i in range(len(values)):\n        total += values[i] * 2\n    return total\n"
    )
    findings = lint(code, "GL203")
    assert len(findings) == 1 and findings[0].fix is None


@pytest.mark.parametrize(
    "source",
    [
        # whole slices: not element-wise arithmetic (constant stores are: fixtures/GL203/njit_stores.py)
        "def f(a: np.ndarray, n: int):\n    b = np.zeros((n, n))\n    for r in range(n):\n        b[r, :r] = -a[:r]\n    return b\n",
        # a dict keyed by tuples
        "def f(a: np.ndarray):\n    m = {(0, 1): 2}\n    out = np.zeros(9)\n    for i in range(9):\n        out[i] = m[0, 1] * a[i]\n    return out\n",
        # compiled by numba already: passed to njit(...), or an impl nested in an @overload
        "import numba\ndef f(a: np.ndarray):\n    for i in range(a.shape[0]):\n        a[i] = a[i] * 2\nfast = numba.njit(f)\n",
        "from numba.core.extending import overload\n@overload(np.sum)\ndef ov(a):\n    def impl(a):\n"
        "        out = np.zeros(a.shape[0])\n        for i in range(a.shape[0]):\n            out[i] = a[i] * 2\n"
        "        return out\n    return impl\n",
    ],
)
def test_gl203_not_element_wise_or_already_compiled(source):
    assert rows(NUMPY + source, "GL203") == []


def test_gl203_element_copy_is_flagged():
    code = (
        NUMPY
        + "def f(a: np.ndarray):\n    b = np.empty_like(a)\n    for i in range(a.shape[0]):\n        b[i] = a[i]\n    return b\n"
    )
    assert rows(code, "GL203") == [4]


def test_gl203_rng_generators_make_arrays():
    code = NUMPY + textwrap.dedent(
        """
        rng = np.random.default_rng(0)
        x = rng.normal(size=500)
        total = 0.0
        for i in range(500):
            total += x[i] * x[i]
        """
    )
    assert rows(code, "GL203") == [6]


# -- GL204 --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        "for p in paths:\n    x = pd.read_csv(p)",
        "for i in range(2):\n    x = pd.read_csv(next(it))",
        "for i in range(2):\n    x = pd.read_csv(P, nrows=i + 1)",
        "for i in range(2):\n    x = pd.read_csv(P)\n    x.to_csv(P)",
        "for i in range(2):\n    with open(P, 'w') as f:\n        f.write('x')",
        "for i in range(2):\n    data = open(P, mode='a').read()",
        "while True:\n    x = open(P).read()\n    time.sleep(1)\n    break",
        "for x in pd.read_csv(P).itertuples():\n    pass",
        "x = [r for r in pd.read_csv(P).itertuples()]",
        "for i in range(2):\n    if i == 0:\n        x = pd.read_csv(P)",
        "x = None\nfor i in range(2):\n    if x is None:\n        x = pd.read_csv(P)",
        "for i in range(2):\n    try:\n        x = pd.read_csv(P)\n    except OSError:\n        pass",
        "for i in range(2):\n    x = json.loads(text)",
        "for p in paths:\n    subprocess.run(['prog', p])\n    x = pd.read_csv(P)",
        "for i in range(2):\n    produce(i, out=P)\n    x = pd.read_csv(P)",
    ],
)
def test_gl204_not_flagged(body):
    code = (
        "import json, subprocess, time\nimport pandas as pd\nP = 'a.csv'\npaths = [P]\nit = iter(paths)\n"
        "text = '{}'\ndef produce(i, out):\n    pass\n" + body + "\n"
    )
    assert rows(code, "GL204") == []


def test_gl204_two_reads_of_the_same_file_are_both_flagged():
    code = "import pandas as pd\nP = 'a.csv'\nfor i in range(2):\n    a = pd.read_csv(P)\n    b = open(P).read()\n"
    assert rows(code, "GL204") == [4, 5]


def test_gl204_inner_comprehension_loop_rereads():
    code = "import pandas as pd\nP = 'a.csv'\nx = [[pd.read_csv(P) for _ in range(2)] for p in [1, 2]]\n"
    assert rows(code, "GL204") == [3]
    code = "import pandas as pd\nP = 'a.csv'\nx = [y for p in [1, 2] for y in pd.read_csv(P)]\n"
    assert rows(code, "GL204") == [3]  # an inner `for`'s iterable runs once per outer item


def test_gl204_message_names_the_loop():
    code = "import numpy as np\nfor epoch in range(3):\n    w = np.load('w.npy')\n"
    text = message(code, "GL204")
    assert (
        "`np.load(...)`" in text and "`for epoch in ...` loop (line 2)" in text and "before the loop" in text
    )


# -- helpers ------------------------------------------------------------------------------
def _stack_to(module: cst.Module, predicate) -> list[cst.CSTNode]:
    found: list[list[cst.CSTNode]] = []

    class Finder(cst.CSTVisitor):
        def __init__(self):
            self.stack: list[cst.CSTNode] = []

        def on_visit(self, node):
            self.stack.append(node)
            if predicate(node) and not found:
                found.append(list(self.stack))
            return True

        def on_leave(self, original_node):
            self.stack.pop()

    module.visit(Finder())
    return found[0]


def _is_call_to(name: str):
    return lambda node: (
        isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == name
    )


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("for x in f():\n    pass\n", None),  # a `for`'s iterable runs once
        ("for x in y:\n    f()\n", cst.For),
        ("for x in y:\n    pass\nelse:\n    f()\n", None),
        ("while t:\n    f()\n", cst.While),
        ("[f() for x in y]\n", cst.ListComp),
        ("[x for x in f()]\n", None),
        ("{k: f() for k in y}\n", cst.DictComp),
        ("for x in y:\n    def g():\n        f()\n", None),
        ("for x in y:\n    g = lambda: f()\n", None),
    ],
)
def test_enclosing_loop(code, kind):
    module = cst.parse_module(code)
    loop = enclosing_loop(_stack_to(module, _is_call_to("f")))
    assert (loop is None) if kind is None else isinstance(loop, kind)


def test_column_expression_needs_a_column_and_only_arithmetic():
    def leaf(node):
        if isinstance(node, cst.Subscript) and isinstance(node.value, cst.Name) and node.value.value == "r":
            return node.with_changes(value=cst.Name("df"))
        return None

    def convert(text):
        result = column_expression(cst.parse_expression(text), leaf)
        return None if result is None else cst.Module([]).code_for_node(result)

    assert convert("r['a'] * (r['b'] - 1) ** 2") == "df['a'] * (df['b'] - 1) ** 2"
    assert convert("-r['a'] >= 2") == "-df['a'] >= 2"
    assert convert("1 + 2") is None
    assert convert("r['a'] @ r['b']") is None
    assert convert("r['a'] in (1, 2)") is None
