"""How a GL102 training loop ends, other than by its budget: a `break`/`return`/`raise`
guarded by a validation measure (an early stop), the end of the data it reads (a `break`
on `OutOfRangeError`), or each turn taking the next slice of a stream (one pass over the
data, not epochs)."""

from __future__ import annotations

import re

import libcst as cst

from green_lint.context import RuleContext
from green_lint.names import statements_of
from green_lint.rules._stopping_words import words_of
from green_lint.rules._syntax import DEFINITIONS, LOOPS, walk
from green_lint.walk import children

Loop = cst.For | cst.While

# Words in the condition of a `break` that make it an early stop (validation measures,
# patience counters, early stoppers; rewards and thresholds for reinforcement learning).
STOP_WORDS = re.compile(
    r"val|eval|loss|acc|score|metric|best|improv|patien|early|stop|plateau|converg|wait|f1|auc|"
    r"ppl|perplex|bleu|error|prun|^tol|reward|solved|threshold"
)


def walks_the_data(context: RuleContext, loop: Loop) -> bool:
    """Whether each turn takes the next slice of the data: the loop variable, or a position
    counted in the body (`pos += width`), scales a slice bound (`x[i * bs:(i + 1) * bs]`),
    a window's `start`/`end`, or the bounds of the points it samples a signal at
    (`np.linspace(step * np.pi, (step + 1) * np.pi, n)`). Such a loop is one pass over a
    stream, not epochs over the same data."""
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
        elif isinstance(node, cst.Call) and context.qualified_name(node.func) in _INTERVALS:
            bounds.extend(arg.value for arg in node.args[:2] if arg.keyword is None)
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


# Calls whose first two arguments bound an interval of points.
_INTERVALS = frozenset(("numpy.linspace", "numpy.arange", "torch.linspace", "torch.arange"))
_BOUND_WORDS = re.compile(r"^(start|end|begin|stop|offset|lo|hi|first|last)|(start|end|begin|offset)$")


def stops_early(context, loop: cst.For, scope: cst.CSTNode) -> bool:
    """Whether the loop has a `break`/`return`/`raise` guarded by a validation measure
    (or not guarded at all)."""
    return _ExitSearch(context, _assigned_words(context, scope)).visit(_body(loop.body), [], False)


class _ExitSearch:
    """The walk of `stops_early`, as methods rather than nested functions: recursive
    closures over the context would make a reference cycle that keeps the file's tree alive."""

    def __init__(self, context, assigned: dict[str, set[str]]) -> None:
        self.context = context
        self.assigned = assigned

    def guarded(self, tests: list[cst.BaseExpression]) -> bool:
        if not tests:
            return True
        words: set[str] = set()
        for test in tests:
            found = words_of(self.context, test)
            words |= found
            for word in found:
                words |= self.assigned.get(word, set())
        return any(STOP_WORDS.search(word) for word in words)

    def visit(self, statements, tests: list, in_inner_loop: bool) -> bool:
        for statement in statements:
            if isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    if isinstance(small, cst.Break) and not in_inner_loop and self.guarded(tests):
                        return True
                    if isinstance(small, cst.Return | cst.Raise) and self.guarded(tests):
                        return True
                continue
            if isinstance(statement, DEFINITIONS):
                continue
            if isinstance(statement, cst.If):
                if self.visit_if(statement, tests, in_inner_loop):
                    return True
                continue
            inner = in_inner_loop or isinstance(statement, LOOPS)
            for block in _blocks(statement):
                if self.visit(block, tests, inner):
                    return True
        return False

    def visit_if(self, statement: cst.If, tests: list, in_inner_loop: bool) -> bool:
        branch_tests = [*tests, statement.test]
        if self.visit(_body(statement.body), branch_tests, in_inner_loop):
            return True
        orelse = statement.orelse
        if isinstance(orelse, cst.If):
            return self.visit_if(orelse, branch_tests, in_inner_loop)
        if isinstance(orelse, cst.Else):
            return self.visit(_body(orelse.body), branch_tests, in_inner_loop)
        return False


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


def ends_with_the_data(context, loop: Loop) -> bool:
    """Whether the loop itself (not a loop nested in it, such as the batch loop of an epoch)
    leaves from an `except OutOfRangeError` or `except StopIteration` handler: it stops
    when its input pipeline runs out (`dataset.repeat(3)` is three epochs), so its range is
    an upper bound, not the budget."""
    for node in _this_loop(loop.body):
        if isinstance(node, cst.ExceptHandler) and node.type is not None:
            caught = node.type.elements if isinstance(node.type, cst.Tuple) else [node.type]
            types = [item.value if isinstance(item, cst.Element) else item for item in caught]
            if any(_end_of_data(context, item) for item in types) and any(
                isinstance(n, cst.Break | cst.Return) for n in _this_loop(node.body)
            ):
                return True
    return False


def _end_of_data(context, node: cst.BaseExpression) -> bool:
    """The exception an input pipeline raises once it has no more batches: the builtin
    `StopIteration`, or TensorFlow's `OutOfRangeError` (`tf.errors.OutOfRangeError`)."""
    if context.resolves_to(node, "builtins.StopIteration"):
        return True
    qualified = context.resolves_under(node, "tensorflow")
    return qualified is not None and qualified.endswith(".OutOfRangeError")


def _this_loop(root: cst.CSTNode):
    """The nodes under `root` that belong to the loop being judged: nested loops and
    definitions are not entered (a `break` there leaves another loop)."""
    pending = list(children(root))
    while pending:
        node = pending.pop()
        yield node
        if not isinstance(node, (*LOOPS, *DEFINITIONS)):
            pending.extend(children(node))
