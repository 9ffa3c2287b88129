"""A fast read-only walk over a libcst tree.

libcst's own `visit` rebuilds every node it passes (it is built for transformers), which
costs as much as parsing. Linting only reads the tree, so this walk reads each node's
dataclass fields instead, and skips whitespace, punctuation and operator tokens, which no
rule needs to visit (a rule inspects them through their parent, e.g. `node.operator`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

import libcst as cst

_TRIVIA_BASES: tuple[type, ...] = (
    cst.BaseParenthesizableWhitespace,
    cst.Newline,
    cst.EmptyLine,
    cst.TrailingWhitespace,
    cst.Comment,
    cst.Comma,
    cst.Dot,
    cst.Semicolon,
    cst.Colon,
    cst.AssignEqual,
    cst.LeftParen,
    cst.RightParen,
    cst.LeftSquareBracket,
    cst.RightSquareBracket,
    cst.LeftCurlyBrace,
    cst.RightCurlyBrace,
    cst.BaseBinaryOp,
    cst.BaseBooleanOp,
    cst.BaseCompOp,
    cst.BaseUnaryOp,
    cst.BaseAugOp,
    cst.Asynchronous,
    cst.ImportStar,
)
# Fields visited first, where the dataclass order differs from the source order.
_FIELD_ORDER_OVERRIDES = {
    cst.FunctionDef: ("decorators",),
    cst.ClassDef: ("decorators",),
}
_child_fields: dict[type, tuple[str, ...]] = {}


def _fields_of(node_type: type) -> tuple[str, ...]:
    fields = _child_fields.get(node_type)
    if fields is None:
        names = [field.name for field in dataclasses.fields(node_type)]
        first = _FIELD_ORDER_OVERRIDES.get(node_type, ())
        fields = (*first, *(name for name in names if name not in first))
        _child_fields[node_type] = fields
    return fields


_is_trivia: dict[type, bool] = {}


def _trivia(node_type: type) -> bool:
    known = _is_trivia.get(node_type)
    if known is None:
        known = _is_trivia[node_type] = issubclass(node_type, _TRIVIA_BASES)
    return known


def children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The node's children that carry code (no whitespace or punctuation), in order."""
    for name in _fields_of(type(node)):
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            if not _trivia(type(value)):
                yield value
        elif isinstance(value, tuple | list):
            for item in value:
                if isinstance(item, cst.CSTNode) and not _trivia(type(item)):
                    yield item


def walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every code-carrying node under `node` (itself included), parents before children."""
    pending = [node]
    while pending:
        current = pending.pop()
        yield current
        pending.extend(reversed(list(children(current))))


def traverse(
    node: cst.CSTNode,
    on_visit: Callable[[cst.CSTNode], None],
    on_leave: Callable[[cst.CSTNode], None],
) -> None:
    """Depth-first traversal calling `on_visit` before and `on_leave` after the children.

    Iterative, so that deeply nested expressions cannot exhaust Python's recursion limit."""
    on_visit(node)
    pending = [(node, children(node))]
    while pending:
        parent, remaining = pending[-1]
        child = next(remaining, None)
        if child is None:
            pending.pop()
            on_leave(parent)
        else:
            on_visit(child)
            pending.append((child, children(child)))


def path_to(root: cst.CSTNode, target: cst.CSTNode) -> list[cst.CSTNode] | None:
    """The nodes from `root` down to `target` (both included), or None if absent.

    Trivia nodes are searched too, since a fix may replace any node."""
    if root is target:
        return [root]
    for name in _fields_of(type(root)):
        value = getattr(root, name)
        items = value if isinstance(value, tuple | list) else (value,)
        for item in items:
            if isinstance(item, cst.CSTNode):
                found = path_to(item, target)
                if found is not None:
                    return [root, *found]
    return None


def replace_child(parent: cst.CSTNode, old: cst.CSTNode, new: object) -> cst.CSTNode:
    """`parent` with its child `old` replaced by `new` (a node, a FlattenSentinel or a
    RemovalSentinel in a sequence field)."""
    for name in _fields_of(type(parent)):
        value = getattr(parent, name)
        if value is old:
            if isinstance(new, cst.FlattenSentinel | cst.RemovalSentinel):
                raise ValueError(f"cannot flatten or remove {type(old).__name__} in field {name!r}")
            return parent.with_changes(**{name: new})
        if isinstance(value, tuple | list) and any(item is old for item in value):
            items: list = []
            for item in value:
                if item is not old:
                    items.append(item)
                elif isinstance(new, cst.FlattenSentinel):
                    items.extend(new.nodes)
                elif not isinstance(new, cst.RemovalSentinel):
                    items.append(new)
            return parent.with_changes(**{name: type(value)(items) if isinstance(value, tuple) else items})
    raise ValueError(f"{type(old).__name__} is not a child of {type(parent).__name__}")
