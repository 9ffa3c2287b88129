"""Across files: constants another module of the project defines (fixtures/project/)."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest

from green_lint.engine import LintSettings, lint_source
from green_lint.project import ProjectModules
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
    for path in sorted(case.rglob("*.py")):
        if _expected(path):
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
    real = project_module.summarise
    monkeypatch.setattr(project_module, "summarise", lambda path: calls.append(path) or real(path))
    modules = ProjectModules([tmp_path])
    for _ in range(3):
        assert modules.constant("cfg.EPOCHS", tmp_path / "main.py").value == 30
    assert calls == [tmp_path / "cfg.py"]
    copy = pickle.loads(pickle.dumps(modules))
    assert copy.roots == modules.roots and copy._summaries == {}


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
