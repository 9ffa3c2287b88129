"""What GL108 reads: float64 dtypes of torch, where a value is made float64 (`.double()`,
`.to(torch.float64)`, `dtype=torch.float64`, `torch.DoubleTensor`), the edits that turn
each into float32, and the NumPy conversions that keep float64 (which the fix cannot
follow)."""

from __future__ import annotations

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._syntax import keyword, string_value

FLOAT64 = ("torch.float64", "torch.double")
DOUBLE_TENSORS = ("torch.DoubleTensor", "torch.cuda.DoubleTensor")
# The float32 spelling of each float64 attribute name.
FLOAT32_NAMES = {"float64": "float32", "double": "float", "DoubleTensor": "FloatTensor"}
DOUBLE_TENSOR_STRINGS = {
    "torch.DoubleTensor": "torch.FloatTensor",
    "torch.cuda.DoubleTensor": "torch.cuda.FloatTensor",
}
# Methods that cast a tensor: a NumPy array converted and cast at once keeps no float64.
CASTS = frozenset({"float", "double", "half", "bfloat16", "long", "int", "short", "byte", "bool", "type"})
# Conversions that keep a NumPy array's dtype (float64 for `np.random.rand`, `np.zeros`...).
DTYPE_KEEPING = ("torch.from_numpy", "torch.as_tensor", "torch.tensor", "torch.asarray")
# Code where float64 is the point: gradient checks need it, L-BFGS and Gaussian processes
# (BoTorch, GPyTorch recommend double precision) are often numerically delicate.
LEGITIMATE_CALLS = (
    "torch.autograd.gradcheck",
    "torch.autograd.gradgradcheck",
    "torch.autograd.gradcheck.gradcheck",
    "torch.autograd.gradcheck.gradgradcheck",
    "torch.optim.LBFGS",
    "torch.optim.lbfgs.LBFGS",
)
LEGITIMATE_PACKAGES = ("botorch", "gpytorch")


def is_float64(context: RuleContext, node: cst.BaseExpression | None) -> bool:
    """`torch.float64`, `torch.double` (or a DoubleTensor type, or its name as a string)."""
    if node is None:
        return False
    if isinstance(node, cst.Attribute | cst.Name):
        return context.resolves_to(node, *FLOAT64, *DOUBLE_TENSORS)
    return string_value(node) in DOUBLE_TENSOR_STRINGS


def float64_argument(context: RuleContext, call: cst.Call) -> cst.BaseExpression | None:
    """The float64 dtype a call is given: `dtype=torch.float64` (`torch_dtype=` for
    transformers), or for `.to(...)` and
    `.type(...)` a positional one (`x.to(device, torch.float64)`)."""
    found = keyword(call, "dtype") or keyword(call, "torch_dtype")  # transformers' from_pretrained
    if found is not None:
        return found.value if is_float64(context, found.value) else None
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value in ("to", "type"):
        for arg in call.args:
            if arg.keyword is None and not arg.star and is_float64(context, arg.value):
                return arg.value
    return None


def float32_edit(node: cst.BaseExpression) -> tuple[cst.CSTNode, cst.CSTNode] | None:
    """(node to replace, its float32 replacement) for a float64 dtype expression, or None
    when it cannot be rewritten in place (a bare imported `float64`)."""
    if isinstance(node, cst.Attribute) and node.attr.value in FLOAT32_NAMES:
        return node.attr, node.attr.with_changes(value=FLOAT32_NAMES[node.attr.value])
    if isinstance(node, cst.SimpleString):
        value = string_value(node)
        if value in DOUBLE_TENSOR_STRINGS:
            quote = node.quote
            return node, node.with_changes(value=f"{node.prefix}{quote}{DOUBLE_TENSOR_STRINGS[value]}{quote}")
    return None


def keeps_numpy_dtype(context: RuleContext, call: cst.Call) -> bool:
    """A conversion that keeps a NumPy array's dtype (`torch.from_numpy(a)`,
    `torch.as_tensor(a)`, `torch.tensor(a)` of a name) and is not cast at once (`.float()`,
    `dtype=`): after the fix, a float64 array would meet a float32 model."""
    if not context.resolves_to(call.func, *DTYPE_KEEPING) or keyword(call, "dtype") is not None:
        return False
    if context.resolves_to(call.func, "torch.tensor") and call.args:
        first = call.args[0].value
        if isinstance(first, cst.List | cst.Tuple | cst.Integer | cst.Float | cst.UnaryOperation):
            return False  # Python numbers: the default dtype
    stack = context.stack
    if len(stack) >= 3:
        attribute, outer = stack[-2], stack[-3]
        if (
            isinstance(attribute, cst.Attribute)
            and attribute.value is call
            and isinstance(outer, cst.Call)
            and outer.func is attribute
        ):
            method = attribute.attr.value
            if method in CASTS:
                return False
            if method == "to" and (
                keyword(outer, "dtype") is not None
                or any(
                    arg.keyword is None and context.resolves_under(arg.value, "torch") for arg in outer.args
                )
            ):
                return False
    return True
