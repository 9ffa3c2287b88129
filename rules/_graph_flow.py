"""Does a forward pass's output reach a backward pass? Follows the output through one
scope's assignments, binding by binding: a use of a name carries the output only where a
binding made from it reaches that use (`logits = model(x_val)` after the training step
does not taint the `logits` of the next training step, nor of the one before).

The answer is "backward" when a value built from the output is `.backward()`ed or given
to `torch.autograd.grad`/`backward`, or handed to a function of the file that calls
`backward()`; "escapes" when it leaves the scope in a way this file cannot follow
(returned, yielded, stored on `self` or a global, passed to an unknown function); "no"
otherwise. `.detach()`, `.data`, `.item()`, `.numpy()` and `.tolist()` cut the graph.
"""

from __future__ import annotations

import libcst as cst

from green_lint.context import RuleContext
from green_lint.names import statements_of
from green_lint.semantic.scopes import Binding
from green_lint.walk import children, walk

_GRAPH_CUTS = frozenset(("detach", "data", "item", "numpy", "tolist"))
# Builtins whose result holds no tensor of the graph (`len(outputs)`, `float(loss)`).
_PLAIN_RESULTS = frozenset(
    ("len", "int", "float", "bool", "str", "print", "isinstance", "type", "round", "repr", "chr")
)
_MUTATORS = frozenset(("append", "extend", "insert", "add", "update", "__setitem__", "put"))
# Libraries whose functions neither backpropagate nor keep what they are given.
_SAFE_LIBRARIES = (
    "builtins",
    "torch",
    "numpy",
    "math",
    "matplotlib",
    "PIL",
    "torchvision",
    "sklearn",
    "pandas",
    "random",
    "time",
    "logging",
    "json",
    "pickle",
)
_MAX_PASSES = 8


def output_fate(
    context: RuleContext,
    forward: cst.Call,
    scope: cst.Module | cst.FunctionDef,
    *,
    through_cuts: bool = False,
) -> str:
    """ "backward", "returns", "escapes" or "no" for the value of `forward` within `scope`
    ("returns": `return`ed to the callers, and nothing else). With `through_cuts`, the
    value is followed through `.detach()`, `.item()`...: "backward" then means the output
    is (detached) data of a training step, such as the target network's values in a
    Q-learning update or a GAN's fake images for its critic."""
    return follow_output(context, forward, scope, through_cuts=through_cuts).fate


def follow_output(
    context: RuleContext,
    forward: cst.Call,
    scope: cst.Module | cst.FunctionDef,
    *,
    through_cuts: bool = False,
) -> OutputFlow:
    """The bindings of `scope` that hold `forward`'s output, and its fate."""
    index = context.analysis(FlowIndex).scope(scope)
    flow = OutputFlow(context, index, forward, through_cuts)
    holder = index.holder_of(forward)
    if holder is None:
        flow.fate = "escapes"
        return flow
    flow.fate = flow.statement(holder, seeded=True)
    for _ in range(_MAX_PASSES):  # to a fixed point: each pass can only add bindings
        if flow.fate not in ("no", "returns"):
            return flow
        before = len(flow.bindings)
        for statement in index.statements:
            fate = flow.statement(statement, seeded=statement is holder)
            if fate != "no" and flow.fate in ("no", "returns"):
                flow.fate = fate
                if fate != "returns":
                    return flow
        if len(flow.bindings) == before:
            break
    if flow.fate == "no" and any(binding.kind == "parameter" for binding in flow.bindings):
        flow.fate = "escapes"  # kept in something the caller passed in
    return flow


class FlowIndex:
    """Per scope of the file: its statements, the names and calls of each one's own
    expressions, and the bindings each makes; built once per scope and shared by every
    output followed there. The file's one instance: `context.analysis(FlowIndex)`."""

    def __init__(self, context: RuleContext) -> None:
        self.context = context
        self._scopes: dict[int, ScopeIndex] = {}

    def scope(self, scope: cst.Module | cst.FunctionDef) -> ScopeIndex:
        found = self._scopes.get(id(scope))
        if found is None:
            found = self._scopes[id(scope)] = ScopeIndex(self.context, scope)
        return found


