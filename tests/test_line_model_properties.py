"""Property tests of the line model: a program salted with characters that are line ends
for `str.splitlines` but not for Python is linted and fixed exactly like its clean twin."""

from __future__ import annotations

import ast
from pathlib import Path

import hypothesmith
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from green_lint.engine import LintSettings, lint_source
from green_lint.fix import fix_source
from green_lint.registry import select_rules
from green_lint.source import load_source

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
# Every fixture with an expected fix: the fixable shapes of the rule pack.
FIXABLE = sorted(path.with_name(path.name.replace(".fixed", "")) for path in FIXTURES.glob("*/*.fixed.py"))
SALT = st.sampled_from(["\x0c", "\x0b", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"])
PROPERTY_SETTINGS = settings(
    max_examples=15, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


def _statement_lines(code: str) -> list[int]:
    """The 0-based lines that start a statement (a comment line may go before each)."""
    return sorted({node.lineno - 1 for node in ast.walk(ast.parse(code)) if isinstance(node, ast.stmt)})


def _salted_twins(code: str, salt: str, picks: list[int]) -> tuple[str, str]:
    """The code with a comment line before some statements, with and without the salt."""
    lines = code.split("\n")
    starts = _statement_lines(code)
    if not starts:
        return code, code
    chosen = {starts[pick % len(starts)] for pick in picks}
    salted, clean = [], []
    for number, line in enumerate(lines):
        if number in chosen:
            indent = line[: len(line) - len(line.lstrip())]
            salted.append(f"{indent}# salt {salt} here")
            clean.append(f"{indent}# salt  here")
        salted.append(line)
        clean.append(line)
    return "\n".join(salted), "\n".join(clean)


def _fix(code: str, rule: str) -> str:
    source = load_source(Path("a.py"), "a.py", code.encode("utf-8"))
    return fix_source(source, LintSettings(rules=select_rules([rule])), unsafe=True).text


@pytest.mark.parametrize("fixture", FIXABLE, ids=[f"{p.parent.name}/{p.name}" for p in FIXABLE])
@PROPERTY_SETTINGS
@given(salt=SALT, picks=st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=4))
def test_fixing_a_salted_program_equals_fixing_its_clean_twin(fixture, salt, picks):
    code = fixture.read_text(encoding="utf-8")
    salted, clean = _salted_twins(code, salt, picks)
    rule = fixture.parent.name
    assert _fix(salted, rule).replace(salt, "") == _fix(clean, rule)


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(program=hypothesmith.from_grammar(), salt=SALT, picks=st.lists(st.integers(0, 10_000), max_size=3))
def test_salted_generated_programs_have_the_findings_of_their_twins(program, salt, picks):
    try:
        _statement_lines(program)
    except (SyntaxError, ValueError):
        return  # the grammar admits a few programs CPython rejects
    salted, clean = _salted_twins(program, salt, picks) if picks else (program, program)
    rules = LintSettings(rules=select_rules(["GL"]))

    def rows(code: str) -> list[tuple[str, int, int]]:
        source = load_source(Path("a.py"), "a.py", code.encode("utf-8"))
        return [(f.code, f.location.row, f.location.column) for f in lint_source(source, rules)]

    assert rows(salted) == rows(clean)
