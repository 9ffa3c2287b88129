"""Private helpers of the training rules GL101 (train-from-scratch) and GL102
(no-early-stopping). No rule lives here.

- arguments of a call (by position or keyword) and edits of keyword arguments for fixes;
- `Numbers`: a budget (`epochs=EPOCHS`, `range(1, args.epochs + 1)`) resolved to a number
  through literals, constants, dict literals and `argparse` defaults;
- callback lists: does `callbacks=[...]` (followed through a variable) hold early stopping;
- `Flow`: a scoped, flow-insensitive index of the file's assignments, calls and returns,
  which follows a value (a model) through variables, attributes of `self`, function
  parameters and return values.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import libcst as cst

from green_lint.context import RuleContext
from green_lint.names import dotted_name, statements_of
from green_lint.walk import children, traverse

DEFINITIONS = (cst.FunctionDef, cst.ClassDef, cst.Lambda)
LOOPS = (cst.For, cst.While)


# -- walks -----------------------------------------------------------------------------
def walk(node: cst.CSTNode, *, enter_definitions: bool = True) -> Iterator[cst.CSTNode]:
    """Every code-carrying node below `node` (inclusive), depth first, in no particular
    order (whitespace and punctuation skipped)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if not enter_definitions and current is not node and isinstance(current, DEFINITIONS):
            continue
        stack.extend(children(current))


def calls_in(node: cst.CSTNode, *, enter_definitions: bool = True) -> Iterator[cst.Call]:
    for found in walk(node, enter_definitions=enter_definitions):
        if isinstance(found, cst.Call):
            yield found


