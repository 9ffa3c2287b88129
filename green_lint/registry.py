"""Find the rules of the rule pack and choose among them by code or prefix (as ruff does).

The rule pack is known through a generated index (`rules/_index.py`, written by
`scripts/generate_docs.py`): codes, names, triggers and the other class attributes the
engine reads. A rule's module, and with it libcst, is imported only when the rule runs on a
file that holds one of its triggers, or when its docs are read. That keeps the start-up of
`green-lint one_file.py` (the pre-commit case) light.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from functools import cache
from typing import Any

from green_lint.rule import DOCS_URL, Rule

RULE_PACKAGE = "green_lint.rules"
INDEX_MODULE = f"{RULE_PACKAGE}._index"


class SelectionError(ValueError):
    """An unknown rule code or prefix; the message names it and the closest valid one."""


@dataclass(frozen=True, eq=False)
class RuleSpec:
    """A rule of the rule pack, known by its class attributes; the class loads on first use.

    It answers what the engine, the config and the outputs ask of a rule class
    (`code`, `triggers`, `file_kinds`, `url()`, ...) and, called like the class, imports
    the rule's module and makes the rule.
    """

    code: str
    name: str
    summary: str
    severity: str
    fix_safety: str | None
    preview: bool
    default_enabled: bool
    triggers: tuple[str | tuple[str | re.Pattern, ...] | re.Pattern, ...]
    project_triggers: tuple[str | tuple[str | re.Pattern, ...] | re.Pattern, ...]
    options: Mapping[str, Any]
    file_kinds: tuple[str, ...]
    handles_parse_errors: bool
    reports_unused_suppressions: bool
    reports_unchecked_files: bool
    module: str
    class_name: str

    def load(self) -> type[Rule]:
        return getattr(importlib.import_module(self.module), self.class_name)

    def __call__(self, context, options: Mapping[str, Any] | None = None) -> Rule:
        return self.load()(context, options)

    def may_flag(self, tree, text: str, project_function=None) -> bool:
        return self.load().may_flag(tree, text, project_function)

    def may_flag_across_files(self, tree, project) -> bool:
        return self.load().may_flag_across_files(tree, project)

    def docs(self) -> str:
        return self.load().docs()

    def url(self) -> str:
        return DOCS_URL.format(code=self.code.lower())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RuleSpec) and other.code == self.code

    def __hash__(self) -> int:
        return hash(self.code)

    def __repr__(self) -> str:
        return f"<rule {self.code} {self.name}>"


SPEC_ATTRIBUTES = tuple(f.name for f in fields(RuleSpec) if f.name not in ("module", "class_name"))


def spec_of(rule: type[Rule]) -> RuleSpec:
    """The index entry of a rule class."""
    values = {name: getattr(rule, name) for name in SPEC_ATTRIBUTES}
    return RuleSpec(**values, module=rule.__module__, class_name=rule.__name__)


@cache
def all_rules() -> tuple[RuleSpec, ...]:
    """Every rule of the rule pack, sorted by code: from the index when it is current."""
    modules = _rule_modules()
    try:
        index = importlib.import_module(INDEX_MODULE)
    except ImportError:
        index = None
    if index is not None and list(index.MODULES) == modules:
        return tuple(RuleSpec(**entry) for entry in index.RULES)
    # No index, or a rule module was added or removed since it was written: import them all.
    return tuple(spec_of(rule) for rule in rule_classes(modules))


def _rule_modules() -> list[str]:
    """The rule pack's rule modules (its private helper modules start with `_`)."""
    package = importlib.import_module(RULE_PACKAGE)
    return sorted(
        info.name for info in pkgutil.iter_modules(package.__path__) if not info.name.startswith("_")
    )


def rule_classes(modules: Iterable[str] | None = None) -> list[type[Rule]]:
    """The rule classes themselves, by importing every rule module (slow: imports libcst)."""
    found: dict[str, type[Rule]] = {}
    for name in _rule_modules() if modules is None else modules:
        module = importlib.import_module(f"{RULE_PACKAGE}.{name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Rule)
                and value.__module__ == module.__name__
                and hasattr(value, "code")
            ):
                found[value.code] = value
    return [found[code] for code in sorted(found)]