class ScopeIndex:
    def __init__(self, context: RuleContext, scope: cst.Module | cst.FunctionDef) -> None:
        self.statements = list(statements_of(scope, enter_definitions=False))
        # Per statement (by id): the names its own expressions read, their calls and yields.
        self.names: dict[int, frozenset[str]] = {}
        self.calls: dict[int, list[cst.CSTNode]] = {}
        self._holders: dict[int, cst.CSTNode] = {}
        for statement in self.statements:
            names: set[str] = set()
            calls: list[cst.CSTNode] = []
            for part in _own_parts(statement):
                for node in walk(part):
                    if isinstance(node, cst.Name):
                        names.add(node.value)
                    elif isinstance(node, cst.Call | cst.Yield):
                        calls.append(node)
                        self._holders[id(node)] = statement
            self.names[id(statement)] = frozenset(names)
            self.calls[id(statement)] = calls
        own_scope = context.semantic.scope(scope)
        self.globals = own_scope.declared_global | own_scope.declared_nonlocal
        self.made_by: dict[int, list[Binding]] = {}
        for bindings in own_scope.bindings.values():
            for binding in bindings:
                self.made_by.setdefault(id(binding.statement), []).append(binding)

    def holder_of(self, call: cst.Call) -> cst.CSTNode | None:
        """The statement whose own expressions hold `call`."""
        return self._holders.get(id(call))


def _own_parts(statement: cst.CSTNode) -> list[cst.CSTNode]:
    """The expressions of a statement itself, not of the statements nested in it."""
    if isinstance(statement, cst.BaseSmallStatement):
        return [statement]
    if isinstance(statement, cst.For):
        return [statement.target, statement.iter]
    if isinstance(statement, cst.If | cst.While):
        return [statement.test]
    if isinstance(statement, cst.With):
        return list(statement.items)
    return []


