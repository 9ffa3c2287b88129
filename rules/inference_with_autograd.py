"""GL301 inference-with-autograd."""

from __future__ import annotations

import libcst as cst

from green_lint.fixes import add_import
from green_lint.rule import Fix, Rule
from green_lint.rules._graph_flow import output_fate
from green_lint.rules._syntax import is_docstring
from green_lint.rules._torch import (
    is_inference_function,
    is_lightning_hook,
    is_pytest_test,
    iter_statement_blocks,
    loop_needs_grad,
    used_for_training,
)
from green_lint.rules._torch_call_graph import Analysis
from green_lint.rules._torch_calls import FunctionInfo
from green_lint.rules._torch_eval_mode import is_eval_call
from green_lint.rules._torch_modules import TorchModules


class InferenceWithAutograd(Rule):
    """
    ## What it does
    Flags a PyTorch forward pass (`model(x)`, `model.forward(x)`) in evaluation or
    inference code that runs with autograd on: a function that calls `model.eval()` or
    whose name says evaluate/validate/test/predict/infer/generate, or a module-level loop
    that follows `model.eval()`, with no `torch.no_grad()` / `torch.inference_mode()` /
    `torch.set_grad_enabled(False)` around it (as a `with` block or a decorator) and no
    `backward()` in it. Also any other forward pass whose output never reaches a
    `backward()` and never leaves its scope (an evaluation block inside the training loop,
    a prediction after training, a sampling helper of any name).

    ## Why it wastes energy
    With autograd on, every operation of the forward pass records a node of the graph
    and keeps its inputs alive for a backward pass that never comes: more memory, more
    allocator work, and on a GPU smaller batches than the device could take.
    `torch.inference_mode()` goes further than `no_grad()` by also skipping view tracking
    and version counter bumps. `model.eval()` does not turn autograd off: it only switches
    dropout and batch norm to their inference behaviour.

    ## Example
    ```python
    def evaluate(model, loader):
        model.eval()
        correct = 0
        for x, y in loader:
            correct += (model(x).argmax(1) == y).sum().item()
        return correct
    ```

    ## Use instead
    ```python
    @torch.no_grad()
    def evaluate(model, loader):
        model.eval()
        correct = 0
        for x, y in loader:
            correct += (model(x).argmax(1) == y).sum().item()
        return correct
    ```
    Or `@torch.inference_mode()`, the faster choice when the outputs never re-enter
    autograd; for code outside a function, a `with torch.no_grad():` block.

    ## Fix safety
    Safe: the function (or loop) never calls `backward()` and no caller in the file
    computes gradients through it, so no gradient is lost; the outputs no longer carry
    `requires_grad`. A function gets the `@torch.no_grad()` decorator (nothing is
    re-indented; a generator keeps the mode at each `yield`); a loop is wrapped in a
    `with torch.no_grad():` block, indented with the file's own unit. A coroutine runs
    after a decorator returns, so an `async` function is wrapped in a `with` block when it
    never awaits and gets no fix when it does. A forward found outside a function gets no
    fix. The fix uses `no_grad()` rather than `inference_mode()` because tensors made
    under `inference_mode()` cannot be used in autograd later: switch by hand where they
    never are.

    ## Evidence
    - PyTorch, `torch.no_grad` and `torch.inference_mode`: inference mode gives "better
      performance by disabling view tracking and version counter bumps".
      https://docs.pytorch.org/docs/stable/generated/torch.autograd.grad_mode.inference_mode.html
    - creedengo rule GCI100 (PyTorch inference without `torch.no_grad`), measured with
      CodeCarbon: a large memory drop, especially on GPU; the emissions gain is "less
      dramatic ... but meaningful" (a chart, no single figure).
      https://github.com/green-code-initiative/creedengo-rules-specifications
    - The saving depends on the model and the batch: measure it on your code with
      `green-lint verify`.
    """

    code = "GL301"
    needs = (Analysis, TorchModules)
    name = "inference-with-autograd"
    summary = (
        "PyTorch inference runs with autograd on and records a graph nobody uses; wrap it in torch.no_grad()"
    )
    fix_safety = "safe"
    # Inference code calls .eval() or is named so (evaluate, validate, predict, ...); any
    # other forward needs a model the file builds or loads (torch.nn, a loader).
    triggers = tuple(
        ("torch", word)
        for word in (
            "eval",
            "valid",
            "test",
            "predict",
            "infer",
            "generate",
            "nn",
            "load(",
            "from_pretrained",
        )
    )

    def leave_Module(self, node: cst.Module) -> None:
        context = self.context
        if not context.semantic.imports_module("torch"):
            return
        analysis = context.analysis(Analysis)
        if analysis.module_disables_grad:
            return
        models = context.analysis(TorchModules)
        needs_grad = analysis.needs_grad()
        grad_free = analysis.grad_free_functions()
        reported: set[cst.FunctionDef] = set()
        for call, state in analysis.calls:
            func = state.func
            if func is None or state.grad_off is not None or func in reported:
                continue
            if func in grad_free or func in needs_grad:
                continue
            forward = models.forward_model(call, state)
            if forward is None:
                continue
            info = analysis.functions[func]
            if not is_inference_function(models, info) or used_for_training(analysis, func, needs_grad):
                continue
            reported.add(func)
            target = context.code_for(forward[0])
            self.report(
                call,
                f"`{target}` runs a forward pass in `{info.name}()` with autograd on: PyTorch "
                "records the graph and keeps every activation for a backward pass that never "
                "comes. Wrap the inference in `with torch.no_grad():` (or "
                "`torch.inference_mode()`, faster still when the outputs never re-enter "
                "autograd).",
                fix=self._function_fix(info),
            )
        reported_tops = self._module_loops(analysis, models, needs_grad)
        self._outputs_never_backpropagated(analysis, models, grad_free, reported, reported_tops)

    # -- forwards whose output never reaches backward() ------------------------------------
    def _outputs_never_backpropagated(self, analysis, models, grad_free, reported, reported_tops) -> None:
        """Any forward whose value no `backward()` can reach: an evaluation block inside
        the training loop, a prediction after training, a sampling helper of any name."""
        context = self.context
        positions = {id(statement): index for index, statement in enumerate(context.module.body)}
        last_top = None
        for call, state in analysis.calls:
            func = state.func
            if state.grad_off is not None or func in reported or func in grad_free:
                continue
            forward = models.forward_model(call, state)
            if forward is None:
                continue
            if func is not None:
                info = analysis.functions[func]
                if _model_code(context, info) or output_fate(context, call, func) != "no":
                    continue
                reported.add(func)
                where, fix = f"`{info.name}()`", self._function_fix_if_safe(analysis, models, info)
            else:
                top = positions.get(id(state.top))
                if top is None or output_fate(context, call, context.module) != "no":
                    continue
                # A prediction and the prints around it are one block: one finding. A loop
                # or block of its own (an evaluation inside the training loop) is not part
                # of the simple statements that follow it.
                simple = isinstance(state.top, cst.SimpleStatementLine)
                grouped = last_top is not None and (
                    top == last_top[0] or (simple and last_top[1] and top - last_top[0] <= _BLOCK_GAP)
                )
                last_top = (top, simple)
                if grouped or state.top in reported_tops:
                    continue  # one finding per run of inference statements
                where, fix = "module-level code", None
            self.report(
                call,
                f"`{context.code_for(forward[0])}` runs a forward pass in {where} with autograd on, "
                "and nothing backpropagates through its output: PyTorch records the graph and keeps "
                "every activation for nothing. Wrap it in `with torch.no_grad():` (or "
                "`torch.inference_mode()`).",
                fix=fix,
            )

    def _function_fix_if_safe(self, analysis, models, info: FunctionInfo) -> Fix | None:
        """Wrapping the whole body is safe only when no forward in it trains."""
        if info.grad_markers:
            return None
        for call, state in analysis.calls_by_function.get(info.node, ()):
            if (
                models.forward_model(call, state) is not None
                and output_fate(self.context, call, info.node) != "no"
            ):
                return None
        return self._function_fix(info)

    # -- module-level loops after model.eval() -------------------------------------------
    def _module_loops(self, analysis: Analysis, models: TorchModules, needs_grad) -> set[cst.CSTNode]:
        module = self.context.module
        reported: set[cst.CSTNode] = set()
        for block in iter_statement_blocks(module):
            evaluated: str | None = None
            for statement in block:
                switched = _mode_switch(models, statement)
                if switched is not None:
                    evaluated = switched or None
                    continue
                if evaluated is None or not isinstance(statement, cst.For | cst.While):
                    continue
                if loop_needs_grad(analysis, statement, needs_grad):
                    continue
                for call, state in analysis.calls:
                    if (
                        state.func is not None
                        or state.loops[:1] != (statement,)
                        or state.grad_off is not None
                    ):
                        continue
                    forward = models.forward_model(call, state)
                    if forward is None:
                        continue
                    target = self.context.code_for(forward[0])
                    self.report(
                        call,
                        f"`{target}` runs a forward pass in a loop after `{evaluated}.eval()` with "
                        "autograd on: PyTorch records the graph and keeps every activation for a "
                        "backward pass that never comes. Wrap the loop in `with torch.no_grad():` "
                        "(or `torch.inference_mode()`, faster still when the outputs never "
                        "re-enter autograd).",
                        fix=self._loop_fix(statement),
                    )
                    reported.add(statement)
                    break
        return reported

    # -- fixes ---------------------------------------------------------------------------
    def _torch_name(self) -> tuple[str, dict]:
        local = self.context.semantic.local_name_for("torch")
        if local is not None:
            return local, {}
        return "torch", add_import(self.context, "import torch", binds="torch")

    def _function_fix(self, info: FunctionInfo) -> Fix | None:
        """`@torch.no_grad()` on the function: nothing is re-indented, and a generator keeps
        the mode at each `yield` (a `with` block would leak it to the consumer). A coroutine
        runs after the decorator has returned, so an `async def` is wrapped in a `with`
        block instead, and only when it never awaits (the mode would leak to other tasks)."""
        func = info.node
        if info.awaits:
            return None
        torch_name, import_changes = self._torch_name()
        no_grad = cst.parse_expression(f"{torch_name}.no_grad()")
        if func.asynchronous is None:
            decorated = func.with_changes(decorators=[*func.decorators, cst.Decorator(decorator=no_grad)])
            return Fix(
                "Decorate the function with @torch.no_grad()",
                {func: decorated, **import_changes},
                applicability="safe",
            )
        body = func.body
        if isinstance(body, cst.SimpleStatementSuite):
            statements = [cst.SimpleStatementLine(body=list(body.body))]
            docstring: list = []
        else:
            statements = list(body.body)
            docstring = statements[:1] if is_docstring(statements[0]) else []
        rest = statements[len(docstring) :]
        if not rest:
            return None
        wrapped = _with_block(no_grad, rest)
        if isinstance(body, cst.SimpleStatementSuite):
            new_body = cst.IndentedBlock(body=[wrapped], header=body.trailing_whitespace)
        else:
            new_body = body.with_changes(body=[*docstring, wrapped])
        return Fix(
            "Wrap the coroutine's body in `with torch.no_grad():`",
            {func: func.with_changes(body=new_body), **import_changes},
            applicability="safe",
        )

    def _loop_fix(self, loop: cst.For | cst.While) -> Fix:
        torch_name, import_changes = self._torch_name()
        wrapped = _with_block(cst.parse_expression(f"{torch_name}.no_grad()"), [loop])
        return Fix(
            "Wrap the loop in `with torch.no_grad():`",
            {loop: wrapped, **import_changes},
            applicability="safe",
        )


