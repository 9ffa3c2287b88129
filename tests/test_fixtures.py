"""Every fixture: exactly the expected findings; --fix gives the .fixed file, idempotently;
the original and the fixed program both run (and print the same RESULT when declared)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.fixture_cases import FIXTURES, cases_with_fix, cases_without_fix, fixture_cases

RUN_TIMEOUT = 300


@pytest.mark.parametrize("case", fixture_cases(), ids=lambda case: case.id)
def test_findings_are_exactly_the_expected_ones(case):
    assert case.actual() == case.expected()


@pytest.mark.parametrize("case", cases_with_fix(), ids=lambda case: case.id)
def test_fix_gives_the_fixed_file_and_is_idempotent(case):
    fixed = case.fixed_text()
    assert fixed == case.fixed_path.read_text(encoding="utf-8")
    assert case.fixed_text(fixed) == fixed


def _run(path) -> str:
    # One thread: on a shared 2-core machine, BLAS/OpenMP oversubscription makes tiny fits slow.
    env = {**os.environ, "GREEN_LINT_FIXTURE_SMALL": "1", "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1"}
    completed = subprocess.run(
        [sys.executable, str(path)],
        cwd=path.parent,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        env=env,
    )
    assert completed.returncode == 0, f"{path.name} failed:\n{completed.stderr[-3000:]}"
    results = [line for line in completed.stdout.splitlines() if line.startswith("RESULT")]
    return results[-1] if results else ""


@pytest.mark.parametrize("case", [c for c in cases_with_fix() if c.runnable], ids=lambda case: case.id)
def test_original_and_fixed_programs_run(case):
    before = _run(case.path)
    after = _run(case.fixed_path)
    if case.same_result:
        assert before == after


@pytest.mark.parametrize("case", cases_without_fix(), ids=lambda case: case.id)
def test_no_fix_fixtures_are_left_unchanged_and_run(case):
    assert case.fixed_text() == case.path.read_text(encoding="utf-8")
    if case.runnable:
        _run(case.path)


def test_every_rule_with_fixtures_has_positive_and_negative_cases():
    by_code: dict[str, list] = {}
    for case in fixture_cases():
        by_code.setdefault(case.code, []).append(case)
    assert by_code, f"no fixtures found under {FIXTURES}"
    for code, cases in by_code.items():
        assert any(case.expected() for case in cases), f"{code} has no positive fixture"
        assert any(not case.expected() for case in cases), f"{code} has no negative fixture"
