"""Train/eval mode: `x.eval()` / `x.train(False)` calls, and which models compute
something different in training mode (dropout, batch norm, instance norm, transformer
layers, or a class of the file that holds one of those).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._syntax import argument, is_false_or_zero, keyword
from green_lint.walk import walk

if TYPE_CHECKING:
    from green_lint.rules._torch_modules import TorchModules

# Layers and containers whose output depends on train/eval mode.
MODE_DEPENDENT = re.compile(
    r"Dropout|dropout|BatchNorm|batch_norm|InstanceNorm|instance_norm|RReLU|Transformer|"
    r"self\.training|\.training\b"
)


# Recurrent layers apply their `dropout=` between stacked layers only: with one layer it
# does nothing in either mode.
_RECURRENT = frozenset({"RNN", "LSTM", "GRU"})
_COMMENT = re.compile(r"#[^\n]*")


def mode_text(context: RuleContext, node: cst.CSTNode) -> str:
    """The code of `node` as MODE_DEPENDENT reads it: without comments, and without the
    inert `dropout=` of a one-layer `nn.RNN`/`nn.LSTM`/`nn.GRU` (no `num_layers`, or 1)."""
    text = context.code_for(node)
    for call in walk(node):
        if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Name | cst.Attribute):
            continue
        qualified = context.resolves_under(call.func, "torch.nn")
        if qualified is None or qualified.rsplit(".", 1)[-1] not in _RECURRENT:
            continue
        layers = argument(call, 2, "num_layers")
        dropout = keyword(call, "dropout")
        if dropout is not None and (layers is None or _is_one(layers)):
            text = text.replace(context.code_for(dropout), "", 1)
    return _COMMENT.sub("", text)


def _is_one(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Integer) and node.evaluated_value == 1


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
    texts = {name: mode_text(context, cls) for name, cls in models.module_classes.items()}
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
