"""`verify --against REF` and `--after FILE`: an energy and time budget for pull requests
(issue #15, section 8)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.git_repos import git, isolate_git


def _busy(turns: int) -> str:
    return (
        f"total = 0\nfor i in range({turns}):\n    total += i % 7\nprint(f'RESULT total={{total % 1000}}')\n"
    )


def _verify(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "green_lint", "verify", *args, "--repeat", "3", "--warmup", "0"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )


@pytest.fixture
def repo(tmp_path, monkeypatch) -> Path:
    isolate_git(monkeypatch, tmp_path)
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    (root / "train.py").write_text(_busy(3_000_000))
    (root / ".gitignore").write_text("*.json\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "slow")
    return root


def test_a_regression_against_a_revision_fails_the_budget(repo):
    (repo / "train.py").write_text(_busy(9_000_000))  # the working tree does 3x the work
    status = git(repo, "status", "--porcelain")
    completed = _verify(
        "train.py", "--against", "HEAD", "--fail-over", "5", "--output-format", "json", cwd=repo
    )
    assert completed.returncode == 1, completed.stderr
    (entry,) = json.loads(completed.stdout)["scripts"]
    assert entry["verdict"] == "cost" and entry["after"] == "given"
    assert "regressed by at least" in completed.stderr and "over --fail-over 5%" in completed.stderr
    assert git(repo, "status", "--porcelain") == status  # nothing written in the repository
    assert not (repo / ".git" / "worktrees").exists()


def test_a_faster_working_tree_passes_the_budget(repo):
    (repo / "train.py").write_text(_busy(1_000_000))
    completed = _verify(
        "train.py", "--against", "HEAD", "--fail-over", "5", "--output-format", "json", cwd=repo
    )
    assert completed.returncode == 0, completed.stderr
    (entry,) = json.loads(completed.stdout)["scripts"]
    assert entry["verdict"] == "saving"
    assert entry["result_before"] != entry["result_after"]  # it computes less, and says so


def test_after_compares_any_two_programs(tmp_path):
    (tmp_path / "a.py").write_text(_busy(2_000_000))
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "b.py").write_text(_busy(2_000_000))
    completed = _verify("a.py", "--after", str(other / "b.py"), "--output-format", "json", cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    (entry,) = json.loads(completed.stdout)["scripts"]
    assert entry["after"] == "given" and entry["same_result"] is True
    assert entry["verdict"] in ("no-difference", "inconclusive")


def test_pairing_mistakes_are_usage_errors(repo):
    cases = [
        ("train.py", "--against", "no-such-ref"),
        ("train.py", "--against", "HEAD", "--after", "train.py"),
        (".", "--against", "HEAD"),
        ("train.py", "--fail-over", "5"),
    ]
    for args in cases:
        completed = _verify(*args, cwd=repo)
        assert completed.returncode == 2, (args, completed.stdout, completed.stderr)
        assert "Traceback" not in completed.stderr and "green-lint: error:" in completed.stderr
