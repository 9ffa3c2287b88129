"""Hand-written epoch loops for GL102 no-early-stopping: a `for epoch in range(N)` loop
whose body (or a function of the file it calls) runs a training step (PyTorch's
`backward()` and an optimizer `step()`; TensorFlow's `session.run` of a `minimize` op or
`apply_gradients`; Keras' `train_on_batch`), with no `break`/`return`/`raise` guarded by a
validation measure."""

from __future__ import annotations

import re
from collections.abc import Iterator

import libcst as cst

from green_lint.context import RuleContext
from green_lint.names import statements_of
from green_lint.rules._syntax import (
    DEFINITIONS,
    LOOPS,
    calls_in,
    has_star,
    last_name,
    positional,
    string_value,
    walk,
)
from green_lint.rules._training_numbers import Numbers

# Calls that run one training step by themselves: TensorFlow 2 (`optimizer.apply_gradients`)
# and Keras (`model.train_on_batch`).
_TRAINING_STEPS = frozenset(("apply_gradients", "train_on_batch"))
TENSORFLOW = ("tensorflow", "keras", "tf_keras")
OPTIMIZERS = ("torch.optim", "timm.optim", "transformers.AdamW", "bitsandbytes.optim", "apex.optimizers")
# Words in the condition of a `break` that make it an early stop (validation measures,
# patience counters, early stoppers; rewards and thresholds for reinforcement learning).
STOP_WORDS = re.compile(
    r"val|eval|loss|acc|score|metric|best|improv|patien|early|stop|plateau|converg|wait|f1|auc|"
    r"ppl|perplex|bleu|error|prun|tolera|reward|solved|threshold"
)


class EpochLoops:
    """The `for epoch in range(N)` loops of a file (also `tqdm(range(N))`, `trange(N)`)
    that train with no validation-based stop: recorded during the traversal, decided once
    the whole file (the functions the loops call) has been seen."""

    def __init__(self, context: RuleContext, numbers: Numbers) -> None:
        self.context = context
        self.numbers = numbers
        self._loops: list[tuple[cst.For, float, cst.FunctionDef | None, bool]] = []

    def add(self, node: cst.For, min_epochs: float) -> None:
        """Record `node` when it runs at least `min_epochs` epochs of an outer loop."""
        budget = self._range_budget(node.iter)
        if budget is None or budget < min_epochs:
            return
        names_epoch = any(
            "epoch" in word
            for word in words_of(self.context, node.target) | words_of(self.context, node.iter)
        )
        for ancestor in self.context.ancestors():
            if isinstance(ancestor, cst.FunctionDef | cst.ClassDef):
                break
            if isinstance(ancestor, LOOPS) and not names_epoch and not _sweep(self.context, ancestor):
                return
        function = self.context.enclosing(cst.FunctionDef)
        self._loops.append((node, budget, function, names_epoch))

    def _range_budget(self, node: cst.BaseExpression) -> float | None:
        if not isinstance(node, cst.Call) or has_star(node):
            return None
        call = node
        tqdm = self.context.resolves_under(node.func, "tqdm")
        if tqdm is not None:
            if tqdm.endswith("trange"):
                return self._range_of(positional(node))
            args = positional(node)
            if not args or not isinstance(args[0].value, cst.Call):
                return None
            call = args[0].value
        if not self._is_range(call.func) or has_star(call) or any(arg.keyword for arg in call.args):
            return None
        return self._range_of(call.args)

    def _range_of(self, args) -> float | None:
        values = [self.numbers.resolve(arg.value) for arg in args]
        if not 1 <= len(values) <= 3 or None in values:
            return None
        if len(values) == 1:
            return values[0]
        if len(values) == 2:
            return values[1] - values[0]
        if int(values[2]) == 0:
            return None
        return len(range(int(values[0]), int(values[1]), int(values[2])))

    def _is_range(self, func: cst.BaseExpression) -> bool:
        if self.context.resolves_to(func, "builtins.range"):
            return True
        # A star import hides the builtin from `resolves_to`: `range` that nothing binds.
        return (
            isinstance(func, cst.Name)
            and func.value == "range"
            and self.context.semantic.lookup("range", func) is None
        )

    def unstopped(self, module: cst.Module) -> Iterator[tuple[cst.For, float]]:
        """The recorded loops that train (`backward()` and an optimizer `step()`) with no
        validation-based stop, and their budgets."""
        if not self._loops:
            return
        index = _LoopIndex(self.context, module)
        for loop, budget, function, names_epoch in self._loops:
            if function is not None and not names_epoch and index.called_in_loop(function.name.value):
                continue
            if not index.trains(loop):
                continue
            if _stops(self.context, loop, function or module):
                continue
            yield loop, budget


