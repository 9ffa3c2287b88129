"""What a module does with the functions and classes it imports from other modules of the
project: each call of an imported name, whether autograd is off around it, and what
becomes of the value it returns (given to an optimizer, given weights, back-propagated).
A rule in the called module reads these to see its callers in other files.

Read from CPython's tree, within one module: the returned value is followed through the
assignments of the calling scope (`model = build().to(device)`, `loss = f(out, y)`) and
into the parameters of the module's own functions it is passed to (`train(model)`), not
into a third module.
"""

from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass, field

from green_lint.project.functions import dotted_name, qualified_through

OPTIMIZERS = (
    "torch.optim.",
    "torch.distributed.optim.",
    "timm.optim.",
    "transformers.AdamW",
    "transformers.Adafactor",
    "transformers.optimization.",
    "bitsandbytes.optim.",
    "apex.optimizers.",
    "torch_optimizer.",
    "deepspeed.initialize",
)
NOT_OPTIMIZERS = ("torch.optim.lr_scheduler.", "torch.optim.swa_utils.")
GRAD_OFF = frozenset(
    {"torch.no_grad", "torch.inference_mode", "torch.autograd.no_grad", "torch.autograd.grad_mode.no_grad"}
)
SET_GRAD = frozenset({"torch.set_grad_enabled", "torch.autograd.set_grad_enabled"})
FIT_METHODS = frozenset({"fit", "fit_generator", "train_on_batch"})
LOAD_METHODS = frozenset(
    {"load_state_dict", "load_weights", "set_weights", "load_checkpoint", "load_from_checkpoint", "restore"}
)
LOAD_NAME = re.compile(r"(^|_)(load|restore)")
BACKWARD = frozenset({"torch.autograd.backward", "torch.autograd.grad"})
# Modules whose calls are not recorded: the standard library's busiest and the large ML
# libraries, which no project module shadows in practice. Generic names (`datasets`,
# `test`, `utils`, `models`) stay: projects name their own modules so, and Python finds
# the script's own folder first.
NOT_PROJECT = frozenset(
    {
        *("os", "sys", "re", "json", "math", "random", "time", "collections", "itertools"),
        *("functools", "pathlib", "logging", "subprocess", "shutil", "pickle", "copy", "argparse"),
        *("typing", "glob", "csv", "datetime", "warnings", "io", "string", "struct", "threading"),
        *("torch", "torchvision", "torchaudio", "torchtext", "numpy", "pandas", "polars", "scipy"),
        *("sklearn", "tensorflow", "keras", "jax", "flax", "transformers", "timm", "lightning"),
        *("pytorch_lightning", "matplotlib", "seaborn", "cv2", "PIL", "tqdm", "xgboost"),
        *("lightgbm", "catboost", "optuna", "wandb", "mlflow"),
    }
)

_Scope = ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


@dataclass(frozen=True)
class Use:
    """A call of a name the module imports (maybe a function or class of another module of
    the project), with what the calling code does around it."""

    callee: str  # qualified through the module's imports: `.utils.evaluate`, `model.Net`
    line: int
    grad_off: bool  # autograd is off around the call (a `with`, a decorator, or every caller)
    trained: bool  # what it returns is given to an optimizer, `fit`, `.train()`
    loaded: bool  # ... receives weights (`load_state_dict`, `load_checkpoint(model, ...)`)
    backward: bool  # ... reaches a `backward()`
    # The arguments bound to `parser.parse_args()`: their positions ("0") or keywords.
    parsed_arguments: tuple[str, ...] = ()
    # The arguments written as literals (numbers, strings, booleans, None): their positions
    # or keywords with the literal's `repr` (`(("2", "20"),)` for `train(net, data, 20)`).
    literals: tuple[tuple[str, str], ...] = ()
    # The positions and keywords of every argument, and whether `*args`/`**kwargs` is passed.
    arguments: tuple[str, ...] = ()
    starred: bool = False

    def passes(self, index: int | None, name: str) -> bool:
        """Whether the call gives the parameter at `index` (positional) named `name` (or
        may, through `*args` / `**kwargs`)."""
        return self.starred or name in self.arguments or (index is not None and str(index) in self.arguments)


