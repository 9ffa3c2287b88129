"""Across files: constants another module of the project defines (fixtures/project/)."""

from __future__ import annotations

import json
import pickle
import re
from pathlib import Path

import pytest

from green_lint.engine import LintSettings, lint_source
from green_lint.project import ProjectModules, summarise
from green_lint.project import modules as project_module
from green_lint.registry import select_rules
from green_lint.source import load_source

PROJECTS = Path(__file__).resolve().parent.parent / "fixtures" / "project"
EXPECT = re.compile(r"#\s*expect:\s*(GL\d+(?:\s*,\s*GL\d+)*)")


def _expected(path: Path) -> set[tuple[int, str]]:
    found = set()
    for row, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = EXPECT.search(line)
        if match:
            found.update((row, code.strip()) for code in match.group(1).split(","))
    return found


def _findings(path: Path, roots: list[Path]) -> set[tuple[int, str]]:
    settings = LintSettings(rules=select_rules(["GL"]), project=ProjectModules(roots))
    source = load_source(path, path.name, path.read_bytes())
    return {(finding.location.row, finding.code) for finding in lint_source(source, settings)}


CASES = sorted(path for path in PROJECTS.iterdir() if path.is_dir())


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_each_project_case_gives_the_findings_its_files_expect(case):
    files = sorted(case.rglob("*.py"))
    for path in files:
        assert _findings(path, [case]) == _expected(path), path


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_a_pre_commit_run_on_one_file_still_sees_the_rest_of_the_project(case):
    # Each file linted alone, as pre-commit hands it: the cross-file findings, and the
    # negatives' silence, must not depend on the rest of the project being linted too.
    files = sorted(case.rglob("*.py"))
    assert files
    for path in files:
        assert _findings(path, [path]) == _expected(path), path


def test_without_the_project_the_imported_budgets_are_unknown():
    path = PROJECTS / "budget_from_config" / "pkg" / "train.py"
    settings = LintSettings(rules=select_rules(["GL102"]))
    source = load_source(path, path.name, path.read_bytes())
    assert lint_source(source, settings) == []


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")


def test_modules_are_found_as_python_would_find_them(tmp_path):
    _write(
        tmp_path,
        {
            "src/app/__init__.py": "",
            "src/app/settings.py": "EPOCHS = 12\nRATE = 0.5 * 2\nNAMES = ('a', 'b')\n",
            "src/app/train.py": "",
            "scripts/run.py": "",
            "scripts/local_cfg.py": "STEPS = -4\n",
        },
    )
    modules = ProjectModules([tmp_path])
    train, run = tmp_path / "src/app/train.py", tmp_path / "scripts/run.py"
    assert modules.constant(".settings.EPOCHS", train).value == 12
    assert modules.constant("app.settings.RATE", train).value == 1.0  # the folder above the package
    assert modules.constant("app.settings.NAMES", run).value == ("a", "b")  # a root's src/
    assert modules.constant("local_cfg.STEPS", run).value == -4  # the script's own folder
    assert modules.constant("numpy.pi", run) is None
    assert modules.constant("app.settings.MISSING", run) is None


def test_names_bound_more_than_once_or_computed_are_not_constants(tmp_path):
    _write(
        tmp_path,
        {
            "cfg.py": (
                "import os\n"
                "A = 1\nA = 2\n"
                "B = int(os.environ.get('B', 3))\n"
                "C = 5\n"
                "def bump():\n    global C\n    C = 6\n"
                "D: int = 7\n"
            ),
            "main.py": "",
        },
    )
    modules = ProjectModules([tmp_path])
    main = tmp_path / "main.py"
    assert [modules.constant(f"cfg.{name}", main) for name in "ABC"] == [None, None, None]
    assert modules.constant("cfg.D", main).value == 7


def test_a_module_is_summarised_once_per_process_and_not_pickled(tmp_path, monkeypatch):
    _write(tmp_path, {"cfg.py": "EPOCHS = 30\n", "main.py": ""})
    calls: list[Path] = []
    real = project_module.summarise_source
    monkeypatch.setattr(
        project_module, "summarise_source", lambda path, data: calls.append(path) or real(path, data)
    )
    modules = ProjectModules([tmp_path])
    for _ in range(3):
        assert modules.constant("cfg.EPOCHS", tmp_path / "main.py").value == 30
    assert calls == [tmp_path / "cfg.py"]
    copy = pickle.loads(pickle.dumps(modules))
    assert copy.roots == modules.roots and copy._summaries == {}