def loop_unit(context: RuleContext, loop: cst.For) -> str:
    """What one turn of a training loop is, from its names: episodes, steps, iterations
    or (the default) epochs."""
    words = words_of(context, loop.target) | words_of(context, loop.iter)
    for stem, unit in (
        ("episode", "episodes"),
        ("epoch", "epochs"),
        ("step", "steps"),
        ("iter", "iterations"),
    ):
        if any(stem in word for word in words):
            return unit
    return "epochs"


def _sweep(context, loop: cst.CSTNode) -> bool:
    """Whether an outer loop runs over a literal list of values (a hyper-parameter sweep)."""
    if not isinstance(loop, cst.For):
        return False
    values = loop.iter
    if isinstance(values, cst.Name):
        values = context.single_value(values)
    return isinstance(values, cst.List | cst.Tuple | cst.Set | cst.Dict)


class _LoopIndex:
    """The file's functions by name, what each loop calls, and its optimizers."""

    def __init__(self, context, module: cst.Module) -> None:
        self.context = context
        self.functions: dict[str, list[cst.FunctionDef]] = {}
        self.loop_calls: dict[str, bool] = {}
        self.optimizers: set[str] = set()
        for statement in statements_of(module):
            if isinstance(statement, cst.FunctionDef):
                self.functions.setdefault(statement.name.value, []).append(statement)
            elif isinstance(statement, LOOPS) and not _sweep(context, statement):
                for call in calls_in(statement.body, enter_definitions=False):
                    name = last_name(call.func)
                    if name is not None:
                        self.loop_calls[name] = True
            elif isinstance(statement, cst.Assign) and isinstance(statement.value, cst.Call):
                qualified = context.resolves_under(statement.value.func, *OPTIMIZERS)
                if qualified is not None and "lr_scheduler" not in qualified:
                    for target in statement.targets:
                        name = last_name(target.target)
                        if name is not None:
                            self.optimizers.add(name)

    def called_in_loop(self, name: str) -> bool:
        return name in self.loop_calls

    def trains(self, loop: cst.For) -> bool:
        backward = step = False
        seen: set[int] = set()
        pending: list[tuple[cst.CSTNode, int]] = [(loop.body, 0)]
        while pending:
            node, depth = pending.pop()
            for call in calls_in(node):
                func = call.func
                name = last_name(func)
                if name is None:
                    continue
                if self._tensorflow_step(call, name):
                    return True
                if "backward" in name:
                    backward = True
                elif (
                    name == "step"
                    and isinstance(func, cst.Attribute)
                    and (self._optimizer(func.value) or any(self._optimizer(arg.value) for arg in call.args))
                ):
                    step = True
                if depth < 3 and name in self.functions:
                    for function in self.functions[name]:
                        if id(function) not in seen:
                            seen.add(id(function))
                            pending.append((function.body, depth + 1))
            if backward and step:
                return True
        return False

    def _tensorflow_step(self, call: cst.Call, name: str) -> bool:
        """A TensorFlow or Keras training step: `apply_gradients`/`train_on_batch` on an
        object TensorFlow or Keras built, or a `session.run` of such an optimizer's
        `minimize(...)` op (written in the call or bound to a name)."""
        func = call.func
        if name in _TRAINING_STEPS:
            return isinstance(func, cst.Attribute) and self._from_tensorflow(func.value)
        if name != "run":
            return False
        for current in (node for arg in call.args for node in walk(arg.value)):
            followed = isinstance(current, cst.Name | cst.Attribute)  # `train_op`, `self.train_op`
            values = self.context.values.expressions(current) if followed else [current]
            for value in values:
                if (
                    isinstance(value, cst.Call)
                    and isinstance(value.func, cst.Attribute)
                    and value.func.attr.value == "minimize"
                    and self._from_tensorflow(value.func.value)
                ):
                    return True
        return False

    def _from_tensorflow(self, node: cst.BaseExpression) -> bool:
        """Whether `node` is (or is bound to) something a TensorFlow/Keras call builds, or
        an instance of the file's own subclass of a Keras class."""
        followed = isinstance(node, cst.Name | cst.Attribute)
        values = self.context.values.expressions(node) if followed else [node]
        for value in values:
            if not isinstance(value, cst.Call):
                continue
            if self.context.resolves_under(value.func, *TENSORFLOW):
                return True
            definition = self.context.semantic.definition(value.func)
            if isinstance(definition, cst.ClassDef) and any(
                self.context.resolves_under(base.value, *TENSORFLOW) for base in definition.bases
            ):
                return True
        return False

    def _optimizer(self, node: cst.BaseExpression) -> bool:
        name = last_name(node)
        if name is None:
            return False
        lowered = name.lower()
        return name in self.optimizers or ("opt" in lowered and "scheduler" not in lowered)


