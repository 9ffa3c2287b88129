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
from green_lint.rules._torch_eval_mode import MODE_DEPENDENT, is_eval_call, mode_dependent_class_names
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


class TorchModules:
    def __init__(self, context: RuleContext) -> None:
        self.context = context
        self.analysis = context.analysis(Analysis)
        self.imports_torch = context.semantic.imports_module("torch")
        self.module_classes = module_classes(context)
        self._scope_cache: dict[int, dict[str, ModelInfo]] = {}
        self._bound_cache: dict[int, set[str]] = {}
        self._attribute_cache: dict[int, dict[str, ModelInfo]] = {}
        self._mode_dependent_classes: set[str] | None = None
        # GL301's verdict per function (`_torch.is_inference_function`), kept per file.
        self.inference_functions: dict[cst.FunctionDef, bool] = {}

    def value_info(
        self, value: cst.BaseExpression | None, lookup: Callable[[cst.BaseExpression], ModelInfo | None]
    ) -> ModelInfo | None:
        """What model `value` is, if it is one. `lookup` answers for names and
        `self.x` attributes."""
        return model_value(self.context, self.module_classes, value, lookup)

    # -- scopes ------------------------------------------------------------------------
    def _bound_names(self, scope: cst.CSTNode) -> set[str]:
        key = id(scope)
        if key not in self._bound_cache:
            names = set(self.analysis.bound_names(scope))
            if isinstance(scope, cst.FunctionDef):
                names.update(p.name.value for p in parameters(scope.params))
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
            for param in parameters(scope.params):
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
        names = {p.name.value for p in parameters(func.params)}
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
                or layer_name(self.context, annotation) is not None
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
            if MODE_DEPENDENT.search(info.detail) or MODE_DEPENDENT.search(text):
                return True
            return any(re.search(rf"\b{name}\b", text) for name in self._mode_dependent_class_names())
        if info.kind == "class":
            return info.detail in self._mode_dependent_class_names()
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


def _assignments(scope: cst.CSTNode) -> Iterator[tuple[str, cst.BaseExpression]]:
    """(name, value) of the plain `name = value` / `name: T = value` of a scope."""
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
