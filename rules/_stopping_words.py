"""The words of GL102's loops and expressions: what names and strings say a loop runs
over (epochs, episodes, steps), read from their identifiers."""

from __future__ import annotations

import re

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._syntax import string_value, walk


def names_epoch(context: RuleContext, loop: cst.For | cst.While) -> bool:
    return any("epoch" in word for word in loop_words(context, loop))


def loop_words(context: RuleContext, loop: cst.For | cst.While) -> set[str]:
    """The words of a loop's header: its variable and what it runs over (or its test)."""
    if isinstance(loop, cst.While):
        return words_of(context, loop.test)
    return words_of(context, loop.target) | words_of(context, loop.iter)


_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def words_of(context: RuleContext, node: cst.CSTNode) -> set[str]:
    """Lowercase identifier words in an expression (names, attributes, strings)."""
    found = set()
    for current in walk(node):
        if isinstance(current, cst.Name):
            found.add(current.value.lower())
        elif isinstance(current, cst.SimpleString):
            value = string_value(current)
            if value:
                found.update(word.lower() for word in _WORD.findall(value))
    return found
