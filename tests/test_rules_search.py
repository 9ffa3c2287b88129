"""GL103 (hand-written grids), GL104 (search without pruning), GL105 (no mixed precision):
messages, ranges and the cases the fixtures do not show line by line."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from green_lint.engine import LintSettings, _hit, lint_source
from green_lint.registry import rule_by_code, select_rules
from green_lint.source import load_source

RULES_DIR = Path(__file__).resolve().parent.parent / "rules"


def lint(code: str, source: str):
    text = textwrap.dedent(source)
    loaded = load_source(Path("example.py"), "example.py", text.encode("utf-8"))
    return lint_source(loaded, LintSettings(rules=select_rules([code])))


# -- GL103 ------------------------------------------------------------------------------------
def test_grid_search_cv_message_counts_candidates_times_folds():
    [finding] = lint(
        "GL103",
        """
        from sklearn.model_selection import GridSearchCV
        search = GridSearchCV(SVC(), {"C": [0.1, 1, 10, 100], "gamma": [1e-3, 1e-2, 1e-1]})
        """,
    )
    assert "12 candidates x 5 folds = 60 fits" in finding.message


def test_nested_loops_message_range_and_no_fix():
    [finding] = lint(
        "GL103",
        """
        from sklearn.svm import SVC
        for C in [0.1, 1, 10, 100]:
            for gamma in (1e-3, 1e-2, 1e-1):
                SVC(C=C, gamma=gamma).fit(X, y)
        """,
    )
    assert finding.message.startswith(
        "Nested loops try all 4 x 3 = 12 combinations, training a model each time: use Optuna "
        "with a pruner, HalvingGridSearchCV or random search"
    )
    # The range is the outer loop header, `for` to the end of the iterable.
    assert (finding.location.row, finding.location.column) == (3, 1)
    assert (finding.end_location.row, finding.end_location.column) == (3, 27)
    assert finding.fix is None


def test_one_finding_per_search_whatever_the_depth():
    findings = lint(
        "GL103",
        """
        def tune():
            for lr in [0.1, 0.01]:
                for depth in range(2, 4):
                    for width in [8, 16]:
                        train(lr=lr, depth=depth, width=width)

        def train(lr, depth, width):
            model.fit(X, y)
        """,
    )
    assert [f.location.row for f in findings] == [3]
    assert "2 x 2 x 2 = 8 combinations" in findings[0].message


@pytest.mark.parametrize(
    "imports, call",
    [
        ("import itertools", "itertools.product"),
        ("from itertools import product", "product"),
        ("from itertools import product as p", "p"),
        ("import itertools as it", "it.product"),
    ],
)
def test_product_in_every_import_spelling(imports, call):
    [finding] = lint(
        "GL103",
        f"""
        {imports}
        for a, b in {call}([1, 2, 3], ["x", "y"]):
            model.fit(X, y, a=a, b=b)
        """,
    )
    assert finding.message.startswith("itertools.product tries all 3 x 2 = 6 combinations")


def test_product_of_a_literal_grid_dict_and_repeat():
    findings = lint(
        "GL103",
        """
        from itertools import product
        grid = {"C": [1, 2, 3], "gamma": [0.1, 0.2], "kernel": ["rbf"]}
        for values in product(*grid.values()):
            model.fit(X, y)
        for bits in product([0, 1], repeat=3):
            model.fit(X, y)
        """,
    )
    assert ["3 x 2 x 1 = 6" in findings[0].message, "2 x 2 x 2 = 8" in findings[1].message] == [True, True]


def test_sibling_inner_loops_add_up():
    [finding] = lint(
        "GL103",
        """
        for a in [1, 2]:
            for b in [1, 2, 3]:
                SVC(C=a, gamma=b).fit(X, y)
            for c in [1, 2]:
                SVC(C=a, degree=c).fit(X, y)
        """,
    )
    assert "all 10 combinations" in finding.message


def test_unknown_grid_size_is_said_plainly():
    [finding] = lint(
        "GL103",
        """
        import numpy as np
        def search(n):
            for C in np.logspace(-2, 2, n):
                for g in [1, 2]:
                    SVC(C=C, gamma=g).fit(X, y)
        """,
    )
    assert "every combination" in finding.message


@pytest.mark.parametrize(
    "source",
    [
        # nothing trained
        "import itertools\nfor a, b in itertools.product([1, 2], [3]):\n    print(a, b)\n",
        # an epoch/batch loop over literal ranges
        "for epoch in range(10):\n    for i in range(100):\n"
        "        loss = model(X[i])\n        loss.backward()\n        print(epoch, i)\n",
        # the user's own product
        "def product(*a):\n    return zip(*a)\nfor a, b in product([1], [2]):\n    model.fit(X, y, a=a)\n",
        # a training function imported from elsewhere: unknown
        "from mylib import train_model\nfor a in [1, 2]:\n    for b in [3, 4]:\n        train_model(a, b)\n",
        # a product that varies one value only
        "import itertools\nfor a, b in itertools.product([1, 2, 3], ['x']):\n    model.fit(X, y, a=a, b=b)\n",
        # loops over data
        "for X in datasets:\n    for seed in seeds:\n        SVC(random_state=seed).fit(X, y)\n",
    ],
)
def test_not_a_grid_search(source):
    assert lint("GL103", source) == []


# -- GL104 ------------------------------------------------------------------------------------
def test_optuna_message_names_the_objective_and_its_trial_parameter():
    [finding] = lint(
        "GL104",
        """
        import optuna
        def objective(t):
            for epoch in range(10):
                model.partial_fit(X, y)
            return model.score(X, y)
        study = optuna.create_study()
        study.optimize(objective, n_trials=20)
        """,
    )
    assert finding.location.row == 8
    assert "objective `objective`" in finding.message
    assert "t.report" in finding.message
    assert "raise optuna.TrialPruned()" in finding.message
    assert "MedianPruner" in finding.message
    assert finding.fix is None


def test_optuna_report_without_should_prune_is_flagged():
    [finding] = lint(
        "GL104",
        """
        from optuna import create_study
        def objective(trial):
            for epoch in range(10):
                loss.backward()
                trial.report(loss.item(), epoch)
        create_study().optimize(objective)
        """,
    )
    assert "never asks trial.should_prune()" in finding.message


@pytest.mark.parametrize(
    "objective",
    [
        # reports and prunes
        "def objective(trial):\n    for e in range(3):\n        model.fit(X, y)\n"
        "        trial.report(1.0, e)\n        if trial.should_prune():\n            raise optuna.TrialPruned()\n",
        # one shot
        "def objective(trial):\n    return cross_val_score(SVC(C=trial.suggest_float('C', 1, 2)), X, y).mean()\n",
        # the trial goes to an imported helper that may prune
        "from helpers import train\ndef objective(trial):\n    for e in range(3):\n"
        "        model.fit(X, y)\n    return train(trial)\n",
        # imported objective
        "from objectives import objective\n",
    ],
)
def test_optuna_objectives_that_are_not_flagged(objective):
    source = f"import optuna\n{objective}\noptuna.create_study().optimize(objective, n_trials=3)\n"
    assert lint("GL104", source) == []


def test_ray_messages_suggest_asha():
    findings = lint(
        "GL104",
        """
        from ray import tune
        def trainable(config):
            for step in range(10):
                tune.report({"loss": step})
        tune.Tuner(trainable, tune_config=tune.TuneConfig(metric="loss", mode="min")).fit()
        tune.Tuner(trainable).fit()
        tune.run(trainable)
        tune.Tuner(trainable, tune_config=tune.TuneConfig(scheduler=ASHAScheduler())).fit()
        """,
    )
    assert [f.location.row for f in findings] == [6, 7, 8]
    assert all("ASHAScheduler" in f.message for f in findings)


def test_ray_tune_config_built_elsewhere_is_not_flagged():
    source = (
        "from ray import tune\nfrom conf import make_config\ntune.Tuner(train, tune_config=make_config())\n"
    )
    assert lint("GL104", source) == []


# -- GL105 ------------------------------------------------------------------------------------
CUDA_LOOP = """
import torch
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
model = torch.nn.Linear(4, 1).to(device)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for inputs, targets in loader:
    optimizer.zero_grad()
    torch.nn.functional.mse_loss(model(inputs), targets).backward()
    optimizer.step()
