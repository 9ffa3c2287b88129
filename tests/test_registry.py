"""The rule index: the engine learns the rule pack from it without importing every rule."""

from __future__ import annotations

import importlib
import pickle

import pytest

from green_lint import registry
from green_lint.registry import INDEX_MODULE, RuleSpec, all_rules, rule_classes, spec_of


@pytest.fixture
def fresh_registry():
    registry.all_rules.cache_clear()
    yield
    registry.all_rules.cache_clear()


def test_the_index_describes_every_rule_class_as_it_is():
    assert [(spec.code, spec) for spec in all_rules()] == [
        (rule.code, spec_of(rule)) for rule in rule_classes()
    ]
    for spec, rule in zip(all_rules(), rule_classes(), strict=True):
        for attribute in registry.SPEC_ATTRIBUTES:
            assert getattr(spec, attribute) == getattr(rule, attribute), (spec.code, attribute)


def test_a_rule_module_missing_from_the_index_is_still_found(fresh_registry, monkeypatch):
    index = importlib.import_module(INDEX_MODULE)
    monkeypatch.setattr(index, "MODULES", index.MODULES[1:])
    monkeypatch.setattr(index, "RULES", index.RULES[1:])
    assert [spec.code for spec in all_rules()] == [rule.code for rule in rule_classes()]


def test_a_spec_makes_its_rule_and_reads_its_docs():
    spec = registry.rule_by_code("GL103")
    rule_class = spec.load()
    assert rule_class.code == "GL103"
    assert spec.docs() == rule_class.docs()
    assert spec.url() == rule_class.url()
    rule = spec(context=None, options=None)
    assert isinstance(rule, rule_class)


def test_a_spec_survives_pickling_for_the_process_pool():
    spec = registry.rule_by_code("GL102")
    copy = pickle.loads(pickle.dumps(spec))
    assert isinstance(copy, RuleSpec)
    assert copy == spec
    assert copy.options == {"min-epochs": 10, "min-rounds": 100}
    assert copy.triggers == spec.triggers
