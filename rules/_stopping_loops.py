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
from green_lint.rules._stopping_budget import budget_origin, number_bounds
from green_lint.rules._stopping_datasets import take_budget, take_call
from green_lint.rules._stopping_elsewhere import budget_from_callers, may_come_from_other_modules
from green_lint.rules._stopping_exits import ends_with_the_data, stops_early, walks_the_data
from green_lint.rules._stopping_steps import TrainingSteps
from green_lint.rules._stopping_words import loop_words, names_epoch, words_of
from green_lint.rules._syntax import LOOPS, calls_in, has_star, positional, walk

Loop = cst.For | cst.While
# A budget: the fewest and the most turns (they differ when call sites pass different values).
Bounds = tuple[float, float]
# A counter named as where a run starts: `start_epoch`, `opt.begin_epoch`, `initial_epoch`.
_START_NAME = re.compile(r"(^|_)(start|begin|initial|init|resume|first)(_|$)")


class EpochLoops:
    """The `for epoch in range(N)` loops of a file (also over `tqdm(range(N))`, `trange(N)`,
    `enumerate(range(N))` or any wrapper of one range) and `while step < N` loops that
    train with no validation-based stop: recorded during the traversal, decided once the
    whole file (the functions the loops call) has been seen."""

    def __init__(self, context: RuleContext) -> None:
        self.context = context
        # (loop, budget, its def, whether its names say epochs); a budget (min_epochs, -1)
        # waits for the callers in other modules.
        self._loops: list[tuple[Loop, Bounds, cst.FunctionDef | None, bool]] = []
        # Where a budget from the callers comes from, for the message.
        self.origins: dict[int, str] = {}

    def add(self, node: Loop, min_epochs: float) -> None:
        """Record `node` when it runs at least `min_epochs` epochs of an outer loop."""
        if isinstance(node, cst.For):
            budget = self._range_budget(node.iter)
            if budget is None:
                steps = take_budget(self.context, node.iter)
                budget = None if steps is None else (steps, steps)
        else:
            stop = self._while_budget(node)
            budget = None if stop is None else (stop, stop)
        # Every value the budget may have (a default and the call sites) must be large. A
        # budget that other modules give a parameter is read later, for training loops only.
        pending = (
            budget is None
            and isinstance(node, cst.For)
            and may_come_from_other_modules(self.context, node.iter)
        )
        if not pending and (budget is None or budget[0] < min_epochs):
            return
        epochs = names_epoch(self.context, node)
        for ancestor in self.context.ancestors():
            if isinstance(ancestor, cst.FunctionDef | cst.ClassDef):
                break
            if isinstance(ancestor, LOOPS) and not epochs and not _sweep(self.context, ancestor):
                return
        function = self.context.enclosing(cst.FunctionDef)
        self._loops.append((node, budget or (min_epochs, -1), function, epochs))

    def _budget_across_files(self, loop: cst.For) -> tuple[Bounds, str] | None:
        """The budget of a training loop read from the project's other modules: the
        parsers behind `args.epochs`, or the numbers callers pass a parameter; with the
        words of the message that say where."""
        with self.context.values.across_files():
            bounds = self._range_budget(loop.iter)
            if bounds is not None:
                return bounds, budget_origin(self.context, loop.iter)
        return budget_from_callers(self.context, loop.iter)

    def _range_budget(self, node: cst.BaseExpression) -> Bounds | None:
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

    def _range_of(self, args) -> Bounds | None:
        """The number of turns of `range(*args)`, as (fewest, most) over the values the
        bounds may have; a step must be one known number. `range(start, start + 200)` runs
        200 turns whatever `start` is; a start counter that a resumed run takes from its
        checkpoint (`start_epoch`, `opt.begin_epoch`) counts as the values it is known to
        take, 0 when none is: a fresh run's budget."""
        if len(args) == 2:
            start, stop = args[0].value, args[1].value
            if (
                isinstance(stop, cst.BinaryOperation)
                and isinstance(stop.operator, cst.Add)
                and stop.left.deep_equals(start)
            ):
                return number_bounds(self.context, stop.right)
        bounds = [number_bounds(self.context, arg.value) for arg in args]
        if len(args) >= 2 and bounds[0] is None and bounds[1] is not None:
            bounds[0] = self._resumed_start(args[0].value, args[1].value)
        if not 1 <= len(bounds) <= 3 or None in bounds:
            return None
        if len(bounds) == 1:
            return bounds[0]
        (start_low, start_high), (stop_low, stop_high) = bounds[:2]
        if len(bounds) == 2:
            return stop_low - start_high, stop_high - start_low
        step = bounds[2]
        if step[0] != step[1] or int(step[0]) == 0 or start_low != start_high:
            return None
        turns = [len(range(int(start_low), int(stop), int(step[0]))) for stop in (stop_low, stop_high)]
        return min(turns), max(turns)

    def _resumed_start(self, node: cst.BaseExpression, stop: cst.BaseExpression) -> Bounds | None:
        """The known starts of a counter named as where the run starts (`start_epoch`,
        `begin_epoch`, `initial_epoch`), its unknown values being a checkpoint's; when no
        value is known, a fresh run's: 1 for a count to `n + 1`, else 0."""
        if not isinstance(node, cst.Name | cst.Attribute):
            return None
        if not any(_START_NAME.search(word) for word in words_of(self.context, node)):
            return None
        known = [
            v
            for v in self.context.values.constants(node)
            if isinstance(v, int | float) and not isinstance(v, bool)
        ]
        if known:
            return min(known), max(known)
        one_based = (
            isinstance(stop, cst.BinaryOperation)
            and isinstance(stop.operator, cst.Add)
            and isinstance(stop.right, cst.Integer)
            and stop.right.value == "1"
        )
        return (1, 1) if one_based else (0, 0)

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

    def unstopped(self, module: cst.Module) -> Iterator[tuple[Loop, Bounds]]:
        """The recorded loops that train with no validation-based stop, and their budgets."""
        if not self._loops:
            return
        steps = TrainingSteps(self.context, module, _sweep)
        for loop, budget, function, epochs in self._loops:
            if function is not None and not epochs and steps.called_in_loop(function):
                continue
            if budget[1] < 0:  # pending: maybe given by the project's other modules
                if not steps.trains(loop):
                    continue
                found = self._budget_across_files(loop)
                if found is None or found[0][0] < budget[0]:
                    continue
                budget, self.origins[id(loop)] = found
            if not steps.trains(loop):
                continue
            if not epochs and not steps.trains(loop, within_runs=False):
                continue  # it repeats whole trainings (trials, seeds): their epoch loops decide
            if not epochs and not _names_episode(self.context, loop) and walks_the_data(self.context, loop):
                continue
            if ends_with_the_data(self.context, loop) or stops_early(self.context, loop, function or module):
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
    if isinstance(loop, cst.For) and take_call(context, loop.iter) is not None:
        return "steps"
    if _closure_counter(loop):
        return "steps"
    if _one_update_a_turn(context, loop):
        return "iterations"
    return "epochs"


