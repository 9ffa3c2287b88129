"""Whether a loop variable is a hyper-parameter, for GL103: whether the loop body passes
its value to something that may build or train a model, judged from the expression around
each use. An epoch or batch loop only indexes, counts and prints its variable."""

from __future__ import annotations

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._loops import walk_with_parents
from green_lint.semantic.scopes import target_names

# Where a loop value is used without reaching a model: printing, logging, collecting.
# Builtins as resolved where called: a function of the file named `format` may build one.
NOT_CONSUMING_FUNCTIONS = tuple(
    f"builtins.{name}"
    for name in (
        "print", "len", "range", "str", "repr", "int", "float", "bool", "round", "enumerate",
        "zip", "format", "isinstance", "sorted", "list", "tuple", "set", "open", "abs", "min",
        "max", "hash", "id", "type", "next", "iter",
    )
)  # fmt: skip
NOT_CONSUMING_METHODS = frozenset(
    {
        "append", "extend", "add", "insert", "write", "writerow", "writelines", "info", "debug",
        "warning", "error", "exception", "critical", "log", "format", "set_description",
        "set_postfix", "join", "index", "count", "step", "add_scalar", "add_scalars",
        "savefig", "plot", "scatter", "echo", "startswith", "endswith",
    }
)  # fmt: skip
# Libraries that make or transform data: a loop value passed to them is a data size or a
# seed (`np.random.randn(n_rows, n_cols)`, `make_classification(n_samples=n)`), not a
# hyper-parameter of a model.
DATA_LIBRARIES = ("numpy", "pandas", "scipy", "random", "math", "sklearn.datasets")
TENSOR_FACTORIES = tuple(
    f"torch.{name}"
    for name in ("randn", "rand", "randint", "zeros", "ones", "empty", "full", "arange", "linspace", "tensor")
)
LOGGING_KEYWORDS = frozenset({"end", "sep", "file", "flush", "desc", "label", "total", "color", "title"})
# A loop value that is itself the estimator: `for model in [SVC(), ...]: model.fit(X, y)`.
RECEIVING_METHODS = frozenset({"fit", "partial_fit", "fit_generator", "set_params", "train"})
# Expressions a value passes through on its way to a model (`{"lr": lr * 2}`, `[a, b]`).
CARRIERS = (cst.Dict, cst.List, cst.Tuple, cst.Element, cst.BinaryOperation, cst.UnaryOperation)


def used_as_hyperparameter(
    target: cst.BaseAssignTargetExpression, body: list[cst.CSTNode], context: RuleContext
) -> bool:
    """Whether a name the loop `target` binds reaches a model somewhere in `body`."""
    names = {name for name, _, _ in target_names(target)}
    if not names:
        return False
    for root in body:
        parents: dict[int, cst.CSTNode | None] = {}
        for node, parent in walk_with_parents(root):
            parents[id(node)] = parent
            if (
                isinstance(node, cst.Name)
                and node.value in names
                and _reaches_a_model(node, parents, context)
            ):
                return True
    return False


def _reaches_a_model(name: cst.Name, parents: dict[int, cst.CSTNode | None], context: RuleContext) -> bool:
    """Whether this use of a loop value passes it to something that may build or train a
    model (see GL103's docs)."""
    child: cst.CSTNode = name
    in_container = False
    ancestor = parents.get(id(name))
    while ancestor is not None:
        if isinstance(ancestor, cst.Attribute):
            if child is not ancestor.value:
                return False  # `x.lr`: an attribute that happens to share the name
            parent = parents.get(id(ancestor))
            return (
                isinstance(parent, cst.Call)
                and parent.func is ancestor
                and ancestor.attr.value in RECEIVING_METHODS
            )
        if isinstance(ancestor, cst.Arg):
            if child is not ancestor.value:
                return False
            call = parents.get(id(ancestor))
            if ancestor.keyword is not None and ancestor.keyword.value in LOGGING_KEYWORDS:
                return False
            if not isinstance(call, cst.Call) or _not_consuming(context, call):
                return False
            if context.resolves_to(call.func, "builtins.dict"):
                in_container, child, ancestor = True, call, parents.get(id(call))
                continue
            return _passes_a_value(context, ancestor, call)
        if isinstance(ancestor, cst.DictElement):
            if child is not ancestor.value:
                return False
            in_container = True
        elif isinstance(ancestor, cst.Assign):
            if child is not ancestor.value:
                return False
            return in_container or any(
                isinstance(target.target, cst.Subscript | cst.Attribute) for target in ancestor.targets
            )
        elif not isinstance(ancestor, CARRIERS):
            return False  # an index, a condition, an f-string, a statement...
        child = ancestor
        ancestor = parents.get(id(ancestor))
    return False


def _passes_a_value(context: RuleContext, arg: cst.Arg, call: cst.Call) -> bool:
    # A positional argument of a method is data (`model.fit(X, y)`, `y.fill(v)`); of a
    # function, a class or a library callable (`nn.Linear(4, width)`), a value.
    return not (
        arg.keyword is None
        and not arg.star
        and isinstance(call.func, cst.Attribute)
        and context.qualified_name(call.func) is None
    )


def _not_consuming(context: RuleContext, call: cst.Call) -> bool:
    if context.resolves_under(call.func, *DATA_LIBRARIES) or context.resolves_to(
        call.func, *TENSOR_FACTORIES
    ):
        return True
    if isinstance(call.func, cst.Name):
        return context.resolves_to(call.func, *NOT_CONSUMING_FUNCTIONS)
    if isinstance(call.func, cst.Attribute):
        return call.func.attr.value in NOT_CONSUMING_METHODS
    return False
