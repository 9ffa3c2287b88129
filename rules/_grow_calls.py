"""GL205's vocabulary: the calls that copy an array to grow it (`np.append`,
`np.concatenate`, `torch.cat`...), the empty arrays a loop starts from, and how the loop
uses the accumulator besides growing it. No rule lives here."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from green_lint.rules._syntax import argument, code, has_star, keyword_value, number
from green_lint.walk import children

# Array modules whose arrays cannot grow in place: every growth is a new array.
ARRAY_MODULES = ("numpy", "cupy", "jax.numpy", "torch")
# `np.append(arr, values, axis=None)`.
APPENDS = frozenset(f"{module}.append" for module in ("numpy", "cupy", "jax.numpy"))
# Functions that join a sequence of arrays (their first argument).
JOINS = frozenset(
    {
        *(
            f"{module}.{name}"
            for module in ("numpy", "cupy", "jax.numpy")
            for name in ("concatenate", "concat", "vstack", "hstack", "row_stack", "column_stack", "dstack")
        ),
        *(
            f"torch.{name}"
            for name in (
                "cat",
                "concat",
                "concatenate",
                "vstack",
                "hstack",
                "row_stack",
                "column_stack",
                "dstack",
            )
        ),
        "tensorflow.concat",
    }
)
SEQUENCE_KEYWORDS = ("arrays", "tensors", "tup", "values", "seq")
# `np.r_[acc, x]`, `np.c_[acc, x]`: index tricks that concatenate.
INDEX_JOINS = frozenset(f"numpy.{name}" for name in ("r_", "c_"))
EMPTY_CONSTRUCTORS = frozenset(
    f"{module}.{name}" for module in ARRAY_MODULES for name in ("empty", "zeros", "ones")
)
EMPTY_FROM_SEQUENCE = frozenset(
    {*(f"{module}.{name}" for module in ARRAY_MODULES for name in ("array", "asarray")), "torch.tensor"}
)
# Reads of the accumulator that cost nothing next to the growth itself.
CHEAP_ATTRIBUTES = frozenset({"shape", "size", "ndim", "dtype", "device", "is_cuda"})
CHEAP_CALLS = frozenset({"builtins.len", "builtins.print", "builtins.isinstance", "builtins.type"})
# Loops this short copy too little to matter.
FEW_ITERATIONS = 10


@dataclass(frozen=True)
class Growth:
    """`acc = <call>` growing `acc`: the call, its kind ("append", "join", "index") and
    the qualified name of what it calls."""

    call: cst.Call | cst.Subscript
    kind: str
    qualified: str


def growth_of(context, target: cst.BaseExpression, value: cst.BaseExpression) -> Growth | None:
    """The growing call in `value` (itself, or one branch of `x if acc is None else
    np.concatenate([acc, x])`) when it joins `target` with something else."""
    if isinstance(value, cst.IfExp):
        return growth_of(context, target, value.body) or growth_of(context, target, value.orelse)
    wanted = code(target)
    if isinstance(value, cst.Subscript):
        qualified = _qualified(context, value.value, INDEX_JOINS)
        elements = [element.slice for element in value.slice]
        if (
            qualified
            and len(elements) >= 2
            and any(isinstance(e, cst.Index) and code(e.value) == wanted for e in elements)
        ):
            return Growth(value, "index", qualified)
        return None
    if not isinstance(value, cst.Call) or has_star(value):
        return None
    qualified = _qualified(context, value.func, APPENDS)
    if qualified is not None:
        first = argument(value, 0, "arr")
        return Growth(value, "append", qualified) if first is not None and code(first) == wanted else None
    qualified = _qualified(context, value.func, JOINS)
    if qualified is not None:
        pieces = sequence_argument(value)
        if (
            isinstance(pieces, cst.List | cst.Tuple)
            and len(pieces.elements) >= 2
            and any(code(element.value) == wanted for element in pieces.elements)
        ):
            return Growth(value, "join", qualified)
    return None


def sequence_argument(call: cst.Call) -> cst.BaseExpression | None:
    if call.args and call.args[0].keyword is None:
        return call.args[0].value
    for name in SEQUENCE_KEYWORDS:
        found = keyword_value(call, name)
        if found is not None:
            return found
    return None


def _qualified(context, func: cst.BaseExpression, names: frozenset[str]) -> str | None:
    for candidate in context.semantic.candidates(func):
        if candidate in names:
            return candidate
    return None


def is_empty_array(context, value: cst.BaseExpression) -> bool:
    """`[]`, `np.empty(0)`, `np.zeros((0, 3))`, `np.array([])`, `torch.empty(0, 4)`..."""
    if isinstance(value, cst.List | cst.Tuple) and not value.elements:
        return True
    if not isinstance(value, cst.Call) or not value.args or has_star(value):
        return False
    if _qualified(context, value.func, EMPTY_CONSTRUCTORS):
        first = value.args[0].value if value.args[0].keyword is None else keyword_value(value, "shape")
        if isinstance(first, cst.Tuple | cst.List) and first.elements:
            first = first.elements[0].value
        return number(first) == 0
    if _qualified(context, value.func, EMPTY_FROM_SEQUENCE):
        first = value.args[0].value if value.args[0].keyword is None else None
        return isinstance(first, cst.List | cst.Tuple) and not first.elements
    return False


def few_iterations(context, loop: cst.CSTNode) -> bool:
    """A `for` over a short literal sequence or a `range` of a small constant."""
    if not isinstance(loop, cst.For):
        return False
    iterable = loop.iter
    if isinstance(iterable, cst.List | cst.Tuple | cst.Set):
        return len(iterable.elements) <= FEW_ITERATIONS and not any(
            isinstance(e, cst.StarredElement) for e in iterable.elements
        )
    if isinstance(iterable, cst.Call) and context.resolves_to(iterable.func, "builtins.range"):
        bounds = [context.values.number(arg.value) for arg in iterable.args]
        if not bounds or any(bound is None for bound in bounds) or len(bounds) > 2:
            return False
        start, stop = (0, bounds[0]) if len(bounds) == 1 else bounds
        return stop - start <= FEW_ITERATIONS
    return False


# -- how the loop uses the accumulator ----------------------------------------------------
@dataclass
class Uses:
    """The accumulator's uses in a loop, besides the growing statement."""

    cheap_reads: int = 0  # len(acc), acc.shape, acc[i], acc is None
    costly_reads: int = 0  # acc passed to a call, a method of it, arithmetic on it
    guarded_writes: int = 0  # `acc = x` under an `if` that reads acc (first-iteration set-up)
    resets: int = 0  # any other write: the accumulator does not grow across iterations


