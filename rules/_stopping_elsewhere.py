"""GL102's look at a file whose training step lives in another module of the project: the
file imports a function or class named for training (`from training import train_epoch`,
`from trainer import FasterRCNNTrainer`, `import engine`), and the project's summary of
it says that it runs `backward()` and an optimizer's `step()`."""

from __future__ import annotations

import ast
import re
from typing import Any

import libcst as cst

from green_lint.context import RuleContext
from green_lint.project import imported_name
from green_lint.rules._syntax import positional
from green_lint.walk import walk

# An import statement naming something for training (the name or its module); the rule
# looks further only in files that also use torch (the step it looks for is PyTorch's).
_TRAIN_WORD = re.compile(r"(?i)train")
IMPORTS_TRAINING = re.compile(r"import(?<=\bimport)(?:[ \t][^;#\n(]{0,200}?|\s*\([^)]{0,400}?)(?i:train)")


def imports_training_code(tree: ast.Module, project: Any) -> bool:
    """Whether the file imports a project function that trains, or a class with a method
    that trains, or calls such a function through an imported module (`engine.fit(...)`)."""
    modules: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name == "*":
                    continue
                qualified = imported_name(node, alias)
                if _TRAIN_WORD.search(qualified) and _trains(project, qualified):
                    return True
                modules[alias.asname or alias.name] = qualified
        elif isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                modules[local] = alias.name if alias.asname else local
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            receiver = node.func.value
            if (
                isinstance(receiver, ast.Name)
                and receiver.id in modules
                and _TRAIN_WORD.search(node.func.attr)
            ):
                function = project.function(f"{modules[receiver.id]}.{node.func.attr}")
                if function is not None and function.trains:
                    return True
    return False


def _trains(project: Any, qualified: str) -> bool:
    function = project.function(qualified)
    if function is not None:
        return function.trains
    project_class = project.project_class(qualified)
    return project_class is not None and bool(project_class.training_methods)


def parameter_budget(context: RuleContext, loop: cst.BaseExpression) -> cst.Name | None:
    """The parameter that bounds `range(n)` / `range(start, n)` (the loop's iterable), when
    `n` is a parameter of a top-level function: its callers in other modules may say."""
    if not (isinstance(loop, cst.Call) and context.resolves_to(loop.func, "builtins.range")):
        return None
    args = positional(loop)
    if not 1 <= len(args) <= 2 or len(args) != len(loop.args):
        return None
    stop = args[-1].value
    if not isinstance(stop, cst.Name) or context.project is None:
        return None
    bindings = context.semantic.binding_of(stop)
    if not bindings or any(binding.kind != "parameter" for binding in bindings):
        return None
    return stop


def may_come_from_other_modules(context: RuleContext, loop: cst.BaseExpression) -> bool:
    """Whether the budget of `range(...)` (the loop's iterable) may be set in another
    module of the project: a bound reads a parameter, or an attribute of a name
    (`args.epochs`, `opt.n_epochs`)."""
    if context.project is None or not isinstance(loop, cst.Call):
        return False
    if not context.resolves_to(loop.func, "builtins.range"):
        return False
    if parameter_budget(context, loop) is not None:
        return True
    return any(
        isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name)
        for arg in loop.args
        for node in walk(arg.value)
    )


def budget_from_callers(
    context: RuleContext, loop: cst.BaseExpression
) -> tuple[tuple[float, float], str] | None:
    """The budget of `range(n)` where the parameter `n` is given by the project's other
    modules (`train(net, data, 20)` in main.py): (fewest, most) of the numbers they pass
    (the default where one leaves it out), and the words of the message that name a caller.
    None unless every call passes a known number."""
    stop = parameter_budget(context, loop)
    if stop is None:
        return None
    given = context.values.values_from_callers(stop)
    if not given or not all(isinstance(v, int | float) and not isinstance(v, bool) for v, _ in given):
        return None
    start = 0
    if len(loop.args) == 2:
        start = context.values.number(loop.args[0].value)
        if start is None:
            return None
    turns = [value - start for value, _ in given]
    value, caller = max(given, key=lambda item: item[0])
    origin = f" (`{stop.value}` is {value} in the call from `{context.project_place(caller)}`)"
    return (min(turns), max(turns)), origin


# Methods that return the object they are called on (moved, or switched to a mode).
_SAME_MODEL_METHODS = frozenset(("cuda", "cpu", "to", "train", "eval", "float", "double", "half"))


def trains_in_another_module(context: RuleContext, call: cst.Call) -> bool:
    """A call of a function, or of a method of a class, that another module of the
    project defines and that runs a training step there: `train_one_epoch(...)` from
    engine.py, `trainer.train_step(...)` with `trainer = Trainer(...).cuda()` built
    from trainer.py's class."""
    if context.project is None:
        return False
    values = context.values
    function = values.imported_function(call.func)
    if function is not None:
        return function.trains
    func = call.func
    if not isinstance(func, cst.Attribute):
        return False
    receivers = values.expressions(func.value) if isinstance(func.value, cst.Name | cst.Attribute) else []
    for value in receivers:
        while (
            isinstance(value, cst.Call)
            and isinstance(value.func, cst.Attribute)
            and value.func.attr.value in _SAME_MODEL_METHODS
        ):
            value = value.func.value
        if isinstance(value, cst.Call):
            project_class = values.imported_class(value.func)
            if project_class is not None and func.attr.value in project_class.training_methods:
                return True
    return False