def _stops(context, loop: cst.For, scope: cst.CSTNode) -> bool:
    """Whether the loop has a `break`/`return`/`raise` guarded by a validation measure
    (or not guarded at all)."""
    assigned = _assigned_words(context, scope)

    def guarded(tests: list[cst.BaseExpression]) -> bool:
        if not tests:
            return True
        words: set[str] = set()
        for test in tests:
            found = words_of(context, test)
            words |= found
            for word in found:
                words |= assigned.get(word, set())
        return any(STOP_WORDS.search(word) for word in words)

    def visit(statements, tests: list, in_inner_loop: bool) -> bool:
        for statement in statements:
            if isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    if isinstance(small, cst.Break) and not in_inner_loop and guarded(tests):
                        return True
                    if isinstance(small, cst.Return | cst.Raise) and guarded(tests):
                        return True
                continue
            if isinstance(statement, DEFINITIONS):
                continue
            if isinstance(statement, cst.If):
                if _visit_if(statement, tests, in_inner_loop):
                    return True
                continue
            inner = in_inner_loop or isinstance(statement, LOOPS)
            for block in _blocks(statement):
                if visit(block, tests, inner):
                    return True
        return False

    def _visit_if(statement: cst.If, tests: list, in_inner_loop: bool) -> bool:
        branch_tests = [*tests, statement.test]
        if visit(_body(statement.body), branch_tests, in_inner_loop):
            return True
        orelse = statement.orelse
        if isinstance(orelse, cst.If):
            return _visit_if(orelse, branch_tests, in_inner_loop)
        if isinstance(orelse, cst.Else):
            return visit(_body(orelse.body), branch_tests, in_inner_loop)
        return False

    return visit(_body(loop.body), [], False)


def _body(block) -> list:
    if isinstance(block, cst.IndentedBlock):
        return list(block.body)
    if isinstance(block, cst.SimpleStatementSuite):
        return [cst.SimpleStatementLine(body=block.body)]
    return []


def _blocks(statement: cst.CSTNode) -> list[list]:
    blocks = []
    body = getattr(statement, "body", None)
    if isinstance(body, cst.IndentedBlock | cst.SimpleStatementSuite):
        blocks.append(_body(body))
    for attribute in ("orelse", "finalbody"):
        extra = getattr(statement, attribute, None)
        if extra is not None and hasattr(extra, "body"):
            blocks.append(_body(extra.body))
    # Not the `except` handlers: leaving on an exception (`except KeyboardInterrupt: break`)
    # is no early stop.
    for case in getattr(statement, "cases", ()):
        blocks.append(_body(case.body))
    return blocks


def _assigned_words(context, scope: cst.CSTNode) -> dict[str, set[str]]:
    """name -> the words of the values assigned to it in `scope` (one level)."""
    found: dict[str, set[str]] = {}
    for statement in statements_of(scope):
        pairs = []
        if isinstance(statement, cst.Assign):
            pairs = [(target.target, statement.value) for target in statement.targets]
        elif isinstance(statement, cst.AugAssign | cst.AnnAssign) and statement.value is not None:
            pairs = [(statement.target, statement.value)]
        for target, value in pairs:
            for node in walk(target):
                if isinstance(node, cst.Name):
                    found.setdefault(node.value.lower(), set()).update(words_of(context, value))
    return found


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
