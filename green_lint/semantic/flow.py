"""Which bindings of a name reach a statement: reaching definitions over one scope's body.

Straight-line code keeps the last binding; `if`/`else`, `try` and `match` branches merge
their candidates; a loop body sees the bindings from before the loop and from its own
previous iterations. Only the scope's own bindings are tracked: a name bound in an
enclosing scope may change at any time the function runs, so all its bindings count.
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from green_lint.semantic.scopes import Binding, Scope

State = dict[str, frozenset[Binding]]
_MAX_LOOP_PASSES = 4


class ReachingBindings:
    def __init__(self, scope: Scope) -> None:
        self._by_site: dict[int, list[Binding]] = {}
        for bindings in scope.bindings.values():
            for binding in bindings:
                self._by_site.setdefault(id(binding.statement), []).append(binding)
        # id(statement) -> the bindings that reach it (before it runs).
        self.before: dict[int, State] = {}
        body = _body_of(scope.node)
        if body is not None:
            self._block(body, {})

    def at(self, statement: cst.CSTNode | None, name: str) -> frozenset[Binding] | None:
        """The bindings of `name` that reach `statement`; None when it is not known here."""
        state = self.before.get(id(statement)) if statement is not None else None
        return None if state is None else state.get(name, frozenset())

    # -- the walk ------------------------------------------------------------------------
    def _record(self, statement: cst.CSTNode, state: State) -> None:
        known = self.before.get(id(statement))
        self.before[id(statement)] = state if known is None else _merge(known, state)

    def _bind(self, statement: cst.CSTNode, state: State) -> State:
        bindings = self._by_site.get(id(statement))
        if not bindings:
            return state
        state = dict(state)
        for binding in bindings:
            state[binding.name] = frozenset() if binding.kind == "deletion" else frozenset((binding,))
        return state

    def _block(self, statements: Sequence[cst.CSTNode], state: State) -> State:
        for statement in statements:
            state = self._statement(statement, state)
        return state

    def _statement(self, statement: cst.CSTNode, state: State) -> State:
        if isinstance(statement, cst.SimpleStatementLine | cst.SimpleStatementSuite):
            for small in statement.body:
                self._record(small, state)
                state = self._bind(small, state)
            return state
        self._record(statement, state)
        if isinstance(statement, cst.If):
            then = self._block(_statements(statement.body), state)
            orelse = statement.orelse
            if orelse is None:
                return _merge(then, state)
            if isinstance(orelse, cst.If):
                return _merge(then, self._statement(orelse, state))
            return _merge(then, self._block(_statements(orelse.body), state))
        if isinstance(statement, cst.For | cst.While):
            return self._loop(statement, state)
        if isinstance(statement, cst.Try | cst.TryStar):
            body = self._block(_statements(statement.body), state)
            # A handler may start anywhere in the body: before it, or after any part of it.
            anywhere = _merge(state, body)
            ends = [
                body if statement.orelse is None else self._block(_statements(statement.orelse.body), body)
            ]
            for handler in statement.handlers:
                ends.append(self._block(_statements(handler.body), self._bind(handler, anywhere)))
            merged = _merge(*ends)
            if statement.finalbody is not None:
                merged = self._block(_statements(statement.finalbody.body), merged)
            return merged
        if isinstance(statement, cst.With):
            return self._block(_statements(statement.body), self._bind(statement, state))
        if isinstance(statement, cst.Match):
            ends = [self._block(_statements(case.body), self._bind(case, state)) for case in statement.cases]
            return _merge(state, *ends)
        # def, class: bind their name; their bodies are scopes of their own.
        return self._bind(statement, state)

    def _loop(self, loop: cst.For | cst.While, state: State) -> State:
        entry = state
        for _ in range(_MAX_LOOP_PASSES):
            head = self._bind(loop, entry) if isinstance(loop, cst.For) else entry
            end = self._block(_statements(loop.body), head)
            widened = _merge(entry, end)
            if widened == entry:
                break
            entry = widened
            self._record(loop, entry)
        after = entry
        if loop.orelse is not None:
            after = self._block(_statements(loop.orelse.body), after)
        return after


def _merge(*states: State) -> State:
    if len(states) == 1:
        return states[0]
    merged: State = {}
    for state in states:
        for name, bindings in state.items():
            known = merged.get(name)
            merged[name] = bindings if known is None else known | bindings
    # A name bound in one branch only may also be unbound: that costs nothing to a reader
    # of values, which only asks which bindings are possible.
    return merged


def _statements(block: cst.BaseSuite) -> Sequence[cst.CSTNode]:
    # `if x: a = 1; b = 2` keeps its small statements in the suite itself.
    return [block] if isinstance(block, cst.SimpleStatementSuite) else block.body


def _body_of(node: cst.CSTNode) -> Sequence[cst.CSTNode] | None:
    if isinstance(node, cst.Module):
        return node.body
    body = getattr(node, "body", None)
    if isinstance(body, cst.BaseSuite):
        return _statements(body)
    return None
