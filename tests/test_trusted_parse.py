"""The trusted parse makes libcst's tree, and leaves libcst as it found it."""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from pathlib import Path

import libcst as cst
import pytest

from green_lint import trusted_parse
from green_lint.trusted_parse import lean_constructors, parse_trusted
from green_lint.walk import walk
from tests.test_engine import ENGINE_SOURCE, RARE_SYNTAX

ROOT = Path(__file__).resolve().parent.parent


def _sources() -> list[str]:
    paths = [*sorted((ROOT / "green_lint").rglob("*.py")), *sorted((ROOT / "fixtures").rglob("*.py"))]
    return [RARE_SYNTAX, *(path.read_text(encoding="utf-8") for path in paths)]


@pytest.mark.parametrize("lean_after", [0, 10**12], ids=["lean constructors", "own constructors"])
def test_the_trusted_parse_builds_the_same_tree_and_leaves_validation_on(monkeypatch, lean_after):
    monkeypatch.setattr(trusted_parse, "LEAN_AFTER_CHARACTERS", lean_after)
    for text in (ENGINE_SOURCE.read_text(encoding="utf-8"), RARE_SYNTAX):
        assert parse_trusted(text).deep_equals(cst.parse_module(text))
    with pytest.raises(cst.ParserSyntaxError):
        parse_trusted("x = (\n")
    # Nodes made after a parse, like the nodes of a fix, are validated again.
    with pytest.raises(cst.CSTValidationError):
        cst.Name("not a name")


def test_every_node_class_gets_its_own_constructor_back_even_after_a_failed_parse(monkeypatch):
    monkeypatch.setattr(trusted_parse, "LEAN_AFTER_CHARACTERS", 0)
    constructors = lean_constructors()
    assert {cst.Name, cst.Call, cst.SimpleWhitespace, cst.FunctionDef} <= constructors.keys()
    for text in (RARE_SYNTAX, "x = (\n"):
        with contextlib.suppress(cst.ParserSyntaxError):
            parse_trusted(text)
        assert all(node_class.__init__ is own for node_class, (own, _) in constructors.items())


def test_a_lean_constructor_makes_what_its_class_makes(monkeypatch):
    """Every node of the project's code, its fixtures and the rare syntax, made again by
    its class's lean `__init__` and by the dataclass's own: from all its fields, and from
    only those without a default (the defaults and default factories)."""
    constructors = lean_constructors()
    monkeypatch.setattr(cst.CSTNode, "__post_init__", lambda node: None)  # compare, not validate
    compared: set[type] = set()
    for text in _sources():
        for node in walk(cst.parse_module(text)):
            node_class = type(node)
            if node_class in compared:
                continue
            compared.add(node_class)
            own, lean = constructors[node_class]
            fields = dataclasses.fields(node_class)
            every = {field.name: getattr(node, field.name) for field in fields}
            required = {
                field.name: every[field.name]
                for field in fields
                if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
            }
            for arguments in (every, required):
                by_own, by_lean = object.__new__(node_class), object.__new__(node_class)
                own(by_own, **arguments)
                lean(by_lean, **arguments)
                assert by_lean.deep_equals(by_own), (node_class, arguments)
    assert len(compared) >= 100


def test_a_process_makes_the_lean_constructors_only_once_it_has_parsed_enough(monkeypatch):
    monkeypatch.setattr(trusted_parse, "_parsed_characters", 0)
    made = []
    monkeypatch.setattr(trusted_parse, "lean_constructors", lambda: made.append(1) or {})
    small = "x = 1\n"
    parse_trusted(small)
    assert made == []  # a pre-commit run on one small file
    parse_trusted(small * (trusted_parse.LEAN_AFTER_CHARACTERS // len(small)))
    assert made == [1]


def test_a_parse_in_another_thread_does_not_take_the_swapped_methods_for_libcsts(monkeypatch):
    """A second thread starts parsing while the first has libcst's classes swapped, and
    finishes after it: it must not put the swapped methods back as if they were libcst's."""
    monkeypatch.setattr(trusted_parse, "LEAN_AFTER_CHARACTERS", 0)
    validation = cst.CSTNode.__dict__["__post_init__"]
    own = {node_class: init for node_class, (init, _) in lean_constructors().items()}
    # Put back by the fixture's teardown even if the test fails, for the tests after it.
    monkeypatch.setattr(cst.CSTNode, "__post_init__", validation)
    for node_class, init in own.items():
        monkeypatch.setattr(node_class, "__init__", init)
    real_parse = cst.parse_module
    first_done = threading.Event()
    second: list[threading.Thread] = []

    def parse(text, *args, **kwargs):
        if not second:
            second.append(threading.Thread(target=parse_trusted, args=("y = 2\n",)))
            second[0].start()
        else:
            first_done.wait(timeout=10)
        return real_parse(text, *args, **kwargs)

    monkeypatch.setattr(cst, "parse_module", parse)
    parse_trusted("x = 1\n")
    first_done.set()
    second[0].join(timeout=10)
    assert cst.CSTNode.__dict__["__post_init__"] is validation
    assert all(node_class.__init__ is init for node_class, init in own.items())
