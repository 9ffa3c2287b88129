"""GL108 float64-training."""

from __future__ import annotations

import re

import libcst as cst

from green_lint.rule import Fix, Rule
from green_lint.rules._precision_float64 import (
    LEGITIMATE_CALLS,
    LEGITIMATE_PACKAGES,
    float32_edit,
    float64_argument,
    is_float64,
    keeps_numpy_dtype,
)
from green_lint.rules._syntax import argument
from green_lint.rules._torch_call_graph import Analysis
from green_lint.rules._torch_model_values import model_value, module_classes
from green_lint.rules._torch_modules import TorchModules

WHY = (
    "every weight, activation and gradient then takes twice the memory and memory traffic, "
    "and GPUs run float64 at a fraction of their float32 rate (1/64 on GeForce RTX 30/40 "
    "cards, half on an A100, with no tensor cores for float32-style matmuls)"
)
INPUTS = (
    "feed it float32 inputs (`torch.from_numpy(x).float()` or `x.astype(np.float32)`, as NumPy "
    "arrays default to float64)"
)
TAIL = "float64 is for gradient checks and numerically delicate solvers, not for training a network."
ADVICE = f"keep the model in float32 (the default: `.float()`) and {INPUTS}; {TAIL}"
TEST_FILE = re.compile(r"(?:^|[\\/])(?:test_[^\\/]*|[^\\/]*_test\.py|conftest\.py)$")