@dataclass(frozen=True)
class _CallFacts:
    call: ast.Call
    grad_off: bool  # autograd is off around it
    bound: frozenset[str]  # the names its result is assigned to
    in_backward: bool  # it is inside the receiver of `.backward()`
    # The argument of an enclosing call that holds it (`fit(Net())`): that call, that argument.
    argument: tuple[ast.Call, ast.expr] | None


@dataclass(eq=False)
class _ScopeFacts:
    node: _Scope
    parent: _ScopeFacts | None
    parameters: list[str]
    grad_off_decorated: bool = False
    # (names a statement binds, names its value reads), in order.
    assignments: list[tuple[frozenset[str], frozenset[str]]] = field(default_factory=list)
    calls: list[_CallFacts] = field(default_factory=list)
    functions: dict[str, _ScopeFacts] = field(default_factory=dict)


def module_uses(tree: ast.Module, imports: dict[str, str], stars: tuple[str, ...] = ()) -> tuple[Use, ...]:
    """The uses of imported names in `tree`; `imports` maps a local name to what it stands
    for (`evaluate` -> `.utils.evaluate`, `np` -> `numpy`). A name the module never binds
    may come from one of its star imports (`stars`: `models` for `from models import *`):
    a call of it is recorded once per star module, and the project's modules tell which
    one defines it."""
    collector = _Collector(imports)
    collector.scope(tree, None, [], False)
    always_off = collector.grad_off_functions()
    parsed = collector.parsed_names
    bound = _bound_names(tree) if stars else set()
    uses = []
    for scope in collector.scopes:
        for facts in scope.calls:
            call = facts.call
            dotted = dotted_name(call.func)
            if dotted is None:
                continue
            head = dotted.split(".")[0]
            if head in imports:
                callees = [collector.qualified(call.func)]
            elif stars and head not in bound:
                callees = [f"{star}{'' if star.endswith('.') else '.'}{dotted}" for star in stars]
            else:
                continue
            callees = [callee for callee in callees if callee.lstrip(".").split(".")[0] not in NOT_PROJECT]
            if not callees:
                continue
            trained, loaded, backward = _fate(collector, scope, facts)
            for callee in callees:
                uses.append(
                    Use(
                        callee,
                        call.lineno,
                        facts.grad_off or scope in always_off,
                        trained,
                        loaded,
                        backward or facts.in_backward,
                        _parsed_arguments(call, parsed),
                        _literal_arguments(call),
                        tuple(
                            [str(i) for i in range(len(call.args))]
                            + [kw.arg for kw in call.keywords if kw.arg]
                        ),
                        any(isinstance(arg, ast.Starred) for arg in call.args)
                        or any(kw.arg is None for kw in call.keywords),
                    )
                )
    return tuple(uses)


def _bound_names(tree: ast.Module) -> set[str]:
    """Every name the module binds anywhere (a superset of what a star import cannot give)."""
    found = set(dir(builtins))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            found.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found.add(node.name)
        elif isinstance(node, ast.arg):
            found.add(node.arg)
        elif isinstance(node, ast.alias):
            found.add(node.asname or node.name.split(".")[0])
    return found


def _literal_arguments(call: ast.Call) -> tuple[tuple[str, str], ...]:
    passed = [(str(index), arg) for index, arg in enumerate(call.args)]
    passed += [(kw.arg, kw.value) for kw in call.keywords if kw.arg]
    found = []
    for key, value in passed:
        if (
            isinstance(value, ast.UnaryOp)
            and isinstance(value.op, ast.USub)
            and isinstance(value.operand, ast.Constant)
        ):
            found.append((key, repr(-value.operand.value)))
        elif isinstance(value, ast.Constant) and isinstance(value.value, int | float | str | bool | None):
            found.append((key, repr(value.value)))
    return tuple(found)


