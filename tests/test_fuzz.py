"""Fuzz: hypothesmith programs, mutated as the trust audit did, keep green-lint's invariants
(tests/fuzz_cases.py); bench/fuzz.py runs many more."""

from __future__ import annotations

import hypothesmith
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz_cases import MUTATIONS, check_invariants, mutate


# hypothesmith compiles what it generates: `1()` warns that an int is not callable.
@pytest.mark.filterwarnings("ignore::SyntaxWarning")
@settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(
    program=hypothesmith.from_grammar(),
    kind=st.sampled_from(MUTATIONS),
    seed=st.integers(min_value=0, max_value=1_000_000),
)
def test_mutated_programs_keep_the_invariants(program, kind, seed):
    assert check_invariants(mutate(program, kind, seed)) == []


def test_the_invariants_catch_a_wrong_verdict(monkeypatch):
    """The check itself can fail: a linter that reports nothing on a rejected file is caught."""
    import tests.fuzz_cases as cases

    monkeypatch.setattr(cases, "lint_source", lambda source, settings: [])
    assert check_invariants(b"def broken(:\n") == ["CPython rejects the file, findings were []"]
