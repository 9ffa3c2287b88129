"""Loops as GL305 unbatched-inference sees them: the loop that runs a model call once per
item (a `for`, a comprehension, a lambda given to `DataFrame.apply`/`Series.map`/`map`),
which names hold the current item, whether the loop goes over batches or feeds the
model's output back (then it is not flagged), and whether an argument is one item made
into a batch of one (`[x]`, `x.reshape(1, -1)`, `x.unsqueeze(0)`, `X[i:i+1]`...)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._data import enclosing_loop, names_bound_in, names_in, not_a_definition, walk
from green_lint.rules._syntax import DEFINITIONS, argument, number, positional
from green_lint.semantic.scopes import COMPREHENSIONS

# Names of iterables or targets that hold batches, not items.
BATCHY = re.compile(r"(?i)batch|loader|chunk|shard|bucket")
BATCH_SOURCES = ("torch.utils.data.DataLoader", "numpy.array_split", "torch.split", "torch.chunk")
# Calls in a `for` body that make it a training (or stepping) loop: per-sample training
# is another matter (the batch size changes what is learned).
TRAINING_METHODS = frozenset({"backward", "step", "zero_grad", "fit", "partial_fit", "train_on_batch"})
APPLY_METHODS = frozenset({"apply", "map", "applymap", "transform"})
# Calls that turn a one-element list into a batch of one.
ARRAY_BUILDERS = (
    "numpy.array",
    "numpy.asarray",
    "numpy.vstack",
    "numpy.stack",
    "torch.tensor",
    "torch.as_tensor",
    "torch.Tensor",
    "torch.FloatTensor",
    "torch.LongTensor",
    "torch.stack",
    "torch.cat",
    "pandas.DataFrame",
    "tensorflow.constant",
    "tensorflow.convert_to_tensor",
)
EXPAND = ("numpy.expand_dims", "torch.unsqueeze")
# Methods that keep one item one item (dtype, device, view of the values).
KEEPS_ITEM = frozenset(
    {"to", "float", "double", "half", "long", "int", "cuda", "cpu", "astype", "detach", "contiguous", "numpy"}
)
TEXT_METHODS = frozenset({"strip", "lower", "upper", "replace", "format", "lstrip", "rstrip", "casefold"})
TOKENIZING = re.compile(r"(?i)tokeni[sz]|encode|processor")


@dataclass
class Loop:
    """The loop that runs a call once per item."""

    node: cst.CSTNode
    # Names that hold the current item (loop targets, and names the body derives from them).
    items: set[str]
    # Names the loop rebinds from one iteration to the next.
    bound: set[str]
    iterable: cst.BaseExpression | None
    # Single assignments of the body: name -> value (to follow `x = ...; model(x)`).
    locals: dict[str, cst.BaseExpression] = field(default_factory=dict)


def per_item_loop(context: RuleContext) -> Loop | None:
    """The loop around the node being visited that runs it once per item of a dataset;
    None outside loops and for loops over batches, feedback loops and loops that stop
    early."""
    stack = context.stack
    loop = enclosing_loop(stack)
    if loop is None:
        return _apply_lambda(context)
    if isinstance(loop, cst.For):
        return _for_loop(context, loop)
    if isinstance(loop, COMPREHENSIONS):
        return _comprehension(context, loop)
    return None  # while loops step until something happens


def _for_loop(context: RuleContext, loop: cst.For) -> Loop | None:
    if _batch_iterable(context, loop.iter, loop.target) or _stops_or_trains(loop.body):
        return None
    targets = names_in(loop.target)
    bound = names_bound_in(loop.body) | targets
    assigned: dict[str, list[cst.BaseExpression | None]] = {}
    for node in walk(loop.body, enter=not_a_definition):
        if isinstance(node, cst.Assign):
            for target in node.targets:
                if isinstance(target.target, cst.Name):
                    assigned.setdefault(target.target.value, []).append(node.value)
                else:
                    for name in names_in(target.target):
                        assigned.setdefault(name, []).append(None)
        elif isinstance(node, cst.AugAssign | cst.AnnAssign | cst.NamedExpr) and isinstance(
            node.target, cst.Name
        ):
            assigned.setdefault(node.target.value, []).append(None)
    items = set(targets)
    changed = True
    while changed:
        changed = False
        for name, values in assigned.items():
            if name in items or name in targets or any(value is None for value in values):
                continue
            if all(names_in(value) & bound <= items for value in values):
                items.add(name)
                changed = True
    local_values = {name: values[0] for name, values in assigned.items() if len(values) == 1 and values[0]}
    return Loop(loop, items, bound, loop.iter, local_values)


def _comprehension(context: RuleContext, loop: cst.CSTNode) -> Loop | None:
    targets: set[str] = set()
    iterable = None
    comp = loop.for_in
    while comp is not None:
        if _batch_iterable(context, comp.iter, comp.target):
            return None
        targets |= names_in(comp.target)
        iterable = iterable or comp.iter
        comp = comp.inner_for_in
    return Loop(loop, targets, set(targets), iterable)


def _apply_lambda(context: RuleContext) -> Loop | None:
    """A lambda given to `df.apply(...)`, `s.map(...)` or `map(f, items)`: it runs once
    per row or element."""
    stack = context.stack
    for index in range(len(stack) - 2, 0, -1):
        node = stack[index]
        if isinstance(node, DEFINITIONS) and not isinstance(node, cst.Lambda):
            return None
        if not isinstance(node, cst.Lambda):
            continue
        arg, call = stack[index - 1], stack[index - 2] if index >= 2 else None
        if not (isinstance(arg, cst.Arg) and isinstance(call, cst.Call)):
            return None
        func = call.func
        is_apply = isinstance(func, cst.Attribute) and func.attr.value in APPLY_METHODS
        if not (is_apply or context.resolves_to(func, "builtins.map")):
            return None
        params = {param.name.value for param in node.params.params}
        if len(params) != 1:
            return None
        iterable = func.value if isinstance(func, cst.Attribute) else argument(call, 1, "")
        return Loop(node, params, set(params), iterable)
    return None


def _batch_iterable(context: RuleContext, iterable: cst.BaseExpression, target: cst.CSTNode) -> bool:
    """A loop over batches (a DataLoader, `range(0, n, batch_size)`, names saying so) or
    over a handful of values written out (not a dataset)."""
    if isinstance(iterable, cst.List | cst.Tuple | cst.Set | cst.Dict):
        return True
    if BATCHY.search(context.code_for(target)) or BATCHY.search(context.code_for(iterable)):
        return True
    for value in [iterable, *_values(context, iterable)]:
        if isinstance(value, cst.Call):
            if context.resolves_to(value.func, *BATCH_SOURCES):
                return True
            if (
                isinstance(value.func, cst.Attribute)
                and value.func.attr.value in ("chunk", "split")
                and (context.semantic.imports_module("torch") or context.semantic.imports_module("numpy"))
            ):
                return not _is_text_split(value)
            if context.resolves_to(value.func, "builtins.range") and len(positional(value)) >= 3:
                return True
    return False


def _is_text_split(call: cst.Call) -> bool:
    """`text.split()`, `text.split("\\n")`: words or lines, items of a text."""
    first = argument(call, 0, "sep")
    return first is None or isinstance(first, cst.SimpleString)


def _values(context: RuleContext, node: cst.BaseExpression) -> list[cst.BaseExpression]:
    if not isinstance(node, cst.Name):
        return []
    return [value for value in context.values.expressions(node) if value is not node]


def _stops_or_trains(body: cst.BaseSuite) -> bool:
    """A `break`/`return`/`yield` of this loop (it may stop on a prediction, or stream),
    or a training step in it."""
    for node in walk(body, enter=lambda n: not isinstance(n, (*DEFINITIONS, cst.For, cst.While))):
        if isinstance(node, cst.Break | cst.Return | cst.Yield | cst.Await):
            return True
        # A nested loop: its own breaks are its own, but a training step is not.
        if isinstance(node, cst.For | cst.While) and any(
            isinstance(inner, cst.Return | cst.Yield) or _is_training_call(inner)
            for inner in walk(node, enter=not_a_definition)
        ):
            return True
        if _is_training_call(node):
            return True
    return False


def _is_training_call(node: cst.CSTNode) -> bool:
    return (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value in TRAINING_METHODS
    )


# -- the argument ---------------------------------------------------------------------------
class Items:
    """Answers whether an expression is the loop's current item (`derived`), one item made
    into a batch of one (`one_item`), or a single text for a tokenizer."""

    def __init__(self, context: RuleContext, loop: Loop) -> None:
        self.context = context
        self.loop = loop

    def derived(self, expr: cst.BaseExpression) -> bool:
        """Built from the current item and from names the loop does not change."""
        names = names_in(expr)
        return bool(names & self.loop.items) and names & self.loop.bound <= self.loop.items

    def _follow(self, expr: cst.BaseExpression, depth: int) -> cst.BaseExpression | None:
        if isinstance(expr, cst.Name) and depth < 3:
            return self.loop.locals.get(expr.value)
        return None

    def one_item(self, expr: cst.BaseExpression, depth: int = 0) -> bool:
        """`[x]`, `[[a, b]]`, `np.array([x])`, `x.reshape(1, -1)`, `x.unsqueeze(0)`,
        `x[None]`, `X[i:i+1]`, `df.iloc[[i]]`, `row.to_frame().T`: one item as a batch of one."""
        followed = self._follow(expr, depth)
        if followed is not None:
            return self.derived(expr) and self.one_item(followed, depth + 1)
        if isinstance(expr, cst.List | cst.Tuple):
            elements = expr.elements
            return (
                len(elements) == 1
                and not isinstance(elements[0], cst.StarredElement)
                and self.derived(elements[0].value)
            )
        if isinstance(expr, cst.Call):
            return self._one_item_call(expr, depth)
        if isinstance(expr, cst.Subscript):
            return self._one_item_subscript(expr)
        if isinstance(expr, cst.Attribute) and expr.attr.value == "T":
            inner = expr.value
            return (
                isinstance(inner, cst.Call)
                and isinstance(inner.func, cst.Attribute)
                and inner.func.attr.value == "to_frame"
                and self.derived(inner.func.value)
            )
        return False

    def _one_item_call(self, call: cst.Call, depth: int) -> bool:
        func = call.func
        first = argument(call, 0, "")
        if first is None:
            return False
        if self.context.resolves_to(func, *ARRAY_BUILDERS):
            return self.one_item(first, depth)
        if self.context.resolves_to(func, *EXPAND):
            return _is_zero(argument(call, 1, "axis") or argument(call, 1, "dim")) and self.derived(first)
        if self.context.resolves_to(func, "numpy.atleast_2d"):
            return self.derived(first)
        if not isinstance(func, cst.Attribute):
            return False
        method, receiver = func.attr.value, func.value
        if method == "unsqueeze":
            return _is_zero(argument(call, 0, "dim")) and self.derived(receiver)
        if method in ("reshape", "view"):
            return (_is_one(first) or _starts_with_one(first)) and self.derived(receiver)
        if method in KEEPS_ITEM:
            return self.one_item(receiver, depth)
        return False

    def _one_item_subscript(self, node: cst.Subscript) -> bool:
        elements = node.slice
        if not elements:
            return False
        first = elements[0].slice
        value = node.value
        if isinstance(first, cst.Index):
            index = first.value
            if _is_none_axis(self.context, index):
                return self.derived(value)
            if isinstance(index, cst.List) and self._indexes_rows(value):
                return self.one_item(index)  # `X[[i]]`, `X[[i], :]` in a loop over range(len(X))
            if (
                len(elements) == 1
                and isinstance(value, cst.Attribute)
                and value.attr.value in ("iloc", "loc")
                and isinstance(index, cst.List)
            ):
                return self.one_item(index)
            return False
        if isinstance(first, cst.Slice) and len(elements) == 1:
            lower, upper = first.lower, first.upper
            return (
                isinstance(lower, cst.Name)
                and lower.value in self.loop.items
                and isinstance(upper, cst.BinaryOperation)
                and isinstance(upper.operator, cst.Add)
                and isinstance(upper.left, cst.Name)
                and upper.left.value == lower.value
                and _is_one(upper.right)
                and first.step is None
            )
        return False

    def _indexes_rows(self, value: cst.BaseExpression) -> bool:
        """Whether the loop counts rows (`for i in range(...)`), so `value[[i]]` is a row,
        not a column selection of a DataFrame."""
        iterable = self.loop.iterable
        return (
            isinstance(iterable, cst.Call)
            and self.context.resolves_to(iterable.func, "builtins.range")
            and not isinstance(value, cst.Attribute)
        )

    def single_text(self, expr: cst.BaseExpression, depth: int = 0) -> bool:
        """The item itself, or a text built from it: `text`, `row["text"]`, `doc.text`,
        `t.strip()`, `f"query: {q}"` (not a slice or a list of several)."""
        followed = self._follow(expr, depth)
        if followed is not None:
            return self.derived(expr) and self.single_text(followed, depth + 1)
        if not self.derived(expr):
            return False
        if isinstance(expr, cst.Name | cst.Attribute | cst.FormattedString | cst.BinaryOperation):
            return True
        if isinstance(expr, cst.Subscript):
            return all(isinstance(element.slice, cst.Index) for element in expr.slice)
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
            return expr.func.attr.value in TEXT_METHODS and self.single_text(expr.func.value, depth)
        return self.one_item(expr, depth)

    def tokenized_item(self, expr: cst.BaseExpression, depth: int = 0) -> bool:
        """A tokenizer (or a `tokenize`/`encode` function) applied to one text:
        `tokenizer(text, return_tensors="pt")`, `tokenize(text)`, and `.to(device)` of it."""
        followed = self._follow(expr, depth)
        if followed is not None:
            return self.derived(expr) and self.tokenized_item(followed, depth + 1)
        if not isinstance(expr, cst.Call):
            return False
        func = expr.func
        if isinstance(func, cst.Attribute) and func.attr.value in KEEPS_ITEM:
            return self.tokenized_item(func.value, depth)
        name = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", "")
        if not isinstance(name, str) or not TOKENIZING.search(name):
            return False
        first = argument(expr, 0, "text")
        return first is not None and self.single_text(first, depth)


def _is_zero(node: cst.BaseExpression | None) -> bool:
    return number(node) == 0 and isinstance(node, cst.Integer)


def _is_one(node: cst.BaseExpression | None) -> bool:
    return isinstance(node, cst.Integer) and node.value == "1"


def _starts_with_one(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Tuple | cst.List) and bool(node.elements) and _is_one(node.elements[0].value)


def _is_none_axis(context: RuleContext, node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.Name) and node.value == "None":
        return True
    return context.resolves_to(node, "numpy.newaxis", "torch.newaxis")
