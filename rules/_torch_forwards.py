"""GL301's questions about one forward pass, across the file's functions: which calls run
a forward (`model(x)`, `model.forward(x)`, a submodule, or a method of the model's class
that runs one, such as `vae.decode(z)`), and where the output goes once the callers'
use of a returned output is followed (`Forwards.fate`).

`Forwards` is built once per file by the rule.
"""

from __future__ import annotations

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._graph_flow import output_fate
from green_lint.rules._syntax import is_none, is_true, keyword_value
from green_lint.rules._torch import is_inference_function
from green_lint.rules._torch_call_graph import Analysis
from green_lint.rules._torch_calls import State
from green_lint.rules._torch_eval_mode import is_eval_call
from green_lint.rules._torch_model_values import ModelInfo
from green_lint.rules._torch_modules import TorchModules

# How far a returned output is followed up the callers.
_MAX_CALLER_DEPTH = 3
# Calls that put trained weights into a model.
WEIGHT_LOADS = ("torch.load", "torch.jit.load", "torch.hub.load", "safetensors.torch.load_file")
WEIGHT_METHODS = frozenset({"load_state_dict", "from_pretrained"})


class Forwards:
    def __init__(self, context: RuleContext, analysis: Analysis, models: TorchModules) -> None:
        self.context = context
        self.analysis = analysis
        self.models = models
        self._grad_free = analysis.grad_free_functions()
        self._runs_forward: dict[tuple[cst.FunctionDef, bool], bool] = {}
        self._returned: dict[cst.FunctionDef, str] = {}
        self._loads_weights: bool | None = None

    # -- which calls run a forward ---------------------------------------------------------
    def forward(self, call: cst.Call, state: State) -> tuple[cst.BaseExpression, ModelInfo] | None:
        """(the model expression, what it is) when `call` runs a forward pass: of a model,
        of a submodule, or through a method of the model's class (`vae.decode(z)`)."""
        found = self.models.forward_model(call, state)
        if found is not None:
            return found
        found = self.method_forward(call, state, with_autograd=True)
        if found is None or found[2] in self._grad_free:
            return None
        if is_inference_function(self.models, self.analysis.functions[found[2]]):
            return None  # inference code of its own: reported there
        return found[0], found[1]

    def method_forward(
        self, call: cst.Call, state: State, *, with_autograd: bool = False
    ) -> tuple[cst.BaseExpression, ModelInfo, cst.FunctionDef] | None:
        """(the model, what it is, the method) when `call` is `model.name(...)` and the
        method `name` of the model's class runs the model (`with_autograd`: outside any
        `no_grad` block of its own)."""
        func = call.func
        if not isinstance(func, cst.Attribute):
            return None
        owner = self.models.lookup(func.value, state.func or self.context.module)
        if owner is None:
            return None
        method = self._method(owner, func.attr.value)
        if method is None or not self._method_runs_forward(method, with_autograd):
            return None
        return func.value, owner, method

    def _method(self, owner: ModelInfo, name: str) -> cst.FunctionDef | None:
        """The method `name` of the owner's class (of the file's module classes, when the
        owner's class is not known and only one of them defines it)."""
        if owner.kind == "class":
            classes = [self.models.module_classes.get(owner.detail)]
        elif owner.kind in ("parameter", "evidence", "element", "load"):
            classes = list(self.models.module_classes.values())
        else:
            return None
        found = [
            statement
            for cls in classes
            if cls is not None
            for statement in cls.body.body
            if isinstance(statement, cst.FunctionDef) and statement.name.value == name
        ]
        if len(found) != 1 or name in ("forward", "__call__") or name.startswith("__"):
            return None
        return found[0]

    def _method_runs_forward(self, method: cst.FunctionDef, with_autograd: bool) -> bool:
        """Whether a method runs the model (itself or a submodule), directly or through
        another method of its class."""
        key = (method, with_autograd)
        known = self._runs_forward.get(key)
        if known is not None:
            return known
        self._runs_forward[key] = False  # recursion guard
        runs = False
        for call, state in self.analysis.calls_by_function.get(method, ()):
            if with_autograd and state.grad_off is not None:
                continue
            if self.models.forward_model(call, state) is not None or any(
                callee.node is not method and self._method_runs_forward(callee.node, with_autograd)
                for callee in self.analysis.callees(call, state)
                if callee.method_of is not None
            ):
                runs = True
                break
        self._runs_forward[key] = runs
        return runs

    # -- where the output goes -------------------------------------------------------------
    def fate(self, call: cst.Call, scope: cst.Module | cst.FunctionDef, depth: int = 0) -> str:
        """`output_fate`, with a returned output followed to the callers: "no" when every
        call of the function in the file uses the result without backpropagating."""
        fate = output_fate(self.context, call, scope)
        if fate == "returns":
            fate = self.returned_fate(scope, depth) if isinstance(scope, cst.FunctionDef) else "escapes"
        return fate

    def returned_fate(self, func: cst.FunctionDef, depth: int = 0) -> str:
        """What the file's callers of `func` do with its result ("escapes" when it has
        none, or passes the function where it cannot be followed)."""
        known = self._returned.get(func)
        if known is not None:
            return known
        if depth >= _MAX_CALLER_DEPTH:
            return "escapes"
        self._returned[func] = "escapes"  # recursion guard
        sites = self.analysis.call_sites(func)
        fate = "no" if sites else "escapes"
        for site in sites:
            if site.how == "argument" or not isinstance(site.node, cst.Call):
                fate = "escapes"
                break
            # A call, a loose `obj.name(...)`, or `map(func, items)`: the call's own value.
            found = self.fate(site.node, site.state.func or self.context.module, depth + 1)
            if found != "no":
                fate = found
                break
        self._returned[func] = fate
        return fate

    def untrained_demo(self, model: ModelInfo) -> bool:
        """Whether `model` is a torch.nn layer or a module class of the file, built with
        random weights in a file that never trains nor loads weights: what it computes
        only shows shapes (an API tutorial), there is no inference to speak of."""
        if model.kind not in ("layer", "class") or self.analysis.asks_for_grad_anywhere():
            return False
        if self._loads_weights is None:
            self._loads_weights = any(
                self.context.resolves_to(call.func, *WEIGHT_LOADS)
                or (isinstance(call.func, cst.Attribute) and call.func.attr.value in WEIGHT_METHODS)
                for call, _ in self.analysis.calls
            )
        return not self._loads_weights

    def pretrained_inference(self, model: ModelInfo) -> bool:
        """Whether `model` carries trained weights and runs for inference: a transformers
        `from_pretrained` model (already in eval mode), or a torchvision/timm builder given
        pretrained weights in a file that switches a model to eval mode; either way in a
        file that never asks for gradients."""
        if self.analysis.asks_for_grad_anywhere():
            return False
        if model.kind == "pretrained":
            return True
        if model.kind != "builder" or not _pretrained_builder(model.node):
            return False
        return any(is_eval_call(call) for call, _ in self.analysis.calls)

    def training_data(self, call: cst.Call, scope: cst.Module | cst.FunctionDef) -> bool:
        """Whether the output, detached, feeds a backward pass: a training step's target
        (`q_next = target_net(s).detach()`), not an inference."""
        return output_fate(self.context, call, scope, through_cuts=True) == "backward"

    def used_for_training(self, func: cst.FunctionDef, needs_grad: set[cst.FunctionDef]) -> bool:
        """Whether a caller of `func` that computes gradients may backpropagate through its
        result: the call sits in training code and its value is not just printed or
        stored (`validate(model)` called from the training loop is still inference)."""
        for site in self.analysis.call_sites(func):
            state = site.state
            if state.func is not None:
                training = state.func in needs_grad
            else:
                training = any(marker.top is state.top for _, marker in self.analysis.module_grad_markers)
            if not training:
                continue
            if site.how == "argument" or not isinstance(site.node, cst.Call):
                return True
            # A returned value counts: the caller's caller may be the one that trains.
            if output_fate(self.context, site.node, state.func or self.context.module) != "no":
                return True
        return False


def _pretrained_builder(node: cst.CSTNode | None) -> bool:
    """`resnet50(pretrained=True)`, `resnet50(weights=...)` (not None),
    `timm.create_model(name, pretrained=True)`, possibly followed by `.eval()`/`.to()`."""
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and not node.args:
        node = node.func.value  # `.eval()`, `.cuda()`
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "to":
        node = node.func.value
    if not isinstance(node, cst.Call):
        return False
    weights = keyword_value(node, "weights")
    return is_true(keyword_value(node, "pretrained")) or (weights is not None and not is_none(weights))
