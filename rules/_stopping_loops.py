"""Hand-written training loops for GL102 no-early-stopping: a `for epoch in range(N)` loop
(or `while step < N` with `step += 1`) whose body, or a function of the file it calls,
runs a training step (see `_stopping_steps`), with no `break`/`return`/`raise` guarded by
a validation measure."""

from __future__ import annotations

import re
from collections.abc import Iterator

import libcst as cst

from green_lint.context import RuleContext
from green_lint.names import statements_of
from green_lint.rules._stopping_datasets import take_budget, take_call
from green_lint.rules._stopping_steps import TrainingSteps, loop_words, names_epoch, words_of
from green_lint.rules._syntax import DEFINITIONS, LOOPS, has_star, positional, walk

# Words in the condition of a `break` that make it an early stop (validation measures,
# patience counters, early stoppers; rewards and thresholds for reinforcement learning).
STOP_WORDS = re.compile(
    r"val|eval|loss|acc|score|metric|best|improv|patien|early|stop|plateau|converg|wait|f1|auc|"
    r"ppl|perplex|bleu|error|prun|^tol|reward|solved|threshold"
)
Loop = cst.For | cst.While


class EpochLoops:
    """The `for epoch in range(N)` loops of a file (also over `tqdm(range(N))`, `trange(N)`,
    `enumerate(range(N))` or any wrapper of one range) and `while step < N` loops that
    train with no validation-based stop: recorded during the traversal, decided once the
    whole file (the functions the loops call) has been seen."""

    def __init__(self, context: RuleContext) -> None:
        self.context = context
        self._loops: list[tuple[Loop, float, cst.FunctionDef | None, bool]] = []

    def add(self, node: Loop, min_epochs: float) -> None:
        """Record `node` when it runs at least `min_epochs` epochs of an outer loop."""
        if isinstance(node, cst.For):
            budget = self._range_budget(node.iter)
            if budget is None:
                budget = take_budget(self.context, node.iter)
        else:
            budget = self._while_budget(node)
        if budget is None or budget < min_epochs:
            return
        epochs = names_epoch(self.context, node)
        for ancestor in self.context.ancestors():
            if isinstance(ancestor, cst.FunctionDef | cst.ClassDef):
                break
            if isinstance(ancestor, LOOPS) and not epochs and not _sweep(self.context, ancestor):
                return
        function = self.context.enclosing(cst.FunctionDef)
        self._loops.append((node, budget, function, epochs))

    def _range_budget(self, node: cst.BaseExpression) -> float | None:
        if not isinstance(node, cst.Call) or has_star(node):
            return None
        call = node
        if not self._is_range(node.func):
            tqdm = self.context.resolves_under(node.func, "tqdm")
            if tqdm is not None and tqdm.endswith("trange"):
                return self._range_of(positional(node))
            # A wrapper of one range: `tqdm(range(n))`, `enumerate(range(1, n + 1))`,
            # `self.progressbar(range(n))`.
            args = positional(node)
            if len(args) != 1 or not isinstance(args[0].value, cst.Call):
                return None
            call = args[0].value
        if not self._is_range(call.func) or has_star(call) or any(arg.keyword for arg in call.args):
            return None
        return self._range_of(call.args)

    def _range_of(self, args) -> float | None:
        values = [self.context.values.number(arg.value) for arg in args]
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

    def _while_budget(self, node: cst.While) -> float | None:
        """`while step < N` (or `<=`, `N > step`) whose body counts `step += 1`, from the
        value `step` has before the loop: N minus that start. Also `while run[0] <= N` with
        `run = [0]`: a one-element list counted up in a closure the loop passes to
        `optimizer.step(closure)` (LBFGS), where a plain name could not be rebound."""
        test = node.test
        if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
            return None
        operator = test.comparisons[0].operator
        left, right = test.left, test.comparisons[0].comparator
        if isinstance(operator, cst.LessThan | cst.LessThanEqual):
            counter, limit = left, right
        elif isinstance(operator, cst.GreaterThan | cst.GreaterThanEqual):
            counter, limit = right, left
        else:
            return None
        if isinstance(counter, cst.Subscript):
            starts = _list_counter_starts(self.context, node, counter)
        elif isinstance(counter, cst.Name) and _counts_up(node, counter.value):
            # The values reaching the test: the start before the loop (`step += 1` adds none).
            found = self.context.values.expressions(counter)
            starts = {self.context.values.fold(value) for value in found if value is not counter}
        else:
            return None
        stop = self.context.values.number(limit)
        if len(starts) != 1 or stop is None:
            return None
        (start,) = starts
        if not isinstance(start, int | float) or isinstance(start, bool):
            return None
        inclusive = isinstance(operator, cst.LessThanEqual | cst.GreaterThanEqual)
        return stop - start + (1 if inclusive else 0)

    def unstopped(self, module: cst.Module) -> Iterator[tuple[Loop, float]]:
        """The recorded loops that train with no validation-based stop, and their budgets."""
        if not self._loops:
            return
        steps = TrainingSteps(self.context, module, _sweep)
        for loop, budget, function, epochs in self._loops:
            if function is not None and not epochs and steps.called_in_loop(function.name.value):
                continue
            if not steps.trains(loop):
                continue
            if not epochs and not steps.trains(loop, within_runs=False):
                continue  # it repeats whole trainings (trials, seeds): their epoch loops decide
            if not epochs and not _names_episode(self.context, loop) and _walks_the_data(loop):
                continue
            if _stops(self.context, loop, function or module):
                continue
            yield loop, budget


