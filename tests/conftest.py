"""Shared helpers: run the command line in a subprocess, or in-process for the cheap cases."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

# Variables of the caller's environment that would change what the command line prints.
_OUTPUT_VARIABLES = ("NO_COLOR", "FORCE_COLOR", "CLICOLOR_FORCE", "GREEN_LINT_DEBUG")


@dataclass
class CliResult:
    """What an in-process run gives: the fields of `subprocess.CompletedProcess` the tests read."""

    returncode: int
    stdout: str
    stderr: str


def _environment(extra: dict[str, str] | None) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in _OUTPUT_VARIABLES}
    env.update(extra or {})
    return env


@pytest.fixture
def run_cli():
    """`run_cli(*args, cwd=..., env=None)`: `python -m green_lint ARGS` in a subprocess run in
    `cwd`, as text; `env` adds variables to a copy of the environment without the colour
    variables. Returns the `subprocess.CompletedProcess`."""

    def run(*args: object, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "green_lint", *map(str, args)],
            cwd=cwd,
            env=_environment(env),
            capture_output=True,
            text=True,
            errors="surrogateescape",  # file names that are not UTF-8 come back as they were
            timeout=120,
        )

    return run


@pytest.fixture
def cli(monkeypatch, capsys):
    """`cli(*args, cwd=..., env=None)`: the same through `green_lint.cli.main` in this process
    (no interpreter start-up): returns a `CliResult`. stdout is never a terminal here."""

    def run(*args: object, cwd: Path, env: dict[str, str] | None = None) -> CliResult:
        from green_lint.cli import main

        for name in _OUTPUT_VARIABLES:
            monkeypatch.delenv(name, raising=False)
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        monkeypatch.chdir(cwd)
        capsys.readouterr()
        try:
            main([str(arg) for arg in args])
            code: object = 0
        except SystemExit as exit_:
            code = exit_.code
        out, err = capsys.readouterr()
        if code is None:
            code = 0
        return CliResult(code if isinstance(code, int) else 1, out, err)

    return run


@pytest.fixture(autouse=True, scope="session")
def _private_cache_home(tmp_path_factory):
    """The cache key lives in the user's cache home: keep the tests' key out of the real one."""
    previous = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache-home"))
    os.environ.pop("GREEN_LINT_CACHE_DIR", None)
    yield
    if previous is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = previous
