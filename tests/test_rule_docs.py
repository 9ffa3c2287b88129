"""Every rule's docs, as `green-lint rule CODE` prints them: the same sections, in order."""

from __future__ import annotations

import re

import pytest

from green_lint.registry import all_rules

SECTIONS = ["What it does", "Why it wastes energy", "Example", "Use instead", "Fix safety", "Evidence"]
# The rules that report on files or comments rather than on energy.
HOUSEKEEPING = {"GL001", "GL002", "GL003"}


@pytest.mark.parametrize("rule", all_rules(), ids=lambda rule: rule.code)
def test_docs_have_every_section_in_order(rule):
    assert re.findall(r"^## (.+)$", rule.docs(), flags=re.MULTILINE) == SECTIONS
    assert rule.summary and not rule.summary.endswith(".")


@pytest.mark.parametrize("rule", [r for r in all_rules() if r.code not in HOUSEKEEPING], ids=lambda r: r.code)
def test_energy_rules_cite_sources_and_point_to_verify(rule):
    evidence = rule.docs().split("## Evidence", 1)[1]
    assert "http" in evidence
    assert "green-lint verify" in rule.docs()
