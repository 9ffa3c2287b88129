"""A fast read-only walk over a libcst tree.

libcst's own `visit` rebuilds every node it passes (it is built for transformers), which
costs as much as parsing. Linting only reads the tree, so this walk reads each node's
dataclass fields instead, and skips whitespace, punctuation and operator tokens, which no
rule needs to visit (a rule inspects them through their parent, e.g. `node.operator`).
"""

from __future__ import annotations

import collections.abc
import dataclasses
import typing
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


# Per type: whether a value of that type is not a code-carrying node (trivia, None, a
# MaybeSentinel, a string), so the walk skips it.
_skipped: dict[type, bool] = {}


def _skip(value_type: type) -> bool:
    skip = _skipped.get(value_type)
    if skip is None:
        skip = _skipped[value_type] = not issubclass(value_type, cst.CSTNode) or issubclass(
            value_type, _TRIVIA_BASES
        )
    return skip


_code_fields: dict[type, tuple[str, ...]] = {}


def _code_fields_of(node_type: type) -> tuple[str, ...]:
    """The fields of `node_type` whose declared type admits a code-carrying node.

    Whitespace, parentheses, commas and the like make up most fields; not reading them
    is most of what makes this walk fast."""
    fields = _code_fields.get(node_type)
    if fields is None:
        try:
            annotations = {field.name: field.type for field in dataclasses.fields(node_type)}
            if any(isinstance(annotation, str) for annotation in annotations.values()):
                annotations = typing.get_type_hints(node_type)  # postponed annotations
            fields = tuple(
                name for name in _fields_of(node_type) if _may_hold_code(annotations.get(name, object))
            )
        except Exception:  # an annotation that does not resolve: read every field
            fields = _fields_of(node_type)
        _code_fields[node_type] = fields
    return fields


def _may_hold_code(annotation: object) -> bool:
    if annotation is object:  # no annotation: assume it may
        return True
    if isinstance(annotation, type):
        return not _skip(annotation)
    if typing.get_origin(annotation) is typing.Literal:
        return False
    arguments = typing.get_args(annotation)
    return not arguments or any(_may_hold_code(argument) for argument in arguments)


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The node's children that carry code (no whitespace or punctuation), in order."""
    reader = _readers.get(type(node))
    if reader is None:
        reader = _readers[type(node)] = _reader_for(type(node))
    return reader(node)


def _children_by_reflection(node: cst.CSTNode) -> list[cst.CSTNode]:
    found = []
    for name in _code_fields_of(type(node)):
        value = getattr(node, name)
        value_type = type(value)
        if value_type is tuple or value_type is list:
            found.extend(item for item in value if not _skip(type(item)))
        elif not _skip(value_type):
            found.append(value)
    return found


# Per node type: a function that reads its code fields. The walk calls `children` for
# every node of every file, so the per-field checks that the declared types make needless
# (an `Arg` is always code, a `BaseExpression` field is never None) are left out of it.
_readers: dict[type, Callable[[cst.CSTNode], list[cst.CSTNode]]] = {}


def _reader_for(node_type: type) -> Callable[[cst.CSTNode], list[cst.CSTNode]]:
    try:
        hints = typing.get_type_hints(node_type)
    except Exception:  # an annotation that does not resolve: read by reflection
        return _children_by_reflection
    lines = ["def read(node):", "    found = []"]
    for name in _code_fields_of(node_type):
        annotation = hints.get(name, object)
        origin = typing.get_origin(annotation)
        if origin in (collections.abc.Sequence, list, tuple) and len(typing.get_args(annotation)) == 1:
            if _always_code(typing.get_args(annotation)[0]):
                lines.append(f"    found.extend(node.{name})")
            else:
                lines.append(f"    found.extend(item for item in node.{name} if not skip(type(item)))")
        elif _always_code(annotation):
            lines.append(f"    found.append(node.{name})")
        else:
            lines += [
                f"    value = node.{name}",
                "    kind = type(value)",
                "    if kind is tuple or kind is list:",
                "        found.extend(item for item in value if not skip(type(item)))",
                "    elif not skip(kind):",
                "        found.append(value)",
            ]
    lines.append("    return found")
    namespace: dict = {"skip": _skip}
    exec("\n".join(lines), namespace)  # code made above from the field names only
    return namespace["read"]


def _always_code(annotation: object) -> bool:
    """Whether every value the annotation admits is a code-carrying node (never None, a
    sentinel, text or trivia)."""
    if isinstance(annotation, type):
        return issubclass(annotation, cst.CSTNode) and not _skip(annotation)
    if typing.get_origin(annotation) is typing.Union:
        return all(_always_code(argument) for argument in typing.get_args(annotation))
    return False


def walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every code-carrying node under `node` (itself included), parents before children."""
    pending = [node]
    while pending:
        current = pending.pop()
        yield current
        pending.extend(reversed(children(current)))


def traverse(
    node: cst.CSTNode,
    on_visit: Callable[[cst.CSTNode], None],
    on_leave: Callable[[cst.CSTNode], None],
) -> None:
    """Depth-first traversal calling `on_visit` before and `on_leave` after the children.

    Iterative, so that deeply nested expressions cannot exhaust Python's recursion limit:
    a visited node goes back on the stack under a None marker, to be left once its
    children above it are done."""
    pending: list[cst.CSTNode | None] = [node]
    pop, push = pending.pop, pending.append
    while pending:
        current = pop()
        if current is None:
            on_leave(pop())
            continue
        on_visit(current)
        push(current)
        push(None)
        pending.extend(reversed(children(current)))


def code_path_to(root: cst.CSTNode, target: cst.CSTNode) -> list[cst.CSTNode] | None:
    """`path_to` for a target that carries code (never trivia): reads only the fields
    that can hold code, as the walk does."""
    pending: list[tuple[cst.CSTNode, int]] = [(root, 0)]
    path: list[cst.CSTNode] = []
    while pending:
        node, depth = pending.pop()
        del path[depth:]
        path.append(node)
        if node is target:
            return path
        pending.extend((child, depth + 1) for child in reversed(children(node)))
    return None


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