def rule_by_code(code: str) -> RuleSpec:
    code = code.upper()
    for rule in all_rules():
        if rule.code == code:
            return rule
    known = [rule.code for rule in all_rules()]
    under = [k for k in known if k.startswith(code)]
    if under:  # `green-lint rule GL1`: a selector's prefix, not one rule
        raise SelectionError(
            f"{code!r} is a prefix of several rules, not one: name one of {', '.join(under)}"
        )
    raise SelectionError(_unknown("rule code", code, known))


def check_codes(codes: Iterable[str], what: str = "rule code") -> None:
    """Raise SelectionError for a code or prefix that matches no rule."""
    known = [rule.code for rule in all_rules()]
    for code in codes:
        if code == "ALL" or any(k.startswith(code) for k in known):
            continue
        raise SelectionError(_unknown(what, code, known))


def _unknown(what: str, code: str, known: Sequence[str]) -> str:
    import difflib

    close = difflib.get_close_matches(code, known, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]}?" if close else f"; valid codes are {', '.join(known)}"
    return f"unknown {what} {code!r}{hint}"


@dataclass(frozen=True)
class Selection:
    """The rule selectors of one source of settings: a config file, the command line, an
    editor's options. `select` None leaves the selection below it as it is."""

    select: Sequence[str] | None = None
    extend_select: Sequence[str] = ()
    ignore: Sequence[str] = ()


def select_rules(
    select: Sequence[str] | None = None,
    extend_select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    preview: bool = False,
) -> list[RuleSpec]:
    """The rules one source of selectors chooses (see `select_layered`)."""
    return select_layered([Selection(select, tuple(extend_select), tuple(ignore))], preview)


def select_layered(layers: Sequence[Selection], preview: bool = False) -> list[RuleSpec]:
    """The rules chosen by ruff's semantics, from the layers of settings in rising priority
    (a config file, then the command line):
    - within a layer, the most specific matching selector wins, and `ignore` a tie;
    - a layer with `select` starts the selection afresh, so `--select GL301` runs GL301
      even where the config ignores it; a layer without one adjusts the selection below,
      so `--extend-select GL301` does too;
    - a rule that is off by default (or in preview without `preview`) is chosen only by a
      selector naming its exact code;
    - the rules reporting files that do not parse or were not checked are always on, as
      in ruff, unless the selection ignores them explicitly.
    """
    for layer in layers:
        check_codes([*(layer.select or ()), *layer.extend_select, *layer.ignore])
    rules = all_rules()
    chosen: set[str] = set()
    ignored: set[str] = set()  # chosen off by an `ignore` still in force
    for layer in (Selection(select=("GL",)), *layers):
        positive = [*(layer.select or ()), *layer.extend_select]
        updates = {}
        for rule in rules:
            best_on = _longest_match(rule.code, positive)
            best_off = _longest_match(rule.code, layer.ignore)
            if best_off is not None and (best_on is None or len(best_off) >= len(best_on)):
                updates[rule.code] = False
            elif best_on is not None:
                exact = best_on == rule.code
                if (rule.default_enabled or exact) and (not rule.preview or preview or exact):
                    updates[rule.code] = True
        if layer.select is not None:
            chosen = {code for code, on in updates.items() if on}
            ignored = {code for code, on in updates.items() if not on}
        else:
            for code, on in updates.items():
                (chosen if on else ignored).add(code)
                (ignored if on else chosen).discard(code)
    found = [rule for rule in rules if rule.code in chosen]
    always = [
        rule
        for rule in rules
        if (rule.handles_parse_errors or rule.reports_unchecked_files)
        and rule.code not in chosen
        and rule.code not in ignored
    ]
    return found + always


def _longest_match(code: str, selectors: Sequence[str]) -> str | None:
    matches = [s for s in selectors if s == "ALL" or code.startswith(s)]
    if not matches:
        return None
    return max(matches, key=lambda s: 0 if s == "ALL" else len(s))