_BLOCK_GAP = 3


def _model_code(context, info: FunctionInfo) -> bool:
    """Code of a model or a framework hook: its caller decides the grad mode."""
    if is_pytest_test(context, info) or is_lightning_hook(context, info):
        return True
    cls = info.method_of
    if cls is None:
        return False
    defines_forward = any(
        isinstance(statement, cst.FunctionDef) and statement.name.value in ("forward", "__call__")
        for statement in cls.body.body
    )
    return defines_forward or any(
        context.resolves_under(base.value, "torch.nn", "lightning", "pytorch_lightning") for base in cls.bases
    )


def _with_block(item: cst.BaseExpression, statements: list) -> cst.With:
    first = statements[0]
    leading = first.leading_lines
    statements = [first.with_changes(leading_lines=()), *statements[1:]]
    return cst.With(
        items=[cst.WithItem(item=item)],
        body=cst.IndentedBlock(body=statements),
        leading_lines=leading,
    )


def _mode_switch(models: TorchModules, statement: cst.CSTNode) -> str | None:
    """For a module-level statement: the model name when it switches a model to eval mode,
    "" when it switches one back to training mode, None otherwise."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return None
    module = models.context.module
    for small in statement.body:
        value = small.value if isinstance(small, cst.Expr | cst.Assign) else None
        if not isinstance(value, cst.Call) or not isinstance(value.func, cst.Attribute):
            continue
        receiver = value.func.value
        if is_eval_call(value):
            if isinstance(small, cst.Assign) and models.value_info(value, lambda e: models.lookup(e, module)):
                return models.context.code_for(small.targets[0].target)
            if models.lookup(receiver, module) is not None:
                return models.context.code_for(receiver)
        elif value.func.attr.value == "train" and models.lookup(receiver, module) is not None:
            return ""
    return None
