"""Names resolved through the semantic model's scopes, not by bare name across the file
(issue 14): a helper is the def its name stands for where it is called, a loop changes a
name only if the name it reads is the one it binds, and an argparse destination with
several different defaults has no known default."""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst

from green_lint.engine import LintSettings, lint_source
from green_lint.registry import select_rules
from green_lint.semantic.calls import CallGraph
from green_lint.semantic.model import SemanticModel
from green_lint.source import load_source


def findings(code: str, *rules: str) -> list[tuple[int, str]]:
    text = textwrap.dedent(code)
    loaded = load_source(Path("example.py"), "example.py", text.encode("utf-8"))
    found = lint_source(loaded, LintSettings(rules=select_rules(list(rules))))
    return sorted((finding.location.row, finding.code) for finding in found)


def test_a_grid_loop_trains_only_through_the_helper_its_call_names():
    # Two nested helpers called `run`: only the one of `search()` fits a model.
    code = """
    from sklearn.svm import SVC

    X, y = [[0], [1]], [0, 1]


    def search():
        def run(C, g):
            return SVC(C=C, gamma=g).fit(X, y)

        for C in [0.1, 1, 10]:
            for g in [0.01, 0.1, 1]:
                run(C, g)


    def report():
        def run(C, g):
            print(C, g)

        for C in [0.1, 1, 10]:
            for g in [0.01, 0.1, 1]:
                run(C, g)
    """
    assert findings(code, "GL103") == [(11, "GL103")]


def test_an_inference_function_does_not_need_grad_through_a_namesake_helper():
    # `evaluate()` calls its own `step`, not `train()`'s, which calls backward.
    code = """
    import torch

    model = torch.nn.Linear(2, 2)
    data = [torch.zeros(2)]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)


    def train():
        def step(x):
            model(x).sum().backward()
            optimizer.step()

        for x in data:
            step(x)


    def evaluate():
        def step(out):
            return out * 2

        model.eval()
        for x in data:
            out = model(x)
            print(step(out))
    """
    found = findings(code, "GL301", "GL304")
    assert found == [(24, "GL301"), (24, "GL304")]
    text = textwrap.dedent(code)
    loaded = load_source(Path("example.py"), "example.py", text.encode("utf-8"))
    (gl301,) = lint_source(loaded, LintSettings(rules=select_rules(["GL301"])))
    assert "a backward pass that never comes" in gl301.message


def test_a_comprehension_target_in_a_loop_does_not_make_a_module_name_vary():
    # In Python 3 the comprehension's `p` stays inside it: `torch.load(p)` reads the
    # module-level `p`, the same file on every iteration.
    code = """
    import torch

    ps = ["a.pt", "b.pt"]
    p = "c.pt"

    for i in range(3):
        names = [p for p in ps]
        m = torch.load(p)
        print(names, m, i)

    for p in ps:
        m = torch.load(p)
    """
    assert findings(code, "GL302") == [(9, "GL302")]


def test_a_load_reading_a_comprehension_target_varies_per_item():
    code = """
    import torch

    paths = ["a.pt", "b.pt"]
    p = "c.pt"


    def serve(items):
        for item in items:
            outs = [torch.load(p) for p in paths]
            print(outs, item)
    """
    assert findings(code, "GL302") == []


BUDGET = """
import argparse
import torch

parser = argparse.ArgumentParser()
sub = parser.add_subparsers()
a = sub.add_parser("a")
a.add_argument("--epochs", type=int, default=100)
b = sub.add_parser("b")
b.add_argument("--epochs", type=int, default={second})
args = parser.parse_args()
model = torch.nn.Linear(2, 2)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
x = torch.zeros(2)
for epoch in range(args.epochs):
    loss = model(x).sum()
    loss.backward()
    opt.step()
"""


def test_a_budget_from_argparse_defaults_that_disagree_is_unknown():
    assert findings(BUDGET.format(second=3), "GL102") == []
    assert findings(BUDGET.format(second=100), "GL102") == [(15, "GL102")]


def test_call_graph_argparse_default_is_none_for_different_defaults():
    module = cst.parse_module(
        "p.add_argument('--lr', default=0.1)\n"
        "q.add_argument('--lr', default=0.1)\n"
        "p.add_argument('--epochs', default=10)\n"
        "q.add_argument('--epochs', default=20)\n"
        "p.add_argument('--seed')\n"
        "q.add_argument('--seed', default=1)\n"
    )
    graph = CallGraph(SemanticModel(module))
    assert cst.Module([]).code_for_node(graph.argparse_default("lr")) == "0.1"
    assert graph.argparse_default("epochs") is None
    assert cst.Module([]).code_for_node(graph.argparse_default("seed")) == "1"
    assert graph.argparse_default("batch_size") is None
