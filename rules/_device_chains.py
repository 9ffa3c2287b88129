"""How a CPU-made tensor reaches a device move (GL107): through wrappers and methods that keep
it on the CPU (`Variable(torch.zeros(n)).long().cuda()`), through a legacy typed constructor
(`torch.LongTensor(ids).to(device)`), or through a name moved in a later statement of the
same block (`h = torch.zeros(n)` then `if use_cuda: h = h.cuda()`), or handed to a helper of
the module whose body moves its first parameter (`def cuda_variable(t): return t.cuda()`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._device_moves import Move, device_move
from green_lint.rules._syntax import DEFINITIONS, has_star, positional
from green_lint.walk import children

# Methods whose result stays where the tensor is: on the CPU before the move.
CPU_METHODS = frozenset(
    {
        "repeat",
        "unsqueeze",
        "squeeze",
        "view",
        "reshape",
        "expand",
        "expand_as",
        "long",
        "float",
        "int",
        "double",
        "half",
        "bool",
        "byte",
        "short",
        "fill_",
        "zero_",
        "normal_",
        "uniform_",
        "random_",
        "bernoulli_",
        "t",
        "transpose",
        "permute",
        "contiguous",
    }
)
# Legacy typed constructors (no `device=`) and the dtype each makes.
LEGACY = {
    "Tensor": "torch.float32",
    "FloatTensor": "torch.float32",
    "DoubleTensor": "torch.float64",
    "HalfTensor": "torch.float16",
    "BFloat16Tensor": "torch.bfloat16",
    "LongTensor": "torch.long",
    "IntTensor": "torch.int32",
    "ShortTensor": "torch.int16",
    "CharTensor": "torch.int8",
    "ByteTensor": "torch.uint8",
    "BoolTensor": "torch.bool",
}
VARIABLE = ("torch.autograd.Variable", "torch.autograd.variable.Variable")
MOVES = ("to", "cuda")
# Statements followed when the name is last used in an `if` branch.
MAX_RENAMES = 3


def peel(context: RuleContext, node: cst.BaseExpression) -> tuple[cst.BaseExpression, list[str]]:
    """The expression under the wrappers and CPU-keeping steps of `node`, and the steps
    (outermost first): `Variable(x)`, `x.long()`, `x[None]`, `x * 0.9`."""
    steps: list[str] = []
    while True:
        if isinstance(node, cst.Call) and not has_star(node):
            func = node.func
            if isinstance(func, cst.Attribute) and func.attr.value in CPU_METHODS:
                steps.append(f".{func.attr.value}()")
                node = func.value
                continue
            args = positional(node)
            if args and context.resolves_to(func, *VARIABLE):
                steps.append("Variable(...)")
                node = args[0].value
                continue
        elif isinstance(node, cst.Subscript):
            steps.append("[...]")
            node = node.value
            continue
        elif isinstance(node, cst.BinaryOperation):
            if _number(node.right):
                steps.append("arithmetic")
                node = node.left
                continue
            if _number(node.left):
                steps.append("arithmetic")
                node = node.right
                continue
        return node, steps


def _number(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.UnaryOperation):
        node = node.expression
    return isinstance(node, cst.Integer | cst.Float)


def torch_names(context: RuleContext, func: cst.BaseExpression) -> list[str]:
    """The `torch.*` names `func` may stand for, also through a module that re-exports torch
    (`from utils import *` where utils imports torch: `utils.torch.zeros`)."""
    found = []
    for candidate in context.semantic.candidates(func):
        if not candidate.startswith("torch.") and ".torch." in candidate:
            candidate = "torch." + candidate.split(".torch.", 1)[1]
        if candidate.startswith("torch."):
            found.append(candidate)
    return found


def legacy_name(context: RuleContext, call: cst.Call) -> str | None:
    """`LongTensor` for `torch.LongTensor(...)` with arguments (through imports)."""
    func = call.func
    if not call.args or has_star(call):
        return None
    if isinstance(func, cst.Attribute) and func.attr.value not in LEGACY:
        return None
    if not isinstance(func, cst.Attribute | cst.Name):
        return None
    for candidate in torch_names(context, func):
        if candidate[len("torch.") :] in LEGACY:
            return None if numpy_data(context, call.args[0].value) else candidate[len("torch.") :]
    return None


def numpy_data(context: RuleContext, node: cst.BaseExpression, depth: int = 0) -> bool:
    """`node` may hold a NumPy array: made by `np.*`, or derived from one through methods,
    arithmetic, indexing or a call given one (`imresize(np.concatenate(...))`). Loose on
    purpose: it only exempts `torch.FloatTensor(array).to(device)`, which copies data that
    already exists on the CPU, as `torch.from_numpy(array).to(device)` does."""
    if depth > 12:
        return False
    deeper = depth + 1
    if isinstance(node, cst.Name):
        reaching = [value for value in context.values.expressions(node) if value is not node]
        return any(numpy_data(context, value, deeper) for value in reaching)
    if isinstance(node, cst.Call):
        if context.resolves_under(node.func, "numpy") is not None:
            return True
        if isinstance(node.func, cst.Attribute) and numpy_data(context, node.func.value, deeper):
            return True
        return any(numpy_data(context, arg.value, deeper) for arg in positional(node))
    if isinstance(node, cst.Attribute):
        return node.attr.value == "values" or numpy_data(context, node.value, deeper)
    if isinstance(node, cst.Subscript):
        return numpy_data(context, node.value, deeper)
    if isinstance(node, cst.BinaryOperation):
        return numpy_data(context, node.left, deeper) or numpy_data(context, node.right, deeper)
    return False


@dataclass
class LaterMove:
    """A name's CPU tensor moved by a later statement: the move and its line."""

    move: Move
    line: int
    spelled: str


