"""The questions about a file's torch code asked across its functions: where each
function is called (by name, as `self.name`, or passed to `map`...), which functions
compute gradients (themselves or through what they call), and which always run with
autograd off.

`Analysis` is the file's one instance (`context.analysis(Analysis)`), shared by the
inference rules (GL301-GL304) and the model-load rule (GL302).
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._syntax import last_name
from green_lint.rules._torch_calls import FileCalls, FunctionInfo, State
from green_lint.rules._torch_grad import grad_off_expression
from green_lint.rules._torch_names import TRAINING_CALLERS, name_words

# A function passed to one of these is called once per item.
MAPPING_CALLS = frozenset(
    {"map", "imap", "imap_unordered", "starmap", "apply", "applymap", "map_partitions", "transform"}
)


@dataclass
class CallSite:
    """A call of (or a reference to) a function of the file."""

    node: cst.CSTNode
    state: State
    # "call", "mapped" (passed to map/apply: called per item), "argument", or "method"
    # (`obj.name(...)` with an unknown `obj`: maybe this method).
    how: str = "call"


class Analysis(FileCalls):
    """The recorded calls and functions (`FileCalls`), with call sites, callees and the
    functions that need or never have gradients, each computed once on first use."""

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._call_sites: dict[cst.FunctionDef, list[CallSite]] | None = None
        self._callers_cache: dict[cst.FunctionDef, set[cst.FunctionDef]] | None = None
        self._needs_grad: set[cst.FunctionDef] | None = None
        self._grad_free: set[cst.FunctionDef] | None = None

    # -- call sites ----------------------------------------------------------------------
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
            how = "mapped" if last_name(call.func) in MAPPING_CALLS else "argument"
            for target in self.functions_referred_to(name):
                if target.method_of is None:
                    sites.setdefault(target.node, []).append(CallSite(call, state, how))
        return sites

    def callees(self, call: cst.Call, state: State) -> list[FunctionInfo]:
        func = call.func
        if isinstance(func, cst.Name):
            return [f for f in self.functions_referred_to(func) if f.method_of is None]
        if (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.value.value in ("self", "cls")
            and state.func is not None
        ):
            cls = self.functions[state.func].method_of
            if cls is None:
                return []
            bindings = self.context.semantic.scope(cls).bindings.get(func.attr.value, ())
            return [self.functions[b.site] for b in bindings if b.kind == "function"]
        return []

    def functions_referred_to(self, name: cst.Name) -> list[FunctionInfo]:
        """The defs of the file `name` may stand for where it is used: the `def` bindings of
        the scope that binds it (several under `if`/`else`)."""
        semantic = self.context.semantic
        if name.value not in semantic.definition_names:
            return []  # no def of the file has this name (print, len...): nothing to look up
        return [self.functions[b.site] for b in semantic.binding_of(name) if b.kind == "function"]

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

    # -- gradients -----------------------------------------------------------------------
    def asks_for_grad_anywhere(self) -> bool:
        """Whether any code of the file asks for gradients (backward, an optimiser...)."""
        return bool(self.module_grad_markers) or any(info.grad_markers for info in self.functions.values())

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
