"""What a hand-written search iterates over, for GL103: whether a loop's iterable is a
literal list of values (a list/tuple/set display, a `range`, numpy `arange`/`linspace`/
`logspace`/`geomspace` of literal numbers, a literal dict's entry) and how many values it
holds, and the value counts of an `itertools.product(...)`. Names are followed through the
semantic model: a list bound earlier (`Cs = [...]`), a parameter's default, `self.Cs` set in
the class, `args.Cs` with an argparse default."""

from __future__ import annotations

from math import ceil

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._search_names import one_value
from green_lint.rules._syntax import argument, number

# Calls a loop may iterate through without changing what it iterates over.
PASS_THROUGH = ("builtins.enumerate", "builtins.list", "builtins.tuple", "builtins.sorted")
# Calls that turn a value list into another holding the same values.
SAME_VALUES = ("builtins.list", "builtins.tuple", "builtins.sorted", "numpy.array", "numpy.asarray")
MAX_HOPS = 4
DEFAULT_SPACE_NUM = 50  # numpy.linspace/logspace/geomspace
NOT_VALUES = object()  # "not a literal list of values"


def unwrap(context: RuleContext, node: cst.BaseExpression) -> cst.BaseExpression | None:
    """Follow names and see through `enumerate(...)`, `list(...)`, `tqdm(...)`."""
    for _ in range(MAX_HOPS):
        if isinstance(node, cst.Name):
            node = one_value(context, node)
        elif (
            isinstance(node, cst.Call)
            and node.args
            and node.args[0].keyword is None
            and not node.args[0].star
            and (context.resolves_to(node.func, *PASS_THROUGH) or context.resolves_under(node.func, "tqdm"))
        ):
            node = node.args[0].value
        else:
            return node
    return node


def product_dims(context: RuleContext, call: cst.Call) -> list[int | None] | None:
    """The value counts of the lists an `itertools.product(...)` combines (None where a
    count is unknown), or None when one of them is not a literal value list."""
    dims: list[int | None] = []
    repeat = 1
    for arg in call.args:
        if arg.keyword is not None:
            if arg.keyword.value != "repeat" or not isinstance(number(arg.value), int):
                return None
            repeat = number(arg.value)
        elif arg.star == "*":
            lists = _starred_lists(context, arg.value)
            if lists is None:
                return None
            for values in lists:
                length = values_length(context, values)
                if length is NOT_VALUES:
                    return None
                dims.append(length)
        elif arg.star:
            return None
        else:
            length = values_length(context, arg.value)
            if length is NOT_VALUES:
                return None
            dims.append(length)
    return dims * repeat


def values_length(context: RuleContext, node: cst.BaseExpression | None, hops: int = 0):
    """The number of values of a literal value list; None when it is one but its length
    is unknown, NOT_VALUES when it is not one."""
    if hops > MAX_HOPS or node is None:
        return NOT_VALUES
    if isinstance(node, cst.Name | cst.Attribute):
        return _named_values_length(context, node, hops)
    if isinstance(node, cst.List | cst.Tuple | cst.Set):
        # `models = []` is a list filled at run time (and a loop over `[]` runs nothing).
        if not node.elements or any(isinstance(e, cst.StarredElement) for e in node.elements):
            return NOT_VALUES
        return len(node.elements)
    if isinstance(node, cst.Subscript):
        return values_length(context, _dict_item(context, node), hops + 1)
    if not isinstance(node, cst.Call):
        return NOT_VALUES
    qualified = context.qualified_name(node.func)
    if qualified in SAME_VALUES:
        return values_length(context, argument(node, 0, ""), hops + 1)
    if qualified in ("builtins.range", "numpy.arange"):
        return _range_length(node)
    if qualified in ("numpy.linspace", "numpy.logspace", "numpy.geomspace"):
        start, stop = argument(node, 0, "start"), argument(node, 1, "stop")
        if number(start) is None or number(stop) is None:
            return NOT_VALUES
        count = argument(node, 2, "num")
        if count is None:
            return DEFAULT_SPACE_NUM
        count = number(one_value(context, count))
        return count if isinstance(count, int) else None  # a value grid of unknown size
    return NOT_VALUES


def _named_values_length(context: RuleContext, node: cst.Name | cst.Attribute, hops: int):
    """The number of values of every list a name (or `self.x`, `args.x`) may hold where it
    is used; None when they are value lists of different lengths."""
    expressions = context.values.expressions(node)
    if expressions == [node]:
        return NOT_VALUES  # nothing to follow: a loop variable, data, an unknown attribute
    lengths = {values_length(context, expression, hops + 1) for expression in expressions}
    if NOT_VALUES in lengths or not lengths:
        return NOT_VALUES
    return lengths.pop() if len(lengths) == 1 else None


def _range_length(node: cst.Call):
    """The length of `range(...)`/`numpy.arange(...)` of literal numbers."""
    values = [number(arg.value) for arg in node.args if arg.keyword is None and not arg.star]
    if None in values or not values or len(values) > 3 or len(values) != len(node.args):
        return NOT_VALUES
    if all(isinstance(v, int) for v in values):
        return len(range(*values))
    start, stop, step = ([0, *values, 1] if len(values) == 1 else [*values, 1])[:3]
    return max(0, ceil((stop - start) / step)) if step else NOT_VALUES


def _starred_lists(context: RuleContext, node: cst.BaseExpression) -> list[cst.BaseExpression] | None:
    """The value lists of `*grid.values()` (a literal dict) or `*[list_a, list_b]`."""
    node = one_value(context, node)
    if (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value == "values"
        and not node.args
    ):
        grid = one_value(context, node.func.value)
        if isinstance(grid, cst.Dict) and all(isinstance(e, cst.DictElement) for e in grid.elements):
            return [element.value for element in grid.elements]
        return None
    if isinstance(node, cst.List | cst.Tuple) and not any(
        isinstance(e, cst.StarredElement) for e in node.elements
    ):
        return [element.value for element in node.elements]
    return None


def _dict_item(context: RuleContext, node: cst.Subscript) -> cst.BaseExpression | None:
    """`grid["C"]` where `grid` is a literal dict: the value of key "C"."""
    if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
        return None
    key = node.slice[0].slice.value
    grid = one_value(context, node.value)
    if not isinstance(key, cst.SimpleString) or not isinstance(grid, cst.Dict):
        return None
    for element in grid.elements:
        if (
            isinstance(element, cst.DictElement)
            and isinstance(element.key, cst.SimpleString)
            and element.key.evaluated_value == key.evaluated_value
        ):
            return element.value
    return None
