"""Whether the code of a file runs on an accelerator (a CUDA GPU, Apple's MPS, an Intel XPU,
...), one notion shared by GL105 (mixed precision pays off there) and GL304 (eager CPU
inference is no concern there).

A device expression may name an accelerator when one of the values that reach it does:
`"cuda"`, `"cuda:0"`, `"mps"`, `torch.device("cuda", 0)`, `torch.device(0)`,
`f"cuda:{rank}"`, `"cuda:{}".format(i)`, `"cuda:%d" % i`, `"cuda" if ... else "cpu"`,
`torch.accelerator.current_accelerator()` (and its `.type`), `torch.cuda.current_device()`,
through names, `self.device = ...` set in the class, `args.device` with an argparse default
and parameters given such a device at a call site of the file. Work moves there through
`.cuda()`, `.to(device)`, a `device=` (or `map_location=`) argument, or
`torch.set_default_device(device)`."""

from __future__ import annotations

from functools import cached_property

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._syntax import argument
from green_lint.walk import walk

# Device types of accelerators: torch's, and "gpu" as Lightning and TensorFlow spell it.
ACCELERATOR_TYPES = frozenset({"cuda", "mps", "xpu", "npu", "hpu", "xla", "mtia", "gpu"})
UNKNOWN_ACCELERATOR = "accelerator"  # `torch.accelerator.current_accelerator()`: whichever is present
# Tensor and module methods that move to an accelerator.
MOVE_METHODS = {"cuda": "cuda", "xpu": "xpu", "npu": "npu", "hpu": "hpu"}
DEVICE_KEYWORDS = ("device", "map_location")
CURRENT_ACCELERATOR = ("torch.accelerator.current_accelerator", "torch.accelerator.current_device_index")
CURRENT_CUDA = ("torch.cuda.current_device",)
TORCH_DEVICE = "torch.device"
SET_DEFAULT_DEVICE = "torch.set_default_device"
# `torch.cuda.*` that only ask about (or seed) the GPU, which CPU code calls too.
CUDA_QUERIES = frozenset(
    {"is_available", "device_count", "is_bf16_supported", "manual_seed", "manual_seed_all", "seed"}
)
# Signs that a file runs on an accelerator, besides moving work there.
ACCELERATOR_LIBRARIES = ("accelerate.Accelerator", "torch.nn.DataParallel")
MAX_DEPTH = 6


def device_type(text: str) -> str | None:
    """The accelerator type of a device string (`"cuda:1"` -> "cuda", TensorFlow's
    `"/device:GPU:0"` -> "gpu"), or None for the CPU or anything else."""
    spec = text.strip().lower()
    if spec.startswith("/"):
        spec = spec.removeprefix("/").removeprefix("device:")
    kind = spec.split(":", 1)[0]
    return kind if kind in ACCELERATOR_TYPES else None