def _summaries_kept_between_chunks(pickled: bytes) -> tuple[bool, int]:
    """In a pool worker: two chunks of jobs unpickle the run's ProjectModules; whether they
    get one instance, and how many modules the second had to summarise itself."""
    first = pickle.loads(pickled)
    first.constant("cfg.EPOCHS", first.roots[0] / "main.py")
    second = pickle.loads(pickled)
    before = len(second._summaries)
    second.constant("cfg.EPOCHS", second.roots[0] / "main.py")
    return first is second, len(second._summaries) - before


def test_the_chunks_of_a_pool_worker_share_what_the_project_knows(tmp_path):
    from concurrent.futures import ProcessPoolExecutor

    from green_lint import runner

    _write(tmp_path, {"cfg.py": "EPOCHS = 30\n", "main.py": ""})
    pickled = pickle.dumps(ProjectModules([tmp_path]))

    with ProcessPoolExecutor(max_workers=1, initializer=runner._start_worker) as pool:
        assert pool.submit(_summaries_kept_between_chunks, pickled).result() == (True, 0)
    # Outside a worker (this process), each copy starts afresh, as before.
    assert _summaries_kept_between_chunks(pickled) == (False, 1)


def test_the_message_names_the_module_that_sets_the_budget():
    path = PROJECTS / "budget_from_config" / "pkg" / "train.py"
    settings = LintSettings(rules=select_rules(["GL102"]), project=ProjectModules([path]))
    source = load_source(path, path.name, path.read_bytes())
    messages = {finding.location.row: finding.message for finding in lint_source(source, settings)}
    assert "all 200 epochs (`EPOCHS` is set in `config.py:3`)" in messages[23]
    assert "(`Settings.epochs` is set in `config.py:12`)" in messages[29]


def test_functions_are_summarised_with_their_calls_qualified_through_imports(tmp_path):
    _write(
        tmp_path,
        {
            "serving.py": (
                "import functools\nimport torch as T\nfrom joblib import load\n"
                "PATH = 'm.pt'\n"
                "def load_model():\n    return T.load(PATH)\n"
                "@functools.cache\ndef load_cached():\n    return load(PATH)\n"
                "def load_lazily():\n    global MODEL\n    MODEL = T.load(PATH)\n"
                "def helper(x):\n    def inner():\n        return T.load(x)\n    return inner\n"
            ),
            "app.py": "",
        },
    )
    modules = ProjectModules([tmp_path])
    app = tmp_path / "app.py"
    function = modules.function("serving.load_model", app)
    assert [(call.callee, call.reads, call.line) for call in function.calls] == [
        ("torch.load", frozenset({"PATH"}), 6)
    ]
    assert modules.function("serving.load_cached", app).decorators == ("functools.cache",)
    assert modules.function("serving.load_cached", app).calls[0].callee == "joblib.load"
    assert modules.function("serving.load_lazily", app).declares_global
    assert modules.function("serving.helper", app).calls == ()  # nested functions are their own
    assert modules.function("serving.PATH", app) is None
    assert modules.function("numpy.zeros", app) is None


def test_gl302_reads_a_file_only_when_an_imported_loader_loads_on_every_call(tmp_path):
    import ast

    from green_lint.registry import rule_by_code

    _write(
        tmp_path,
        {
            "serving.py": "import torch\ndef load_weights():\n    return torch.load('w.pt')\n",
            "data.py": "def load_rows(path):\n    return open(path).read()\n",
        },
    )
    modules = ProjectModules([tmp_path])
    rule = rule_by_code("GL302")

    def may_flag(text: str) -> bool:
        return rule.may_flag(ast.parse(text), text, lambda name: modules.function(name, tmp_path / "app.py"))

    assert may_flag("from serving import load_weights\nfor i in range(3):\n    load_weights()\n")
    assert not may_flag("from data import load_rows\nfor i in range(3):\n    load_rows('a.csv')\n")
    assert not may_flag("from sklearn.datasets import load_iris\nload_iris()\n")