def last_name(node: cst.BaseExpression) -> str | None:
    """`b` for `a.b`, `a` for `a`, the base name of `a[0]`; None otherwise."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    if isinstance(node, cst.Subscript):
        return last_name(node.value)
    return None


# -- arguments -------------------------------------------------------------------------
def keyword(call: cst.Call, name: str) -> cst.Arg | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def keyword_value(call: cst.Call, name: str) -> cst.BaseExpression | None:
    found = keyword(call, name)
    return found.value if found is not None else None


def positional(call: cst.Call) -> list[cst.Arg]:
    return [arg for arg in call.args if arg.keyword is None and not arg.star]


def argument(call: cst.Call, position: int | None, name: str) -> cst.BaseExpression | None:
    found = keyword(call, name)
    if found is not None:
        return found.value
    args = positional(call)
    if position is not None and position < len(args):
        # A positional after a `*args` has an unknown position.
        if any(arg.star == "*" for arg in call.args[: call.args.index(args[position])]):
            return None
        return args[position].value
    return None


def has_star(call: cst.Call) -> bool:
    """Whether the call passes `*args` or `**kwargs` (then its arguments are unknown)."""
    return any(arg.star for arg in call.args)


def keywords(call: cst.Call) -> dict[str, cst.BaseExpression]:
    return {arg.keyword.value: arg.value for arg in call.args if arg.keyword is not None}


def is_none(node: cst.BaseExpression | None) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def is_true(node: cst.BaseExpression | None) -> bool:
    return isinstance(node, cst.Name) and node.value == "True"


def is_false(node: cst.BaseExpression | None) -> bool:
    return isinstance(node, cst.Name) and node.value == "False"


def string_value(node: cst.BaseExpression | None) -> str | None:
    if isinstance(node, cst.SimpleString):
        try:
            value = node.evaluated_value
        except Exception:  # pragma: no cover - libcst evaluates every valid literal
            return None
        return value if isinstance(value, str) else None
    if isinstance(node, cst.ConcatenatedString):
        try:
            value = node.evaluated_value
        except Exception:  # pragma: no cover - f-strings and mixed bytes
            return None
        return value if isinstance(value, str) else None
    return None


# -- editing calls (for fixes) ---------------------------------------------------------
def _keyword_arg(name: str, value_code: str) -> cst.Arg:
    return cst.parse_expression(f"f({name}={value_code})").args[0]


def with_keyword(call: cst.Call, name: str, value_code: str) -> cst.Call:
    """`call` with `name=value` set: the value replaced if the keyword is there, else the
    keyword added after the last argument (keeping the call's layout)."""
    found = keyword(call, name)
    if found is not None:
        return call.with_changes(
            args=[
                arg.with_changes(value=cst.parse_expression(value_code)) if arg is found else arg
                for arg in call.args
            ]
        )
    new = _keyword_arg(name, value_code)
    args = list(call.args)
    if not args:
        return call.with_changes(args=[new])
    last = args[-1]
    if isinstance(last.comma, cst.Comma):
        # A trailing comma: the new argument goes after it, laid out as the others.
        if len(args) >= 2 and isinstance(args[-2].comma, cst.Comma):
            between = args[-2].comma.whitespace_after
        else:
            between = call.whitespace_before_args
        args[-1] = last.with_changes(comma=last.comma.with_changes(whitespace_after=between))
        args.append(new.with_changes(comma=last.comma))
    else:
        args[-1] = last.with_changes(
            comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")),
            whitespace_after_arg=cst.SimpleWhitespace(""),
        )
        args.append(new.with_changes(whitespace_after_arg=last.whitespace_after_arg))
    return call.with_changes(args=args)


def with_element(node: cst.List, code: str) -> cst.List:
    """The list literal `node` with the expression `code` appended (keeping its layout)."""
    elements = list(node.elements)
    new = cst.Element(cst.parse_expression(code))
    if not elements:
        return node.with_changes(elements=[new])
    last = elements[-1]
    if isinstance(last.comma, cst.Comma):
        if len(elements) >= 2 and isinstance(elements[-2].comma, cst.Comma):
            between = elements[-2].comma.whitespace_after
        else:
            between = node.lbracket.whitespace_after
        elements[-1] = last.with_changes(comma=last.comma.with_changes(whitespace_after=between))
        elements.append(new.with_changes(comma=last.comma))
    else:
        elements[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        elements.append(new)
    return node.with_changes(elements=elements)


def replace_arg(call: cst.Call, old: cst.Arg, name: str, value_code: str) -> cst.Call:
    """`call` with the argument `old` replaced by `name=value` (its comma kept)."""
    new = _keyword_arg(name, value_code).with_changes(
        comma=old.comma, whitespace_after_arg=old.whitespace_after_arg
    )
    return call.with_changes(args=[new if arg is old else arg for arg in call.args])


# -- numbers ---------------------------------------------------------------------------
class Numbers:
    """Resolves an expression to a number: literals, `-x`, `+ - * //` of numbers, names
    with one assigned value (current function, else module), `d["key"]` of a dict
    literal, and `args.name` where `args` comes from `parse_args()` and the file has an
    `add_argument("--name", default=N)`. Anything else is unknown (None)."""

    def __init__(self, context: RuleContext) -> None:
        self.context = context
        self._argparse = ArgparseDefaults(context)

    def resolve(self, node: cst.BaseExpression | None, depth: int = 0) -> float | None:
        if node is None or depth > 8:
            return None
        if isinstance(node, cst.Integer):
            return int(node.value.replace("_", ""), 0)
        if isinstance(node, cst.Float):
            return float(node.value.replace("_", ""))
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus | cst.Plus):
            value = self.resolve(node.expression, depth + 1)
            if value is None:
                return None
            return -value if isinstance(node.operator, cst.Minus) else value
        if isinstance(node, cst.BinaryOperation):
            left = self.resolve(node.left, depth + 1)
            right = self.resolve(node.right, depth + 1)
            if left is None or right is None:
                return None
            operator = node.operator
            if isinstance(operator, cst.Add):
                return left + right
            if isinstance(operator, cst.Subtract):
                return left - right
            if isinstance(operator, cst.Multiply):
                return left * right
            if isinstance(operator, cst.FloorDivide) and right:
                return left // right
            return None
        if (
            isinstance(node, cst.Call)
            and isinstance(node.func, cst.Name)
            and node.func.value in ("int", "float")
        ):
            if len(node.args) == 1 and not node.args[0].keyword and not node.args[0].star:
                return self.resolve(node.args[0].value, depth + 1)
            return None
        if isinstance(node, cst.Name):
            if node.value in ("True", "False", "None"):
                return None
            value = self.context.single_value(node)
            if value is None or value is node:
                return None
            return self.resolve(value, depth + 1)
        if isinstance(node, cst.Subscript):
            return self._subscript(node, depth)
        if isinstance(node, cst.Attribute):
            return self._argparse_value(node)
        return None

    def _subscript(self, node: cst.Subscript, depth: int) -> float | None:
        if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
            return None
        key = string_value(node.slice[0].slice.value)
        container = self.context.single_value(node.value) if isinstance(node.value, cst.Name) else None
        if key is None or not isinstance(container, cst.Dict):
            return None
        if mutated(self.context, node.value.value):
            return None
        for element in container.elements:
            if isinstance(element, cst.DictElement) and string_value(element.key) == key:
                return self.resolve(element.value, depth + 1)
        return None

    def _argparse_value(self, node: cst.Attribute) -> float | None:
        default = self._argparse.default_of(node)
        return _literal_number(default) if default is not None else None


class ArgparseDefaults:
    """The `default=` behind `args.name`: the file's `add_argument` calls, read once."""

    def __init__(self, context: RuleContext) -> None:
        self.context = context
        self._defaults: dict[str, cst.BaseExpression | None] | None = None

    def default_of(self, node: cst.Attribute) -> cst.BaseExpression | None:
        """The default of `args.name` when `args` is the result of `parse_args()` (or is
        not assigned in the file at all, as in `def main(args)`)."""
        context = self.context
        if not isinstance(node.value, cst.Name) or node.value.value in ("self", "cls"):
            return None
        values = []
        for scope in dict.fromkeys([context.scope(), context.module]):
            values = context.assigned_values(node.value.value, scope)
            if values:
                break
        if values and (len(values) != 1 or not _is_parse_args(values[0])):
            return None
        if self._defaults is None:
            self._defaults = self._read()
        return self._defaults.get(node.attr.value)

    def _read(self) -> dict[str, cst.BaseExpression | None]:
        """`dest -> default` of every `add_argument` of the file; None for a destination
        defined twice with different defaults."""
        found: dict[str, cst.BaseExpression | None] = {}
        for call in calls_in(self.context.module):
            if not (isinstance(call.func, cst.Attribute) and call.func.attr.value == "add_argument"):
                continue
            dest = _argparse_dest(call)
            default = keyword(call, "default")
            if dest is None or default is None:
                continue
            known = found.get(dest, default.value)
            found[dest] = default.value if known is not None and known.deep_equals(default.value) else None
        return found


def _literal_number(node: cst.BaseExpression) -> float | None:
    if isinstance(node, cst.Integer):
        return int(node.value.replace("_", ""), 0)
    if isinstance(node, cst.Float):
        return float(node.value.replace("_", ""))
    return None


def _is_parse_args(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.Subscript):  # parser.parse_known_args()[0]
        node = node.value
    return (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value in ("parse_args", "parse_known_args")
    )


def _argparse_dest(call: cst.Call) -> str | None:
    dest = keyword(call, "dest")
    if dest is not None:
        return string_value(dest.value)
    names = [string_value(arg.value) for arg in positional(call)]
    names = [name for name in names if name]
    if not names:
        return None
    long = [name for name in names if name.startswith("--")]
    chosen = long[0] if long else names[0]
    return chosen.lstrip("-").replace("-", "_") or None


def mutated(context: RuleContext, name: str) -> bool:
    """Whether `name` (a dict or list) is changed in place in the current scope."""
    scope = context.scope()
    for call in calls_in(scope):
        func = call.func
        if (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.value.value == name
            and func.attr.value in ("update", "setdefault", "pop", "__setitem__")
        ):
            return True
    for statement in statements_of(scope, enter_definitions=False):
        for target in assignment_targets(statement):
            if (
                isinstance(target, cst.Subscript)
                and isinstance(target.value, cst.Name)
                and target.value.value == name
            ):
                return True
    return False


# -- callbacks -------------------------------------------------------------------------
STOPS, NONE, UNKNOWN = "stops", "none", "unknown"
# Assignments in a callback class of the file that stop training.
STOP_ATTRIBUTES = ("stop_training", "should_stop", "should_training_stop")


def callbacks_state(context: RuleContext, node: cst.BaseExpression | None, depth: int = 0) -> str:
    """Whether a `callbacks` argument holds early stopping: STOPS, NONE (known callbacks,
    none stops) or UNKNOWN (built somewhere this rule cannot see)."""
    if node is None or is_none(node):
        return NONE
    if depth > 4:
        return UNKNOWN
    if isinstance(node, cst.List | cst.Tuple):
        states = []
        for element in node.elements:
            if isinstance(element, cst.StarredElement):
                states.append(callbacks_state(context, element.value, depth + 1))
            else:
                states.append(_callback_state(context, element.value, depth + 1))
        return _combine(states)
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
        return _combine(
            [callbacks_state(context, node.left, depth + 1), callbacks_state(context, node.right, depth + 1)]
        )
    if isinstance(node, cst.Name):
        values = _all_values(context, node.value)
        if not values:
            return UNKNOWN
        states = [callbacks_state(context, value, depth + 1) for value in values]
        states.extend(_added_callbacks(context, node.value, depth))
        return _combine(states)
    if isinstance(node, cst.Call):
        # A single callback (Lightning accepts one), or a function that builds the list.
        return _callback_state(context, node, depth + 1)
    return UNKNOWN


def _combine(states: list[str]) -> str:
    if STOPS in states:
        return STOPS
    if UNKNOWN in states:
        return UNKNOWN
    return NONE


def _all_values(context: RuleContext, name: str) -> list[cst.BaseExpression]:
    for scope in dict.fromkeys([context.scope(), context.module]):
        values = context.assigned_values(name, scope)
        if values:
            return values
    return []


def _added_callbacks(context: RuleContext, name: str, depth: int) -> list[str]:
    """Callbacks added to the list `name` by `append`/`extend`/`insert`/`+=`."""
    states = []
    scope = context.scope()
    for call in calls_in(scope):
        func = call.func
        if not (
            isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == name
        ):
            continue
        if func.attr.value == "append" and call.args:
            states.append(_callback_state(context, call.args[0].value, depth + 1))
        elif func.attr.value == "insert" and len(call.args) == 2:
            states.append(_callback_state(context, call.args[1].value, depth + 1))
        elif func.attr.value == "extend" and call.args:
            states.append(callbacks_state(context, call.args[0].value, depth + 1))
    for statement in statements_of(scope, enter_definitions=False):
        if (
            isinstance(statement, cst.AugAssign)
            and isinstance(statement.target, cst.Name)
            and statement.target.value == name
        ):
            states.append(callbacks_state(context, statement.value, depth + 1))
    return states


def _callback_state(context: RuleContext, node: cst.BaseExpression, depth: int) -> str:
    if depth > 6:
        return UNKNOWN
    if isinstance(node, cst.Name):
        values = _all_values(context, node.value)
        if not values:
            return UNKNOWN
        return _combine([_callback_state(context, value, depth + 1) for value in values])
    if not isinstance(node, cst.Call):
        return UNKNOWN
    func = node.func
    qualified = context.qualified_name(func)
    if qualified is not None and not qualified.startswith("builtins."):
        last = qualified.rsplit(".", 1)[-1]
        if "EarlyStopping" in last or last == "early_stopping" or "Pruning" in last:
            return STOPS
        return NONE
    own = isinstance(func, cst.Name) and func.value in context.imports.own_definitions
    if own:
        definition = _own_definition(context, func.value)
        if isinstance(definition, cst.ClassDef):
            return STOPS if _class_stops(context, definition) else NONE
    return UNKNOWN


def _own_definition(context: RuleContext, name: str) -> cst.CSTNode | None:
    for statement in statements_of(context.module):
        if isinstance(statement, cst.ClassDef | cst.FunctionDef) and statement.name.value == name:
            return statement
    return None


def _class_stops(context: RuleContext, definition: cst.ClassDef) -> bool:
    for base in definition.bases:
        qualified = context.qualified_name(base.value) or dotted_name(base.value) or ""
        if "EarlyStopping" in qualified:
            return True
    code = context.module.code_for_node(definition)
    return any(attribute in code for attribute in STOP_ATTRIBUTES)


# -- the flow of a value through the file ----------------------------------------------
Scope = cst.Module | cst.FunctionDef | cst.ClassDef


@dataclass
class _ScopeInfo:
    node: Scope
    parent: Scope | None
    locals: set[str] = field(default_factory=set)
    # Methods: the class and the name of the first parameter (`self`).
    owner: cst.ClassDef | None = None
    self_name: str | None = None
    params: list[str] = field(default_factory=list)


class _Indexer:
    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.scopes: list[Scope] = [flow.module]
        self._visits: dict[type, object] = {}
        self._leaves: dict[type, object] = {}

    def on_visit(self, node: cst.CSTNode) -> None:
        kind = type(node)
        method = self._visits.get(kind, 0)
        if method == 0:
            method = self._visits[kind] = getattr(self, f"visit_{kind.__name__}", None)
        if method is not None:
            method(node)

    def on_leave(self, node: cst.CSTNode) -> None:
        kind = type(node)
        method = self._leaves.get(kind, 0)
        if method == 0:
            method = self._leaves[kind] = getattr(self, f"leave_{kind.__name__}", None)
        if method is not None:
            method(node)

    # scopes
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        parent = self.scopes[-1]
        info = _ScopeInfo(node, parent)
        params = [*node.params.posonly_params, *node.params.params]
        info.params = [param.name.value for param in params]
        every = [*params, *node.params.kwonly_params]
        for extra in (node.params.star_arg, node.params.star_kwarg):
            if isinstance(extra, cst.Param):
                every.append(extra)
        info.locals.update(param.name.value for param in every)
        if isinstance(parent, cst.ClassDef) and info.params:
            info.owner = parent
            info.self_name = info.params[0]
            self.flow.methods[(id(parent), node.name.value)] = node
        else:
            self.flow.functions.setdefault(node.name.value, node)
        self.flow.scopes[id(node)] = info
        self.flow.scopes[id(parent)].locals.add(node.name.value)
        self.scopes.append(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.scopes.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        parent = self.scopes[-1]
        self.flow.scopes[id(node)] = _ScopeInfo(node, parent)
        self.flow.scopes[id(parent)].locals.add(node.name.value)
        self.flow.classes.setdefault(node.name.value, node)
        self.scopes.append(node)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.scopes.pop()

    # bindings
    def _bind(self, targets: list[cst.BaseExpression], value: cst.BaseExpression) -> None:
        scope = self.scopes[-1]
        flat = list(_flatten(targets))
        self.flow.assignments.append((scope, flat, value))
        for target in flat:
            if isinstance(target, cst.Name):
                self.flow.scopes[id(scope)].locals.add(target.value)
            elif (
                isinstance(target, cst.Attribute)
                and isinstance(target.value, cst.Name)
                and isinstance(scope, cst.FunctionDef)
            ):
                info = self.flow.scopes[id(scope)]
                if info.owner is not None and target.value.value == info.self_name:
                    self.flow.class_attributes.setdefault(id(info.owner), set()).add(target.attr.value)

    def visit_Assign(self, node: cst.Assign) -> None:
        self._bind([target.target for target in node.targets], node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._bind([node.target], node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._bind([node.target], node.value)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind([node.target], node.value)

    def visit_For(self, node: cst.For) -> None:
        self._bind([node.target], node.iter)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind([node.asname.name], node.item)

    def visit_Call(self, node: cst.Call) -> None:
        self.flow.calls.append((self.scopes[-1], node))

    def visit_Return(self, node: cst.Return) -> None:
        scope = self.scopes[-1]
        if node.value is not None and isinstance(scope, cst.FunctionDef):
            self.flow.returns.append((scope, node.value))


def _flatten(targets: list[cst.BaseExpression]) -> Iterator[cst.BaseExpression]:
    for target in targets:
        if isinstance(target, cst.Tuple | cst.List):
            yield from _flatten([element.value for element in target.elements])
        elif isinstance(target, cst.StarredElement):
            yield from _flatten([target.value])
        else:
            yield target


class Flow:
    """Scopes, assignments, calls and returns of a module, for following values.

    Keys of followed values: ("var", id(scope), name), ("attr", id(class), name) for
    `self.name`, ("self", id(class)) for the instance itself, ("fn", name) and
    ("method", id(class), name) for what a function returns, ("cls", name) for
    instances of a class of the file."""

    def __init__(self, module: cst.Module) -> None:
        self.module = module
        self.scopes: dict[int, _ScopeInfo] = {id(module): _ScopeInfo(module, None)}
        self.assignments: list[tuple[Scope, list[cst.BaseExpression], cst.BaseExpression]] = []
        self.calls: list[tuple[Scope, cst.Call]] = []
        self.returns: list[tuple[cst.FunctionDef, cst.BaseExpression]] = []
        self.functions: dict[str, cst.FunctionDef] = {}
        self.methods: dict[tuple[int, str], cst.FunctionDef] = {}
        self.classes: dict[str, cst.ClassDef] = {}
        self.class_attributes: dict[int, set[str]] = {}
        self._refs: dict[tuple[int, int], frozenset] = {}
        # Feed it the nodes of a traversal (`on_visit`/`on_leave`), or call `build`.
        self.indexer = _Indexer(self)

    @classmethod
    def build(cls, module: cst.Module) -> Flow:
        flow = cls(module)
        traverse(module, flow.indexer.on_visit, flow.indexer.on_leave)
        return flow

    def resolve(self, scope: Scope, name: str) -> tuple:
        current: Scope | None = scope
        while current is not None:
            info = self.scopes[id(current)]
            if name in info.locals and (current is scope or not isinstance(current, cst.ClassDef)):
                return ("var", id(current), name)
            current = info.parent
        return ("var", id(self.module), name)

    def defines_function(self, scope_id: int, name: str) -> bool:
        function = self.functions.get(name)
        return function is not None and id(self.scopes[id(function)].parent) == scope_id

    def defines_class(self, scope_id: int, name: str) -> bool:
        owner = self.classes.get(name)
        return owner is not None and id(self.scopes[id(owner)].parent) == scope_id

    def method_info(self, scope: Scope) -> _ScopeInfo | None:
        if isinstance(scope, cst.FunctionDef):
            info = self.scopes[id(scope)]
            if info.owner is not None:
                return info
        return None

    def target_key(self, scope: Scope, target: cst.BaseExpression) -> tuple | None:
        if isinstance(target, cst.Name):
            return ("var", id(scope), target.value)
        info = self.method_info(scope)
        if (
            info is not None
            and isinstance(target, cst.Attribute)
            and isinstance(target.value, cst.Name)
            and target.value.value == info.self_name
        ):
            return ("attr", id(info.owner), target.attr.value)
        return None

    def refs(self, node: cst.CSTNode, scope: Scope) -> frozenset:
        """The keys an expression reads."""
        cache_key = (id(node), id(scope))
        if cache_key in self._refs:
            return self._refs[cache_key]
        info = self.method_info(scope)
        found = set()
        stack = [node]
        while stack:
            current = stack.pop()
            if isinstance(current, cst.Attribute):
                if (
                    info is not None
                    and isinstance(current.value, cst.Name)
                    and current.value.value == info.self_name
                ):
                    owner = id(info.owner)
                    attr = current.attr.value
                    if attr in self.class_attributes.get(owner, ()):
                        found.add(("attr", owner, attr))
                    elif (owner, attr) in self.methods:
                        found.add(("method", owner, attr))
                    else:
                        found.add(("self", owner))
                    continue
                stack.append(current.value)
                continue
            if isinstance(current, cst.Arg):
                stack.append(current.value)
                continue
            if isinstance(current, cst.Name):
                name = current.value
                if info is not None and name == info.self_name:
                    found.add(("self", id(info.owner)))
                    continue
                key = self.resolve(scope, name)
                found.add(key)
                if self.defines_function(key[1], name):
                    found.add(("fn", name))
                if self.defines_class(key[1], name):
                    found.add(("cls", name))
                continue
            stack.extend(children(current))
        result = frozenset(found)
        self._refs[cache_key] = result
        return result


class Follower:
    """Follows one value (e.g. the model a builder call returns) through a `Flow`.

    `origin_ids`: the ids of the node that creates the value and of its ancestors, so
    that any expression containing it counts as holding the value."""

    def __init__(self, flow: Flow, origin_ids: set[int]) -> None:
        self.flow = flow
        self.origin_ids = origin_ids
        self.keys: set[tuple] = set()
        self.classes: set[int] = set()
        # The keys the value is assigned to directly.
        self.direct: set[tuple] = set()
        self._propagate()

    def holds(self, node: cst.CSTNode | None, scope: Scope) -> bool:
        if node is None:
            return False
        if id(node) in self.origin_ids:
            return True
        return any(self._is_followed(key) for key in self.flow.refs(node, scope))

    def _is_followed(self, key: tuple) -> bool:
        if key in self.keys:
            return True
        kind = key[0]
        if kind == "self":
            return key[1] in self.classes
        if kind == "cls":
            return id(self.flow.classes[key[1]]) in self.classes
        return False

    def _add(self, key: tuple | None) -> bool:
        if key is None or key in self.keys:
            return False
        self.keys.add(key)
        if key[0] == "attr":
            self.classes.add(key[1])
        return True

    def _propagate(self) -> None:
        flow = self.flow
        for scope, targets, value in flow.assignments:
            if id(value) in self.origin_ids:
                for target in targets:
                    key = flow.target_key(scope, target)
                    if key is not None:
                        self.direct.add(key)
        changed = True
        rounds = 0
        while changed and rounds < 20:
            changed = False
            rounds += 1
            for scope, targets, value in flow.assignments:
                if self.holds(value, scope):
                    for target in targets:
                        changed |= self._add(flow.target_key(scope, target))
            for function, value in flow.returns:
                if self.holds(value, function):
                    info = flow.scopes[id(function)]
                    if info.owner is not None:
                        changed |= self._add(("method", id(info.owner), function.name.value))
                    else:
                        changed |= self._add(("fn", function.name.value))
            for scope, call in flow.calls:
                changed |= self._into_parameters(scope, call)

    def _into_parameters(self, scope: Scope, call: cst.Call) -> bool:
        """A followed value passed to a function or class of the file: its parameter."""
        function = None
        skip = 0
        func = call.func
        info = self.flow.method_info(scope)
        if isinstance(func, cst.Name):
            defined_in = self.flow.resolve(scope, func.value)[1]
            if self.flow.defines_function(defined_in, func.value):
                function = self.flow.functions[func.value]
            elif self.flow.defines_class(defined_in, func.value):
                owner = self.flow.classes[func.value]
                function = self.flow.methods.get((id(owner), "__init__"))
                skip = 1
        elif (
            isinstance(func, cst.Attribute)
            and info is not None
            and isinstance(func.value, cst.Name)
            and func.value.value == info.self_name
        ):
            function = self.flow.methods.get((id(info.owner), func.attr.value))
            skip = 1
        if function is None or has_star(call):
            return False
        callee = self.flow.scopes[id(function)]
        if callee.owner is not None and skip == 0:
            return False
        params = callee.params[skip:]
        changed = False
        for index, arg in enumerate(positional(call)):
            if index < len(params) and self.holds(arg.value, scope):
                changed |= self._add(("var", id(function), params[index]))
        for arg in call.args:
            if arg.keyword is not None and self.holds(arg.value, scope):
                changed |= self._add(("var", id(function), arg.keyword.value))
        return changed


# -- words of a condition --------------------------------------------------------------
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def words_of(context: RuleContext, node: cst.CSTNode) -> set[str]:
    """Lowercase identifier words in an expression (names, attributes, strings)."""
    found = set()
    for current in walk(node):
        if isinstance(current, cst.Name):
            found.add(current.value.lower())
        elif isinstance(current, cst.SimpleString):
            value = string_value(current)
            if value:
                found.update(word.lower() for word in _WORD.findall(value))
    return found


def assignment_targets(statement: cst.CSTNode) -> list[cst.BaseAssignTargetExpression]:
    """What a plain, augmented or annotated assignment assigns to; [] for other statements."""
    if isinstance(statement, cst.Assign):
        return [target.target for target in statement.targets]
    if isinstance(statement, cst.AugAssign | cst.AnnAssign):
        return [statement.target]
    return []