class Accelerators:
    """Where one file's code runs: the accelerators its device expressions may name, and
    whether it moves work to one (an analysis: declare it in the rule's `needs`)."""

    def __init__(self, context: RuleContext) -> None:
        self.context = context
        self._memo: dict[int, frozenset[str]] = {}

    # -- device expressions --------------------------------------------------------------
    def device_types(self, node: cst.BaseExpression | None, depth: int = 0) -> frozenset[str]:
        """The accelerator types the device expression `node` may name (empty: the CPU, or
        not known to be an accelerator)."""
        if node is None or depth > MAX_DEPTH:
            return frozenset()
        key = id(node)
        if key not in self._memo:
            self._memo[key] = frozenset()  # recursion guard
            self._memo[key] = self._device_types(node, depth)
        return self._memo[key]

    def _device_types(self, node: cst.BaseExpression, depth: int) -> frozenset[str]:
        deeper = depth + 1
        if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
            value = _string(node)
            kind = device_type(value) if value is not None else None
            return frozenset({kind}) if kind else frozenset()
        if isinstance(node, cst.FormattedString):  # f"cuda:{rank}"
            first = node.parts[0] if node.parts else None
            if isinstance(first, cst.FormattedStringText) and ":" in first.value:
                kind = device_type(first.value)
                return frozenset({kind}) if kind else frozenset()
            return frozenset()
        if isinstance(node, cst.Integer):  # `.to(0)`, `torch.device(0)`: the first GPU
            return frozenset({"cuda"})
        if isinstance(node, cst.IfExp):
            return self.device_types(node.body, deeper) | self.device_types(node.orelse, deeper)
        if isinstance(node, cst.BooleanOperation):  # `args.device or "cuda"`
            return self.device_types(node.left, deeper) | self.device_types(node.right, deeper)
        if isinstance(node, cst.BinaryOperation):  # "cuda:%d" % i, "cuda:" + str(i)
            return self.device_types(node.left, deeper)
        if isinstance(node, cst.Call):
            return self._call_device_types(node, deeper)
        if isinstance(node, cst.Attribute) and node.attr.value == "type":  # `torch.device(...).type`
            found = self.device_types(node.value, deeper)
            if found:
                return found
        if isinstance(node, cst.Name | cst.Attribute | cst.Subscript):
            return self._followed(node, deeper)
        return frozenset()

    def _call_device_types(self, call: cst.Call, depth: int) -> frozenset[str]:
        context = self.context
        func = call.func
        if context.resolves_to(func, TORCH_DEVICE):
            return self.device_types(argument(call, 0, "type"), depth)
        if context.resolves_to(func, *CURRENT_ACCELERATOR):
            return frozenset({UNKNOWN_ACCELERATOR})
        if context.resolves_to(func, *CURRENT_CUDA):
            return frozenset({"cuda"})
        if isinstance(func, cst.Attribute) and func.attr.value == "format":  # "cuda:{}".format(i)
            return self.device_types(func.value, depth)
        return frozenset()

    def _followed(self, node: cst.Name | cst.Attribute | cst.Subscript, depth: int) -> frozenset[str]:
        """The device types of every value that reaches a name, `self.x`, `args.x` or `cfg[k]`."""
        values = self.context.values
        expressions = values.expressions(node)
        if expressions == [node]:
            imported = values.constant(node)  # `DEVICE` set in the project's config module
            if isinstance(imported, str):
                kind = device_type(imported)
                return frozenset({kind}) if kind else frozenset()
            default = self._argparse_default(node)
            return self.device_types(default, depth) if default is not None else frozenset()
        found: frozenset[str] = frozenset()
        for expression in expressions:
            if expression is not node:
                found |= self.device_types(expression, depth)
        return found

    def _argparse_default(self, node: cst.BaseExpression) -> cst.BaseExpression | None:
        """`args.device` where `args` is a parameter (`def main(args)`) or not bound in the
        file: the `default=` of the file's `add_argument` for it."""
        if not (isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name)):
            return None
        receiver = node.value
        if receiver.value in ("self", "cls"):
            return None
        bindings = self.context.values.reaching(receiver)
        if any(binding.kind != "parameter" for binding in bindings):
            return None
        return self.context.values.calls.argparse_default(node.attr.value)

    # -- moving work ---------------------------------------------------------------------
    def placement(self, call: cst.Call) -> frozenset[str]:
        """The accelerator types a call moves work to: `.cuda()`, `.to(device)`, a
        `device=`/`map_location=` argument, `torch.set_default_device(device)`."""
        func = call.func
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            if method in MOVE_METHODS and self.context.qualified_name(func) is None:
                return frozenset({MOVE_METHODS[method]})
            if method == "to":
                return self.device_types(argument(call, 0, "device"))
        found: frozenset[str] = frozenset()
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value in DEVICE_KEYWORDS:
                found |= self.device_types(arg.value)
        if not found and self.context.resolves_to(func, SET_DEFAULT_DEVICE):
            found = self.device_types(argument(call, 0, "device"))
        return found

    @cached_property
    def placements(self) -> frozenset[str]:
        """Every accelerator type the file's calls move work to."""
        found: frozenset[str] = frozenset()
        for node in walk(self.context.module):
            if isinstance(node, cst.Call):
                found |= self.placement(node)
        return found

    @cached_property
    def targets_accelerator(self) -> bool:
        """Whether the file's code runs on an accelerator: it moves work to one, names an
        accelerator device in a string (`device = "cuda"`), places a model with
        `device_map=`, uses `torch.accelerator`, `torch.cuda` beyond asking whether there
        is a GPU, accelerate's `Accelerator` or `nn.DataParallel`."""
        if self.placements:
            return True
        context = self.context
        for node in walk(context.module):
            if isinstance(node, cst.SimpleString):
                value = _string(node)
                if value is not None and device_type(value):
                    return True
            elif isinstance(node, cst.Arg):
                if node.keyword is not None and node.keyword.value == "device_map":
                    value = _string(node.value) if isinstance(node.value, cst.SimpleString) else None
                    if value != "cpu":
                        return True
            elif isinstance(node, cst.Name | cst.Attribute) and _names_accelerator_code(context, node):
                return True
        return False


def _names_accelerator_code(context: RuleContext, node: cst.Name | cst.Attribute) -> bool:
    """accelerate's `Accelerator`, `nn.DataParallel`, or `torch.cuda.X`/`torch.accelerator.X`
    other than the questions CPU code asks too."""
    name = context.qualified_name(node)
    if name is None:
        return False
    if name in ACCELERATOR_LIBRARIES:
        return True
    module, _, attribute = name.rpartition(".")
    return module in ("torch.cuda", "torch.accelerator") and attribute not in CUDA_QUERIES


def _string(node: cst.BaseExpression) -> str | None:
    try:
        value = node.evaluated_value  # type: ignore[union-attr]
    except Exception:  # an f-string piece or bytes that does not evaluate
        return None
    return value if isinstance(value, str) else None