def loop_unit(context: RuleContext, loop: Loop) -> str:
    """What one turn of a training loop is, from its names: episodes, steps, iterations
    or (the default) epochs."""
    words = loop_words(context, loop)
    for stem, unit in (
        ("episode", "episodes"),
        ("epoch", "epochs"),
        ("step", "steps"),
        ("iter", "iterations"),
    ):
        if any(stem in word for word in words):
            return unit
    # A turn over `dataset.take(N)` is one batch; a closure counter counts optimizer steps.
    if isinstance(loop, cst.For) and take_call(loop.iter) is not None:
        return "steps"
    if _closure_counter(loop):
        return "steps"
    return "epochs"


def training_kind(context: RuleContext, loop: Loop) -> str:
    """What the loop trains, where it changes the advice: "rl" (episodes, an agent's
    policy, a replay buffer), "gan" (a generator against a discriminator), "style" (an
    image fitted to style and content losses) or "supervised"."""
    words = words_of(context, loop.body)
    if loop_unit(context, loop) == "episodes" or any(_RL_WORDS.search(word) for word in words):
        return "rl"
    if any("discriminator" in word or word in _GAN_WORDS for word in words):
        return "gan"
    if any("style" in word for word in words) and any("content" in word for word in words):
        return "style"
    if _closure_counter(loop):
        return "objective"  # one loss minimised by `optimizer.step(closure)`: no data to hold out
    return "supervised"


def _closure_counter(loop: Loop) -> bool:
    """`while run[0] <= n`: a one-element list used as the counter of a closure."""
    if not isinstance(loop, cst.While) or not isinstance(loop.test, cst.Comparison):
        return False
    sides = (loop.test.left, *(part.comparator for part in loop.test.comparisons))
    return any(isinstance(side, cst.Subscript) for side in sides)


_RL_WORDS = re.compile(r"episode|replay|policy|reward|^env$|_env$|^env_")
_GAN_WORDS = frozenset(("netd", "d_loss", "loss_d", "optimizer_d", "d_optimizer", "opt_d", "errd"))


def _names_episode(context: RuleContext, loop: Loop) -> bool:
    return any("episode" in word for word in loop_words(context, loop))


def _counts_up(loop: cst.While, name: str) -> bool:
    """Whether the loop's body (not a nested loop or function) adds 1 to `name`."""
    for statement in statements_of(loop, enter_definitions=False):
        if (
            isinstance(statement, cst.AugAssign)
            and isinstance(statement.operator, cst.AddAssign)
            and isinstance(statement.target, cst.Name)
            and statement.target.value == name
            and isinstance(statement.value, cst.Integer)
            and statement.value.value == "1"
        ):
            return True
    return False


def _list_counter_starts(context: RuleContext, loop: cst.While, counter: cst.Subscript) -> set:
    """The start of `run[0]` when `run = [0]` is the one list reaching the test and the
    loop (a closure defined in it included) adds 1 to `run[0]`; empty when not."""
    if not isinstance(counter.value, cst.Name) or len(counter.slice) != 1:
        return set()
    index = counter.slice[0].slice
    if not isinstance(index, cst.Index) or not isinstance(index.value, cst.Integer):
        return set()
    if not any(
        isinstance(node, cst.AugAssign)
        and isinstance(node.operator, cst.AddAssign)
        and node.target.deep_equals(counter)
        and isinstance(node.value, cst.Integer)
        and node.value.value == "1"
        for node in walk(loop.body)
    ):
        return set()
    lists = [value for value in context.values.expressions(counter.value) if value is not counter.value]
    position = int(index.value.value)
    if len(lists) != 1 or not isinstance(lists[0], cst.List) or len(lists[0].elements) <= position:
        return set()
    return {context.values.fold(lists[0].elements[position].value)}


def _walks_the_data(loop: Loop) -> bool:
    """Whether each turn takes the next slice of the data: the loop variable, or a position
    counted in the body (`pos += width`), scales a slice bound (`x[i * bs:(i + 1) * bs]`)
    or a window's `start`/`end`. Such a loop is one pass over a stream, not epochs over
    the same data."""
    positions = set()
    if isinstance(loop, cst.For):
        positions = {node.value for node in walk(loop.target) if isinstance(node, cst.Name)}
    for statement in statements_of(loop, enter_definitions=False):
        if (
            isinstance(statement, cst.AugAssign)
            and isinstance(statement.operator, cst.AddAssign)
            and isinstance(statement.target, cst.Name)
        ):
            positions.add(statement.target.value)
    positions.discard("_")
    bounds: list[cst.CSTNode] = []
    for node in walk(loop.body, enter_definitions=False):
        if isinstance(node, cst.Slice):
            bounds.append(node)
        elif isinstance(node, cst.Assign) and any(
            _BOUND_WORDS.search(name.value.lower())
            for target in node.targets
            for name in walk(target.target)
            if isinstance(name, cst.Name)
        ):
            bounds.append(node.value)
    for bound in bounds:
        for node in walk(bound):
            if (
                isinstance(node, cst.BinaryOperation)
                and isinstance(node.operator, cst.Multiply)
                and any(
                    isinstance(side, cst.Name) and side.value in positions for side in (node.left, node.right)
                )
            ):
                return True
    return False


_BOUND_WORDS = re.compile(r"^(start|end|begin|stop|offset|lo|hi|first|last)|(start|end|begin|offset)$")


def _sweep(context, loop: cst.CSTNode) -> bool:
    """Whether an outer loop runs over a literal list of values (a hyper-parameter sweep)."""
    if not isinstance(loop, cst.For):
        return False
    values = loop.iter
    if isinstance(values, cst.Name):
        values = context.single_value(values)
    return isinstance(values, cst.List | cst.Tuple | cst.Set | cst.Dict)


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
