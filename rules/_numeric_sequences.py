"""Names GL203's advice tier reads as numeric sequences though nothing says they are arrays:
a parameter (or a `list(...)` of an array) that bounds a loop by `range(len(p))` and is
indexed by that loop's variable; and the containers that never are (dicts, strings,
lists of strings)."""

from __future__ import annotations

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._data_nodes import find_parameter
from green_lint.rules._numeric_arrays import Arrays
from green_lint.rules._numeric_vocabulary import is_builtin

TEXT = cst.SimpleString | cst.FormattedString | cst.ConcatenatedString
CONTAINER_ANNOTATIONS = frozenset({"dict", "str", "set", "Dict", "Set", "Mapping"})


class Sequences:
    def __init__(self, context: RuleContext, arrays: Arrays, scope: cst.CSTNode) -> None:
        self.context = context
        self.arrays = arrays
        self.scope = scope
        self._bounds: set[str] = set()  # p of `for i in range(len(p))` / `range(k, len(p))`

    def note_range(self, variable: str, call: cst.Call) -> None:
        positional = [arg.value for arg in call.args if arg.keyword is None and not arg.star]
        if not 1 <= len(positional) <= 2:
            return
        stop = positional[-1]
        if (
            isinstance(stop, cst.Call)
            and is_builtin(self.context, stop.func, "builtins.len")
            and len(stop.args) == 1
            and isinstance(stop.args[0].value, cst.Name)
        ):
            self._bounds.add(stop.args[0].value.value)

    def plausible(self, root: cst.BaseExpression) -> bool:
        """`p` bounds a loop of the nest by its length and is a parameter, or a list made
        from an array, and never a container of text."""
        if not isinstance(root, cst.Name) or root.value not in self._bounds or self.container(root):
            return False
        owner, values = self.context.values.assignments(root.value, self.scope)
        if isinstance(owner, cst.FunctionDef) and find_parameter(owner, root.value) is not None:
            return not values and self._callers_pass_sequences(root)
        return bool(values) and all(self._list_of_array(value) for value in values)

    def _callers_pass_sequences(self, parameter: cst.Name) -> bool:
        """The file's own calls (if any) pass arrays or lists: not tensors, not text."""
        passed = [v for v in self.context.values.expressions(parameter) if v is not parameter]
        return all(
            self.arrays.is_array_here(value)
            or isinstance(value, cst.List)
            or (isinstance(value, cst.Call) and is_builtin(self.context, value.func, "builtins.list"))
            for value in passed
        )

    def _list_of_array(self, value: cst.BaseExpression) -> bool:
        return (
            isinstance(value, cst.Call)
            and is_builtin(self.context, value.func, "builtins.list", "builtins.sorted")
            and len(value.args) == 1
            and self.arrays.is_array_expr(value.args[0].value, self.scope)
        )

    def container(self, root: cst.BaseExpression) -> bool:
        """A dict, set or string, or a list of strings: indexing it is not array work."""
        if not isinstance(root, cst.Name):
            return False
        if isinstance(self.scope, cst.FunctionDef):
            parameter = find_parameter(self.scope, root.value)
            if parameter is not None and parameter.annotation is not None:
                annotation = parameter.annotation.annotation
                if isinstance(annotation, cst.Subscript):
                    annotation = annotation.value
                name = (
                    annotation.attr.value
                    if isinstance(annotation, cst.Attribute)
                    else getattr(annotation, "value", None)
                )
                if name in CONTAINER_ANNOTATIONS:
                    return True
        return any(
            self._text_or_mapping(value)
            for value in self.context.values.expressions(root)
            if value is not root
        )

    def _text_or_mapping(self, value: cst.BaseExpression) -> bool:
        if isinstance(value, cst.Dict | cst.DictComp | cst.Set | cst.SetComp | TEXT):
            return True
        if isinstance(value, cst.List | cst.Tuple):
            return any(isinstance(e.value, TEXT) for e in value.elements)
        return isinstance(value, cst.Call) and self.context.resolves_to(
            value.func,
            "builtins.dict",
            "builtins.str",
            "builtins.set",
            "collections.defaultdict",
            "collections.Counter",
        )