def move_of(context: RuleContext, call: cst.Call) -> Move | None:
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value in MOVES:
        return device_move(context, call)
    return None


def helper_moves(context: RuleContext, module: cst.Module) -> frozenset[str]:
    """Module-level functions whose body moves their first parameter to the device
    (`def cuda_variable(tensor): return Variable(tensor.cuda())`)."""
    found = set()
    names = [s.name.value for s in module.body if isinstance(s, cst.FunctionDef)]
    for statement in module.body:
        if not isinstance(statement, cst.FunctionDef) or names.count(statement.name.value) != 1:
            continue
        params = statement.params.params
        if not params:
            continue
        first = params[0].name.value
        for node in _walk(statement.body):
            if isinstance(node, cst.Call) and move_of(context, node) is not None:
                root, _ = peel(context, node.func.value)
                if isinstance(root, cst.Name) and root.value == first:
                    found.add(statement.name.value)
                    break
    return frozenset(found)


def helper_call(context: RuleContext, call: cst.Call, helpers: frozenset[str]) -> bool:
    """`call` is a call of a module helper that moves its first argument."""
    func = call.func
    return (
        isinstance(func, cst.Name)
        and func.value in helpers
        and not context.semantic.candidates(func)
        and bool(positional(call))
    )


# A move repeated inside one of these is not the single move of a tensor built once.
REPEATED = (cst.For, cst.While, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp, *DEFINITIONS)


def _walk(node: cst.CSTNode, *, into_loops: bool = True) -> Iterator[cst.CSTNode]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if into_loops or current is node or not isinstance(current, REPEATED):
            stack.extend(children(current))