"""


def test_cuda_training_loop_is_info_on_the_loop_header():
    [finding] = lint("GL105", CUDA_LOOP)
    assert finding.severity == "info"
    assert (finding.location.row, finding.end_location.row) == (6, 6)
    assert finding.end_location.column == len("for inputs, targets in loader") + 1
    assert "torch.autocast" in finding.message
    assert "GradScaler" in finding.message
    assert finding.fix is None


@pytest.mark.parametrize(
    "change",
    [
        ('torch.device("cuda" if torch.cuda.is_available() else "cpu")', 'torch.device("cpu")'),
        ("optimizer.zero_grad()", "optimizer.zero_grad()\n    with torch.autocast('cuda'):\n        pass"),
        ("import torch", "import torch\nfrom torch.amp import GradScaler"),
        (").backward()", ")"),
    ],
    ids=["cpu-only", "autocast", "grad-scaler-imported", "inference-only"],
)
def test_not_flagged(change):
    assert lint("GL105", CUDA_LOOP.replace(*change)) == []


@pytest.mark.parametrize("device", ['"cuda"', '"cuda:0"', 'torch.device("cuda", 0)', 'f"cuda:{rank}"'])
def test_cuda_device_spellings(device):
    source = CUDA_LOOP.replace('torch.device("cuda" if torch.cuda.is_available() else "cpu")', device)
    assert len(lint("GL105", source)) == 1


def test_only_the_innermost_training_loop_is_flagged():
    findings = lint(
        "GL105",
        """
        import torch
        model = torch.nn.Linear(4, 1).cuda()
        def train_step(batch):
            model(batch).sum().backward()
            optimizer.step()
        def train_epoch():
            return [train_step(batch) for batch in loader]
        for epoch in range(10):
            for batch in loader:
                train_step(batch)
        for epoch in range(10):
            train_epoch()
        for epoch in range(10):
            for micro_batch in loader:
                model(micro_batch).sum().backward()
            optimizer.step()
        """,
    )
    # The comprehension of train_epoch, the batch loop, and the accumulation loop (its
    # backward is in the inner loop, its step in the outer one).
    assert [f.location.row for f in findings] == [8, 10, 14]


# -- all three ----------------------------------------------------------------------------------
@pytest.mark.parametrize("code", ["GL104", "GL105"])
def test_files_without_triggers_are_skipped(code):
    rule = rule_by_code(code)
    assert rule.triggers
    assert not any(
        _hit(trigger, "import numpy as np\nprint(np.ones(3).sum())\n") for trigger in rule.triggers
    )


@pytest.mark.parametrize(
    "module", ["exhaustive_grid_search.py", "search_without_pruning.py", "no_mixed_precision.py", "_loops.py"]
)
def test_rule_modules_import_only_libcst_green_lint_and_the_standard_library(module):
    allowed = {"__future__", "dataclasses", "math", "collections", "re", "libcst", "green_lint"}
    tree = ast.parse((RULES_DIR / module).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= allowed
