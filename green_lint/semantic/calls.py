"""Who calls the file's own functions, and with what: the in-file call graph."""

from __future__ import annotations

from functools import cached_property

import libcst as cst

from green_lint.semantic.model import SemanticModel
from green_lint.semantic.scopes import Binding
from green_lint.walk import walk


class CallGraph:
    def __init__(self, model: SemanticModel) -> None:
        self.model = model
        self._sites: dict[int, list[cst.Call]] = {}
        self._indexed = False
        self._argparse_defaults: dict[str, cst.BaseExpression | None] | None = None

    @cached_property
    def _calls(self) -> list[cst.Call]:
        # Walked only for the questions about every call of the file (sites, argparse):
        # `target` of one call needs none of it.
        # By type: libcst's node classes are ABCs, slow to check with isinstance.
        return [node for node in walk(self.model.module) if type(node) is cst.Call]

    def sites(self, function: cst.FunctionDef) -> list[cst.Call]:
        """The calls in this file that run `function`: by its name where that name means it,
        or as `self.<name>(...)` inside its own class."""
        if not self._indexed:
            self._index()
        return self._sites.get(id(function), [])

    def _index(self) -> None:
        self._indexed = True
        for call in self._calls:
            target = self.target(call)
            if target is not None:
                self._sites.setdefault(id(target), []).append(call)

    def target(self, call: cst.Call) -> cst.FunctionDef | None:
        """The def of this file that `call` runs, when that is known (its Name resolves to
        it, `self.m()` in its class, `obj.m()` with `obj = Cls()` of the file)."""
        func = call.func
        # Only a def of the file can be the target: a name no def has needs no lookup (most
        # calls: `np.zeros`, `X.sum`), and a lookup may have to locate the call in the file.
        if isinstance(func, cst.Name):
            called = func.value
        elif isinstance(func, cst.Attribute):
            called = func.attr.value
        else:
            return None
        if called not in self.model.definition_names:
            return None
        if isinstance(func, cst.Name):
            definition = self.model.definition(func)
            return definition if isinstance(definition, cst.FunctionDef) else None
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
            method = self._method_of_instance(func)
            if method is not None:
                return method
            scope = self.model.scope_of(call)
            while scope is not None and scope.kind != "function":
                scope = scope.parent
            if scope is None or scope.parent is None or scope.parent.kind != "class":
                return None
            params = scope.node.params.params
            if not params or params[0].name.value != func.value.value:
                return None
            for binding in scope.parent.bindings.get(func.attr.value, ()):
                if binding.kind == "function":
                    return binding.site
        return None

    def _method_of_instance(self, func: cst.Attribute) -> cst.FunctionDef | None:
        """The method `obj.name` runs when every binding of `obj` is `obj = Cls(...)` with
        `Cls` a class of the file that defines `name` itself."""
        bindings = self.model.binding_of(func.value)
        classes: dict[int, cst.ClassDef] = {}
        for binding in bindings:
            value = binding.value
            if binding.kind != "assignment" or binding.element or not isinstance(value, cst.Call):
                return None
            definition = self.model.definition(value.func)
            if not isinstance(definition, cst.ClassDef):
                return None
            classes[id(definition)] = definition
        if len(classes) != 1:
            return None
        (cls,) = classes.values()
        for binding in self.model.scope(cls).bindings.get(func.attr.value, ()):
            if binding.kind == "function":
                return binding.site
        return None

    def callers(self, function: cst.FunctionDef) -> list[cst.FunctionDef | cst.Module]:
        """The functions (or the module) from which `function` is called."""
        found: list[cst.FunctionDef | cst.Module] = []
        for call in self.sites(function):
            owner = next(
                (
                    node
                    for node in reversed(self.model.locate(call).scope_nodes)
                    if isinstance(node, cst.FunctionDef)
                ),
                self.model.module,
            )
            if all(owner is not known for known in found):
                found.append(owner)
        return found

    def argument_values(self, parameter: Binding) -> list[cst.BaseExpression]:
        """The expressions the file's own call sites pass for a parameter."""
        function = parameter.statement
        if not isinstance(function, cst.FunctionDef):
            return []
        positional = [*function.params.posonly_params, *function.params.params]
        is_method = isinstance(self.model.scope_of(function).node, cst.ClassDef)
        values = []
        for call in self.sites(function):
            shift = 1 if is_method and isinstance(call.func, cst.Attribute) else 0
            for index, arg in enumerate(call.args):
                if arg.star:
                    break
                if arg.keyword is not None:
                    if arg.keyword.value == parameter.name:
                        values.append(arg.value)
                elif index + shift < len(positional) and positional[index + shift] is parameter.site:
                    values.append(arg.value)
        return values

    def argparse_default(self, dest: str) -> cst.BaseExpression | None:
        """The `default=` of the `add_argument` that fills `args.<dest>`, if one does. None
        when several give it different defaults (one per subparser): which one a run uses
        is not known, and no rule should flag a run from a default it may not use."""
        if self._argparse_defaults is None:
            self._argparse_defaults = self._read_argparse_defaults()
        return self._argparse_defaults.get(dest)

    def _read_argparse_defaults(self) -> dict[str, cst.BaseExpression | None]:
        found: dict[str, cst.BaseExpression | None] = {}
        for call in self._calls:
            func = call.func
            if not (isinstance(func, cst.Attribute) and func.attr.value == "add_argument"):
                continue
            dest = _argparse_dest(call)
            default = next(
                (
                    arg.value
                    for arg in call.args
                    if arg.keyword is not None and arg.keyword.value == "default"
                ),
                None,
            )
            if dest is None or default is None:
                continue
            known = found.get(dest, default)
            found[dest] = default if known is not None and known.deep_equals(default) else None
        return found


def _argparse_dest(call: cst.Call) -> str | None:
    flags = []
    for arg in call.args:
        if arg.keyword is not None:
            if arg.keyword.value == "dest" and isinstance(arg.value, cst.SimpleString):
                return arg.value.evaluated_value
            continue
        if isinstance(arg.value, cst.SimpleString):
            flags.append(arg.value.evaluated_value)
    if not flags:
        return None
    long = next((flag for flag in flags if isinstance(flag, str) and flag.startswith("--")), flags[0])
    return long.lstrip("-").replace("-", "_") if isinstance(long, str) else None
