"""Shared analysis for the inference rules (GL301-GL304) and the model-load rule (GL302).

One walk over the file records every call with where it sits: the enclosing function and
class, the loops around it (inside its function), and whether a `torch.no_grad()` /
`torch.inference_mode()` block covers it. On top of that, `TorchModules` answers "does
this name hold a torch module here?" by following assignments (precision first: only
values built from an `nn.Module` subclass of the file, a `torch.nn` layer, `torch.load`,
torchvision/timm builders, transformers model classes, or `.to()`/`.eval()` of those).

The analysis is computed once per file and shared by the rules that ask for it.
No rule class lives here.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

import libcst as cst

from green_lint.context import RuleContext
from green_lint.names import dotted_name, statements_of
from green_lint.walk import children, traverse

# -- grad mode -------------------------------------------------------------------------
NO_GRAD = (
    "torch.no_grad",
    "torch.autograd.no_grad",
    "torch.autograd.grad_mode.no_grad",
)
INFERENCE_MODE = (
    "torch.inference_mode",
    "torch.autograd.inference_mode",
    "torch.autograd.grad_mode.inference_mode",
)
SET_GRAD_ENABLED = (
    "torch.set_grad_enabled",
    "torch.autograd.set_grad_enabled",
    "torch.autograd.grad_mode.set_grad_enabled",
)
ENABLE_GRAD = ("torch.enable_grad", "torch.autograd.enable_grad", "torch.autograd.grad_mode.enable_grad")

# -- what builds a torch module ----------------------------------------------------------
MODULE_BASE_CLASSES = (
    "torch.nn.Module",
    "torch.nn.modules.module.Module",
    "lightning.pytorch.LightningModule",
    "lightning.LightningModule",
    "pytorch_lightning.LightningModule",
    "transformers.PreTrainedModel",
    "transformers.modeling_utils.PreTrainedModel",
)
NOT_LAYERS = frozenset(
    {"Parameter", "UninitializedParameter", "UninitializedBuffer", "Buffer", "ParameterList", "ParameterDict"}
)
NOT_LAYER_PACKAGES = ("torch.nn.functional", "torch.nn.init", "torch.nn.utils", "torch.nn.parameter")
# torch.nn layers without parameters: calling them records no graph worth the name, and
# they have no train/eval behaviour that matters here. Not treated as models.
PARAMETER_FREE = re.compile(
    r"^(?:\w*Loss|ReLU6?|RReLU|GELU|SiLU|Mish|Sigmoid|Tanh|Softmax2?d?|LogSoftmax|Softmin|Softplus|"
    r"Softsign|Hardtanh|Hardswish|Hardsigmoid|LeakyReLU|ELU|SELU|CELU|GLU|Tanhshrink|Softshrink|"
    r"Hardshrink|LogSigmoid|Threshold|Identity|Flatten|Unflatten|\w*Pool[123]d|MaxUnpool[123]d|"
    r"Upsample\w*|PixelShuffle|PixelUnshuffle|ChannelShuffle|\w*Pad[123]d|\w*Dropout\w*|"
    r"CosineSimilarity|PairwiseDistance|Fold|Unfold)$"
)
# Layers and containers whose output depends on train/eval mode.
MODE_DEPENDENT = re.compile(
    r"Dropout|dropout|BatchNorm|batch_norm|InstanceNorm|instance_norm|RReLU|Transformer|"
    r"self\.training|\.training\b"
)
# Methods of a module that return the module itself (or a copy): the value is still a model.
MODULE_CHAIN_METHODS = frozenset(
    {
        "to",
        "eval",
        "train",
        "cuda",
        "cpu",
        "half",
        "float",
        "double",
        "bfloat16",
        "requires_grad_",
        "share_memory",
    }
)
TORCH_LOADS = ("torch.load", "torch.jit.load", "torch.hub.load")
TORCH_WRAPPERS = ("torch.jit.script", "torch.jit.trace", "torch.compile", "copy.deepcopy", "copy.copy")
NOT_MODEL_CLASS = re.compile(r"Tokenizer|Processor|Config|FeatureExtractor|Pipeline|Extractor")
MODEL_PARAMETER_NAMES = frozenset({"model", "net", "module"})

# -- inference functions -----------------------------------------------------------------
INFERENCE_WORDS = frozenset(
    {
        "eval",
        "evaluate",
        "evaluation",
        "validate",
        "validation",
        "val",
        "valid",
        "test",
        "testing",
        "predict",
        "prediction",
        "predictions",
        "infer",
        "inference",
        "generate",
        "generation",
    }
)
TRAINING_WORDS = frozenset({"train", "training", "fit", "finetune", "optimize"})
# Callers with one of these words in their name may backpropagate through what they call.
TRAINING_CALLERS = TRAINING_WORDS | {"loss", "backward"}
# Lightning runs these hooks under no_grad/inference_mode itself.
LIGHTNING_HOOKS = re.compile(
    r"^(validation_step|test_step|predict_step|validation_epoch_end|test_epoch_end|"
    r"on_(validation|test|predict)_\w+)$"
)
LIGHTNING = ("lightning", "pytorch_lightning")

# -- request handlers --------------------------------------------------------------------
WEB_FRAMEWORKS = (
    "flask",
    "fastapi",
    "starlette",
    "quart",
    "sanic",
    "litestar",
    "bottle",
    "aiohttp",
    "falcon",
)
ROUTE_DECORATORS = frozenset(
    {"route", "get", "post", "put", "patch", "delete", "api_route", "websocket", "view_functions"}
)
HANDLER_DECORATORS = ("rest_framework.decorators.api_view", "functions_framework.http")
# A function passed to one of these is called once per item.
MAPPING_CALLS = frozenset(
    {"map", "imap", "imap_unordered", "starmap", "apply", "applymap", "map_partitions", "transform"}
)

# Calls that ask for gradients: their function is training (or attribution) code.
GRAD_METHODS = frozenset({"backward", "requires_grad_", "retain_grad", "register_hook", "zero_grad"})
GRAD_PACKAGES = ("torch.autograd", "torch.func", "functorch")
GRAD_MODE_NAMES = (*NO_GRAD, *INFERENCE_MODE, *SET_GRAD_ENABLED)


@dataclass(frozen=True)
class State:
    """Where a node sits."""

    func: cst.FunctionDef | None = None
    # The class whose method `func` is (directly), if any.
    method_of: cst.ClassDef | None = None
    # The class whose body is being walked directly (not inside one of its methods).
    class_body: cst.ClassDef | None = None
    # The innermost `with` block that turns autograd off, since entering `func`.
    grad_off: cst.With | None = None
    # Loops around the node, outermost first, inside `func` only (or at module level).
    loops: tuple[cst.CSTNode, ...] = ()
    # The module-level statement that holds the node.
    top: cst.CSTNode | None = None


@dataclass
class FunctionInfo:
    node: cst.FunctionDef
    outer: cst.FunctionDef | None
    method_of: cst.ClassDef | None
    state: State  # where the `def` itself sits
    is_generator: bool = False
    awaits: bool = False
    # Calls/assignments in the function's own body that need autograd (backward, ...).
    grad_markers: list[cst.CSTNode] = field(default_factory=list)
    # `torch.set_grad_enabled(False)` called in the function's own body.
    disables_grad: bool = False

    @property
    def name(self) -> str:
        return self.node.name.value

    def parameter_names(self) -> list[str]:
        params = self.node.params
        return [p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)]


@dataclass
class CallSite:
    """A call of (or a reference to) a function of the file."""

    node: cst.CSTNode
    state: State
    # "call", "mapped" (passed to map/apply: called per item), "argument", or "method"
    # (`obj.name(...)` with an unknown `obj`: maybe this method).
    how: str = "call"


@dataclass
class ModelInfo:
    """What a name that holds a torch module was built from."""

    # "class" (an nn.Module subclass of the file), "layer" (torch.nn), "load" (torch.load,
    # torch.jit.load, torch.hub.load), "builder" (torchvision/timm/transformers from_config),
    # "pretrained" (transformers from_pretrained: already in eval mode), "parameter".
    kind: str
    node: cst.CSTNode | None = None
    # The class name for "class", the layer name for "layer".
    detail: str = ""


# The node types the analysis records, and those whose children get a new State.
RECORDED = ("Call", "FunctionDef", "Yield", "Await", "AssignTarget", "AugAssign")
_STATE_PARENTS = (
    cst.Module,
    cst.FunctionDef,
    cst.ClassDef,
    cst.For,
    cst.While,
    cst.With,
    cst.ListComp,
    cst.SetComp,
    cst.GeneratorExp,
    cst.DictComp,
)


class Analysis:
    """Calls with their State, functions, call sites, grad markers.

    Fed by the engine's traversal (see `AnalysisHooks`): each recorded node's State comes
    from `context.stack`, memoised per ancestor. When no traversal fed it (a rule used
    outside the engine), it walks the module itself."""

    def __init__(self, context: RuleContext) -> None:
        self.context = context
        self.calls: list[tuple[cst.Call, State]] = []
        # The calls of each function's own body (None: module-level code).
        self.calls_by_function: dict[cst.FunctionDef | None, list[tuple[cst.Call, State]]] = {}
        self.functions: dict[cst.FunctionDef, FunctionInfo] = {}
        self.module_grad_markers: list[tuple[cst.CSTNode, State]] = []
        # Name references passed as arguments, with the call they are passed to.
        self.references: list[tuple[cst.Name, cst.Call, State]] = []
        self.module_disables_grad = False
        self._states: dict[int, State] = {}
        self._bound: dict[int, set[str]] = {}
        self._last: cst.CSTNode | None = None
        self._fed = False
        self._finished = False
        self._by_name: dict[str, list[FunctionInfo]] = {}
        self._call_sites: dict[cst.FunctionDef, list[CallSite]] | None = None
        self._callers_cache: dict[cst.FunctionDef, set[cst.FunctionDef]] | None = None
        self._needs_grad: set[cst.FunctionDef] | None = None
        self._grad_free: set[cst.FunctionDef] | None = None

    # -- recording ---------------------------------------------------------------------
    def feed(self, node: cst.CSTNode, stack: list[cst.CSTNode]) -> None:
        """Record `node` (the last of `stack`), once even if several rules pass it on."""
        if node is self._last:
            return
        self._last = node
        self._fed = True
        self._record(node, self._state_at(stack))

    def bound_names(self, node: cst.CSTNode) -> set[str]:
        """`bound_names_in(node)`, computed once per node."""
        found = self._bound.get(id(node))
        if found is None:
            found = self._bound[id(node)] = set(bound_names_in(node))
        return found

    def finish(self) -> Analysis:
        if not self._finished:
            if not self._fed:
                self._walk_module()
            self._finished = True
            for info in self.functions.values():
                self._by_name.setdefault(info.name, []).append(info)
        return self

    def _walk_module(self) -> None:
        stack: list[cst.CSTNode] = []
        recorded = tuple(getattr(cst, name) for name in RECORDED)

        def on_visit(node: cst.CSTNode) -> None:
            stack.append(node)
            if isinstance(node, recorded):
                self._record(node, self._state_at(stack))

        traverse(self.context.module, on_visit, lambda node: stack.pop())

    def _state_at(self, stack: list[cst.CSTNode]) -> State:
        states = self._states
        start = len(stack) - 2  # the recorded node itself needs no entry
        while start >= 0 and id(stack[start]) not in states:
            start -= 1
        if start < 0:
            start, state = 0, State()
            states[id(stack[0])] = state
        else:
            state = states[id(stack[start])]
        for index in range(start + 1, len(stack)):
            parent = stack[index - 1]
            if isinstance(parent, _STATE_PARENTS):
                state = self._child_state(parent, stack[index], state)
            if index < len(stack) - 1:
                states[id(stack[index])] = state
        return state

    def _child_state(self, parent: cst.CSTNode, node: cst.CSTNode, state: State) -> State:
        if isinstance(parent, cst.Module):
            return replace(state, top=node)
        if isinstance(parent, cst.FunctionDef) and node is parent.body:
            return State(func=parent, method_of=state.class_body, top=state.top)
        if isinstance(parent, cst.ClassDef) and node is parent.body:
            return replace(state, class_body=parent)
        if isinstance(parent, cst.For | cst.While) and node is parent.body:
            return replace(state, loops=(*state.loops, parent))
        if isinstance(parent, cst.With) and node is parent.body and self._turns_grad_off(parent):
            return replace(state, grad_off=parent)
        if isinstance(parent, cst.ListComp | cst.SetComp | cst.GeneratorExp) and node is parent.elt:
            return replace(state, loops=(*state.loops, parent))
        if isinstance(parent, cst.DictComp) and (node is parent.key or node is parent.value):
            return replace(state, loops=(*state.loops, parent))
        return state

    def _turns_grad_off(self, node: cst.With) -> bool:
        return any(grad_off_expression(self.context, item.item) for item in node.items)

    def _record(self, node: cst.CSTNode, state: State) -> None:
        if isinstance(node, cst.Call):
            self.calls.append((node, state))
            self.calls_by_function.setdefault(state.func, []).append((node, state))
            if self._asks_for_grad(node):
                self._grad_marker(node, state)
            if _is_set_grad_false(self.context, node):
                if state.func is None:
                    self.module_disables_grad = True
                else:
                    self.functions[state.func].disables_grad = True
            for arg in node.args:
                if isinstance(arg.value, cst.Name):
                    self.references.append((arg.value, node, state))
        elif isinstance(node, cst.FunctionDef):
            self.functions[node] = FunctionInfo(node, state.func, state.class_body, state)
        elif isinstance(node, cst.Yield) and state.func is not None:
            self.functions[state.func].is_generator = True
        elif isinstance(node, cst.Await) and state.func is not None:
            self.functions[state.func].awaits = True
        elif isinstance(node, cst.AssignTarget | cst.AugAssign) and _is_requires_grad_target(node.target):
            self._grad_marker(node, state)

    def _asks_for_grad(self, call: cst.Call) -> bool:
        func = call.func
        if isinstance(func, cst.Attribute):
            if func.attr.value in GRAD_METHODS:
                return True
            if func.attr.value == "step" and "optim" in (dotted_name(func.value) or "").lower():
                return True
        if self.context.resolves_to(func, *ENABLE_GRAD):
            return True
        qualified = self.context.resolves_under(func, *GRAD_PACKAGES)
        return qualified is not None and qualified not in GRAD_MODE_NAMES

    def _grad_marker(self, node: cst.CSTNode, state: State) -> None:
        if state.func is None:
            self.module_grad_markers.append((node, state))
        else:
            self.functions[state.func].grad_markers.append(node)

    # -- questions ---------------------------------------------------------------------
    def functions_named(self, name: str) -> list[FunctionInfo]:
        return self._by_name.get(name, [])

    def call_sites(self, func: cst.FunctionDef) -> list[CallSite]:
        """Where the file calls `func` (by its name, or `self.name` for a method), or
        passes it to another call."""
        if self._call_sites is None:
            self._call_sites = self._compute_call_sites()
        return self._call_sites.get(func, [])

    def _compute_call_sites(self) -> dict[cst.FunctionDef, list[CallSite]]:
        sites: dict[cst.FunctionDef, list[CallSite]] = {}
        methods: dict[str, list[FunctionInfo]] = {}
        for info in self.functions.values():
            if info.method_of is not None:
                methods.setdefault(info.name, []).append(info)
        for call, state in self.calls:
            callees = self.callees(call, state)
            for target in callees:
                sites.setdefault(target.node, []).append(CallSite(call, state))
            func = call.func
            if not callees and isinstance(func, cst.Attribute):
                # `obj.predict(x)`: maybe a method of the file (a loose site).
                for target in methods.get(func.attr.value, ()):
                    sites.setdefault(target.node, []).append(CallSite(call, state, "method"))
        for name, call, state in self.references:
            how = "mapped" if _last_name(call.func) in MAPPING_CALLS else "argument"
            for target in self.functions_named(name.value):
                if target.method_of is None:
                    sites.setdefault(target.node, []).append(CallSite(call, state, how))
        return sites

    def callees(self, call: cst.Call, state: State) -> list[FunctionInfo]:
        func = call.func
        if isinstance(func, cst.Name):
            return [f for f in self.functions_named(func.value) if f.method_of is None]
        if (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.value.value in ("self", "cls")
            and state.func is not None
        ):
            cls = self.functions[state.func].method_of
            return [
                f for f in self.functions_named(func.attr.value) if f.method_of is cls and cls is not None
            ]
        return []

    def enclosing_functions(self, func: cst.FunctionDef | None) -> Iterator[FunctionInfo]:
        """`func` and the functions around it, innermost first."""
        while func is not None:
            info = self.functions[func]
            yield info
            func = info.outer

    def _callers(self) -> dict[cst.FunctionDef, set[cst.FunctionDef]]:
        """callee -> the functions of the file that call it by name."""
        if self._callers_cache is None:
            callers: dict[cst.FunctionDef, set[cst.FunctionDef]] = {}
            for call, state in self.calls:
                if state.func is None:
                    continue
                for callee in self.callees(call, state):
                    callers.setdefault(callee.node, set()).add(state.func)
            self._callers_cache = callers
        return self._callers_cache

    def needs_grad(self) -> set[cst.FunctionDef]:
        """Functions that call backward (or ask for gradients), directly, in a nested
        function, or through another function of the file they call."""
        if self._needs_grad is not None:
            return self._needs_grad
        needing: set[cst.FunctionDef] = set()
        # Training code that leaves backward() to a framework (Lightning's training_step,
        # Hugging Face's compute_loss) counts too.
        pending = [
            f
            for f, info in self.functions.items()
            if info.grad_markers or set(name_words(info.name)) & TRAINING_CALLERS
        ]
        callers = self._callers()
        while pending:
            func = pending.pop()
            if func in needing:
                continue
            needing.add(func)
            outer = self.functions[func].outer
            if outer is not None:
                pending.append(outer)
            pending.extend(callers.get(func, ()))
        self._needs_grad = needing
        return needing

    def grad_free_functions(self) -> set[cst.FunctionDef]:
        """Functions whose body always runs with autograd off: decorated with
        no_grad/inference_mode, calling `torch.set_grad_enabled(False)`, or called only
        from places where autograd is off."""
        if self._grad_free is not None:
            return self._grad_free
        free = {
            f
            for f, info in self.functions.items()
            if info.disables_grad or any(grad_off_expression(self.context, d.decorator) for d in f.decorators)
        }
        candidates = [f for f in self.functions if f not in free and self.call_sites(f)]
        changed = True
        while changed:
            changed = False
            for f in candidates:
                if f in free:
                    continue
                sites = [s for s in self.call_sites(f) if s.how != "argument"]
                if sites and all(s.state.grad_off is not None or s.state.func in free for s in sites):
                    free.add(f)
                    changed = True
        self._grad_free = free
        return free

    def is_handler(self, func: cst.FunctionDef) -> bool:
        return is_request_handler(self.context, func, self)


def _collector(context: RuleContext) -> Analysis:
    found = _ANALYSES.get(context)
    if found is None:
        found = _ANALYSES[context] = Analysis(context)
    return found


def analysis_for(context: RuleContext) -> Analysis:
    """The file's analysis, complete: call it from `leave_Module` (after the traversal)."""
    return _collector(context).finish()


