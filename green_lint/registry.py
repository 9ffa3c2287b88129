"""Find the rules of the rule pack and choose among them by code or prefix (as ruff does)."""

from __future__ import annotations

import difflib
import importlib
import inspect
import pkgutil
from collections.abc import Iterable, Sequence
from functools import cache

from green_lint.rule import Rule

RULE_PACKAGE = "green_lint.rules"


class SelectionError(ValueError):
    """An unknown rule code or prefix; the message names it and the closest valid one."""


@cache
def all_rules() -> tuple[type[Rule], ...]:
    """Every rule class of the rule pack, sorted by code."""
    package = importlib.import_module(RULE_PACKAGE)
    found: dict[str, type[Rule]] = {}
    for module_info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{RULE_PACKAGE}.{module_info.name}")
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, Rule) and value.__module__ == module.__name__ and hasattr(value, "code"):
                found[value.code] = value
    return tuple(found[code] for code in sorted(found))


def rule_by_code(code: str) -> type[Rule]:
    for rule in all_rules():
        if rule.code == code.upper():
            return rule
    raise SelectionError(_unknown("rule code", code.upper(), [r.code for r in all_rules()]))


def check_codes(codes: Iterable[str], what: str = "rule code") -> None:
    """Raise SelectionError for a code or prefix that matches no rule."""
    known = [rule.code for rule in all_rules()]
    for code in codes:
        if code == "ALL" or any(k.startswith(code) for k in known):
            continue
        raise SelectionError(_unknown(what, code, known))


def _unknown(what: str, code: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(code, known, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]}?" if close else f"; valid codes are {', '.join(known)}"
    return f"unknown {what} {code!r}{hint}"


def select_rules(
    select: Sequence[str] | None = None,
    extend_select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    preview: bool = False,
) -> list[type[Rule]]:
    """The rules chosen by ruff's semantics: the most specific matching prefix wins.

    The parse-error rule is always on unless ignored explicitly.

    A rule that is off by default (or in preview without `preview`) runs only when a
    selector names its exact code.
    """
    positive = list(select if select is not None else ["GL"]) + list(extend_select)
    check_codes([*positive, *ignore])
    chosen = []
    for rule in all_rules():
        best_on = _longest_match(rule.code, positive)
        best_off = _longest_match(rule.code, ignore)
        if best_on is None or (best_off is not None and len(best_off) >= len(best_on)):
            continue
        exact = best_on == rule.code
        if not rule.default_enabled and not exact:
            continue
        if rule.preview and not (preview or exact):
            continue
        chosen.append(rule)
    # As in ruff, files that do not parse are always reported, unless ignored explicitly.
    for rule in all_rules():
        if rule.handles_parse_errors and rule not in chosen and _longest_match(rule.code, ignore) is None:
            chosen.append(rule)
    return chosen


def _longest_match(code: str, selectors: Sequence[str]) -> str | None:
    matches = [s for s in selectors if s == "ALL" or code.startswith(s)]
    if not matches:
        return None
    return max(matches, key=lambda s: 0 if s == "ALL" else len(s))
