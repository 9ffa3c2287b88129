"""Does this name hold a torch module here? `TorchModules` follows the assignments of each
scope (and `self.x` set in `__init__`) to what built the value (`_torch_model_values`),
and answers which calls run a model's forward pass.

The file's one instance: `context.analysis(TorchModules)`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import libcst as cst

from green_lint.context import RuleContext
from green_lint.names import statements_of
from green_lint.rules._syntax import last_name
from green_lint.rules._torch_call_graph import Analysis
from green_lint.rules._torch_calls import FunctionInfo, State
from green_lint.rules._torch_eval_mode import (
    MODE_DEPENDENT,
    is_eval_call,
    mode_dependent_class_names,
    mode_text,
)
from green_lint.rules._torch_model_evidence import (
    MODULE_CONTAINERS,
    MODULE_ONLY_METHODS,
    ModuleEvidence,
    arguments_for,
    comprehension_targets,
    item_source,
)
from green_lint.rules._torch_model_values import (
    MODULE_BASE_CLASSES,
    MODULE_CHAIN_METHODS,
    ModelInfo,
    layer_name,
    model_value,
    module_classes,
)
from green_lint.semantic.scopes import parameters

MODEL_PARAMETER_NAMES = frozenset({"model", "net", "module"})
# Methods that tell a `self.x` attribute holds a module (with `.eval()`).
_ATTRIBUTE_MODULE_METHODS = MODULE_ONLY_METHODS - {"zero_grad", "load_state_dict"}


class TorchModules:
    def __init__(self, context: RuleContext) -> None:
        self.context = context
        self.analysis = context.analysis(Analysis)
        self.imports_torch = context.semantic.imports_module("torch")
        self.module_classes = module_classes(context)
        self._scope_cache: dict[int, dict[str, ModelInfo]] = {}
        self._attribute_cache: dict[int, dict[str, ModelInfo]] = {}
        self._mode_dependent_classes: set[str] | None = None
        self._module_evidence: ModuleEvidence | None = None
        # Per scope: the names that hold a collection of modules (a list, a ModuleList...).
        self._collection_cache: dict[int, set[str]] = {}
        self._forwards: dict[int, tuple[cst.BaseExpression, ModelInfo] | None] = {}
        # GL301's verdict per function (`_torch.is_inference_function`), kept per file.
        self.inference_functions: dict[cst.FunctionDef, bool] = {}

    def value_info(
        self, value: cst.BaseExpression | None, lookup: Callable[[cst.BaseExpression], ModelInfo | None]
    ) -> ModelInfo | None:
        """What model `value` is, if it is one. `lookup` answers for names and
        `self.x` attributes."""
        return model_value(self.context, self.module_classes, value, lookup)

    # -- scopes ------------------------------------------------------------------------
    def _holder(self, name: cst.Name) -> cst.Module | cst.FunctionDef | None:
        """The def or module whose names (`scope_models`) tell what `name` holds where it is
        used: the scope that binds it, a comprehension's target counting as its function's
        (`scope_models` follows the comprehensions' targets); None for a name bound nowhere,
        in a class body or by a lambda (not followed)."""
        found = self.context.semantic.lookup(name.value, name)
        scope = found[0] if found is not None else None
        while scope is not None and scope.kind == "comprehension":
            scope = scope.parent
        if scope is None or scope.kind not in ("function", "module"):
            return None
        return scope.node

    def scope_models(self, scope: cst.Module | cst.FunctionDef) -> dict[str, ModelInfo]:
        """The names of `scope` that hold torch modules."""
        key = id(scope)
        if key in self._scope_cache:
            return self._scope_cache[key]
        models: dict[str, ModelInfo] = {}
        self._scope_cache[key] = models  # recursion guard
        collections = self._collection_cache.setdefault(key, set())
        evidence = self._evidence()
        if isinstance(scope, cst.FunctionDef):
            for param in parameters(scope.params):
                name = param.name.value
                if self._passed(scope, name, self._holds_modules):
                    collections.add(name)  # a list of models, an `nn.ModuleList`
                elif (
                    self._is_model_parameter(param)
                    or evidence.is_module(scope, name, None)
                    or self._passed(scope, name, self._is_model_value)
                ):
                    models[name] = ModelInfo("parameter", param)
        assignments = self.context.values.assignments_in(scope)
        targets = list(self._loop_targets(scope))
        changed = True
        while changed:
            changed = False
            for name, value in assignments:
                if name not in collections and self._holds_modules(value, scope):
                    collections.add(name)
                    changed = True
                if name in models:
                    continue
                info = self.value_info(value, lambda expr: self.lookup(expr, scope))
                if info is None and evidence.is_module(scope, name, value):
                    info = ModelInfo("evidence", value)
                if info is not None:
                    models[name] = info
                    changed = True
            for name, iterable, element in targets:
                source = item_source(self.context, iterable, element)
                if name not in models and source is not None and self._holds_modules(source, scope):
                    models[name] = ModelInfo("element", source)
                    changed = True
        return models

    def _loop_targets(self, scope) -> Iterator[tuple[str, cst.BaseExpression, tuple[int, ...]]]:
        """(name, iterable, position in the item) of the scope's `for` targets: its loop
        bindings, and the comprehensions around its calls (where a forward can be)."""
        for bindings in self.context.semantic.scope(scope).bindings.values():
            for binding in bindings:
                if binding.kind == "loop" and binding.value is not None:
                    yield binding.name, binding.value, binding.element
        func = scope if isinstance(scope, cst.FunctionDef) else None
        comprehensions = {
            id(loop): loop
            for _, state in self.analysis.calls_by_function.get(func, ())
            for loop in state.loops
            if isinstance(loop, cst.ListComp | cst.SetComp | cst.GeneratorExp | cst.DictComp)
        }
        for comprehension in comprehensions.values():
            yield from comprehension_targets(comprehension)

    def _evidence(self) -> ModuleEvidence:
        if self._module_evidence is None:
            self._module_evidence = ModuleEvidence(self.context, self.analysis)
        return self._module_evidence

    def _passed(self, func: cst.FunctionDef, parameter: str, test) -> bool:
        """Whether a call of `func` in the file passes, for `parameter`, a value that
        passes `test(value, caller scope)` (a model, a list of models)."""
        info = self.analysis.functions.get(func)
        if info is None or not self.imports_torch:
            return False
        for site in self.analysis.call_sites(func):
            if site.how != "call" or not isinstance(site.node, cst.Call):
                continue
            caller = site.state.func or self.context.module
            if any(test(value, caller) for value in arguments_for(site.node, info, parameter)):
                return True
        return False

    def _is_model_value(self, value: cst.BaseExpression, scope) -> bool:
        return self.value_info(value, lambda expr: self.lookup(expr, scope)) is not None

    def _holds_modules(self, value: cst.BaseExpression | None, scope) -> bool:
        """Whether `value` is a collection of modules: a list or tuple of them, a
        comprehension building them, a name holding one, an `nn.ModuleList`/`Sequential`."""
        lookup = lambda expr: self.lookup(expr, scope)  # noqa: E731
        if isinstance(value, cst.List | cst.Tuple):
            return bool(value.elements) and all(
                not isinstance(item, cst.StarredElement) and self.value_info(item.value, lookup) is not None
                for item in value.elements
            )
        if isinstance(value, cst.ListComp):
            return self.value_info(value.elt, lookup) is not None
        if isinstance(value, cst.Name):
            return self._is_collection(value)
        info = self.value_info(value, lookup)
        return info is not None and info.kind == "layer" and info.detail in MODULE_CONTAINERS

    def _is_collection(self, name: cst.Name) -> bool:
        holder = self._holder(name)
        if holder is None:
            return False
        self.scope_models(holder)
        return name.value in self._collection_cache.get(id(holder), ())

    def _is_model_parameter(self, param: cst.Param) -> bool:
        if param.annotation is not None:
            annotation = param.annotation.annotation
            if (
                self.context.resolves_to(annotation, *MODULE_BASE_CLASSES)
                or layer_name(self.context, annotation) is not None
                or (isinstance(annotation, cst.Name) and annotation.value in self.module_classes)
            ):
                return True
        return self.imports_torch and param.name.value in MODEL_PARAMETER_NAMES

    def lookup(
        self, expr: cst.BaseExpression, scope: cst.Module | cst.FunctionDef | None
    ) -> ModelInfo | None:
        """The model `expr` (a name, `self`, or `self.attr`) holds inside `scope`, the def
        or module it is evaluated in (a name is looked up from where it is used)."""
        if isinstance(expr, cst.Name):
            return self._lookup_name(expr)
        if isinstance(expr, cst.Attribute):
            if isinstance(expr.value, cst.Name):
                cls = self._method_class(scope, expr.value.value)
                if cls is not None:
                    return self.class_attributes(cls).get(expr.attr.value)
            owner = self.lookup(expr.value, scope)
            return self._submodule(owner, expr.attr.value) if owner is not None else None
        if isinstance(expr, cst.Subscript) and self._holds_modules(expr.value, scope):
            return ModelInfo("element", expr)  # `nets[i]`
        return None

    def _submodule(self, owner: ModelInfo, attribute: str) -> ModelInfo | None:
        """`model.encoder` when `model`'s class (or, for a model of unknown class, a module
        class of the file) sets `self.encoder` to a module."""
        if owner.kind == "class":
            cls = self.module_classes.get(owner.detail)
            return self.class_attributes(cls).get(attribute) if cls is not None else None
        if owner.kind not in ("parameter", "evidence", "element", "load"):
            return None  # a library model: its attributes are not the file's to know
        for cls in self.module_classes.values():
            found = self.class_attributes(cls).get(attribute)
            if found is not None:
                return found
        return None

    def _lookup_name(self, name: cst.Name) -> ModelInfo | None:
        holder = self._holder(name)
        if holder is None:
            return None
        info = self.analysis.functions.get(holder) if isinstance(holder, cst.FunctionDef) else None
        if info is not None and info.method_of is not None and name.value == _self_name(info):
            class_name = info.method_of.name.value
            if class_name in self.module_classes:
                return ModelInfo("class", info.node, class_name)
            return None
        return self.scope_models(holder).get(name.value)

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
                    for part, value in _unpacked(target, small.value):
                        if (
                            isinstance(part, cst.Attribute)
                            and isinstance(part.value, cst.Name)
                            and part.value.value == self_name
                        ):
                            model = self.value_info(value, lambda expr, s=statement: self.lookup(expr, s))
                            if model is not None:
                                found.setdefault(part.attr.value, model)
        self._attribute_evidence(cls, found)
        return found

    def _attribute_evidence(self, cls: cst.ClassDef, found: dict[str, ModelInfo]) -> None:
        """`self.x` that a method of the class uses as a module (`self.model.eval()`,
        `self.model.parameters()`), whatever set it: a trainer class whose base (of another
        package) stores the model it is given. `zero_grad` and `load_state_dict` are left
        out: a trainer calls them on its optimiser."""
        if not self.imports_torch:
            return
        for statement in cls.body.body:
            info = self.analysis.functions.get(statement) if isinstance(statement, cst.FunctionDef) else None
            self_name = _self_name(info) if info is not None else None
            if self_name is None:
                continue
            for call, _ in self.analysis.calls_by_function.get(statement, ()):
                func = call.func
                receiver = func.value if isinstance(func, cst.Attribute) else None
                if not (
                    isinstance(receiver, cst.Attribute)
                    and isinstance(receiver.value, cst.Name)
                    and receiver.value.value == self_name
                ):
                    continue
                method = func.attr.value
                if is_eval_call(call) or method in _ATTRIBUTE_MODULE_METHODS:
                    found.setdefault(receiver.attr.value, ModelInfo("evidence", receiver))

    # -- forward passes ----------------------------------------------------------------
    def forward_model(self, call: cst.Call, state: State) -> tuple[cst.BaseExpression, ModelInfo] | None:
        """(the model expression, what it is) when `call` runs a torch module's forward:
        `model(x)` or `model.forward(x)`. Answered once per call (the rules ask often)."""
        key = id(call)
        if key not in self._forwards:
            self._forwards[key] = self._forward_model(call, state)
        return self._forwards[key]

    def _forward_model(self, call: cst.Call, state: State) -> tuple[cst.BaseExpression, ModelInfo] | None:
        func = call.func
        target = func
        if isinstance(func, cst.Attribute) and func.attr.value == "forward":
            target = func.value
        if not isinstance(target, cst.Name | cst.Attribute | cst.Subscript):
            return None
        info = self.lookup(target, state.func or self.context.module)
        return (target, info) if info is not None else None

    def mode_dependent(self, info: ModelInfo) -> bool:
        """Whether train/eval mode can change what the model computes (dropout, batch
        norm...), as far as the file tells; False when unknown or already in eval mode."""
        if info.kind in ("load", "builder"):
            return True
        if info.kind == "layer":
            text = mode_text(self.context, info.node) if info.node is not None else info.detail
            if MODE_DEPENDENT.search(text):
                return True
            return any(re.search(rf"\b{name}\b", text) for name in self._mode_dependent_class_names())
        if info.kind == "class":
            # A class of another module is a model here only when it is mode-dependent.
            return info.defined_in is not None or info.detail in self._mode_dependent_class_names()
        return False

    def _mode_dependent_class_names(self) -> set[str]:
        if self._mode_dependent_classes is None:
            self._mode_dependent_classes = mode_dependent_class_names(self)
        return self._mode_dependent_classes


def model_key(expr: cst.BaseExpression) -> str | None:
    """The name GL303 matches `.eval()` calls by: `model`, `self.model` -> "model"."""
    while isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
        if expr.func.attr.value not in MODULE_CHAIN_METHODS:
            return None
        expr = expr.func.value
    return last_name(expr)


def _self_name(info: FunctionInfo) -> str | None:
    if info.method_of is None:
        return None
    for decorator in info.node.decorators:
        if isinstance(decorator.decorator, cst.Name) and decorator.decorator.value == "staticmethod":
            return None
    params = [*info.node.params.posonly_params, *info.node.params.params]
    return params[0].name.value if params else None


def _unpacked(
    target: cst.BaseExpression, value: cst.BaseExpression | None
) -> Iterator[tuple[cst.BaseExpression, cst.BaseExpression | None]]:
    """(target, value) pairs of an assignment, tuples unpacked element by element where
    both sides are literal tuples of one length (`a, b = Net(), Net()`)."""
    if isinstance(target, cst.Tuple | cst.List) and isinstance(value, cst.Tuple | cst.List):
        targets, values = target.elements, value.elements
        if len(targets) == len(values) and not any(
            isinstance(item, cst.StarredElement) for item in (*targets, *values)
        ):
            for inner, item in zip(targets, values, strict=True):
                yield from _unpacked(inner.value, item.value)
        return
    yield target, value