def _lint(path: Path, codes: list[str], roots: list[Path]):
    settings = LintSettings(rules=select_rules(codes), project=ProjectModules(roots))
    return lint_source(load_source(path, path.name, path.read_bytes()), settings)


def test_a_cross_file_finding_names_its_callers_and_points_at_them():
    case = PROJECTS / "validate_elsewhere"
    (finding,) = _lint(case / "pkg" / "evaluation.py", ["GL301"], [case])
    assert "It is called with autograd on from `train.py:17` and 1 other place." in finding.message
    assert [(Path(r.filename).name, r.location.row, r.message) for r in finding.related] == [
        ("train.py", 17, "called here with autograd on"),
        ("train.py", 20, "called here with autograd on"),
    ]
    case = PROJECTS / "model_trained_elsewhere"
    findings = _lint(case / "src" / "vision" / "models.py", ["GL101"], [case])
    assert ["trained in `vision/train.py:20`" in f.message for f in findings] == [True, False]
    assert [r.location.row for f in findings for r in f.related] == [20, 22]


def test_uses_record_autograd_and_what_becomes_of_the_returned_value(tmp_path):
    _write(
        tmp_path,
        {
            "lib.py": "def build(): pass\ndef score(m, x): pass\ndef loss(m, x): pass\n",
            "main.py": (
                "import torch\nfrom lib import build, score, loss\n"
                "net = build().to('cpu')\n"  # trained through the alias
                "opt = torch.optim.SGD(net.parameters(), lr=0.1)\n"
                "other = build()\n"
                "other.load_state_dict(torch.load('w.pt'))\n"  # given weights
                "with torch.no_grad():\n    score(net, 1)\n"  # autograd off
                "@torch.no_grad()\ndef report():\n    return score(net, 2)\n"
                "def helper():\n    return score(net, 3)\n"
                "with torch.no_grad():\n    helper()\n"  # every caller has it off
                "total = loss(net, 4) * 2\ntotal.backward()\n"  # back-propagated
                "score(net, 5)\n"
                "def fit(model):\n    torch.optim.Adam(model.parameters())\n"
                "fit(build())\n"  # trained in the function it is passed to
            ),
        },
    )
    uses = {use.line: use for use in summarise(tmp_path / "main.py").uses}
    assert uses[3].trained and not uses[3].loaded
    assert uses[5].loaded and not uses[5].trained
    assert [uses[line].grad_off for line in (8, 11, 13, 18)] == [True, True, True, False]
    assert uses[16].backward and not uses[18].backward
    assert uses[21].trained


def test_callers_are_found_through_re_exports_and_only_for_the_same_definition(tmp_path):
    _write(
        tmp_path,
        {
            "pkg/__init__.py": "from .metrics import evaluate\n",
            "pkg/metrics.py": "def evaluate(model):\n    return model\n",
            "other.py": "def evaluate(model):\n    return model\n",
            "a.py": "from pkg import evaluate\nevaluate(1)\n",
            "b.py": "import pkg.metrics\npkg.metrics.evaluate(2)\n",
            "c.py": "from other import evaluate\nevaluate(3)\n",  # another function of that name
            "d.py": "def evaluate(m):\n    return m\nevaluate(4)\n",  # its own
        },
    )
    modules = ProjectModules([tmp_path])
    found = modules.callers("evaluate", tmp_path / "pkg" / "metrics.py")
    assert sorted((caller.path.name, caller.use.line) for caller in found) == [("a.py", 2), ("b.py", 2)]
    assert [c.path.name for c in modules.callers("evaluate", tmp_path / "other.py")] == ["c.py"]


def test_classes_that_depend_on_train_or_eval_mode(tmp_path):
    _write(
        tmp_path,
        {
            "models.py": (
                "from torch import nn\nimport torch.nn.functional as F\n"
                "class A(nn.Module):\n    def __init__(self):\n        self.d = nn.Dropout(0.1)\n"
                "class B(nn.Module):\n    def forward(self, x):\n        return F.dropout(x, training=self.training)\n"
                "class C(A):\n    pass\n"
                "class D(nn.Module):\n    def __init__(self, dropout_p=0.1):\n"
                "        self.gru = nn.GRU(4, 4, dropout=dropout_p)\n"  # one layer: inert
                "class E(nn.Module):\n    def __init__(self):\n        self.lstm = nn.LSTM(4, 4, num_layers=2, dropout=0.2)\n"
                "class F2(nn.Module):\n    def __init__(self):\n        self.n = nn.BatchNorm2d(3)\n"
                "class G(nn.Module):\n    def __init__(self):\n        self.fc = nn.Linear(2, 2)\n"
            ),
        },
    )
    assert summarise(tmp_path / "models.py").mode_dependent_classes == {"A", "B", "C", "E", "F2"}


