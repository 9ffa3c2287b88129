"""Where each call of a file sits: one walk over the file records every call with its
State (the enclosing function and class, the loops around it inside its function,
whether a `torch.no_grad()` / `torch.inference_mode()` block covers it) and every
function with what its own body does (yields, awaits, asks for gradients).

`_torch_call_graph.Analysis` adds the questions asked across functions on top of this.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._torch_grad import (
    asks_for_grad,
    grad_off_expression,
    is_requires_grad_target,
    is_set_grad_false,
)
from green_lint.walk import traverse


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


# The node types the walk records, and those whose children may get a new State (type
# look-ups: libcst's node classes are ABCs, slow to check with isinstance).
_RECORDED = frozenset((cst.Call, cst.FunctionDef, cst.Yield, cst.Await, cst.AssignTarget, cst.AugAssign))
_STATE_PARENTS = frozenset(
    (
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
)


class FileCalls:
    """Calls with their State, functions, grad markers: one walk over the module, done
    when the file's instance is built (`context.analysis(Analysis)`)."""

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
        self._walk_module()

    def enclosing_functions(self, func: cst.FunctionDef | None):
        """`func` and the functions around it, innermost first."""
        while func is not None:
            info = self.functions[func]
            yield info
            func = info.outer

    # -- the walk ------------------------------------------------------------------------
    def _walk_module(self) -> None:
        path: list[cst.CSTNode] = []
        states: list[State] = []  # the State of each node of `path`

        def on_visit(node: cst.CSTNode) -> None:
            state = states[-1] if states else State()
            if path and type(path[-1]) in _STATE_PARENTS:
                state = self._child_state(path[-1], node, state)
            path.append(node)
            states.append(state)
            if type(node) in _RECORDED:
                self._record(node, state)

        def on_leave(node: cst.CSTNode) -> None:
            path.pop()
            states.pop()

        traverse(self.context.module, on_visit, on_leave)

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
            if asks_for_grad(self.context, node):
                self._grad_marker(node, state)
            if is_set_grad_false(self.context, node):
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
        elif isinstance(node, cst.AssignTarget | cst.AugAssign) and is_requires_grad_target(node.target):
            self._grad_marker(node, state)

    def _grad_marker(self, node: cst.CSTNode, state: State) -> None:
        if state.func is None:
            self.module_grad_markers.append((node, state))
        else:
            self.functions[state.func].grad_markers.append(node)
