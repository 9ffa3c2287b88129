"""Does a DataLoader feed training (GL106)? An evaluation loader (`test_loader`, a
`val_dataloader()`) runs once per epoch at most and without gradients: starving the GPU
there costs little, and the labelled real code never counts it. Read from where the loader
goes: a loop that back-propagates, a function of the file that trains on it, a `fit`, a
Lightning `train_dataloader()`; else from the names (`train_loader`, `test_loader`)."""

from __future__ import annotations

import re

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._stopping_steps import TrainingSteps
from green_lint.walk import walk

_EVALUATION_WORDS = frozenset({"test", "val", "valid", "validation", "eval", "evaluation", "dev", "predict"})
_WORD = re.compile(r"[a-z]+")
_TRAINS = re.compile(r"\.backward\(|\.fit\(|optimizer\.step\(|\boptim\w*\.step\(")


def loader_target(context: RuleContext) -> tuple[str | None, str | None]:
    """For the DataLoader call being visited: the name it is assigned to (`train_loader`,
    `self.train_loader`; the key of a dict of loaders, `{"train": DataLoader(...)}`) and
    the name of the def that returns it, if any."""
    stack = context.stack
    parent = stack[-2] if len(stack) > 1 else None
    target = None
    if isinstance(parent, cst.Assign) and len(parent.targets) == 1:
        target = context.code_for(parent.targets[0].target)
    elif isinstance(parent, cst.AnnAssign):
        target = context.code_for(parent.target)
    elif isinstance(parent, cst.DictElement) and isinstance(parent.key, cst.SimpleString):
        target = parent.key.evaluated_value if isinstance(parent.key.evaluated_value, str) else None
    returned_by = None
    if isinstance(parent, cst.Return):
        function = context.enclosing(cst.FunctionDef)
        returned_by = function.name.value if function is not None else None
    return target, returned_by


def feeds_training(context: RuleContext, target: str | None, returned_by: str | None) -> bool:
    """Whether the loader assigned to `target` (or returned by `returned_by`) feeds a
    training loop; a loader the file hands elsewhere is judged by its name."""
    names = [name for name in (target, returned_by) if name]
    words = {word for name in names for word in _WORD.findall(name.lower())}
    if returned_by is not None and returned_by.startswith(("val", "test", "predict")):
        return False
    if words & _EVALUATION_WORDS:
        return False
    if returned_by == "train_dataloader":
        return True
    trains_here = bool(_TRAINS.search(context.text))
    used = handed_elsewhere = False
    steps = None
    for node in walk(context.module) if target is not None else ():
        if isinstance(node, cst.For) and target in context.code_for(node.iter):
            used = True
            # A training step in the loop, or in the file's functions it calls (GL102's reading).
            steps = steps or _steps(context)
            if steps.trains(node):
                return True
        elif isinstance(node, cst.Call) and any(context.code_for(arg.value) == target for arg in node.args):
            if isinstance(node.func, cst.Attribute) and node.func.attr.value == "fit":
                return True
            imported = context.values.imported_function(node.func)
            if imported is not None:  # a function of another module of the project
                if imported.trains:
                    return True
                used = True
                continue
            local = _local_functions(context, node)
            for function in local:  # handed to a def of the file
                used = True
                if _TRAINS.search(context.code_for(function.body)):
                    return True
            handed_elsewhere = handed_elsewhere or not local
    if not trains_here and not handed_elsewhere:
        return False  # nothing in the file trains, and the loader goes nowhere else
    # Iterated (here, or by a def of the file) only where nothing trains: feature
    # extraction, evaluation. Handed elsewhere, or named for training: it may feed it.
    return "train" in words or not used


def _steps(context: RuleContext) -> TrainingSteps:
    # Imported here: GL102's loop module is loaded only for a file with a loader loop.
    from green_lint.rules._stopping_loops import _sweep

    return TrainingSteps(context, context.module, _sweep)


def _local_functions(context: RuleContext, call: cst.Call) -> list[cst.FunctionDef]:
    if not isinstance(call.func, cst.Name):
        return []
    found = context.semantic.lookup(call.func.value, call.func)
    return [binding.site for binding in found[1] if binding.kind == "function"] if found else []
