"""GL109 frozen-backbone-with-grad."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from green_lint.rule import Fix, Rule
from green_lint.rules._frozen_backbones import (
    KEPT_METHODS,
    BackboneUses,
    backbone_uses,
    is_optimizer,
    name_uses,
    pretrained_source,
)
from green_lint.rules._graph_flow import FlowIndex
from green_lint.rules._torch_call_graph import Analysis
from green_lint.rules._torch_forwards import Forwards
from green_lint.rules._torch_model_values import model_value
from green_lint.rules._torch_modules import TorchModules
from green_lint.walk import walk


@dataclass
class _Candidate:
    name: str
    scope: cst.Module | cst.FunctionDef
    build: cst.Assign | cst.AnnAssign
    # How it gets pretrained weights; None: a module of the file that needs `load_state_dict`.
    source: str | None


class FrozenBackboneWithGrad(Rule):
    """
    ## What it does
    Flags a pretrained PyTorch module used as a fixed feature extractor whose parameters
    still require gradients:
    - its output feeds a loss that is back-propagated (`loss.backward()`), but its
      parameters go to no optimizer: the file builds an optimizer for something else
      (`optim.SGD(head.parameters())`, or only the new head of the same model,
      `optim.SGD(model.fc.parameters())` after `model.fc = nn.Linear(...)`);
    - or its output is `.detach()`ed before it feeds the training step
      (`feats = backbone(x).detach()`).

    Pretrained means: a torchvision builder given `weights=` (not None) or
    `pretrained=True`, `timm.create_model(..., pretrained=True)`, a transformers
    `from_pretrained` model, `torch.hub.load`, a whole model from `torch.load` or
    `torch.jit.load`, or a module whose `load_state_dict(...)` is given weights read from a
    file in the scope that builds it (`torch.load`, safetensors, `load_state_dict_from_url`).
    A user's own `resnet50` function, a builder without weights, or a copy of another
    model of the program (a target network's `load_state_dict(policy.state_dict())`) is
    not pretrained.

    Not flagged, to stay precise: a backbone whose parameters are read whole
    (`backbone.parameters()`: fine-tuning, parameter groups with a small learning rate,
    a `requires_grad = False` loop, gradient clipping), one already frozen
    (`requires_grad_(False)`), one whose forward runs under `torch.no_grad()` /
    `torch.inference_mode()`, one passed to a function, stored in a container or another
    module (`nn.Sequential(backbone, head)`), or aliased, and `self.backbone` attributes
    of a class (the rule follows names of a module or function scope only). A file with
    no optimizer is not flagged for a back-propagated forward (adversarial examples and
    saliency maps need the graph).

    On the labelled corpus (8 labels) it found none and flagged one extra (a transfer-learning notebook): precision below 0.9, so it is a preview rule (run it with `--preview` or `--select GL109`) until it follows feature extractors built in another module and loss networks (VGG perceptual losses) that the corpus shows most.

    ## Why it wastes energy
    Autograd records a graph for every operation whose inputs require gradients. With the
    backbone's parameters requiring them, every forward pass keeps all its activations
    alive for the backward pass, and `loss.backward()` then runs through the whole
    backbone to compute a gradient for each of its weights, which no optimizer reads: about
    twice the compute of the forward pass, and the memory of its activations, for
    nothing. With `.detach()` on the output, the graph is recorded and thrown away
    unused. A frozen backbone (`requires_grad_(False)`) records nothing: only the head's
    graph is kept and back-propagated.

    ## Example
    ```python
    backbone = torchvision.models.resnet50(weights="DEFAULT")
    head = nn.Linear(1000, 10)
    optimizer = torch.optim.SGD(head.parameters(), lr=0.01)
    for x, y in loader:
        loss = criterion(head(backbone(x)), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    ```

    ## Use instead
    ```python
    backbone = torchvision.models.resnet50(weights="DEFAULT")
    backbone.requires_grad_(False)
    head = nn.Linear(1000, 10)
    optimizer = torch.optim.SGD(head.parameters(), lr=0.01)
    ```
    For a model whose head is replaced, freeze it before replacing the head, as the
    PyTorch transfer-learning tutorial does:
    `model.requires_grad_(False)` then `model.fc = nn.Linear(...)` (the new layer requires
    gradients). Running the backbone's forward under `with torch.no_grad():` (with
    `backbone.eval()` if batch-norm statistics must not move) saves the same.

    ## Fix safety
    Unsafe: the fix inserts `backbone.requires_grad_(False)` right after the statement that
    builds it, and `backbone.path.requires_grad_(True)` for each part of it whose
    parameters the file reads and does not replace afterwards (`model.layer4` in
    `SGD(model.layer4.parameters())`). Parts replaced later (`model.fc = nn.Linear(...)`)
    are new modules and require gradients anyway. No optimizer reads the frozen
    gradients, so training gives the same results, but code the rule cannot see (another
    module reading `.grad` of the backbone's weights, a backward hook on it) would change.
    The fix is offered only when the build is a statement line of its own block.

    ## Evidence
    - PyTorch, "Transfer learning for computer vision" tutorial, "ConvNet as fixed feature
      extractor": "We need to set `requires_grad = False` to freeze the parameters so that
      the gradients are not computed in `backward()`", and on CPU "this will take about
      half the time compared to previous scenario ... as gradients don't need to be
      computed for most of the network. However, forward does need to be computed."
      https://docs.pytorch.org/tutorials/beginner/transfer_learning_tutorial.html
    - PyTorch, "Autograd mechanics", excluding subgraphs from backward: to fine-tune a
      pretrained CNN "it's enough to switch the requires_grad flags in the frozen base,
      and no intermediate buffers will be saved, until the computation gets to the last
      layer". https://docs.pytorch.org/1.1.0/notes/autograd.html (the current page,
      "Setting requires_grad": https://docs.pytorch.org/docs/stable/notes/autograd.html)
    - The "about half the time" above is the tutorial's own CPU figure, not measured by
      green-lint; the saving depends on the backbone's share of the model: measure it on
      your code with `green-lint verify`.
    """

    code = "GL109"
    preview = True
    needs = (Analysis, TorchModules, FlowIndex)
    name = "frozen-backbone-with-grad"
    summary = (
        "A pretrained backbone used as a fixed feature extractor still requires grad: "
        "autograd records and back-propagates it for nothing; freeze it with requires_grad_(False)"
    )
    fix_safety = "unsafe"
    triggers = tuple(
        ("backward", word) for word in ("pretrained", "weights", "torch.load", "hub.load", "load_state_dict")
    )

    def leave_Module(self, node: cst.Module) -> None:
        context = self.context
        if not (context.semantic.imports_module("torch") or context.semantic.imports_module("transformers")):
            return
        analysis = context.analysis(Analysis)
        if analysis.module_disables_grad or not analysis.asks_for_grad_anywhere():
            return
        candidates = self._candidates(analysis)
        if not candidates:
            return
        # The scopes (None: module-level code) that build an optimizer.
        optimizer_scopes = {state.func for call, state in analysis.calls if is_optimizer(context, call.func)}
        paths = name_uses(context, {c.name for c in candidates})
        order = {id(call): index for index, (call, _) in enumerate(analysis.calls)}
        states = {id(call): state for call, state in analysis.calls}
        forwards = Forwards(context, analysis, context.analysis(TorchModules))
        grad_free = analysis.grad_free_functions()
        for candidate in candidates:
            uses = backbone_uses(context, candidate.name, paths[candidate.name], self._owned_by(candidate))
            if uses.unknown is not None or (candidate.source is None and not uses.loads_weights):
                continue
            backward, detached, clear = [], [], True
            for call in uses.forwards:
                state = states.get(id(call))
                if state is None:
                    clear = False
                    break
                if state.grad_off is not None or state.func in grad_free:
                    continue
                scope = state.func or context.module
                fate = forwards.fate(call, scope)
                if fate == "backward":
                    backward.append(call)
                elif fate == "no" and forwards.training_data(call, scope):
                    detached.append(call)
                elif fate != "no":
                    clear = False  # the output leaves where the rule can follow it
                    break
            if not clear or not (backward or detached):
                continue
            if backward and not self._optimizer_beside(candidate, backward, states, optimizer_scopes):
                continue
            first = min(backward + detached, key=lambda call: order[id(call)])
            self.report(
                first, self._message(candidate, uses, first, bool(backward)), fix=self._fix(candidate, uses)
            )

    def _optimizer_beside(self, candidate, backward, states, optimizer_scopes) -> bool:
        """Whether an optimizer is built where the backbone is, or in a function around
        one of its back-propagated forwards: the training step of something else. Without
        one, the graph may be wanted for the input's gradient (adversarial examples)."""
        analysis = self.context.analysis(Analysis)
        built = None if isinstance(candidate.scope, cst.Module) else candidate.scope
        if built in optimizer_scopes:
            return True
        for call in backward:
            func = states[id(call)].func
            if func is None:
                if None in optimizer_scopes:
                    return True
                continue
            if any(info.node in optimizer_scopes for info in analysis.enclosing_functions(func)):
                return True
        return False

    # -- candidates ----------------------------------------------------------------------
    def _candidates(self, analysis: Analysis) -> list[_Candidate]:
        context = self.context
        classes = context.analysis(TorchModules).module_classes
        found = []
        for scope in (context.module, *analysis.functions):
            bindings = context.semantic.scope(scope).bindings
            for name, bound in bindings.items():
                first = bound[0]
                if (
                    first.kind != "assignment"
                    or first.element
                    or not isinstance(first.statement, cst.Assign | cst.AnnAssign)
                    or not all(_reassigned_to_itself(b, name) for b in bound[1:])
                ):
                    continue
                source = pretrained_source(context, first.value)
                if source is None:
                    info = model_value(context, classes, first.value, lambda expr: None)
                    if info is None or info.kind not in ("layer", "class"):
                        continue
                found.append(_Candidate(name, scope, first.statement, source))
        return found

    def _owned_by(self, candidate: _Candidate):
        semantic = self.context.semantic

        def owned(name: cst.Name) -> bool:
            found = semantic.lookup(name.value, name)
            return found is not None and found[0].node is candidate.scope

        return owned

    # -- message and fix -----------------------------------------------------------------
    def _message(self, candidate: _Candidate, uses: BackboneUses, call: cst.Call, backward: bool) -> str:
        name = candidate.name
        source = candidate.source or "weights loaded with `load_state_dict`"
        shown = self.context.code_for(call.func)
        trained = _uncovered(uses)
        freeze = f"`{name}.requires_grad_(False)` right after building it"
        if trained:
            freeze += ", then " + ", ".join(f"`{_dotted(name, p)}.requires_grad_(True)`" for p in trained)
        if uses.heads:
            freeze += " (before replacing " + ", ".join(f"`{_dotted(name, h)}`" for h in uses.heads) + ")"
        if backward:
            trains = (
                "only the parameters of "
                + ", ".join(f"`{_dotted(name, p)}`" for p in uses.trained)
                + " go to an optimizer"
                if uses.trained
                else "no optimizer gets its parameters"
            )
            return (
                f"`{name}` is pretrained ({source}) and used as a fixed feature extractor: {trains}, "
                f"yet all its parameters still require grad, so autograd records `{shown}(...)` "
                "for them and backward() computes a gradient for every one of its weights, which "
                f"nothing reads. Freeze it: {freeze}; or run its forward under `torch.no_grad()` "
                "when no gradient must flow through it."
            )
        return (
            f"`{name}` is pretrained ({source}) and its output is detached before the training "
            f"step: `{shown}(...)` runs with autograd on and its parameters require grad, so "
            "PyTorch records the whole graph and keeps its activations only to throw them away. "
            f"Freeze it: {freeze}; or run the forward under `torch.no_grad()`."
        )

    def _fix(self, candidate: _Candidate, uses: BackboneUses) -> Fix | None:
        line = _statement_line(candidate.scope, candidate.build)
        if line is None:
            return None
        name = candidate.name
        code = f"{name}.requires_grad_(False)\n" + "".join(
            f"{_dotted(name, path)}.requires_grad_(True)\n" for path in _uncovered(uses)
        )
        try:
            statements = list(cst.parse_module(code).body)
        except cst.ParserSyntaxError:
            return None
        return Fix(
            f"Freeze `{name}` with requires_grad_(False) after building it",
            {line: cst.FlattenSentinel([line, *statements])},
        )


def _reassigned_to_itself(binding, name: str) -> bool:
    """`backbone = backbone.to(device)`, `backbone = backbone.eval()`: the same module."""
    value = binding.value
    if binding.kind != "assignment" or binding.element or value is None:
        return False
    while isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute):
        if value.func.attr.value not in KEPT_METHODS or value.func.attr.value == "load_state_dict":
            return False
        value = value.func.value
    return isinstance(value, cst.Name) and value.value == name and value is not binding.value


def _dotted(name: str, path: str) -> str:
    return f"{name}{path}" if path.startswith("[") else f"{name}.{path}"


def _uncovered(uses: BackboneUses) -> list[str]:
    """The trained paths that no head assignment replaces (they exist when the model is
    built, and must get `requires_grad_(True)` back after the freeze)."""
    found = []
    for path in uses.trained:
        if any(path == head or path.startswith((head + ".", head + "[")) for head in uses.heads):
            continue
        if path not in found:
            found.append(path)
    return found


def _statement_line(scope: cst.CSTNode, small: cst.CSTNode) -> cst.SimpleStatementLine | None:
    """The statement line that holds `small` alone, in a block (not a one-line suite)."""
    for node in walk(scope):
        if isinstance(node, cst.SimpleStatementLine) and any(s is small for s in node.body):
            return node if len(node.body) == 1 else None
    return None
