"""The project index between runs: findings that read another file are linted again when
that file changes, and module summaries are kept per file content, so a warm run
summarises only what changed and a pre-commit run on one file reads the rest from the
cache."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from green_lint.build import build_id
from green_lint.project import modules as project_modules

CONFIG = "EPOCHS = {epochs}\n"
TRAIN = (
    "import torch\nfrom torch import nn\n\nfrom config import EPOCHS\n\n"
    "model = nn.Linear(2, 1)\noptimizer = torch.optim.SGD(model.parameters(), lr=0.1)\n"
    "for epoch in range(EPOCHS):\n"
    "    optimizer.zero_grad()\n    model(torch.ones(1, 2)).sum().backward()\n    optimizer.step()\n"
)
UTILS = (
    "import torch\n\n\ndef evaluate(model, batches):\n    model.eval()\n"
    "    return [model(x) for x in batches]\n"
)
CALLER = "import torch\n\nfrom utils import evaluate\n\nmodel = torch.nn.Linear(2, 1)\n{call}\n"


@pytest.fixture
def summarised(monkeypatch) -> list[str]:
    """The files summarised from their text in this process (not read from the store)."""
    calls: list[str] = []
    real = project_modules.summarise_source
    monkeypatch.setattr(
        project_modules,
        "summarise_source",
        lambda path, data: calls.append(Path(path).name) or real(path, data),
    )
    return calls


def _codes(result) -> list[tuple[str, str]]:
    return sorted((item["filename"], item["code"]) for item in json.loads(result.stdout))


def test_a_cached_finding_is_linted_again_when_the_module_it_read_changes(cli, tmp_path):
    (tmp_path / "config.py").write_text(CONFIG.format(epochs=200))
    (tmp_path / "train.py").write_text(TRAIN)
    assert _codes(cli(".", "--output-format", "json", cwd=tmp_path)) == [("train.py", "GL102")]
    (tmp_path / "config.py").write_text(CONFIG.format(epochs=3))
    assert _codes(cli(".", "--output-format", "json", cwd=tmp_path)) == []
    (tmp_path / "config.py").write_text(CONFIG.format(epochs=300))
    result = cli(".", "--output-format", "json", cwd=tmp_path)
    assert _codes(result) == [("train.py", "GL102")]
    assert "300 epochs" in json.loads(result.stdout)[0]["message"]


def test_a_cached_finding_is_linted_again_when_a_new_caller_appears(cli, tmp_path):
    (tmp_path / "utils.py").write_text(UTILS)
    (tmp_path / "a.py").write_text(CALLER.format(call="with torch.no_grad():\n    evaluate(model, [])"))
    assert _codes(cli(".", "--output-format", "json", cwd=tmp_path)) == []
    (tmp_path / "b.py").write_text(CALLER.format(call="evaluate(model, [])"))
    result = cli(".", "--output-format", "json", cwd=tmp_path)
    assert _codes(result) == [("utils.py", "GL301")]
    assert "`b.py:6`" in json.loads(result.stdout)[0]["message"]


def test_a_warm_run_after_touching_one_file_summarises_only_that_file(cli, tmp_path, summarised):
    (tmp_path / "config.py").write_text(CONFIG.format(epochs=200))
    (tmp_path / "train.py").write_text(TRAIN)
    (tmp_path / "utils.py").write_text(UTILS)
    for name in ("a.py", "b.py", "c.py"):
        (tmp_path / name).write_text(CALLER.format(call="evaluate(model, [])"))
    cli(".", cwd=tmp_path)
    assert sorted(summarised) == ["a.py", "b.py", "c.py", "config.py", "utils.py"]
    stored = tmp_path / ".green-lint-cache" / build_id() / "project-summaries.json"
    assert stored.is_file()
    summarised.clear()
    cli(".", cwd=tmp_path)
    assert summarised == []  # nothing changed: every finding and summary comes from the cache
    (tmp_path / "config.py").write_text(CONFIG.format(epochs=250))
    (tmp_path / "b.py").write_text(CALLER.format(call="evaluate(model, [1])"))
    result = cli(".", cwd=tmp_path)
    assert sorted(summarised) == ["b.py", "config.py"]
    assert "250 epochs" in result.stdout


def test_a_pre_commit_run_on_one_file_reads_the_rest_of_the_project_from_the_cache(cli, tmp_path, summarised):
    (tmp_path / "pyproject.toml").write_text("[tool.green-lint]\n")
    (tmp_path / "utils.py").write_text(UTILS)
    for index in range(30):
        (tmp_path / f"job_{index}.py").write_text(CALLER.format(call="evaluate(model, [])"))
    cli(".", cwd=tmp_path)
    summarised.clear()
    (tmp_path / "utils.py").write_text(UTILS + "\n# edited\n")
    result = cli("utils.py", "--output-format", "json", cwd=tmp_path)
    assert _codes(result) == [("utils.py", "GL301")]
    assert summarised == ["utils.py"]  # the changed file only: the 30 callers come from the store


def test_a_store_from_another_machine_is_not_read(cli, tmp_path, summarised):
    (tmp_path / "config.py").write_text(CONFIG.format(epochs=200))
    (tmp_path / "train.py").write_text(TRAIN)
    cli(".", "--no-cache", cwd=tmp_path)
    cli(".", cwd=tmp_path)
    stored = tmp_path / ".green-lint-cache" / build_id() / "project-summaries.json"
    _, _, payload = stored.read_bytes().partition(b"\n")
    data = json.loads(payload)
    [entry] = data["files"].values()
    entry["summary"]["constants"]["EPOCHS"] = ["3", 1]  # edited to hide the budget
    stored.write_bytes(b"0" * 64 + b"\n" + json.dumps(data).encode())
    (tmp_path / "train.py").write_text(TRAIN + "\n")
    summarised.clear()
    assert "GL102" in cli(".", cwd=tmp_path).stdout
    assert summarised == ["config.py"]


def test_a_warm_run_dates_the_summary_store_it_did_not_need(cli, tmp_path):
    """A run with nothing to summarise still used the store: the GitHub Action prunes cache
    files by their last use, and must not take a week of warm runs for disuse."""
    (tmp_path / "config.py").write_text(CONFIG.format(epochs=200))
    (tmp_path / "train.py").write_text(TRAIN)
    assert cli(".", cwd=tmp_path).returncode == 1
    folder = tmp_path / ".green-lint-cache" / build_id()
    store = folder / "project-summaries.json"
    files = sorted(folder.glob("*.json"))
    assert store in files and len(files) == 2
    long_ago = store.stat().st_mtime - 30 * 24 * 3600
    for path in files:
        os.utime(path, (long_ago, long_ago))
    contents = [path.read_bytes() for path in files]

    assert cli(".", cwd=tmp_path).returncode == 1

    assert [path.read_bytes() for path in files] == contents  # warm: nothing written
    assert all(path.stat().st_mtime > long_ago + 29 * 24 * 3600 for path in files)