def _parsed_arguments(call: ast.Call, parsed: set[str]) -> tuple[str, ...]:
    def holds_parsed(value: ast.expr) -> bool:
        return (isinstance(value, ast.Name) and value.id in parsed) or _is_parse_args(value)

    found = [str(index) for index, arg in enumerate(call.args) if holds_parsed(arg)]
    found += [kw.arg for kw in call.keywords if kw.arg and holds_parsed(kw.value)]
    return tuple(found)


class _Collector:
    def __init__(self, imports: dict[str, str]) -> None:
        self.imports = imports
        self.scopes: list[_ScopeFacts] = []
        self.parsed_names: set[str] = set()  # names bound to `parser.parse_args()`
        self._by_node: dict[int, _ScopeFacts] = {}

    def qualified(self, node: ast.AST) -> str | None:
        return qualified_through(node, self.imports)

    def grad_off_expression(self, node: ast.expr) -> bool:
        if not isinstance(node, ast.Call):
            return False
        qualified = self.qualified(node.func)
        if qualified in GRAD_OFF or qualified == "torch.inference_mode":
            return not node.args or _is_constant(node.args[0], True)
        return qualified in SET_GRAD and bool(node.args) and _is_constant(node.args[0], False)

    # -- walking -------------------------------------------------------------------------
    def scope(
        self, node: _Scope, parent: _ScopeFacts | None, parameters: list[str], grad_off: bool
    ) -> _ScopeFacts:
        facts = _ScopeFacts(node, parent, parameters, grad_off)
        self.scopes.append(facts)
        self._by_node[id(node)] = facts
        for statement in node.body:
            self._walk(statement, facts, grad_off)
        return facts

    def _walk(
        self,
        node: ast.AST,
        scope: _ScopeFacts,
        grad_off: bool,
        bound: frozenset[str] = frozenset(),
        in_backward: bool = False,
        argument: tuple[ast.Call, ast.expr] | None = None,
    ) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            off = any(self.grad_off_expression(d) for d in node.decorator_list)
            arguments = node.args
            names = [a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)]
            scope.functions[node.name] = self.scope(node, scope, names, off)
            return
        if isinstance(node, ast.ClassDef):
            self.scope(node, scope, [], False)
            return
        if isinstance(node, ast.With | ast.AsyncWith):
            off = grad_off or any(self.grad_off_expression(item.context_expr) for item in node.items)
            for item in node.items:
                self._walk(item.context_expr, scope, grad_off)
            for statement in node.body:
                self._walk(statement, scope, off)
            return
        if isinstance(
            node, ast.Assign | ast.AnnAssign | ast.AugAssign | ast.For | ast.AsyncFor | ast.NamedExpr
        ):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            value = node.iter if isinstance(node, ast.For | ast.AsyncFor) else node.value
            if value is not None:
                names = frozenset(name for target in targets for name in _target_names(target))
                scope.assignments.append((names, _reads(value)))
                if _is_parse_args(value):
                    self.parsed_names.update(names)
                self._walk(value, scope, grad_off, names)
            for target in targets:
                self._walk(target, scope, grad_off)
            for statement in getattr(node, "body", ()) + getattr(node, "orelse", ()):
                self._walk(statement, scope, grad_off)
            return
        if isinstance(node, ast.Call):
            scope.calls.append(_CallFacts(node, grad_off, bound, in_backward, argument))
            func = node.func
            backward = isinstance(func, ast.Attribute) and func.attr == "backward"
            self._walk(func, scope, grad_off, bound, in_backward or backward, argument)
            for value in (*node.args, *(keyword.value for keyword in node.keywords)):
                self._walk(value, scope, grad_off, bound, in_backward, (node, value))
            return
        for child in ast.iter_child_nodes(node):
            self._walk(child, scope, grad_off, bound, in_backward, argument)

    # -- questions -----------------------------------------------------------------------
    def visible_function(self, scope: _ScopeFacts, name: str) -> _ScopeFacts | None:
        while scope is not None:
            if name in scope.functions:
                return scope.functions[name]
            scope = scope.parent
        return None

    def grad_off_functions(self) -> set[_ScopeFacts]:
        """Functions of the module that always run with autograd off: decorated so, or
        called (by name) only from places where it is off."""
        sites: dict[int, list[tuple[_ScopeFacts, bool]]] = {}
        for scope in self.scopes:
            for facts in scope.calls:
                if isinstance(facts.call.func, ast.Name):
                    target = self.visible_function(scope, facts.call.func.id)
                    if target is not None:
                        sites.setdefault(id(target), []).append((scope, facts.grad_off))
        off = {scope for scope in self.scopes if scope.grad_off_decorated}
        changed = True
        while changed:
            changed = False
            for scope in self.scopes:
                found = sites.get(id(scope))
                if scope not in off and found and all(g or caller in off for caller, g in found):
                    off.add(scope)
                    changed = True
        return off