class Float64Training(Rule):
    """
    ## What it does
    Flags a PyTorch model made float64, for training or inference:
    - `.double()`, `.to(torch.float64)`, `.to(dtype=torch.double)` or
      `.type(torch.DoubleTensor)` on a torch module (an `nn.Module` subclass of the file, a
      `torch.nn` layer, a loaded or pretrained model, `self.net` set to one, a name that
      holds one);
    - a `torch.nn` layer or a module class of the file built with `dtype=torch.float64`, a
      transformers model loaded with `torch_dtype=torch.float64`;
    - `torch.set_default_dtype(torch.float64)` or
      `torch.set_default_tensor_type(torch.DoubleTensor)` in a file that builds a model.

    A float32 model fed float64 inputs fails (PyTorch checks the dtypes), so float64
    inputs (`x.double()`, `torch.tensor(..., dtype=torch.float64)`, NumPy float64 arrays
    through `torch.from_numpy`) waste energy only beside a float64 model: they are part of
    the same finding, and of its fix.

    Not flagged: float64 tensors without a float64 model (statistics, metrics, scientific
    code); files that call `torch.autograd.gradcheck`/`gradgradcheck` (gradient checks need
    float64), use `torch.optim.LBFGS` or import BoTorch or GPyTorch (which recommend
    double precision); pytest files (`test_*.py`, `*_test.py`), which check dtype support;
    a `.double()` whose receiver is not a torch module.

    ## Why it wastes energy
    Float64 doubles the bytes of every weight, activation, gradient and optimizer state,
    hence the memory traffic that bounds most training steps, and halves what fits in a
    cache or a SIMD register on the CPU. On GPUs it is worse: consumer and workstation
    NVIDIA GPUs run float64 arithmetic at 1/32 (Turing) or 1/64 (Ampere GA10x, Ada) of
    their float32 rate, and even data-centre GPUs run it at half the float32 rate with no
    TF32/half-precision tensor cores. Deep networks do not need the extra precision:
    float32 is PyTorch's default, and training commonly goes lower still (bfloat16).

    ## Example
    ```python
    X = torch.from_numpy(np.random.rand(1000, 20))  # float64, as NumPy's default
    model = Net().double()  # so the model was made float64 to match
    for epoch in range(100):
        loss = loss_fn(model(X), y)
    ```

    ## Use instead
    ```python
    X = torch.from_numpy(np.random.rand(1000, 20)).float()  # or .astype(np.float32)
    model = Net()
    for epoch in range(100):
        loss = loss_fn(model(X), y)
    ```

    ## Fix safety
    Unsafe: results change in the low digits, and a model that really needs float64 (an
    ill-conditioned loss) may train worse. The fix turns the whole file to float32 at
    once, since a float32 model rejects float64 inputs: `.double()` becomes `.float()`,
    `torch.float64`/`torch.double` given as a `dtype` (or to `.to`/`.type`) become
    `torch.float32`/`torch.float`, `torch.DoubleTensor` becomes `torch.FloatTensor`, and
    `set_default_dtype(torch.float64)` becomes `torch.float32`. No fix is offered when the
    file converts NumPy arrays with `torch.from_numpy`/`torch.as_tensor`/`torch.tensor(a)`
    without a cast (they may be float64, which the fix cannot see), or defines its own
    `double` function.

    ## Evidence
    - CUDA C++ Programming Guide, throughput of native arithmetic instructions: 64-bit
      floating-point add/multiply/FMA at 2 results per clock per SM on compute capability
      7.5, 8.6 and 8.9 (Turing, Ampere GA10x, Ada) against 64 or 128 for 32-bit; 32
      against 64 on 8.0 (A100).
      https://docs.nvidia.com/cuda/cuda-c-programming-guide/index.html#arithmetic-instructions
    - NVIDIA A100 datasheet: FP64 9.7 TFLOPS (19.5 on FP64 tensor cores) against FP32 19.5
      and TF32 tensor cores 156 TFLOPS.
      https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a100/pdf/nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf
    - PyTorch, `torch.set_default_dtype`: float32 is the default floating point dtype.
      https://pytorch.org/docs/stable/generated/torch.set_default_dtype.html
    - The saving depends on the hardware and on how memory-bound the step is: measure it on
      your code with `green-lint verify`.
    """

    code = "GL108"
    name = "float64-training"
    summary = "A model in float64: twice the memory traffic and a fraction of the GPU throughput of float32"
    fix_safety = "unsafe"
    severity = "warning"
    needs = (Analysis, TorchModules)
    triggers = (("double", "torch"), ("float64", "torch"), ("DoubleTensor", "torch"))

    def visit_Module(self, node: cst.Module) -> None:
        context = self.context
        self._skip = bool(TEST_FILE.search(context.path)) or any(
            context.semantic.imports_module(package) for package in LEGITIMATE_PACKAGES
        )
        self._classes = module_classes(context) if not self._skip else {}
        self._builds_model = bool(self._classes)
        # (node to report, message) for the model made float64 and the default dtype.
        self._findings: list[tuple[cst.CSTNode, str]] = []
        self._defaults: list[tuple[cst.CSTNode, str]] = []
        self._edits: dict[int, tuple[cst.CSTNode, cst.CSTNode]] = {}
        self._fixable = True

    def _edit(self, node: cst.BaseExpression) -> None:
        edit = float32_edit(node)
        if edit is None:
            self._fixable = False
        else:
            self._edits[id(edit[0])] = edit

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node.name.value == "double":
            self._fixable = False  # `.double()` may be the file's own method

    def visit_Call(self, node: cst.Call) -> None:
        if self._skip:
            return
        context = self.context
        func = node.func
        if context.resolves_to(func, *LEGITIMATE_CALLS):
            self._skip = True
            return
        if keeps_numpy_dtype(context, node):
            self._fixable = False
        if not self._builds_model and (
            context.resolves_under(func, "torch.optim")
            or model_value(context, self._classes, node, lambda expr: None) is not None
        ):
            self._builds_model = True
        if context.resolves_to(func, "torch.set_default_dtype", "torch.set_default_tensor_type"):
            dtype = argument(node, 0, "d") or argument(node, 0, "t")
            if is_float64(context, dtype):
                self._edit(dtype)
                self._defaults.append((node, self._default_message(node)))
            return
        if context.resolves_to(func, "torch.DoubleTensor", "torch.cuda.DoubleTensor"):
            self._edit(func)
            return
        method = func.attr.value if isinstance(func, cst.Attribute) else None
        if method == "double" and not node.args:
            self._edits[id(func.attr)] = (func.attr, func.attr.with_changes(value="float"))
            if self._is_model(func.value):
                self._model_finding(node, func.value)
            return
        dtype = float64_argument(context, node)
        if dtype is None:
            return
        self._edit(dtype)
        if method in ("to", "type"):
            if self._is_model(func.value):
                self._model_finding(node, func.value)
        elif model_value(context, self._classes, node, lambda expr: None) is not None:
            self._findings.append(
                (
                    node,
                    f"`{context.code_for(func)}(..., dtype=...)` builds this model in float64: "
                    f"{WHY}. Build it in float32 (drop `dtype`): {ADVICE}",
                )
            )

    def _is_model(self, receiver: cst.BaseExpression) -> bool:
        models = self.context.analysis(TorchModules)
        scope = self.context.scope()
        return models.value_info(receiver, lambda expr: models.lookup(expr, scope)) is not None

    def _model_finding(self, call: cst.Call, receiver: cst.BaseExpression) -> None:
        written = self.context.code_for(call.func).strip()
        self._findings.append((call, f"`{written}(...)` makes this model float64: {WHY}. Instead, {ADVICE}"))

    def _default_message(self, call: cst.Call) -> str:
        written = self.context.code_for(call).strip()
        return (
            f"`{written}` makes every model and tensor of this program float64: {WHY}. Keep the "
            f"float32 default (drop the call) and {INPUTS}; {TAIL}"
        )

    def leave_Module(self, original_node: cst.Module) -> None:
        if self._skip:
            return
        found = list(self._findings)
        if self._builds_model:
            found += self._defaults
        if not found:
            return
        fix = None
        if self._fixable and self._edits:
            changes = {old: new for old, new in self._edits.values()}
            fix = Fix("Train in float32: `.double()` -> `.float()`, float64 dtypes -> float32", changes)
        for node, message in found:
            self.report(node, message, fix=fix)