def uses_in_loop(context, loop: cst.CSTNode, target: cst.BaseExpression, growth_line: cst.Assign) -> Uses:
    wanted = code(target)
    uses = Uses()
    _scan(context, loop, wanted, growth_line, [], uses)
    # The growing statement reads the accumulator once, as the piece it extends; any
    # other read there (`torch.cat([tokens, model(tokens)])`) consumes it.
    own = Uses()
    _scan(context, growth_line.value, wanted, None, [], own)
    uses.costly_reads += max(own.costly_reads - 1, 0)
    return uses


def _scan(context, node, wanted, skip, guards, uses) -> None:
    if node is skip:
        return
    if isinstance(node, cst.Assign | cst.AugAssign | cst.AnnAssign):
        targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
        if any(code(t) == wanted for t in targets):
            value = node.value
            if isinstance(node, cst.AugAssign) or (value is not None and _reads(value, wanted)):
                uses.costly_reads += 1  # `acc += 1`, `acc = acc[-100:]`: bounded or consumed
            elif any(_reads(test, wanted) for test in guards):
                uses.guarded_writes += 1
            else:
                uses.resets += 1
            if value is not None:
                _scan(context, value, wanted, skip, guards, uses)
            return
    if isinstance(node, cst.If):
        _scan(context, node.test, wanted, skip, guards, uses)
        inner = [*guards, node.test]
        _scan(context, node.body, wanted, skip, inner, uses)
        if node.orelse is not None:
            _scan(context, node.orelse, wanted, skip, inner, uses)
        return
    if _is_reference(node) and code(node) == wanted:
        uses.costly_reads += 1
        return
    cheap = _cheap_read(context, node, wanted)
    if cheap:
        uses.cheap_reads += 1
        return
    for child in children(node):
        if isinstance(node, cst.Attribute) and child is node.attr:
            continue
        _scan(context, child, wanted, skip, guards, uses)


def _cheap_read(context, node, wanted) -> bool:
    if isinstance(node, cst.Attribute) and node.attr.value in CHEAP_ATTRIBUTES:
        return code(node.value) == wanted
    if isinstance(node, cst.Subscript) and code(node.value) == wanted:
        return True
    if isinstance(node, cst.Call) and len(node.args) == 1 and code(node.args[0].value) == wanted:
        return any(context.resolves_to(node.func, name) for name in CHEAP_CALLS)
    if isinstance(node, cst.Comparison) and code(node.left) == wanted:
        return all(
            isinstance(c.operator, cst.Is | cst.IsNot) and isinstance(c.comparator, cst.Name)
            for c in node.comparisons
        )
    return False


def _is_reference(node) -> bool:
    return isinstance(node, cst.Name) or (
        isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name)
    )


def _reads(expr: cst.CSTNode, wanted: str) -> bool:
    pending = [expr]
    while pending:
        node = pending.pop()
        if _is_reference(node) and code(node) == wanted:
            return True
        for child in children(node):
            if isinstance(node, cst.Attribute) and child is node.attr:
                continue
            pending.append(child)
    return False
