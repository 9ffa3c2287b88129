"""The GitHub Action's `verify` input: an energy and time budget for pull requests.

Each named script runs at the pull request's base (`green-lint verify SCRIPT --against
BASE --fail-over PERCENT`) against the checked-out head; the Markdown report goes to the
job summary and a regression over the budget fails the step. Only on pull requests: other
events have no base to compare with."""

from __future__ import annotations

import shlex
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

DEFAULT_FAIL_OVER = "5"


def verify_scripts(
    env: Mapping[str, str],
    workspace: Path,
    base: str | None,
    write_summary: Callable[[Mapping[str, str], str], None],
) -> int:
    """0 when every script keeps to the budget (or there is nothing to verify), 1 when one
    regressed, 2 when verify could not run."""
    try:
        scripts = shlex.split(env.get("INPUT_VERIFY", ""))
    except ValueError as error:
        write_summary(env, f"\n## green-lint verify\n\nThe verify input cannot be split: {error}\n")
        return 2
    if not scripts:
        return 0
    if base is None:
        write_summary(
            env, "\n## green-lint verify\n\nNo base revision to compare with (not a pull request).\n"
        )
        return 0
    budget = env.get("INPUT_VERIFY_FAIL_OVER", "").strip() or DEFAULT_FAIL_OVER
    try:
        extra = shlex.split(env.get("INPUT_VERIFY_ARGS", ""))
    except ValueError as error:
        write_summary(env, f"\n## green-lint verify\n\nThe verify-args input cannot be split: {error}\n")
        return 2
    worst = 0
    for script in scripts:
        if not _at_revision(workspace, base, script):
            # A script the pull request adds: nothing at the base to measure it against.
            write_summary(
                env,
                f"\n## green-lint verify: `{script}`\n\nNew in this pull request: no base version to compare with.\n",
            )
            continue
        command = [
            sys.executable, "-m", "green_lint", "verify", script, "--against", base,
            "--fail-over", budget, "--output-format", "markdown", *extra,
        ]  # fmt: skip
        print(f"Running: {shlex.join(['green-lint', *command[3:]])}", file=sys.stderr, flush=True)
        completed = subprocess.run(
            command, cwd=workspace, capture_output=True, encoding="utf-8", errors="replace", check=False
        )
        sys.stderr.write(completed.stderr)
        if completed.returncode == 2:
            problem = (completed.stderr.strip().splitlines() or ["no output"])[-1]
            write_summary(env, f"\n## green-lint verify: `{script}`\n\nverify could not run: {problem}\n")
        else:
            write_summary(env, f"\n{completed.stdout}")
        worst = max(worst, completed.returncode)
    return worst


def _at_revision(workspace: Path, base: str, script: str) -> bool:
    """Whether `script` (relative to the workspace) exists at `base`; True when git cannot
    say, so that verify itself reports the problem."""
    try:
        completed = subprocess.run(
            ["git", "cat-file", "-e", f"{base}:./{script}"], cwd=workspace, capture_output=True, check=False
        )
    except OSError:
        return True
    if completed.returncode == 0:
        return True
    # Exit 128 with "does not exist" or "exists on disk, but not in": the path is missing.
    error = completed.stderr.decode(errors="replace")
    return not ("does not exist" in error or "exists on disk, but not in" in error)
