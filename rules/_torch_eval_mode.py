"""Train/eval mode: `x.eval()` / `x.train(False)` calls, and which models compute
something different in training mode (dropout, batch norm, instance norm, transformer
layers, or a class of the file that holds one of those).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import libcst as cst

from green_lint.rules._syntax import argument, is_false_or_zero

if TYPE_CHECKING:
    from green_lint.rules._torch_modules import TorchModules

# Layers and containers whose output depends on train/eval mode.
MODE_DEPENDENT = re.compile(
    r"Dropout|dropout|BatchNorm|batch_norm|InstanceNorm|instance_norm|RReLU|Transformer|"
    r"self\.training|\.training\b"
)


def is_eval_call(call: cst.Call) -> bool:
    """`x.eval()` or `x.train(False)`."""
    func = call.func
    if not isinstance(func, cst.Attribute):
        return False
    if func.attr.value == "eval":
        return not call.args
    if func.attr.value == "train":
        return is_false_or_zero(argument(call, 0, "mode"))
    return False


def mode_dependent_class_names(models: TorchModules) -> set[str]:
    """The module classes of the file whose code uses a mode-dependent layer, builds or
    loads a model in a method, or uses another such class."""
    context, analysis = models.context, models.analysis
    texts = {name: context.code_for(cls) for name, cls in models.module_classes.items()}
    found = {name for name, text in texts.items() if MODE_DEPENDENT.search(text)}
    for call, state in analysis.calls:
        cls = analysis.functions[state.func].method_of if state.func is not None else None
        if cls is not None and cls.name.value in texts:
            built = models.value_info(call, lambda expr: None)
            if built is not None and built.kind in ("builder", "load"):
                found.add(cls.name.value)
    changed = True
    while changed:
        changed = False
        for name, text in texts.items():
            if name not in found and any(re.search(rf"\b{other}\b", text) for other in found):
                found.add(name)
                changed = True
    return found