class AnalysisHooks:
    """Mixin for the rules that use the analysis: their visits feed it during the
    engine's single traversal (several rules feed the same analysis; it records each
    node once). Not a rule."""

    def _feed(self, node: cst.CSTNode) -> None:
        context = self.context
        _collector(context).feed(node, context.stack)

    def visit_Call(self, node: cst.Call) -> None:
        self._feed(node)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._feed(node)

    def visit_Yield(self, node: cst.Yield) -> None:
        self._feed(node)

    def visit_Await(self, node: cst.Await) -> None:
        self._feed(node)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._feed(node)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._feed(node)


_ANALYSES: weakref.WeakKeyDictionary[RuleContext, Analysis] = weakref.WeakKeyDictionary()


def torch_modules_for(context: RuleContext) -> TorchModules:
    found = _MODULES.get(context)
    if found is None:
        found = _MODULES[context] = TorchModules(context, analysis_for(context))
    return found


_MODULES: weakref.WeakKeyDictionary[RuleContext, TorchModules] = weakref.WeakKeyDictionary()


# -- grad mode helpers -----------------------------------------------------------------
def grad_off_expression(context: RuleContext, expr: cst.BaseExpression) -> bool:
    """Whether a `with` item or a decorator turns autograd off (or may: a
    `set_grad_enabled(flag)` with a non-literal flag counts, precision first)."""
    func = expr.func if isinstance(expr, cst.Call) else expr
    if context.resolves_to(func, *NO_GRAD):
        return True
    if context.resolves_to(func, *INFERENCE_MODE):
        mode = _first_argument(expr, "mode") if isinstance(expr, cst.Call) else None
        return not _is_false(mode)
    if context.resolves_to(func, *SET_GRAD_ENABLED) and isinstance(expr, cst.Call):
        return not _is_true(_first_argument(expr, "mode"))
    return False


