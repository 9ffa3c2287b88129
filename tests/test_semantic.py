"""The semantic model: the cases a scoped resolver must handle (after LibCST's
scope_provider tests), the values that reach a use, and the in-file call graph."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from green_lint.semantic import SemanticModel
from green_lint.semantic.values import UNKNOWN, Values
from green_lint.walk import walk


def _model(code: str) -> SemanticModel:
    return SemanticModel(cst.parse_module(textwrap.dedent(code)), textwrap.dedent(code))


def _names(model: SemanticModel, name: str) -> list[cst.Name]:
    """Every use of `name` that is not a binding site, in source order."""
    sites = {
        id(b.site)
        for scope_node in walk(model.module)
        if isinstance(scope_node, cst.Module | cst.FunctionDef | cst.ClassDef | cst.Lambda)
        for bs in model.scope(scope_node).bindings.values()
        for b in bs
    }
    return [
        n for n in walk(model.module) if isinstance(n, cst.Name) and n.value == name and id(n) not in sites
    ]


def _call_funcs(model: SemanticModel) -> list[list[str]]:
    return [model.candidates(n.func) for n in walk(model.module) if isinstance(n, cst.Call)]


def test_a_parameter_named_like_an_import_shadows_it():
    model = _model(
        """
        from sklearn.model_selection import GridSearchCV
        def search(GridSearchCV):
            return GridSearchCV(1)
        GridSearchCV(2)
        """
    )
    assert _call_funcs(model) == [[], ["sklearn.model_selection.GridSearchCV"]]


def test_a_local_import_stays_in_its_function():
    model = _model(
        """
        import torch
        def one():
            from mylib import torch
            return torch.no_grad()
        def two():
            return torch.no_grad()
        """
    )
    assert _call_funcs(model) == [["mylib.torch.no_grad"], ["torch.no_grad"]]


def test_the_same_import_again_in_a_function_means_the_same_everywhere():
    model = _model(
        """
        import numpy as np
        def one():
            import numpy as np
            return np.zeros(1)
        def two():
            return np.ones(1)
        np.empty(1)
        """
    )
    assert model._same_import_everywhere == {"np": "numpy"}
    assert _call_funcs(model) == [["numpy.zeros"], ["numpy.ones"], ["numpy.empty"]]
    model = _model(
        """
        import numpy as np
        def one():
            import numpy as np
            return np.zeros(1)
        def three(np):
            return np.eye(1)
        """
    )
    assert model._same_import_everywhere == {}
    assert _call_funcs(model) == [["numpy.zeros"], []]


def test_a_class_body_is_not_seen_from_its_methods():
    model = _model(
        """
        import numpy as np
        class Model:
            np = None
            def run(self):
                return np.zeros(3)
        """
    )
    assert _call_funcs(model) == [["numpy.zeros"]]


def test_global_and_nonlocal_declarations():
    model = _model(
        """
        import torch
        def outer():
            torch = object()
            def inner():
                nonlocal torch
                return torch.load("m")
            def other():
                global torch
                return torch.load("m")
        """
    )
    assert _call_funcs(model) == [["builtins.object"], [], ["torch.load"]]


def test_comprehension_scopes_and_their_first_iterable():
    model = _model(
        """
        import pandas as pd
        rows = [pd.read_csv(p) for pd in paths]
        frames = [x for x in pd.read_csv("a")]
        """
    )
    assert _call_funcs(model) == [[], ["pandas.read_csv"]]


def test_star_imports_builtins_and_own_definitions():
    model = _model(
        """
        from torch.nn import *
        def GridSearchCV(): ...
        Linear(3, 4)
        open("f")
        GridSearchCV()
        """
    )
    assert _call_funcs(model) == [["torch.nn.Linear"], ["torch.nn.open"], []]


def test_targets_spread_over_lines_and_models_built_without_the_text():
    code = "import pandas as pd\nframes = [\n    pd.read_csv(p)\n    for (p,\n         pd) in pairs\n]\n"
    assert _call_funcs(_model(code)) == [[]]
    assert _call_funcs(SemanticModel(cst.parse_module(code))) == [[]]


def test_a_fallback_to_none_keeps_the_import():
    model = _model(
        """
        try:
            from apex import amp
        except ImportError:
            amp = None
        amp.initialize(m)
        """
    )
    assert _call_funcs(model) == [["apex.amp.initialize"]]


def test_a_lambda_parameter_shadows_and_its_default_does_not():
    model = _model(
        """
        import torch
        f = lambda torch=torch.device("cpu"): torch.load("m")
        """
    )
    assert _call_funcs(model) == [["torch.device"], []]


def test_a_walrus_in_a_comprehension_binds_in_the_function():
    model = _model(
        """
        import torch
        def f(items):
            [(torch := x) for x in items]
            return torch.load("m")
        """
    )
    assert _call_funcs(model)[-1] == []


def test_del_and_local_name_for():
    model = _model(
        """
        import numpy as np
        def f():
            import numpy
            return numpy
        """
    )
    assert model.local_name_for("numpy") == "np"
    inner = next(n for n in walk(model.module) if isinstance(n, cst.Return))
    assert model.local_name_for("numpy", inner) == "numpy"
    assert model.imports_module("numpy")


# -- values ---------------------------------------------------------------------------------


def _values(code: str) -> tuple[Values, SemanticModel]:
    model = _model(code)
    return Values(model), model


def _argument(model: SemanticModel, function: str, keyword: str) -> list[cst.BaseExpression]:
    return [
        arg.value
        for node in walk(model.module)
        if isinstance(node, cst.Call) and cst.Module([]).code_for_node(node.func).endswith(function)
        for arg in node.args
        if arg.keyword is not None and arg.keyword.value == keyword
    ]


def test_a_budget_reassigned_between_two_runs_resolves_at_each():
    values, model = _values(
        """
        n = 10
        model.fit(x, y, epochs=n)
        n = 30
        model.fit(x, y, epochs=n)
        """
    )
    assert [values.constant(arg) for arg in _argument(model, "fit", "epochs")] == [10, 30]


def test_branches_give_several_candidates_and_loops_see_their_own_updates():
    values, model = _values(
        """
        if fast:
            n = 5
        else:
            n = 50
        fit(epochs=n)
        m = 1
        for _ in range(3):
            fit(epochs=m)
            m = 2
        """
    )
    first, second = _argument(model, "fit", "epochs")
    assert sorted(values.constants(first)) == [5, 50]
    assert values.constant(first) is UNKNOWN
    assert sorted(values.constants(second)) == [1, 2]


def test_folding_arithmetic_unpacking_and_len():
    values, model = _values(
        """
        base, scale = 10, 3
        grid = [1, 2, 3]
        fit(epochs=base * scale + 2, rounds=len(grid), lr=-0.5)
        """
    )
    assert values.constant(_argument(model, "fit", "epochs")[0]) == 32
    assert values.constant(_argument(model, "fit", "rounds")[0]) == 3
    assert values.constant(_argument(model, "fit", "lr")[0]) == -0.5


def test_parameter_defaults_and_call_site_arguments():
    values, model = _values(
        """
        def train(model, epochs=1000):
            model.fit(epochs=epochs)
        train(m)
        train(m, 20)
        train(m, epochs=40)
        """
    )
    assert sorted(values.constants(_argument(model, "fit", "epochs")[0])) == [20, 40, 1000]


def test_self_attributes_dataclass_fields_argparse_and_dict_configs():
    values, model = _values(
        """
        import argparse
        from dataclasses import dataclass
        parser = argparse.ArgumentParser()
        parser.add_argument("--num-epochs", type=int, default=90)
        args = parser.parse_args()
        cfg = {"epochs": 12, "lr": 0.1}
        class Runner:
            def __init__(self, opts):
                self.num_epochs = opts.epochs
                self.steps = 500
            def run(self):
                fit(a=self.steps, b=args.num_epochs, c=cfg["epochs"])
        @dataclass
        class Config:
            epochs: int = 7
            def go(self):
                fit(d=self.epochs)
        """
    )
    assert [values.constant(_argument(model, "fit", k)[0]) for k in "abcd"] == [500, 90, 12, 7]


def test_a_dict_changed_in_place_gives_no_value():
    values, model = _values(
        """
        cfg = {"epochs": 25}
        cfg.update(epochs=2)
        other = {"epochs": 25}
        other["epochs"] = 3
        kept = {"epochs": 25}
        fit(a=cfg["epochs"], b=other["epochs"], c=kept["epochs"])
        """
    )
    assert [values.constant(_argument(model, "fit", k)[0]) for k in "abc"] == [UNKNOWN, UNKNOWN, 25]


def test_range_bounds_through_enumerate():
    values, model = _values(
        """
        EPOCHS = 25
        for i, epoch in enumerate(range(1, EPOCHS + 1)):
            pass
        """
    )
    loop = next(n for n in walk(model.module) if isinstance(n, cst.For))
    assert values.range_bounds(loop.iter) == (1, 26)


@pytest.mark.parametrize(
    ("code", "callers"),
    [
        ("def validate(m):\n    return m(x)\nfor e in range(3):\n    validate(net)\n", ["<module>"]),
        (
            "class Trainer:\n    def evaluate(self):\n        pass\n    def fit(self):\n        self.evaluate()\n",
            ["fit"],
        ),
        ("def validate(m):\n    pass\ndef validate_other(m):\n    validate = print\n    validate(m)\n", []),
    ],
)
def test_the_call_graph_follows_names_and_self_methods(code, callers):
    values, model = _values(code)
    target = next(
        n
        for n in walk(model.module)
        if isinstance(n, cst.FunctionDef) and n.name.value in ("validate", "evaluate")
    )
    found = values.calls.callers(target)
    assert [c.name.value if isinstance(c, cst.FunctionDef) else "<module>" for c in found] == callers


def test_values_that_refer_to_themselves_through_dict_keys_end():
    """`k = table[k]` in a loop: folding the key follows `k` back to itself (once this
    recursed until Python's limit on scikit-learn's tree exporter)."""
    values, model = _values(
        """
        table = {"a": "b", "b": "a"}
        k = "a"
        for _ in range(3):
            k = table[k]
            k = table[table[k]]
        fit(epochs=table[k])
        """
    )
    assert values.constant(_argument(model, "fit", "epochs")[0]) is UNKNOWN


# -- reaching bindings ----------------------------------------------------------------------


def test_a_binding_whose_value_cannot_be_followed_leaves_the_value_unknown():
    values, model = _values(
        """
        n = 10
        if resume:
            n += 5
        fit(a=n)
        m = 3
        for m in steps:
            pass
        fit(b=m)
        """
    )
    assert [values.constant(_argument(model, "fit", k)[0]) for k in "ab"] == [UNKNOWN, UNKNOWN]


def test_a_for_iterable_sees_the_bindings_from_before_the_loop_only():
    values, model = _values(
        """
        weights = [1, 2, 3]
        for algorithm, weights in product(names, weights):
            pass
        """
    )
    iterable = next(n for n in walk(model.module) if isinstance(n, cst.For)).iter
    assert values.constant(iterable.args[1].value) == [1, 2, 3]


def test_casts_and_options_of_args_given_from_outside():
    values, model = _values(
        """
        import argparse
        parser = argparse.ArgumentParser()
        parser.add_argument("--epochs", default=30)
        def main(args):
            fit(a=int(args.epochs), b=float(4))
        def other():
            args = load_settings()
            fit(c=args.epochs)
        """
    )
    assert [values.number(_argument(model, "fit", k)[0]) for k in "abc"] == [30, 4.0, None]


def test_every_assignment_of_the_scope_that_binds_a_name():
    values, model = _values(
        """
        frame = load()
        def grow(rows):
            for row in rows:
                use(frame)
        def local():
            frame = []
            use(frame)
            frame = None
        """
    )
    first, second = [
        node.args[0].value
        for node in walk(model.module)
        if isinstance(node, cst.Call) and getattr(node.func, "value", None) == "use"
    ]
    assert [cst.Module([]).code_for_node(v) for v in values.every_assignment(first)] == ["load()"]
    assert [cst.Module([]).code_for_node(v) for v in values.every_assignment(second)] == ["[]", "None"]


def _reaching_lines(code: str) -> list[list[int]]:
    """For each `use(name)` in `code`, the lines of the bindings of `name` that reach it."""
    from libcst.metadata import MetadataWrapper, PositionProvider

    code = textwrap.dedent(code).lstrip("\n")
    module = cst.parse_module(code)
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    values = Values(SemanticModel(module, code))
    uses = [
        node.args[0].value
        for node in walk(module)
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "use"
    ]
    return [sorted(positions[binding.site].start.line for binding in values.reaching(use)) for use in uses]


@pytest.mark.parametrize(
    ("code", "lines"),
    [
        pytest.param(
            """
            def f(x):
                for i in range(3):
                    use(x)
                    x = x + 1
                use(x)
            """,
            [[1, 4], [1, 4]],
            id="parameter-reassigned-in-a-for-loop",
        ),
        pytest.param(
            """
            def f(n, *, x=1):
                while n:
                    if n > 2:
                        x = 0
                    use(x)
                    n -= 1
            """,
            [[1, 4]],
            id="keyword-only-parameter-reassigned-in-a-branch-of-a-while-loop",
        ),
        pytest.param(
            """
            n = 0
            while n < 10:
                use(n)
                n += 1
            use(n)
            """,
            [[1, 4], [1, 4]],
            id="bound-before-a-loop-and-reassigned-in-it",
        ),
        pytest.param(
            """
            x = 0
            if c:
                x = 1
            else:
                x = 2
            use(x)
            """,
            [[3, 5]],
            id="both-branches-of-an-if",
        ),
        pytest.param(
            """
            x = 0
            for i in items:
                x = 1
                if i:
                    x = 2
                    break
                x = 3
            else:
                x = 4
            use(x)
            """,
            [[5, 9]],
            id="break-skips-the-rest-of-the-body-and-the-else",
        ),
        pytest.param(
            """
            n = 0
            while n < 10:
                if n == 5:
                    n = 99
                    break
                n += 1
            else:
                n = -1
            use(n)
            """,
            [[4, 8]],
            id="while-else-and-break",
        ),
        pytest.param(
            """
            x = 0
            for i in items:
                use(x)
                if i:
                    x = 1
                    continue
                x = 2
            use(x)
            """,
            [[1, 5, 7], [1, 5, 7]],
            id="continue-goes-back-to-the-loop-head",
        ),
        pytest.param(
            """
            def f(c):
                x = 0
                if c:
                    x = 1
                    return
                use(x)
            """,
            [[2]],
            id="return-ends-its-branch",
        ),
        pytest.param(
            """
            x = 0
            try:
                x = 1
                x = load()
            except OSError:
                use(x)
            use(x)
            """,
            [[1, 3, 4], [1, 3, 4]],
            id="a-handler-may-start-anywhere-in-the-body",
        ),
        pytest.param(
            """
            x = 0
            try:
                x = 1
                x = load()
            finally:
                use(x)
            use(x)
            """,
            [[1, 3, 4], [4]],
            id="finally-runs-after-an-exception-too",
        ),
        pytest.param(
            """
            for i in items:
                try:
                    x = 1
                    break
                finally:
                    x = 2
            use(x)
            """,
            [[6]],
            id="break-passes-through-finally",
        ),
        pytest.param(
            """
            x = 0
            with open(p) as x:
                use(x)
            use(x)
            """,
            [[2], [2]],
            id="with",
        ),
        pytest.param(
            """
            x = 0
            match command:
                case [x]:
                    use(x)
                case {"k": 1}:
                    x = 2
            use(x)
            """,
            [[3], [1, 3, 6]],
            id="match",
        ),
        pytest.param(
            """
            x = 1
            ys = [use(x) for _ in range(3)]
            x = 2
            """,
            [[1]],
            id="a-comprehension-runs-where-it-is-written",
        ),
        pytest.param(
            """
            n = 0
            while (n := n + 1) < 10:
                use(n)
            use(n)
            """,
            [[2], [2]],
            id="walrus-in-a-while-test",
        ),
        pytest.param(
            """
            k = 0
            if (m := f()) and (k := g()):
                pass
            use(k)
            y = 0
            ys = [(y := v) for v in values]
            use(y)
            """,
            [[1, 2], [5, 6]],
            id="walrus-that-may-not-run",
        ),
        pytest.param(
            """
            x = 0
            if c:
                del x
                x = 1
            use(x)
            """,
            [[1, 4]],
            id="del",
        ),
        pytest.param(
            """
            x = 0
            try:
                x = load()
            except OSError:
                x = 1
                raise
            use(x)
            """,
            [[3]],
            id="a-handler-that-raises-again-ends-its-path",
        ),
        pytest.param(
            """
            def f(x):
                use(x)
            """,
            [[1]],
            id="parameter",
        ),
        pytest.param(
            """
            n = 0
            match v:
                case _ if (n := 5):
                    pass
            n = 1
            use(n)
            """,
            [[1, 3, 5]],
            id="a-binding-the-walk-does-not-meet-makes-every-binding-count",
        ),
        pytest.param(
            """
            x = 1
            g = lambda: use(x)
            x = 2
            g()
            """,
            [[1, 3]],
            id="a-lambda-runs-later",
        ),
    ],
)
def test_the_bindings_that_reach_a_use(code, lines):
    assert _reaching_lines(code) == lines


def test_an_assignment_under_global_in_a_function_is_a_binding_of_the_module():
    model = _model(
        """
        model = None
        def build():
            global model
            model = make(epochs=30)
        def train():
            fit(model)
        """
    )
    [use] = [
        node
        for node in walk(model.module)
        if isinstance(node, cst.Call) and cst.Module([]).code_for_node(node.func) == "fit"
    ]
    found = model.lookup("model", use.args[0].value)
    assert found is not None and found[0] is model.module_scope
    kinds = sorted(binding.kind for binding in found[1])
    assert kinds == ["assignment", "assignment"]
    assert any(isinstance(binding.value, cst.Call) for binding in found[1])


def _run_apart(script: str, code: str) -> str:
    """Run `script` with `code` on stdin in another interpreter, with a time limit far
    above what it takes: a regression to exponential time fails instead of hanging."""
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-c", script], input=code, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


def test_a_for_over_a_literal_of_tuples_binds_its_targets_without_backtracking():
    """The text scan for `for` targets once backtracked exponentially on this shape (torch's
    decompositions.py: minutes for one file)."""
    rows = "".join(f"        (ix_{k}, iy_{k}, w_{k}),\n" for k in range(8))
    code = f"def blend():\n    for (ix, iy, w) in (\n{rows}    ):\n        print(ix, iy, w)\n"
    script = (
        "import libcst as cst, sys\n"
        "from green_lint.semantic import SemanticModel\n"
        "code = sys.stdin.read()\n"
        "model = SemanticModel(cst.parse_module(code), code)\n"
        "print(sorted({'ix', 'iy', 'w'} & model._names_bound_below_module))\n"
    )
    assert _run_apart(script, code) == "['ix', 'iy', 'w']"


RECURSIVE = """
def collate(batch, fn_map=None):
    elem = batch[0]
    if isinstance(elem, dict):
        return {key: collate([d[key] for d in batch], fn_map=fn_map) for key in elem}
    if isinstance(elem, tuple):
        return [collate(samples, fn_map=fn_map) for samples in zip(*batch)]
    if isinstance(elem, list):
        return [collate(samples, fn_map) for samples in batch]
    if isinstance(elem, set):
        return collate(list(batch), fn_map=fn_map)
    if isinstance(elem, bytes):
        return collate([b.decode() for b in batch], fn_map=fn_map)
    if isinstance(elem, frozenset):
        return collate(sorted(batch), fn_map=fn_map)
    if isinstance(elem, range):
        return collate([list(r) for r in batch], fn_map=fn_map)
    if isinstance(elem, memoryview):
        return collate([m.tobytes() for m in batch], fn_map=fn_map)
    return fn_map


print(collate([[1]], fn_map={}))
"""


def test_parameters_of_a_recursive_function_are_followed_once_per_depth():
    """Each recursive call site passes the parameter on: without remembering what a node
    at a depth evaluates to, every path was walked again (8 call sites, depth 8: minutes
    for torch's collate.py)."""
    script = (
        "import libcst as cst, sys\n"
        "from green_lint.semantic import SemanticModel\n"
        "from green_lint.semantic.values import Values\n"
        "code = sys.stdin.read()\n"
        "module = cst.parse_module(code)\n"
        "values = Values(SemanticModel(module, code))\n"
        "use = module.body[0].body.body[-1].body[0].value\n"
        "print(sorted({module.code_for_node(v) for v in values.expressions(use)}))\n"
    )
    # The default, the `{}` of the call at the bottom, and the parameter itself where the
    # recursion is followed no deeper.
    assert _run_apart(script, RECURSIVE) == "['None', 'fn_map', '{}']"
