"""Which bindings of a name reach a statement: reaching definitions over one scope's body.

Straight-line code keeps the last binding; `if`/`else`, `try` and `match` branches merge
their candidates; a loop body sees the bindings from before the loop and from its own
previous iterations. A function starts with its parameters bound. `break`, `continue`,
`return` and `raise` end their path: what they carry goes to the loop's end, its head, or
nowhere. An exception may leave a `try` body before any of its statements, so handlers and
`finally` see every binding made in it. A walrus binds where its statement runs (perhaps
not at all, in a comprehension or after `and`/`or`). Only the scope's own bindings are
tracked: a name bound in an enclosing scope may change at any time the function runs, so
all its bindings count; so do all of a name's bindings when one of them is somewhere the
walk does not follow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import libcst as cst

from green_lint.semantic.scopes import COMPREHENSIONS, Binding, Scope
from green_lint.walk import children

State = dict[str, frozenset[Binding]]
_MAX_LOOP_PASSES = 4
_JUMPS = (cst.Break, cst.Continue, cst.Return, cst.Raise)


@dataclass
class _LoopExits:
    """The states at the `break`s and `continue`s of the loop being walked."""

    breaks: list[State] = field(default_factory=list)
    continues: list[State] = field(default_factory=list)


class ReachingBindings:
    def __init__(self, scope: Scope) -> None:
        self._by_site: dict[int, list[Binding]] = {}
        for bindings in scope.bindings.values():
            for binding in bindings:
                self._by_site.setdefault(id(binding.statement), []).append(binding)
        self._has_walrus = any(b.kind == "walrus" for bs in scope.bindings.values() for b in bs)
        self._walruses_in: dict[int, list[tuple[cst.NamedExpr, bool]]] = {}
        self._loops: list[_LoopExits] = []
        # One state per enclosing `try` being walked: every state its body passed through.
        self._raising: list[State] = []
        self._placed: set[int] = set()
        # id(statement) -> the bindings that reach it (before it runs).
        self.before: dict[int, State] = {}
        body = _body_of(scope.node)
        if body is not None:
            # A function's parameters (bound at its def) hold when its body starts.
            self._block(body, self._bind(scope.node, {}))
        # A binding the walk never met (a walrus in a `case` guard, say) could reach anywhere.
        self._untracked = {
            binding.name
            for bindings in scope.bindings.values()
            for binding in bindings
            if binding.kind != "deletion" and id(binding) not in self._placed
        }

    def at(self, statement: cst.CSTNode | None, name: str) -> frozenset[Binding] | None:
        """The bindings of `name` that reach `statement`; None when it is not known here."""
        state = self.before.get(id(statement)) if statement is not None else None
        if state is None or name in self._untracked:
            return None
        return state.get(name, frozenset())

    # -- the walk ------------------------------------------------------------------------
    def _record(self, statement: cst.CSTNode, state: State) -> None:
        known = self.before.get(id(statement))
        self.before[id(statement)] = state if known is None else _merge(known, state)
        for index, raising in enumerate(self._raising):
            self._raising[index] = _merge(raising, state)

    def _bind(self, statement: cst.CSTNode, state: State) -> State:
        bindings = self._by_site.get(id(statement))
        if not bindings:
            return state
        state = dict(state)
        for binding in bindings:
            self._placed.add(id(binding))
            state[binding.name] = frozenset() if binding.kind == "deletion" else frozenset((binding,))
        return state

    def _walrus(self, node: cst.CSTNode, state: State) -> State:
        """The state after evaluating `node`, an expression or small statement."""
        if not self._has_walrus:
            return state
        found = self._walruses_in.get(id(node))
        if found is None:
            found = self._walruses_in[id(node)] = _walruses(node, self._by_site)
        for named, certain in found:
            before = state.get(named.target.value, frozenset())
            state = self._bind(named, state)
            if not certain:
                state[named.target.value] |= before
        return state

    def _block(self, statements: Sequence[cst.CSTNode], state: State) -> State:
        for statement in statements:
            state = self._statement(statement, state)
        return state

    def _statement(self, statement: cst.CSTNode, state: State) -> State:
        if isinstance(statement, cst.SimpleStatementLine | cst.SimpleStatementSuite):
            for small in statement.body:
                self._record(small, state)
                state = self._bind(small, self._walrus(small, state))
                if isinstance(small, _JUMPS):
                    state = self._jump(small, state)
            return state
        self._record(statement, state)
        if isinstance(statement, cst.If):
            state = self._walrus(statement.test, state)
            then = self._block(_statements(statement.body), state)
            orelse = statement.orelse
            if orelse is None:
                return _merge(then, state)
            if isinstance(orelse, cst.If):
                return _merge(then, self._statement(orelse, state))
            return _merge(then, self._block(_statements(orelse.body), state))
        if isinstance(statement, cst.For):
            return self._loop(statement, self._walrus(statement.iter, state))
        if isinstance(statement, cst.While):
            return self._loop(statement, state)
        if isinstance(statement, cst.Try | cst.TryStar):
            return self._try(statement, state)
        if isinstance(statement, cst.With):
            for item in statement.items:
                state = self._walrus(item.item, state)
            return self._block(_statements(statement.body), self._bind(statement, state))
        if isinstance(statement, cst.Match):
            state = self._walrus(statement.subject, state)
            ends = [self._block(_statements(case.body), self._bind(case, state)) for case in statement.cases]
            return _merge(state, *ends)
        # def, class: bind their name; their bodies are scopes of their own.
        return self._bind(statement, state)

    def _jump(self, statement: cst.CSTNode, state: State) -> State:
        """Nothing falls through a jump: its state goes to its loop's exits, if anywhere."""
        if self._loops and isinstance(statement, cst.Break):
            self._loops[-1].breaks.append(state)
        elif self._loops and isinstance(statement, cst.Continue):
            self._loops[-1].continues.append(state)
        return {}

    def _loop(self, loop: cst.For | cst.While, state: State) -> State:
        entry = state
        exits = _LoopExits()
        self._loops.append(exits)
        for _ in range(_MAX_LOOP_PASSES):
            head = self._bind(loop, entry) if isinstance(loop, cst.For) else self._walrus(loop.test, entry)
            end = self._block(_statements(loop.body), head)
            widened = _merge(entry, end, *exits.continues)
            if widened == entry:
                break
            entry = widened
            if isinstance(loop, cst.While):
                # A while test runs before each pass; a for's iterable only once, before
                # the loop, so its names see only the bindings from before it.
                self._record(loop, entry)
        self._loops.pop()
        # Without a break, the loop ends at its test (or exhausted iterator), then runs its else.
        after = entry if isinstance(loop, cst.For) else self._walrus(loop.test, entry)
        if loop.orelse is not None:
            after = self._block(_statements(loop.orelse.body), after)
        return _merge(after, *exits.breaks)

    def _try(self, statement: cst.Try | cst.TryStar, state: State) -> State:
        exits = self._loops[-1] if self._loops else None
        jumped = (len(exits.breaks), len(exits.continues)) if exits is not None else (0, 0)
        final = statement.finalbody
        if final is not None:
            self._raising.append(state)  # for `finally`: anything before it may raise or return
        self._raising.append(state)
        body = self._block(_statements(statement.body), state)
        # A handler may start before any statement of the body, or after all of it.
        anywhere = _merge(self._raising.pop(), body)
        ends = [body if statement.orelse is None else self._block(_statements(statement.orelse.body), body)]
        for handler in statement.handlers:
            ends.append(self._block(_statements(handler.body), self._bind(handler, anywhere)))
        merged = _merge(*ends)
        if final is None:
            return merged
        self._block(_statements(final.body), _merge(self._raising.pop(), merged))
        if exits is not None:
            # A break or continue inside the try runs the finally on its way out.
            for jumps, count in ((exits.breaks, jumped[0]), (exits.continues, jumped[1])):
                if len(jumps) > count:
                    through = self._block(_statements(final.body), _merge(*jumps[count:]))
                    jumps[count:] = [through]
        return self._block(_statements(final.body), merged)


def _walruses(node: cst.CSTNode, sites: dict[int, list[Binding]]) -> list[tuple[cst.NamedExpr, bool]]:
    """The walruses of this scope that evaluating `node` runs, each with whether it surely
    runs (not in a comprehension, a branch of `x if c else y` or after `and`/`or`)."""
    found = []
    pending: list[tuple[cst.CSTNode, bool]] = [(node, True)]
    while pending:
        current, certain = pending.pop()
        if isinstance(current, cst.NamedExpr) and id(current) in sites:
            found.append((current, certain))
        if isinstance(current, cst.Lambda | cst.FunctionDef | cst.ClassDef | cst.BaseSuite):
            continue  # runs later, or is a statement of its own
        for child in reversed(children(current)):
            sure = certain
            if isinstance(current, cst.BooleanOperation):
                sure = certain and child is current.left
            elif isinstance(current, cst.IfExp):
                sure = certain and child is current.test
            elif isinstance(current, COMPREHENSIONS):
                sure = False
            pending.append((child, sure))
    return found


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