def _fate(collector: _Collector, scope: _ScopeFacts, use: _CallFacts) -> tuple[bool, bool, bool]:
    """(trained, loaded, backward) for the value a call returns: the names it is bound to
    and the argument it is passed as, followed through the scope's assignments and into
    the module's functions it is passed to."""
    trained = loaded = backward = False
    held = use.argument[1] if use.argument is not None else None
    pending = [(scope, set(use.bound))]
    seen: set[tuple[int, str]] = set()
    while pending:
        where, names = pending.pop()
        names = {name for name in names if (id(where), name) not in seen}
        if not names and held is None:
            continue
        seen.update((id(where), name) for name in names)
        changed = True
        while changed:
            changed = False
            for targets, reads in where.assignments:
                if reads & names and not targets <= names:
                    names |= targets
                    changed = True
        seen.update((id(where), name) for name in names)
        for facts in where.calls:
            call = facts.call
            func = call.func
            receiver = func.value if isinstance(func, ast.Attribute) else None
            attr = func.attr if isinstance(func, ast.Attribute) else None
            if receiver is not None and _reads(receiver) & names:
                if attr in FIT_METHODS or (
                    attr == "train" and (not call.args or _is_constant(call.args[0], True))
                ):
                    trained = True
                elif attr in LOAD_METHODS:
                    loaded = True
                elif attr == "backward":
                    backward = True
            holding = [arg for arg in call.args if arg is held or _reads(arg) & names]
            holding_keywords = [kw for kw in call.keywords if kw.value is held or _reads(kw.value) & names]
            if not (holding or holding_keywords):
                continue
            qualified = collector.qualified(func) or ""
            name = qualified.rsplit(".", 1)[-1]
            optimizer = qualified.startswith(OPTIMIZERS) and not qualified.startswith(NOT_OPTIMIZERS)
            trainer = name.endswith("Trainer") and any(kw.arg == "model" for kw in holding_keywords)
            if attr == "fit" or optimizer or trainer:
                trained = True
            elif LOAD_NAME.search(name.lower()):
                loaded = True
            elif qualified in BACKWARD:
                backward = True
            if isinstance(func, ast.Name):
                target = collector.visible_function(where, func.id)
                if target is not None:
                    params = set()
                    for index, arg in enumerate(call.args):
                        if arg in holding and index < len(target.parameters):
                            params.add(target.parameters[index])
                    params.update(kw.arg for kw in holding_keywords if kw.arg in target.parameters)
                    pending.append((target, params))
        held = None  # the argument is the calling scope's own
    return trained, loaded, backward


def _target_names(target: ast.AST) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Attribute):
        dotted = dotted_name(target)
        return [dotted] if dotted else []
    if isinstance(target, ast.Tuple | ast.List):
        return [name for element in target.elts for name in _target_names(element)]
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    return []


def _reads(node: ast.AST) -> frozenset[str]:
    """The names an expression reads, and its `self.x`-style attribute chains."""
    found = set()
    for inner in ast.walk(node):
        if isinstance(inner, ast.Name):
            found.add(inner.id)
        elif isinstance(inner, ast.Attribute):
            dotted = dotted_name(inner)
            if dotted is not None:
                found.add(dotted)
    return frozenset(found)


def _is_parse_args(node: ast.AST) -> bool:
    if isinstance(node, ast.Subscript):
        node = node.value
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("parse_args", "parse_known_args")
    )


def _is_constant(node: ast.AST, value: bool) -> bool:
    return isinstance(node, ast.Constant) and node.value is value