def _uses(node: cst.CSTNode, name: str, in_else: bool = False) -> Iterator[tuple[cst.Name, bool]]:
    """Each loaded `name` below `node`, with whether it sits in an `else` branch (the CPU
    path of `if use_cuda: ... else: ...`). Names inside definitions count as uses."""
    if isinstance(node, cst.Name):
        if node.value == name:
            yield node, in_else
        return
    if isinstance(node, cst.If):
        yield from _uses(node.test, name, in_else)
        yield from _uses(node.body, name, in_else)
        if node.orelse is not None:
            yield from _uses(node.orelse, name, True)
        return
    if isinstance(node, cst.IfExp):
        yield from _uses(node.test, name, in_else)
        yield from _uses(node.body, name, in_else)
        yield from _uses(node.orelse, name, True)
        return
    if isinstance(node, cst.Attribute):
        yield from _uses(node.value, name, in_else)
        return
    if isinstance(node, cst.AssignTarget) and isinstance(node.target, cst.Name):
        return
    if isinstance(node, cst.Arg) and node.keyword is not None:
        yield from _uses(node.value, name, in_else)
        return
    for child in children(node):
        yield from _uses(child, name, in_else)


class LaterMoves:
    """Finds the statement that moves a name assigned a CPU tensor, later in its block."""

    def __init__(self, context: RuleContext, helpers: frozenset[str]):
        self.context = context
        self.helpers = helpers

    def find(self, statement: cst.BaseStatement, name: str, blocks: list) -> LaterMove | None:
        """`blocks`: (block, its statement holding `statement`) pairs, nearest first; the
        name is followed into the statements after `statement`, then after an enclosing `if`."""
        renames = 0
        for block, current in blocks:
            body = list(block.body)
            place = next((index for index, member in enumerate(body) if member is current), None)
            if place is None:
                return None
            for later in body[place + 1 :]:
                outcome = self._judge(later, name)
                if outcome is None:
                    continue
                if isinstance(outcome, LaterMove):
                    return outcome
                if outcome is False or renames >= MAX_RENAMES:
                    return None
                name, renames = outcome, renames + 1
        return None

    def _judge(self, statement: cst.CSTNode, name: str) -> LaterMove | str | bool | None:
        """None: `name` not used; a LaterMove; a new name the tensor is renamed to; False:
        another use."""
        uses = list(_uses(statement, name))
        if not uses:
            return None
        if isinstance(statement, DEFINITIONS):
            return False
        if isinstance(statement, cst.If) and not list(_uses(statement.test, name)):
            # `if use_cuda: h = h.cuda(); use(h)`: the first use in the branch decides;
            # the `else` branch is the CPU path.
            for inner in statement.body.body:
                outcome = self._judge(inner, name)
                if outcome is not None:
                    return outcome if isinstance(outcome, LaterMove) else False
            return False
        moved: dict[int, LaterMove] = {}
        for node in _walk(statement, into_loops=False):
            if not isinstance(node, cst.Call):
                continue
            move = move_of(self.context, node)
            if move is not None:
                root, _ = peel(self.context, node.func.value)
                spelled = f".{node.func.attr.value}(...)"
            elif helper_call(self.context, node, self.helpers):
                root, _ = peel(self.context, positional(node)[0].value)
                move = Move(None, "", None, False)
                spelled = f"{node.func.value}(...)"
            else:
                continue
            if isinstance(root, cst.Name) and root.value == name:
                line = self.context.position(node).start.line
                moved[id(root)] = LaterMove(move, line, spelled)
        if moved and all(id(use) in moved or in_else for use, in_else in uses):
            return next(iter(moved.values()))
        if moved:
            return False
        return self._renamed(statement, name, uses)

    def _renamed(self, statement: cst.CSTNode, name: str, uses: list) -> str | bool:
        """`y = Variable(name)` / `name = name.expand_as(x)`: the tensor goes on as `y`."""
        if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1 or len(uses) != 1:
            return False
        assign = statement.body[0]
        if not isinstance(assign, cst.Assign) or len(assign.targets) != 1:
            return False
        target = assign.targets[0].target
        root, _ = peel(self.context, assign.value)
        if isinstance(target, cst.Name) and isinstance(root, cst.Name) and root.value == name:
            return target.value
        return False