def _is_set_grad_false(context: RuleContext, call: cst.Call) -> bool:
    return context.resolves_to(call.func, *SET_GRAD_ENABLED) and _is_false(_first_argument(call, "mode"))


def _first_argument(call: cst.Call, keyword: str) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
    return positional[0].value if positional else None


def _is_false(node: cst.BaseExpression | None) -> bool:
    return (isinstance(node, cst.Name) and node.value == "False") or (
        isinstance(node, cst.Integer) and node.value == "0"
    )


def _is_true(node: cst.BaseExpression | None) -> bool:
    return isinstance(node, cst.Name) and node.value == "True"


def _is_requires_grad_target(target: cst.BaseExpression) -> bool:
    return isinstance(target, cst.Attribute) and target.attr.value == "requires_grad"


def _last_name(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return None


# -- which names hold torch modules ------------------------------------------------------
class TorchModules:
    def __init__(self, context: RuleContext, analysis: Analysis) -> None:
        self.context = context
        self.analysis = analysis
        self.imports_torch = context.imports.imports_module("torch")
        self.module_classes = self._module_classes()
        self._scope_cache: dict[int, dict[str, ModelInfo]] = {}
        self._bound_cache: dict[int, set[str]] = {}
        self._attribute_cache: dict[int, dict[str, ModelInfo]] = {}
        self._mode_dependent_classes: set[str] | None = None
        self.inference_functions: dict[cst.FunctionDef, bool] = {}

    def _module_classes(self) -> dict[str, cst.ClassDef]:
        classes = [s for s in statements_of(self.context.module) if isinstance(s, cst.ClassDef)]
        found: dict[str, cst.ClassDef] = {}
        changed = True
        while changed:
            changed = False
            for cls in classes:
                if cls.name.value in found:
                    continue
                for base in cls.bases:
                    value = base.value
                    if (
                        self.context.resolves_to(value, *MODULE_BASE_CLASSES)
                        or self._layer_name(value) is not None
                        or (isinstance(value, cst.Name) and value.value in found)
                    ):
                        found[cls.name.value] = cls
                        changed = True
                        break
        return found

    def _layer_name(self, func: cst.BaseExpression) -> str | None:
        """The torch.nn layer/container class `func` stands for (`nn.Linear` -> "Linear")."""
        qualified = self.context.resolves_under(func, "torch.nn")
        if qualified is None or any(
            qualified == p or qualified.startswith(p + ".") for p in NOT_LAYER_PACKAGES
        ):
            return None
        last = qualified.rsplit(".", 1)[-1]
        if not last[:1].isupper() or last in NOT_LAYERS or last == "Module":
            return None
        return last

    # -- values ------------------------------------------------------------------------
    def value_info(
        self, value: cst.BaseExpression | None, lookup: Callable[[cst.BaseExpression], ModelInfo | None]
    ) -> ModelInfo | None:
        """What model `value` is, if it is one. `lookup` answers for names and
        `self.x` attributes."""
        if isinstance(value, cst.Name | cst.Attribute):
            return lookup(value)
        if not isinstance(value, cst.Call):
            return None
        func = value.func
        if isinstance(func, cst.Name) and func.value in self.module_classes:
            return ModelInfo("class", value, func.value)
        layer = self._layer_name(func)
        if layer is not None:
            return None if PARAMETER_FREE.match(layer) else ModelInfo("layer", value, layer)
        context = self.context
        if context.resolves_to(func, *TORCH_LOADS):
            return ModelInfo("load", value)
        if context.resolves_to(func, *TORCH_WRAPPERS):
            first = _first_argument(value, "model") or _first_argument(value, "obj")
            return self.value_info(first, lookup)
        if context.resolves_to(func, "timm.create_model"):
            return ModelInfo("builder", value)
        qualified = context.resolves_under(func, "torchvision.models")
        if qualified is not None:
            last = qualified.rsplit(".", 1)[-1]
            if last.endswith("_Weights") or last in ("get_weight", "get_model_weights", "list_models"):
                return None
            return ModelInfo("builder", value)
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            if method in ("from_pretrained", "from_config", "_from_config"):
                owner = context.resolves_under(func.value, "transformers")
                if owner is not None and not NOT_MODEL_CLASS.search(owner.rsplit(".", 1)[-1]):
                    return ModelInfo("pretrained" if method == "from_pretrained" else "builder", value)
                return None
            if method in MODULE_CHAIN_METHODS:
                return self.value_info(func.value, lookup)
        if context.resolves_to(
            func, "sentence_transformers.SentenceTransformer", "sentence_transformers.CrossEncoder"
        ):
            return ModelInfo("pretrained", value)
        owner = context.resolves_under(func, "transformers")
        if (
            owner is not None
            and re.search(r"(Model|For[A-Z]\w*)$", owner)
            and not NOT_MODEL_CLASS.search(owner)
        ):
            return ModelInfo("builder", value)
        return None

    # -- scopes ------------------------------------------------------------------------
    def _bound_names(self, scope: cst.CSTNode) -> set[str]:
        key = id(scope)
        if key not in self._bound_cache:
            names = set(self.analysis.bound_names(scope))
            if isinstance(scope, cst.FunctionDef):
                names.update(_parameter_names(scope))
            self._bound_cache[key] = names
        return self._bound_cache[key]

    def scope_models(self, scope: cst.Module | cst.FunctionDef) -> dict[str, ModelInfo]:
        """The names of `scope` that hold torch modules."""
        key = id(scope)
        if key in self._scope_cache:
            return self._scope_cache[key]
        models: dict[str, ModelInfo] = {}
        self._scope_cache[key] = models  # recursion guard
        if isinstance(scope, cst.FunctionDef):
            switched = self._parameters_switched_to_eval(scope)
            for param in _parameters(scope):
                if self._is_model_parameter(param) or param.name.value in switched:
                    models[param.name.value] = ModelInfo("parameter", param)
        assignments = list(_assignments(scope))
        changed = True
        while changed:
            changed = False
            for name, value in assignments:
                if name in models:
                    continue
                info = self.value_info(value, lambda expr: self.lookup(expr, scope))
                if info is not None:
                    models[name] = info
                    changed = True
        return models

    def _parameters_switched_to_eval(self, func: cst.FunctionDef) -> set[str]:
        """Parameters the function calls `.eval()` (or `.train(False)`) on: modules."""
        if not self.imports_torch:
            return set()
        names = set(_parameter_names(func))
        return {
            call.func.value.value
            for call, _ in self.analysis.calls_by_function.get(func, ())
            if is_eval_call(call) and isinstance(call.func.value, cst.Name) and call.func.value.value in names
        }

    def _is_model_parameter(self, param: cst.Param) -> bool:
        if param.annotation is not None:
            annotation = param.annotation.annotation
            if (
                self.context.resolves_to(annotation, *MODULE_BASE_CLASSES)
                or self._layer_name(annotation) is not None
                or (isinstance(annotation, cst.Name) and annotation.value in self.module_classes)
            ):
                return True
        return self.imports_torch and param.name.value in MODEL_PARAMETER_NAMES

    def lookup(
        self, expr: cst.BaseExpression, scope: cst.Module | cst.FunctionDef | None
    ) -> ModelInfo | None:
        """The model `expr` (a name, `self`, or `self.attr`) holds inside `scope`."""
        if isinstance(expr, cst.Name):
            return self._lookup_name(expr.value, scope)
        if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name):
            cls = self._method_class(scope, expr.value.value)
            if cls is not None:
                return self.class_attributes(cls).get(expr.attr.value)
        return None

    def _lookup_name(self, name: str, scope: cst.Module | cst.FunctionDef | None) -> ModelInfo | None:
        func = scope if isinstance(scope, cst.FunctionDef) else None
        for info in self.analysis.enclosing_functions(func):
            if name == _self_name(info) and info.method_of is not None:
                class_name = info.method_of.name.value
                if class_name in self.module_classes:
                    return ModelInfo("class", info.node, class_name)
                return None
            if name in self._bound_names(info.node):
                return self.scope_models(info.node).get(name)
        module = self.context.module
        if name in self._bound_names(module):
            return self.scope_models(module).get(name)
        return None

    def _method_class(self, scope, self_name: str) -> cst.ClassDef | None:
        if not isinstance(scope, cst.FunctionDef):
            return None
        info = self.analysis.functions.get(scope)
        if info is None or info.method_of is None or _self_name(info) != self_name:
            return None
        return info.method_of

    def class_attributes(self, cls: cst.ClassDef) -> dict[str, ModelInfo]:
        """`self.x` attributes assigned a model in the class's `__init__`."""
        key = id(cls)
        if key in self._attribute_cache:
            return self._attribute_cache[key]
        found: dict[str, ModelInfo] = {}
        self._attribute_cache[key] = found
        for statement in cls.body.body:
            if not (isinstance(statement, cst.FunctionDef) and statement.name.value == "__init__"):
                continue
            info = self.analysis.functions.get(statement)
            self_name = _self_name(info) if info is not None else None
            for small in statements_of(statement, enter_definitions=False):
                targets = []
                if isinstance(small, cst.Assign):
                    targets = [t.target for t in small.targets]
                elif isinstance(small, cst.AnnAssign) and small.value is not None:
                    targets = [small.target]
                for target in targets:
                    if (
                        isinstance(target, cst.Attribute)
                        and isinstance(target.value, cst.Name)
                        and target.value.value == self_name
                    ):
                        model = self.value_info(small.value, lambda expr, s=statement: self.lookup(expr, s))
                        if model is not None:
                            found.setdefault(target.attr.value, model)
        return found

    # -- forward passes ----------------------------------------------------------------
    def forward_model(self, call: cst.Call, state: State) -> tuple[cst.BaseExpression, ModelInfo] | None:
        """(the model expression, what it is) when `call` runs a torch module's forward:
        `model(x)` or `model.forward(x)`."""
        func = call.func
        target = func
        if isinstance(func, cst.Attribute) and func.attr.value == "forward":
            target = func.value
        if not isinstance(target, cst.Name | cst.Attribute):
            return None
        info = self.lookup(target, state.func or self.context.module)
        return (target, info) if info is not None else None

    def mode_dependent(self, info: ModelInfo) -> bool:
        """Whether train/eval mode can change what the model computes (dropout, batch
        norm...), as far as the file tells; False when unknown or already in eval mode."""
        if info.kind in ("load", "builder"):
            return True
        if info.kind == "layer":
            text = self.context.code_for(info.node) if info.node is not None else info.detail
            return bool(MODE_DEPENDENT.search(info.detail)) or self._mentions_mode_dependent(text)
        if info.kind == "class":
            return info.detail in self._mode_dependent_class_names()
        return False

    def _mentions_mode_dependent(self, text: str) -> bool:
        if MODE_DEPENDENT.search(text):
            return True
        return any(re.search(rf"\b{name}\b", text) for name in self._mode_dependent_class_names())

    def _mode_dependent_class_names(self) -> set[str]:
        if self._mode_dependent_classes is not None:
            return self._mode_dependent_classes
        texts = {name: self.context.code_for(cls) for name, cls in self.module_classes.items()}
        found = {name for name, text in texts.items() if MODE_DEPENDENT.search(text)}
        for call, state in self.analysis.calls:
            cls = self.analysis.functions[state.func].method_of if state.func is not None else None
            if cls is not None and cls.name.value in texts:
                built = self.value_info(call, lambda expr: None)
                if built is not None and built.kind in ("builder", "load"):
                    found.add(cls.name.value)
        changed = True
        while changed:
            changed = False
            for name, text in texts.items():
                if name not in found and any(re.search(rf"\b{other}\b", text) for other in found):
                    found.add(name)
                    changed = True
        self._mode_dependent_classes = found
        return found


