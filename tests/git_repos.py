"""Throw-away git repositories for the tests of changed-lines mode and the GitHub Action."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

IMPORTS = "from sklearn.model_selection import GridSearchCV\nfrom sklearn.svm import SVC\n"
# Variables that would point git at another repository (a git hook running the tests sets them).
_REPOSITORY_VARIABLES = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_PREFIX")


def grid(name: str, c: int = 10) -> str:
    """A line GL103 flags, from column len(name) + 4."""
    return f'{name} = GridSearchCV(SVC(), {{"C": [1, {c}]}}, cv=3)\n'


def isolate_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """git as on a fresh machine, for this process and its children: no user or system
    configuration, no repository forced from outside, none found above `tmp_path`."""
    for name in _REPOSITORY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    monkeypatch.setenv("GIT_TERMINAL_PROMPT", "0")
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Test")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "test@example.com")


def git(repo: Path, *args: str) -> str:
    completed = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
    assert completed.returncode == 0, (args, completed.stderr)
    return completed.stdout


def write(folder: Path, files: dict[str, str]) -> None:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode("utf-8"))


def make_repo(path: Path, files: dict[str, str]) -> Path:
    """A repository whose branch `main` has one commit with `files`, and a checked-out
    branch `feature` at the same commit."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q")
    git(path, "checkout", "-q", "-b", "main")
    write(path, files)
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "base")
    git(path, "checkout", "-q", "-b", "feature")
    return path


def commit(repo: Path, files: dict[str, str], message: str = "change") -> None:
    write(repo, files)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
