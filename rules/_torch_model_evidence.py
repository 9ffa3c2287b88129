"""Torch modules the file does not build where it can see it: a model class imported from
another file of the project (`from models import *`, `import seq2seq_models as sm`), a
model taken out of a checkpoint (`checkpoint["model"]`), a model handed to a function at
its call sites, and models held in a list or an `nn.ModuleList`.

A name counts as a module only on evidence no other object gives: the file calls a
method only torch modules have on it (`.parameters()`, `.eval()`, `.load_state_dict()`...).
Precision first: a name without such evidence is not a model.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import libcst as cst

from green_lint.context import RuleContext
from green_lint.names import dotted_name
from green_lint.rules._syntax import positional
from green_lint.rules._torch_call_graph import Analysis
from green_lint.rules._torch_calls import FunctionInfo
from green_lint.rules._torch_eval_mode import is_eval_call
from green_lint.rules._torch_model_values import MODULE_CHAIN_METHODS
from green_lint.semantic.scopes import target_names

# Methods that only a torch module has (with `.eval()` / `.train(False)`); `zero_grad` and
# `load_state_dict` also belong to optimisers, which are never called on a tensor.
MODULE_ONLY_METHODS = frozenset(
    {
        "parameters",
        "named_parameters",
        "modules",
        "named_modules",
        "children",
        "named_children",
        "requires_grad_",
        "load_state_dict",
        "zero_grad",
    }
)
# Classes whose instances are not models, whatever methods the file calls on them.
NOT_MODEL_CONSTRUCTOR = re.compile(
    r"Optim|Adam|SGD|Scheduler|Loss|Criterion|Dataset|Loader|Tokenizer|Buffer|Writer|Logger|Scaler"
)
# Calls whose result yields the items of their argument: (name, index of the argument
# the loop target's element comes from; None: the element's own position).
_ITEM_PASSING = {"zip": None, "enumerate": 1, "reversed": 0, "list": 0, "tuple": 0, "sorted": 0}
# Containers whose items are modules.
MODULE_CONTAINERS = frozenset({"ModuleList", "Sequential", "ModuleDict"})


class ModuleEvidence:
    """Which names of the file are used as torch modules, and which constructors build
    them: one pass over the recorded calls."""

    def __init__(self, context: RuleContext, analysis: Analysis) -> None:
        self.context = context
        # (id of the scope node, name) of every name a module-only method is called on.
        self.names: set[tuple[int, str]] = set()
        # Dotted names of the constructors those names were built with (`sm.EncoderRNN`).
        self.constructors: set[str] = set()
        for call, _ in analysis.calls:
            func = call.func
            if not isinstance(func, cst.Attribute) or not isinstance(func.value, cst.Name):
                continue
            if func.attr.value not in MODULE_ONLY_METHODS and not is_eval_call(call):
                continue
            found = context.semantic.lookup(func.value.value, func.value)
            if found is None or found[0].kind not in ("module", "function"):
                continue
            scope, bindings = found
            self.names.add((id(scope.node), func.value.value))
            for binding in bindings:
                if binding.kind == "assignment" and not binding.element:
                    name = constructor_name(binding.value)
                    if name is not None:
                        self.constructors.add(name)

    def is_module(self, scope: cst.CSTNode, name: str, value: cst.BaseExpression | None) -> bool:
        """Whether `name = value` in `scope` holds a module the file cannot see built."""
        if (id(scope), name) in self.names:
            return True
        built_by = constructor_name(value)
        return built_by is not None and built_by in self.constructors


def constructor_name(value: cst.BaseExpression | None) -> str | None:
    """`sm.EncoderRNN` for `sm.EncoderRNN(10, 10).cuda()`: a class-like name (CapWords) that
    is not an optimiser, a loss, a dataset..."""
    while (
        isinstance(value, cst.Call)
        and isinstance(value.func, cst.Attribute)
        and value.func.attr.value in MODULE_CHAIN_METHODS
    ):
        value = value.func.value
    if not isinstance(value, cst.Call):
        return None
    name = dotted_name(value.func)
    if name is None:
        return None
    last = name.rsplit(".", 1)[-1]
    if not last[:1].isupper() or last.isupper() or NOT_MODEL_CONSTRUCTOR.search(last):
        return None
    return name


# -- call-site arguments -----------------------------------------------------------------
def arguments_for(call: cst.Call, info: FunctionInfo, parameter: str) -> list[cst.BaseExpression]:
    """The expression a call of `info`'s function passes for `parameter` (by position or
    keyword); a method called as `obj.name(...)` does not pass its first parameter."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == parameter:
            return [arg.value]
    names = info.parameter_names()
    if info.method_of is not None and isinstance(call.func, cst.Attribute):
        names = names[1:]
    if parameter not in names:
        return []
    index = names.index(parameter)
    args = positional(call)
    if index >= len(args) or any(arg.star == "*" for arg in call.args[: call.args.index(args[index])]):
        return []  # not passed, or after a `*args` whose length is unknown
    return [args[index].value]


# -- collections of modules --------------------------------------------------------------
def comprehension_targets(
    comprehension: cst.ListComp | cst.SetComp | cst.GeneratorExp | cst.DictComp,
) -> Iterator[tuple[str, cst.BaseExpression, tuple[int, ...]]]:
    """(name, iterable, position in the item) of a comprehension's `for` targets."""
    clause: cst.CompFor | None = comprehension.for_in
    while clause is not None:
        for name, element, _ in target_names(clause.target):
            yield name, clause.iter, element
        clause = clause.inner_for_in


def item_source(
    context: RuleContext, iterable: cst.BaseExpression, element: tuple[int, ...]
) -> cst.BaseExpression | None:
    """The collection a loop target's element is an item of: `nets` for `net` in
    `for net, opt in zip(nets, opts)` or `for i, net in enumerate(nets)`."""
    while isinstance(iterable, cst.Call) and isinstance(iterable.func, cst.Name):
        name = iterable.func.value
        if name not in _ITEM_PASSING or not context.resolves_to(iterable.func, f"builtins.{name}"):
            break
        args = positional(iterable)
        wanted = _ITEM_PASSING[name]
        if wanted is None:  # zip: the element's position picks the argument
            if not element or element[0] >= len(args):
                return None
            iterable, element = args[element[0]].value, element[1:]
        elif wanted == 1:  # enumerate: (index, item)
            if not element or element[0] != 1 or not args:
                return None
            iterable, element = args[0].value, element[1:]
        else:
            if not args:
                return None
            iterable = args[0].value
    return iterable if not element else None