def model_key(expr: cst.BaseExpression) -> str | None:
    """The name GL303 matches `.eval()` calls by: `model`, `self.model` -> "model"."""
    while isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
        if expr.func.attr.value not in MODULE_CHAIN_METHODS:
            return None
        expr = expr.func.value
    return _last_name(expr)


def _self_name(info: FunctionInfo) -> str | None:
    if info.method_of is None:
        return None
    for decorator in info.node.decorators:
        if isinstance(decorator.decorator, cst.Name) and decorator.decorator.value == "staticmethod":
            return None
    params = [*info.node.params.posonly_params, *info.node.params.params]
    return params[0].name.value if params else None


def _parameters(func: cst.FunctionDef) -> list[cst.Param]:
    params = func.params
    found = [*params.posonly_params, *params.params, *params.kwonly_params]
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            found.append(star)
    return found


def _parameter_names(func: cst.FunctionDef) -> list[str]:
    return [p.name.value for p in _parameters(func)]


def _assignments(scope: cst.CSTNode) -> Iterator[tuple[str, cst.BaseExpression]]:
    for statement in statements_of(scope, enter_definitions=False):
        if isinstance(statement, cst.Assign):
            for target in statement.targets:
                if isinstance(target.target, cst.Name):
                    yield target.target.value, statement.value
        elif (
            isinstance(statement, cst.AnnAssign)
            and statement.value is not None
            and isinstance(statement.target, cst.Name)
        ):
            yield statement.target.value, statement.value