def _one_update_a_turn(context: RuleContext, loop: Loop) -> bool:
    """Whether a turn of the loop is one update, not a pass over batches: its body has no
    loop of its own and calls no function of the file (which may hold the batch loop)."""
    if any(isinstance(node, LOOPS) for node in walk(loop.body, enter_definitions=False)):
        return False
    return all(
        not isinstance(call.func, cst.Name) or call.func.value not in context.semantic.definition_names
        for call in calls_in(loop.body, enter_definitions=False)
    ) and all(
        context.values.calls.target(call) is None for call in calls_in(loop.body, enter_definitions=False)
    )


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
    """`while run[0] <= n`: a one-element list used as the counter of a closure. The
    counter is the left side, indexed by a number: `while step < cfg["steps"]` is a plain
    counter whose bound is read from a config."""
    if not isinstance(loop, cst.While) or not isinstance(loop.test, cst.Comparison):
        return False
    counter = loop.test.left
    return (
        isinstance(counter, cst.Subscript)
        and len(counter.slice) == 1
        and isinstance(counter.slice[0].slice, cst.Index)
        and isinstance(counter.slice[0].slice.value, cst.Integer)
    )


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


def _sweep(context, loop: cst.CSTNode) -> bool:
    """Whether an outer loop runs over a literal list of values (a hyper-parameter sweep)."""
    if not isinstance(loop, cst.For):
        return False
    values = loop.iter
    if isinstance(values, cst.Name):
        values = context.single_value(values)
    return isinstance(values, cst.List | cst.Tuple | cst.Set | cst.Dict)
