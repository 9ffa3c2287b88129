"""GL110 optimizer-zero-grad-to-zeros."""

from __future__ import annotations

import re

import libcst as cst

from green_lint.rule import Fix, Rule
from green_lint.rules._syntax import argument, is_false_or_zero, walk

# Libraries whose optimizers and modules are torch's (or take torch's `set_to_none`).
TORCH_PACKAGES = (
    "torch",
    "lightning",
    "pytorch_lightning",
    "deepspeed",
    "accelerate",
    "transformers",
    "apex",
    "colossalai",
    "timm",
)
TORCH_BASES = ("torch", "lightning", "pytorch_lightning", "transformers", "deepspeed", "apex", "timm")


class OptimizerZeroGradToZeros(Rule):
    """
    ## What it does
    Flags `zero_grad(set_to_none=False)` (or `zero_grad(False)`) on a PyTorch optimizer or
    module: `optimizer.zero_grad(set_to_none=False)`, `model.zero_grad(set_to_none=False)`,
    `self.optimizer.zero_grad(set_to_none=False)`, in a file that imports torch (or a
    library built on it: Lightning, DeepSpeed, Accelerate, transformers, apex). This is
    torchfix's TOR402.

    Not flagged: `zero_grad()` and `zero_grad(set_to_none=True)`; a value that is not a
    literal `False` (a flag from a config, a parameter passed through); `zero_grad` of an
    object of a class of the file that defines its own `zero_grad` and is not a torch
    optimizer or module; files that import no torch library.

    ## Why it wastes energy
    `set_to_none=False` keeps every gradient tensor allocated and fills it with zeros: one
    memset kernel per parameter on every step, then the next backward pass adds into the
    zeros (a read and a write of every gradient) instead of writing them. With
    `set_to_none=True`, the default since PyTorch 2.0, the gradients are freed (less memory
    between steps) and the backward pass assigns them. The saving is modest per step (the
    PyTorch docs say it "can modestly improve performance"), but it is paid on every step of
    every training run, for a one-word change.

    ## Example
    ```python
    for inputs, targets in loader:
        optimizer.zero_grad(set_to_none=False)
        loss_fn(model(inputs), targets).backward()
        optimizer.step()
    ```

    ## Use instead
    ```python
    for inputs, targets in loader:
        optimizer.zero_grad()  # set_to_none=True since PyTorch 2.0
        loss_fn(model(inputs), targets).backward()
        optimizer.step()
    ```
    On PyTorch 1.7 to 1.13, write `zero_grad(set_to_none=True)` to get the saving.

    ## Fix safety
    The fix drops the argument. It is safe when the file never reads a `.grad` attribute:
    for parameters that receive a gradient on every step the training is the same, which is
    why PyTorch made it the default. It is unsafe when the file reads `.grad` (a gradient is
    then `None` between `zero_grad` and the backward pass, and stays `None` for a parameter
    that gets no gradient in a step, where `p.grad.norm()` would fail). torch optimizers also
    skip a parameter whose gradient is `None` where they would have stepped it with a zero
    gradient (momentum, weight decay): this differs only for parameters unused in a step.

    ## Evidence
    - PyTorch, `Optimizer.zero_grad`: `set_to_none=True` (the default) "will in general
      have lower memory footprint, and can modestly improve performance", with the
      behaviour differences listed above.
      https://pytorch.org/docs/stable/generated/torch.optim.Optimizer.zero_grad.html
    - PyTorch performance tuning guide, "Use parameter.grad = None instead of
      model.zero_grad() or optimizer.zero_grad()": zeroing runs a memset per parameter and
      the backward pass then accumulates with `+=` (read and write) instead of `=`.
      https://pytorch.org/tutorials/recipes/recipes/tuning_guide.html
    - The default became `True` in PyTorch 2.0: https://github.com/pytorch/pytorch/pull/92731
    - torchfix TOR402 flags the same calls (no fix): https://github.com/pytorch-labs/torchfix
    - The saving per step is small and grows with the number of parameters: measure it on
      your code with `green-lint verify`.
    """

    code = "GL110"
    name = "optimizer-zero-grad-to-zeros"
    summary = "zero_grad(set_to_none=False) fills every gradient with zeros: drop the argument"
    fix_safety = "safe"
    triggers = ("set_to_none", re.compile(r"zero_grad\(\s*(?:False|0)\b"))

    def visit_Module(self, node: cst.Module) -> None:
        semantic = self.context.semantic
        self._torch = any(semantic.imports_module(package) for package in TORCH_PACKAGES)
        self._reads_grad: bool | None = None
        self._own_classes: dict[str, cst.ClassDef] | None = None

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not (self._torch and isinstance(func, cst.Attribute) and func.attr.value == "zero_grad"):
            return
        value = argument(node, 0, "set_to_none")
        if value is None or not is_false_or_zero(value) or len(node.args) != 1:
            return
        if self._own_zero_grad(func.value):
            return
        written = self.context.code_for(node).strip()
        safe = not self._file_reads_grad()
        self.report(
            node,
            f"`{written}` fills every gradient with zeros on each step "
            "(a memset per parameter) and makes the next backward pass add into them instead of "
            "writing them: drop the argument (`set_to_none=True` is the default since PyTorch 2.0) "
            "to free the gradients between steps and save the memset and the extra read.",
            fix=Fix(
                "Drop `set_to_none=False`",
                {node: node.with_changes(args=())},
                applicability="safe" if safe else "unsafe",
            ),
        )

    def _file_reads_grad(self) -> bool:
        """Whether the file uses a `.grad` attribute (then a gradient left `None` may matter)."""
        if self._reads_grad is None:
            self._reads_grad = any(
                isinstance(node, cst.Attribute) and node.attr.value == "grad"
                for node in walk(self.context.module)
            )
        return self._reads_grad

    def _own_zero_grad(self, receiver: cst.BaseExpression) -> bool:
        """Whether `receiver` is an object of a class of the file that defines its own
        `zero_grad` without deriving from a torch class (`self` in its methods, or a name
        built by calling it)."""
        classes = self._classes_with_zero_grad()
        if not classes:
            return False
        if isinstance(receiver, cst.Name) and receiver.value == "self":
            cls = self.context.enclosing(cst.ClassDef)
            return cls is not None and cls.name.value in classes and classes[cls.name.value] is cls
        for value in self.context.values.expressions(receiver):
            if isinstance(value, cst.Call) and isinstance(value.func, cst.Name):
                found = self.context.semantic.definition(value.func)
                if isinstance(found, cst.ClassDef) and classes.get(found.name.value) is found:
                    return True
        return False

    def _classes_with_zero_grad(self) -> dict[str, cst.ClassDef]:
        if self._own_classes is None:
            self._own_classes = {}
            for node in walk(self.context.module):
                if not isinstance(node, cst.ClassDef) or any(
                    self.context.resolves_under(base.value, *TORCH_BASES) for base in node.bases
                ):
                    continue
                if any(
                    isinstance(statement, cst.FunctionDef) and statement.name.value == "zero_grad"
                    for statement in node.body.body
                ):
                    self._own_classes[node.name.value] = node
        return self._own_classes