def bound_names_in(node: cst.CSTNode) -> list[str]:
    """Names bound inside `node` (a scope, a loop...) by assignments, loops, `with ... as`,
    imports and definitions, nested functions, classes and lambdas not entered. For a
    function, its body only: its decorators and defaults belong to the outer scope."""
    root = node.body if isinstance(node, cst.FunctionDef) else node
    names: list[str] = []
    pending = [root]
    while pending:
        current = pending.pop()
        if current is not root and isinstance(current, cst.FunctionDef | cst.ClassDef):
            names.append(current.name.value)
            continue
        if current is not root and isinstance(current, cst.Lambda):
            continue
        if isinstance(
            current, cst.AssignTarget | cst.AugAssign | cst.For | cst.CompFor | cst.AnnAssign | cst.NamedExpr
        ):
            _target_names(current.target, names)
        elif isinstance(current, cst.AsName):
            _target_names(current.name, names)
        elif isinstance(current, cst.Import | cst.ImportFrom) and not isinstance(
            current.names, cst.ImportStar
        ):
            for alias in current.names:
                if alias.asname is None:
                    name = dotted_name(alias.name)
                    if name:
                        names.append(name.split(".", 1)[0])
        pending.extend(children(current))
    return names


def _target_names(target: cst.CSTNode, names: list[str]) -> None:
    if isinstance(target, cst.Name):
        names.append(target.value)
    elif isinstance(target, cst.Tuple | cst.List):
        for element in target.elements:
            _target_names(element.value, names)
    elif isinstance(target, cst.StarredElement):
        _target_names(target.value, names)