class OutputFlow:
    """The bindings of one scope that hold (a value built from) the forward's output."""

    def __init__(self, context: RuleContext, index: ScopeIndex, seed: cst.Call, through_cuts: bool) -> None:
        self.context = context
        self.index = index
        self.seed = seed
        self.through_cuts = through_cuts
        self.bindings: set[Binding] = set()
        self.names: set[str] = set()  # the names `bindings` bind
        self.fate = "no"
        self._reaching: dict[int, list[Binding]] = {}

    # -- uses ----------------------------------------------------------------------------
    def reaching(self, name: cst.Name) -> list[Binding]:
        found = self._reaching.get(id(name))
        if found is None:
            found = self._reaching[id(name)] = self.context.values.reaching(name)
        return found

    def carries(self, expression: cst.CSTNode | None) -> bool:
        if expression is None:
            return False
        pending = [expression]
        while pending:
            node = pending.pop()
            if node is self.seed:
                return True
            if isinstance(node, cst.Name):
                if node.value in self.names and any(b in self.bindings for b in self.reaching(node)):
                    return True
                continue
            if not self.through_cuts:
                if isinstance(node, cst.Attribute) and node.attr.value in _GRAPH_CUTS:
                    continue
                if isinstance(node, cst.Call) and _cuts_graph(node.func):
                    continue
            if isinstance(node, cst.Lambda | cst.FunctionDef):
                continue
            # `result.pred` and `f(pred=x)` read no variable `pred`: only the receiver and
            # the argument's value are followed.
            if isinstance(node, cst.Attribute | cst.Arg):
                pending.append(node.value)
            else:
                pending.extend(children(node))
        return False

    # -- statements ----------------------------------------------------------------------
    def statement(self, statement: cst.CSTNode, seeded: bool = False) -> str:
        """The fate the statement gives the output, tainting what it binds from it. A
        statement holding neither the forward nor a name bound from it is skipped."""
        if not seeded and not self.index.names[id(statement)] & self.names:
            return "no"
        fate = self._calls_fate(statement)
        if fate != "no":
            return fate
        if isinstance(statement, cst.Return):
            return "returns" if self.carries(statement.value) else "no"
        if isinstance(statement, cst.Expr) and isinstance(statement.value, cst.Yield | cst.Await):
            return "escapes" if self.carries(statement.value) else "no"
        if isinstance(statement, cst.Assign | cst.AugAssign | cst.AnnAssign):
            if not self.carries(statement.value):
                return "no"
            targets = (
                [t.target for t in statement.targets]
                if isinstance(statement, cst.Assign)
                else [statement.target]
            )
            for target in targets:
                if _escaping_target(target):
                    return "escapes"
                # `d[k] = output` keeps it in `d`
                if isinstance(target, cst.Attribute | cst.Subscript) and self._mutate(_base_name(target)):
                    return "escapes"
            if any(isinstance(t, cst.Name) and t.value in self.index.globals for t in targets):
                return "escapes"
            self._taint(self.index.made_by.get(id(statement), ()))
        if isinstance(statement, cst.For) and self.carries(statement.iter):
            self._taint(self.index.made_by.get(id(statement), ()))
        if isinstance(statement, cst.With) and any(self.carries(item.item) for item in statement.items):
            self._taint(self.index.made_by.get(id(statement), ()))
        return "no"

    def _taint(self, bindings) -> None:
        for binding in bindings:
            self.bindings.add(binding)
            self.names.add(binding.name)

    def _mutate(self, base: cst.Name | None) -> bool:
        """Taint what `base` holds here; True when that is `self` or a global."""
        if base is None:
            return False
        if base.value == "self" or base.value in self.index.globals:
            return True
        self._taint(self.reaching(base))
        return False

    def _calls_fate(self, statement: cst.CSTNode) -> str:
        for node in self.index.calls[id(statement)]:
            if isinstance(node, cst.Yield):
                if self.carries(node.value):
                    return "escapes"
                continue
            func = node.func
            if isinstance(func, cst.Attribute) and func.attr.value == "backward" and self.carries(func.value):
                return "backward"
            if not any(self.carries(arg.value) for arg in node.args):
                continue
            if self.context.resolves_to(func, "torch.autograd.grad", "torch.autograd.backward"):
                return "backward"
            if func.deep_equals(self.seed.func):
                continue  # the model again (a recurrent step): its result carries the graph
            if isinstance(func, cst.Attribute):
                # `outputs.append(model(x))`: the list holds it
                mutated = func.attr.value in _MUTATORS and isinstance(func.value, cst.Name)
                if mutated and self._mutate(func.value):
                    return "escapes"
                continue  # a method of some object: its result carries the graph, nothing more
            fate = _function_fate(self.context, func)
            if fate != "no":
                return fate
        return "no"


def _cuts_graph(func: cst.BaseExpression) -> bool:
    if isinstance(func, cst.Attribute):
        return func.attr.value in _GRAPH_CUTS
    return isinstance(func, cst.Name) and func.value in _PLAIN_RESULTS


def _function_fate(context, func: cst.BaseExpression) -> str:
    definition = context.semantic.definition(func) if isinstance(func, cst.Name) else None
    if isinstance(definition, cst.FunctionDef):
        backward = any(
            isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute) and n.func.attr.value == "backward"
            for n in walk(definition)
        )
        return "backward" if backward else "no"
    if isinstance(definition, cst.ClassDef):
        return "no"  # building an object from the output: its result carries the graph
    if context.resolves_under(func, *_SAFE_LIBRARIES):
        return "no"
    if isinstance(func, cst.Name) and any(
        b.kind in ("assignment", "with", "loop") for b in context.semantic.binding_of(func)
    ):
        return "no"  # an object such as a loss module or a layer: its result carries the graph
    return "escapes"


def _escaping_target(target: cst.CSTNode) -> bool:
    base = _base_name(target)
    return isinstance(target, cst.Attribute | cst.Subscript) and base is not None and base.value == "self"


def _base_name(target: cst.CSTNode) -> cst.Name | None:
    base = target
    while isinstance(base, cst.Attribute | cst.Subscript):
        base = base.value
    return base if isinstance(base, cst.Name) else None