def test_star_imports_are_followed_both_ways(tmp_path):
    _write(
        tmp_path,
        {
            "models.py": "from torch import nn\nEPOCHS = 40\nclass Net(nn.Module):\n    pass\n",
            "datasets.py": "class Images:\n    pass\n",
            "pkg/__init__.py": "from .inner import *\n",
            "pkg/inner.py": "def evaluate(model):\n    return model\n",
            "train.py": "from models import *\nfrom datasets import *\nfrom pkg import evaluate\nnet = Net()\n",
            "run.py": "from pkg.inner import *\nimport torch\nwith torch.no_grad():\n    evaluate(1)\n",
        },
    )
    modules = ProjectModules([tmp_path])
    train = tmp_path / "train.py"
    assert modules.project_class("models.Net", train).path == tmp_path / "models.py"
    assert modules.function("pkg.evaluate", train).path == tmp_path / "pkg" / "inner.py"
    callers = modules.callers("evaluate", tmp_path / "pkg" / "inner.py")
    assert sorted((c.path.name, c.use.grad_off) for c in callers) == [("run.py", True)]
    uses = summarise(train).uses
    assert sorted(use.callee for use in uses) == ["datasets.Net", "models.Net"]  # one per star


def test_a_notebook_that_calls_a_function_of_the_project_gives_its_budget(tmp_path):
    notebook = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Train"]},
            {
                "cell_type": "code",
                "metadata": {},
                "execution_count": 1,
                "outputs": [],
                "source": ["%matplotlib inline\n", "from utils import train\n", "\n", "train(net, data, 30)"],
            },
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    _write(
        tmp_path,
        {
            "utils.py": (
                "import torch\n\ndef train(net, data, num_epochs):\n"
                "    opt = torch.optim.SGD(net.parameters(), lr=0.1)\n"
                "    for epoch in range(num_epochs):\n"
                "        opt.zero_grad()\n        net(data).sum().backward()\n        opt.step()\n"
            ),
            "chapter/lesson.ipynb": json.dumps(notebook),
            "chapter/utils.py": "",  # the notebook's own folder comes first: not this one
        },
    )
    assert _lint(tmp_path / "utils.py", ["GL102"], [tmp_path]) == []
    (tmp_path / "chapter" / "utils.py").unlink()
    (finding,) = _lint(tmp_path / "utils.py", ["GL102"], [tmp_path])
    assert (
        "all 30 epochs (`num_epochs` is 30 in the call from `chapter/lesson.ipynb:cell2:4`)"
        in finding.message
    )


def test_a_module_too_deep_to_read_is_an_empty_summary(tmp_path):
    deep = "EPOCHS = " + " + ".join(["1"] * 2000) + "\n"  # CPython parses it; folding it recurses
    _write(tmp_path, {"cfg.py": deep, "main.py": "from cfg import EPOCHS\n"})
    assert ProjectModules([tmp_path]).constant("cfg.EPOCHS", tmp_path / "main.py") is None


def test_a_budget_from_callers_needs_the_builtin_range(tmp_path):
    _write(
        tmp_path,
        {
            "lib.py": (
                "import torch\nfrom ranges import range\n\ndef train(net, data, epochs):\n"
                "    opt = torch.optim.SGD(net.parameters(), lr=0.1)\n"
                "    for epoch in range(epochs):\n"
                "        opt.zero_grad()\n        net(data).sum().backward()\n        opt.step()\n"
            ),
            "main.py": "from lib import train\ntrain(None, None, 50)\n",
        },
    )
    assert _lint(tmp_path / "lib.py", ["GL102"], [tmp_path]) == []  # a user's own `range`
    (tmp_path / "lib.py").write_text(
        (tmp_path / "lib.py").read_text().replace("from ranges import range\n", "")
    )
    assert len(_lint(tmp_path / "lib.py", ["GL102"], [tmp_path])) == 1