# -- inference functions and request handlers --------------------------------------------
def name_words(name: str) -> list[str]:
    """`evaluateModel`, `run_inference` -> ["evaluate", "model"], ["run", "inference"]."""
    return [w.lower() for w in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", name)]


def is_pytest_test(context: RuleContext, info: FunctionInfo) -> bool:
    filename = re.split(r"[\\/]", context.path)[-1]
    in_test_file = filename.startswith("test_") or filename.endswith("_test.py") or filename == "conftest.py"
    return in_test_file and info.name.startswith("test")


def is_lightning_hook(context: RuleContext, info: FunctionInfo) -> bool:
    return (
        info.method_of is not None
        and bool(LIGHTNING_HOOKS.match(info.name))
        and any(context.imports.imports_module(name) for name in LIGHTNING)
    )


def has_inference_name(context: RuleContext, info: FunctionInfo) -> bool:
    if is_lightning_hook(context, info) or is_pytest_test(context, info):
        return False
    words = set(name_words(info.name))
    return bool(words & INFERENCE_WORDS) and not words & TRAINING_WORDS


def is_request_handler(context: RuleContext, func: cst.FunctionDef, analysis: Analysis | None = None) -> bool:
    """A web request handler: a Flask/FastAPI/... route, a DRF `@api_view`, a Django view
    (a function of a views.py whose first parameter is `request`), or a function given
    to gradio as its `fn`."""
    imports = context.imports
    web = any(imports.imports_module(framework) for framework in WEB_FRAMEWORKS)
    for decorator in func.decorators:
        expr = decorator.decorator
        call_func = expr.func if isinstance(expr, cst.Call) else expr
        if context.resolves_to(call_func, *HANDLER_DECORATORS):
            return True
        if (
            web
            and isinstance(expr, cst.Call)
            and isinstance(call_func, cst.Attribute)
            and call_func.attr.value in ROUTE_DECORATORS
        ):
            return True
    filename = re.split(r"[\\/]", context.path)[-1]
    params = [*func.params.posonly_params, *func.params.params]
    if filename == "views.py" and params and params[0].name.value == "request":
        return True
    if analysis is not None and imports.imports_module("gradio"):
        for site in analysis.call_sites(func):
            if (
                site.how == "argument"
                and isinstance(site.node, cst.Call)
                and context.resolves_under(site.node.func, "gradio")
            ):
                return True
    return False


def torch_local_name(context: RuleContext) -> str | None:
    return context.imports.local_name_for("torch")


def iter_statement_blocks(module: cst.Module) -> Iterator[list[cst.CSTNode]]:
    """The module body, and the bodies of module-level `if` blocks (`if __name__ ...`)."""
    yield list(module.body)
    for statement in module.body:
        while isinstance(statement, cst.If):
            yield list(statement.body.body) if isinstance(statement.body, cst.IndentedBlock) else []
            statement = statement.orelse if isinstance(statement.orelse, cst.If) else None


def is_eval_call(call: cst.Call) -> bool:
    """`x.eval()` or `x.train(False)`."""
    func = call.func
    if not isinstance(func, cst.Attribute):
        return False
    if func.attr.value == "eval":
        return not call.args
    if func.attr.value == "train":
        return _is_false(_first_argument(call, "mode"))
    return False


def calls_eval(models: TorchModules, info: FunctionInfo) -> bool:
    """Whether the function's own body switches one of its models to eval mode."""
    for call, _ in models.analysis.calls_by_function.get(info.node, ()):
        if is_eval_call(call):
            receiver = call.func.value
            if models.lookup(receiver, info.node) is not None:
                return True
    return False


def is_inference_function(models: TorchModules, info: FunctionInfo) -> bool:
    """GL301's definition: a function that calls `model.eval()`, or whose name says
    evaluate/validate/test/predict/infer/generate (not a Lightning hook, not a pytest
    test, not a name that also says train/fit)."""
    cache = models.inference_functions
    if info.node not in cache:
        cache[info.node] = _is_inference_function(models, info)
    return cache[info.node]


def _is_inference_function(models: TorchModules, info: FunctionInfo) -> bool:
    context = models.context
    if is_pytest_test(context, info) or is_lightning_hook(context, info):
        return False
    return has_inference_name(context, info) or calls_eval(models, info)


def used_for_training(analysis: Analysis, func: cst.FunctionDef, needs_grad: set[cst.FunctionDef]) -> bool:
    """Whether a caller of `func` in the file computes gradients (its outputs may be
    what the caller backpropagates through)."""
    for site in analysis.call_sites(func):
        if site.state.func is not None:
            if site.state.func in needs_grad:
                return True
        elif any(marker_state.top is site.state.top for _, marker_state in analysis.module_grad_markers):
            return True
    return False


def loop_needs_grad(analysis: Analysis, loop: cst.CSTNode, needs_grad: set[cst.FunctionDef]) -> bool:
    """Whether a module-level loop computes gradients (itself or through a function)."""
    if any(state.loops[:1] == (loop,) for _, state in analysis.module_grad_markers):
        return True
    for call, state in analysis.calls_by_function.get(None, ()):
        if state.loops[:1] == (loop,) and any(
            callee.node in needs_grad for callee in analysis.callees(call, state)
        ):
            return True
    return False
