"""GL301 inference-with-autograd."""

from __future__ import annotations

import libcst as cst

from green_lint.rule import Fix, Rule
from green_lint.rules._graph_flow import FlowIndex, follow_output
from green_lint.rules._torch import (
    block_statement,
    is_inference_function,
    is_model_code,
    iter_statement_blocks,
    loop_needs_grad,
    mode_switch,
)
from green_lint.rules._torch_call_graph import Analysis
from green_lint.rules._torch_calls import FunctionInfo
from green_lint.rules._torch_fixes import function_fix, loop_fix
from green_lint.rules._torch_forwards import Forwards
from green_lint.rules._torch_model_values import ModelInfo
from green_lint.rules._torch_modules import TorchModules
from green_lint.rules._torch_volatile import volatile_callee, volatile_input


class InferenceWithAutograd(Rule):
    """
    ## What it does
    Flags a PyTorch forward pass (`model(x)`, `model.forward(x)`) in evaluation or
    inference code that runs with autograd on: a function that calls `model.eval()` or
    whose name says evaluate/validate/test/predict/infer/generate, or a module-level loop
    that follows `model.eval()`, with no `torch.no_grad()` / `torch.inference_mode()` /
    `torch.set_grad_enabled(False)` around it (as a `with` block or a decorator) and no
    `backward()` in it. Also any other forward pass whose output never reaches a
    `backward()`, in its scope or in the callers it is returned to (an evaluation block
    inside the training loop, a prediction after training, a sampling helper of any name,
    a per-item function running a `from_pretrained` model in a file that never trains).
    A `validate(model)` called by the training loop is still inference when the loop only
    reads its result. A forward on inputs wrapped with `Variable(x, volatile=True)` is
    inference by its author's word (PyTorch before 0.4 built no graph for it; since 0.4
    `volatile` does nothing), even in the validation part of a `train()` function. A
    pretrained torchvision/timm model (`pretrained=True`, `weights=...`) in a file that
    switches it to eval mode and never trains runs for inference in a function of any name.

    A forward pass is a call of a model (a `torch.nn` module, a module class of the file,
    a loaded or pretrained model, a model held in a list or an `nn.ModuleList`, a model
    handed to the function at its call sites, a model of another file the code calls
    `.parameters()` or `.eval()` on, a trainer's `self.model` its methods call them on), of one of its submodules (`model.encoder(x)`), or of
    a method of its class that runs it (`vae.decode(z)`). The project's own decorators and
    context managers built on `no_grad`/`inference_mode` count as turning autograd off.
    Not flagged: the detached target of a training step (`target_net(s).detach()` feeding
    a loss), and module-level demonstrations of freshly built layers in a file that
    neither trains them nor loads weights into them.

    Across files: an inference function of one module (`evaluate` in `utils.py`) is
    judged with its callers in the project's other modules: not flagged when each of them
    calls it with autograd off (or back-propagates through what it returns) and the file
    itself does not call it; flagged otherwise, with one caller named in the message and
    all of them given as related locations.

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
    needs = (Analysis, TorchModules, FlowIndex)
    name = "inference-with-autograd"
    summary = (
        "PyTorch inference runs with autograd on and records a graph nobody uses; wrap it in torch.no_grad()"
    )
    fix_safety = "safe"
    # Inference code calls .eval() or is named so (evaluate, validate, predict, ...); any
    # other forward needs a model the file builds or loads (torch.nn, a loader), or one
    # whose parameters it trains.
    triggers = (
        *(
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
                "parameters(",
            )
        ),
        ("transformers", "from_pretrained"),
    )

    def leave_Module(self, node: cst.Module) -> None:
        context = self.context
        # transformers' models run on PyTorch even where the file never imports torch.
        if not (context.semantic.imports_module("torch") or context.semantic.imports_module("transformers")):
            return
        analysis = context.analysis(Analysis)
        if analysis.module_disables_grad:
            return
        models = context.analysis(TorchModules)
        forwards = Forwards(context, analysis, models)
        needs_grad = analysis.needs_grad()
        grad_free = analysis.grad_free_functions()
        reported: set[cst.FunctionDef] = set()
        volatile_tops = self._volatile_forwards(analysis, forwards, needs_grad, grad_free, reported)
        for call, state in analysis.calls:
            func = state.func
            if func is None or state.grad_off is not None or func in reported:
                continue
            if func in grad_free or func in needs_grad:
                continue
            forward = forwards.forward(call, state)
            if forward is None:
                continue
            info = analysis.functions[func]
            if not is_inference_function(models, info) or forwards.used_for_training(func, needs_grad):
                continue
            other_files = self._other_files(analysis, func)
            if other_files is None:
                continue
            callers, related = other_files
            reported.add(func)
            target = context.code_for(forward[0])
            self.report(
                call,
                f"`{target}` runs a forward pass in `{info.name}()` with autograd on: PyTorch "
                "records the graph and keeps every activation for a backward pass that never "
                f"comes.{callers} Wrap the inference in `with torch.no_grad():` (or "
                "`torch.inference_mode()`, faster still when the outputs never re-enter "
                "autograd).",
                fix=function_fix(self.context, info),
                related=related,
            )
        reported_tops = self._module_loops(analysis, forwards, needs_grad, volatile_tops)
        self._outputs_never_backpropagated(
            analysis, forwards, grad_free, reported, reported_tops | volatile_tops
        )

    # -- forwards on Variable(x, volatile=True) -------------------------------------------
    def _volatile_forwards(self, analysis, forwards, needs_grad, grad_free, reported) -> set[cst.CSTNode]:
        """Forwards on inputs wrapped with `volatile=True`: inference by the author's own
        word, even inside a training function (its validation part), unless the output
        reaches a backward pass. One finding per function or module-level statement."""
        context = self.context
        tops: set[cst.CSTNode] = set()
        if "volatile" not in context.text:
            return tops  # no input is wrapped with `volatile=True`: nothing to walk
        for call, state in analysis.calls:
            func = state.func
            if state.grad_off is not None or func in reported or func in grad_free:
                continue
            if func is None and state.top in tops:
                continue
            info = analysis.functions[func] if func is not None else None
            if info is not None and is_model_code(context, info):
                continue
            if not volatile_input(context, call):
                continue
            forward = forwards.forward(call, state)
            target = (
                forward[0] if forward is not None else volatile_callee(context, analysis.calls, call, state)
            )
            if target is None or forwards.fate(call, func or context.module) == "backward":
                continue
            if info is not None:
                reported.add(func)
                where = f"`{info.name}()`"
                fix = None if func in needs_grad else self._function_fix_if_safe(analysis, forwards, info)
                if func not in needs_grad:  # inference throughout: its first forward
                    call, target = next(
                        (
                            (c, found[0])
                            for c, s in analysis.calls_by_function.get(func, ())
                            if s.grad_off is None and (found := forwards.forward(c, s)) is not None
                        ),
                        (call, target),
                    )
            else:
                tops.add(state.top)
                where, fix = "module-level code", None
            self.report(
                call,
                f"`{context.code_for(target)}` runs a forward pass in {where} on inputs wrapped with "
                "`Variable(..., volatile=True)`, which has had no effect since PyTorch 0.4: autograd "
                "is on, and PyTorch records the graph and keeps every activation for nothing. Wrap "
                "the inference in `with torch.no_grad():` (or `torch.inference_mode()`) instead.",
                fix=fix,
            )
        return tops

    # -- forwards whose output never reaches backward() ------------------------------------
    def _outputs_never_backpropagated(self, analysis, forwards, grad_free, reported, reported_tops) -> None:
        """Any forward whose value no `backward()` can reach: an evaluation block inside
        the training loop, a prediction after training, a sampling helper of any name."""
        context = self.context
        positions = {
            id(statement): index
            for index, statement in enumerate(
                s for block in iter_statement_blocks(context.module) for s in block
            )
        }
        last_top = None
        chains: list = []  # the module-level forwards seen, to group the forwards they feed
        for call, state in analysis.calls:
            func = state.func
            if state.grad_off is not None or func in reported or func in grad_free:
                continue
            forward = forwards.forward(call, state)
            if forward is None:
                continue
            if func is not None:
                info = analysis.functions[func]
                if is_model_code(context, info) or not self._inference_output(
                    forwards, call, func, forward[1]
                ):
                    continue
                other_files = self._other_files(analysis, func)
                if other_files is None:
                    continue
                callers, related = other_files
                reported.add(func)
                where, fix = f"`{info.name}()`", self._function_fix_if_safe(analysis, forwards, info)
            else:
                callers, related = "", ()
                statement = block_statement(state.top, call, positions)
                top = positions.get(id(statement))
                if top is None or not self._inference_output(forwards, call, context.module, forward[1]):
                    continue
                # A prediction and the prints around it are one block: one finding. A loop
                # or block of its own (an evaluation inside the training loop) is not part
                # of the simple statements that follow it; a forward fed by the output of
                # one already reported (a decoder run on the encoder's output) is.
                simple = isinstance(statement, cst.SimpleStatementLine)
                grouped = last_top is not None and (
                    top == last_top[0] or (simple and last_top[1] and top - last_top[0] <= _BLOCK_GAP)
                )
                last_top = (top, simple)
                fed = any(0 <= top - start <= _CHAIN_GAP and flow.carries(call) for start, flow in chains)
                chains.append((top, follow_output(context, call, context.module)))
                if grouped or fed or statement in reported_tops or state.top in reported_tops:
                    continue  # one finding per run of inference statements
                where, fix = "module-level code", None
            self.report(
                call,
                f"`{context.code_for(forward[0])}` runs a forward pass in {where} with autograd on, "
                "and nothing backpropagates through its output: PyTorch records the graph and keeps "
                f"every activation for nothing.{callers} Wrap it in `with torch.no_grad():` (or "
                "`torch.inference_mode()`).",
                fix=fix,
                related=related,
            )

    def _other_files(self, analysis: Analysis, func: cst.FunctionDef) -> tuple[str, tuple] | None:
        """What the calls of `func` in the project's other modules add to its finding: None
        (no finding) when each runs it with autograd off or back-propagates through what
        it returns and the file never calls it itself; else the place of one that runs it
        with autograd on for the message ("" when no other module calls it), and the
        places of all those, as related locations."""
        callers = self.context.project_callers(func)
        if any(caller.use.backward for caller in callers):
            return None
        open_callers = [caller for caller in callers if not caller.use.grad_off]
        if not open_callers:
            return None if callers and not analysis.call_sites(func) else ("", ())
        others = len(open_callers) - 1
        also = f" and {others} other place{'s' if others > 1 else ''}" if others else ""
        place = self.context.project_place(open_callers[0])
        related = tuple((c.path, c.use.line, "called here with autograd on") for c in open_callers)
        return f" It is called with autograd on from `{place}`{also}.", related

    def _inference_output(self, forwards: Forwards, call, scope, model: ModelInfo) -> bool:
        """Whether nothing backpropagates through the forward's output: it never reaches
        a backward pass in its scope, nor in the callers it is returned to, and it is not
        the detached data of a training step. A pretrained model in a file that never
        asks for gradients runs for inference whatever its output becomes. Module-level
        code that runs freshly built layers in a file that neither trains them nor loads
        weights into them only shows what the layers do: a demonstration, not flagged."""
        fate = forwards.fate(call, scope)
        if fate == "no":
            if isinstance(scope, cst.Module) and forwards.untrained_demo(model):
                return False  # a layer's shapes shown on random weights: a tutorial's demo
            return not forwards.training_data(call, scope)
        return fate in ("returns", "escapes") and forwards.pretrained_inference(model)

    def _function_fix_if_safe(self, analysis, forwards: Forwards, info: FunctionInfo) -> Fix | None:
        """Decorating the function is safe only when no forward in it trains."""
        if info.grad_markers:
            return None
        for call, state in analysis.calls_by_function.get(info.node, ()):
            if forwards.forward(call, state) is not None and forwards.fate(call, info.node) != "no":
                return None
        return function_fix(self.context, info)

    # -- module-level loops after model.eval() -------------------------------------------
    def _module_loops(self, analysis: Analysis, forwards: Forwards, needs_grad, skipped) -> set[cst.CSTNode]:
        module = self.context.module
        reported: set[cst.CSTNode] = set()
        for block in iter_statement_blocks(module):
            evaluated: str | None = None
            for statement in block:
                switched = mode_switch(forwards.models, statement)
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
                        or state.top in skipped
                    ):
                        continue
                    forward = forwards.forward(call, state)
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
                        fix=loop_fix(self.context, statement),
                    )
                    reported.add(statement)
                    break
        return reported


_BLOCK_GAP = 3
# A forward fed by another's output within this many statements is the same inference (an
# encoder, then the decoder run on its output).
_CHAIN_GAP = 8
