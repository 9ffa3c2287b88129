"""Is a loop over groups (classes, outputs, features, columns) whose turns work on whole
arrays? Each turn then already runs in compiled code (a column `y[:, k]`, a reduction
with `axis=`, `X - means[k]`, a solver called on a whole matrix) and its few turns cost
nothing next to the work inside them: GL203 leaves such loops alone. A loop over groups
that does element arithmetic (`s += w[k] * x[k]`) or loops over each group's elements is
still element work."""

from __future__ import annotations

import re

import libcst as cst

from green_lint.context import RuleContext
from green_lint.names import NESTED_SCOPE_TYPES
from green_lint.rules._data import walk
from green_lint.rules._numeric_arrays import Arrays
from green_lint.rules._numeric_vocabulary import ARITHMETIC
from green_lint.rules._syntax import number

# Names of a loop bound that counts groups, not elements.
GROUP_WORDS = re.compile(
    r"class|output|feature|component|cluster|target|estimator|categor|fold|chunk|channel|head|layer|col",
    re.IGNORECASE,
)
ARITHMETIC_OPERATORS = (
    *ARITHMETIC,
    cst.AddAssign,
    cst.SubtractAssign,
    cst.MultiplyAssign,
    cst.DivideAssign,
    cst.PowerAssign,
)
# Builtins that take an array without working on all of it.
LIGHT_BUILTINS = tuple(
    f"builtins.{name}" for name in ("len", "range", "enumerate", "zip", "int", "float", "abs")
)


def is_group_loop_of_whole_arrays(
    context: RuleContext, arrays: Arrays, loop: cst.For | cst.While, scope: cst.CSTNode
) -> bool:
    return _over_groups(loop) and _works_on_whole_arrays(context, arrays, loop, scope)


def _over_groups(loop: cst.For | cst.While) -> bool:
    bound = loop.iter if isinstance(loop, cst.For) else loop.test
    names = [node.value for node in walk(bound) if isinstance(node, cst.Name)]
    if any(GROUP_WORDS.search(name) for name in names):
        return True
    # `range(X.shape[1])`: the columns of a matrix.
    return any(
        isinstance(node, cst.Subscript)
        and isinstance(node.value, cst.Attribute)
        and node.value.attr.value == "shape"
        and any(isinstance(e.slice, cst.Index) and number(e.slice.value) == 1 for e in node.slice)
        for node in walk(bound)
    )


def _works_on_whole_arrays(
    context: RuleContext, arrays: Arrays, loop: cst.CSTNode, scope: cst.CSTNode
) -> bool:
    element_work = False
    for node in walk(
        loop.body, enter=lambda n: not isinstance(n, cst.FunctionDef | cst.ClassDef | cst.Lambda)
    ):
        if isinstance(node, cst.Subscript) and any(isinstance(e.slice, cst.Slice) for e in node.slice):
            return True  # a row, a column or a range of elements at once
        if isinstance(node, cst.Call) and not context.resolves_to(node.func, *LIGHT_BUILTINS):
            return True  # a function working on a group's arrays
        if isinstance(node, cst.BinaryOperation | cst.AugAssign) and isinstance(
            node.operator, ARITHMETIC_OPERATORS
        ):
            operands = (
                (node.left, node.right)
                if isinstance(node, cst.BinaryOperation)
                else (node.target, node.value)
            )
            if any(
                isinstance(operand, cst.Name) and arrays.is_array(operand.value, scope)
                for operand in operands
            ):
                return True  # `X - means[k]`: the whole of X
            element_work = True
        if isinstance(node, cst.For | cst.While):
            element_work = True  # a loop over each group's elements
    return not element_work


def touches_elements(loop: cst.For | cst.While, counter: str | None) -> tuple[bool, set[int]]:
    """A cheap look before the scans: whether something in the nest is indexed by one of
    its loop variables (`a[i]`, `m[i, j]`), or a loop variable goes to `math`
    (`math.exp(v)` for the elements of an array); and the ids of the loops inside it. Most
    loops do neither, and the scans cost more."""
    variables = {counter} if counter else set()
    inner_loops: set[int] = set()
    subscripts: list[cst.Subscript] = []
    math_arguments: set[str] = set()
    # Node types compared with `is`: every node of the nest is checked, and libcst's node
    # classes are ABCs, slow to check with isinstance.
    for node in walk(loop, enter=lambda n: type(n) not in NESTED_SCOPE_TYPES):
        kind = type(node)
        if (kind is cst.For or kind is cst.While) and node is not loop:
            inner_loops.add(id(node))
        if kind is cst.For:
            variables.update(name.value for name in walk(node.target) if isinstance(name, cst.Name))
        elif (
            kind is cst.While
            and isinstance(node.test, cst.Comparison)
            and isinstance(node.test.left, cst.Name)
        ):
            variables.add(node.test.left.value)  # a hand-written counter: `while i < n:`
        elif kind is cst.Subscript:
            subscripts.append(node)
        elif (
            kind is cst.Call
            and isinstance(node.func, cst.Attribute)
            and isinstance(node.func.value, cst.Name)
            and node.func.value.value == "math"
        ):
            math_arguments.update(
                name.value for arg in node.args for name in walk(arg.value) if isinstance(name, cst.Name)
            )
    if math_arguments & variables:
        return True, inner_loops
    touched = any(
        isinstance(name, cst.Name) and name.value in variables
        for subscript in subscripts
        for element in subscript.slice
        for name in walk(element.slice)
    )
    return touched, inner_loops
