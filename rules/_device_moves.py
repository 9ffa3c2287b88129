"""What a `.to(...)` / `.cuda(...)` call moves a tensor to (GL107): a device, a dtype, or
something unknown (another tensor), with the arguments a fix would carry over.

`Tensor.to` has three forms: `to(dtype, non_blocking, copy)`, `to(device, dtype,
non_blocking, copy)` and `to(other_tensor, non_blocking, copy)`. Only a first argument
that is clearly a device counts as a move: an accelerator device the file names
(`Accelerators.device_types`), `torch.device(...)`, an accelerator string, an int (a GPU
index), `x.device`, or a name spelled like a device (`device`, `dev`, `target_device`,
`local_rank`). A device known to be the CPU (`torch.device("cpu")`, `"cpu"`) is no move.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._accelerator import TORCH_DEVICE, Accelerators, device_type
from green_lint.rules._syntax import is_false, keywords, last_name, positional, string_value

TORCH_DTYPES = frozenset(
    {
        "float16",
        "half",
        "bfloat16",
        "float32",
        "float",
        "float64",
        "double",
        "complex64",
        "cfloat",
        "complex128",
        "cdouble",
        "uint8",
        "int8",
        "int16",
        "short",
        "int32",
        "int",
        "int64",
        "long",
        "bool",
    }
)
DEVICE_NAME = re.compile(r"(?:^|_)(?:device|dev)$|^(?:local_rank|rank|gpu|gpu_id|device_id)$", re.IGNORECASE)
DTYPE_NAME = re.compile(r"(?:^|_)dtype$", re.IGNORECASE)


@dataclass
class Move:
    """A move to a device: its device (None for `.cuda()`), the dtype given with it, and
    whether the other arguments let a fix carry it into the constructor."""

    device: cst.BaseExpression | None
    device_code: str
    dtype: cst.BaseExpression | None
    fixable: bool


def device_move(context: RuleContext, call: cst.Call) -> Move | None:
    """The move `call` (`X.to(...)` or `X.cuda(...)`) makes, or None when it is not clearly
    a move to a device (a dtype, another tensor, the CPU, `*args`)."""
    func = call.func
    if not isinstance(func, cst.Attribute) or any(arg.star for arg in call.args):
        return None
    given = keywords(call)
    args = positional(call)
    if func.attr.value == "cuda":
        return _cuda_move(call, given, args)
    device = given.get("device")
    dtype = given.get("dtype")
    extra = len(args)
    if args:
        kind = target_kind(context, args[0].value)
        if kind != "device" or device is not None:
            return None
        device = args[0].value
        if len(args) >= 2:
            if dtype is not None:
                return None
            dtype = args[1].value
        extra = max(0, len(args) - 2)
    elif device is None or target_kind(context, device) in ("cpu", "dtype"):
        return None
    fixable = extra == 0 and all(
        name in ("device", "dtype") or (name == "non_blocking" and is_false(value))
        for name, value in given.items()
    )
    return Move(device, context.code_for(device), dtype, fixable)


def _cuda_move(call: cst.Call, given: dict, args: list[cst.Arg]) -> Move:
    if not call.args:
        return Move(None, '"cuda"', None, True)
    index = args[0].value if len(args) == 1 and not given else given.get("device")
    if isinstance(index, cst.Integer) and len(call.args) == 1:
        return Move(index, f'"cuda:{index.value}"', None, True)
    return Move(index, "", None, False)


def target_kind(context: RuleContext, node: cst.BaseExpression) -> str | None:
    """What `node`, given to `.to()`, is: "device", "cpu", "dtype" or None (unknown: maybe
    another tensor)."""
    name = context.qualified_name(node)
    if name is not None and name.startswith("torch.") and name[len("torch.") :] in TORCH_DTYPES:
        return "dtype"
    spelled = last_name(node) if isinstance(node, cst.Name | cst.Attribute) else None
    if isinstance(node, cst.Attribute) and node.attr.value == "dtype":
        return "dtype"
    if spelled is not None and DTYPE_NAME.search(spelled):
        return "dtype"
    if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
        text = string_value(node)
        if text is None:
            return None
        return "device" if device_type(text) else "cpu" if text.strip().lower().startswith("cpu") else None
    if context.analysis(Accelerators).device_types(node):
        return "device"
    if _known_cpu(context, node):
        return "cpu"
    if isinstance(node, cst.Call) and context.resolves_to(node.func, TORCH_DEVICE):
        return "device"
    if isinstance(node, cst.Attribute) and node.attr.value == "device":
        return "device"
    if spelled is not None and DEVICE_NAME.search(spelled):
        return "device"
    return None


def _known_cpu(context: RuleContext, node: cst.BaseExpression) -> bool:
    """Every value reaching `node` is the CPU: `"cpu"` or `torch.device("cpu")`."""
    if not isinstance(node, cst.Name | cst.Attribute | cst.Subscript | cst.Call):
        return False
    found = [value for value in context.values.expressions(node) if value is not node]
    if isinstance(node, cst.Call):
        found = [node]
    if not found:
        return False
    for value in found:
        if isinstance(value, cst.Call) and context.resolves_to(value.func, TORCH_DEVICE):
            value = value.args[0].value if value.args else None
        text = string_value(value) if value is not None else None
        if text is None or not text.strip().lower().startswith("cpu"):
            return False
    return True
