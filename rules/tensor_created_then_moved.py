"""GL107 tensor-created-then-moved."""

from __future__ import annotations

import functools

import libcst as cst

from green_lint.rule import Fix, Rule
from green_lint.rules._accelerator import Accelerators
from green_lint.rules._device_chains import (
    LEGACY,
    MOVES,
    LaterMoves,
    helper_call,
    helper_moves,
    legacy_name,
    peel,
    torch_names,
)
from green_lint.rules._device_moves import Move, device_move
from green_lint.rules._syntax import DEFINITIONS, has_star, keyword, positional
from green_lint.rules._training_edits import with_keyword

# Factories that fill a new tensor themselves and take `device=`.
FILLED = ("zeros", "ones", "empty", "full", "eye", "arange", "range", "linspace", "logspace")
RANDOM = ("rand", "randn", "randint", "randperm")
FROM_DATA = ("tensor", "as_tensor")
FACTORIES = {f"torch.{name}": name for name in (*FILLED, *RANDOM, *FROM_DATA)}
SHORT_NAMES = frozenset(FACTORIES.values())
# Values made in a dtype directly are exactly those made then converted (0 and 1).
EXACT_IN_ANY_DTYPE = frozenset({"zeros", "ones", "empty", "eye"})
# Arguments that make the CPU tensor on purpose, or that a fix could not keep.
KEEP_ON_CPU = ("device", "out", "pin_memory")
LOOPS = (cst.For, cst.While, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)
GUIDE = "https://docs.pytorch.org/tutorials/recipes/recipes/tuning_guide.html"


class TensorCreatedThenMoved(Rule):
    """
    ## What it does
    Flags a tensor made on the CPU by a PyTorch factory and moved to a device:
    `torch.zeros(n).to(device)`, `torch.randn(b, d).cuda()`, `torch.arange(n).to("cuda")`,
    `torch.tensor(x).to(device, torch.float32)`. The factories are `torch.zeros`, `ones`,
    `empty`, `full`, `eye`, `arange`, `range`, `linspace`, `logspace`, `rand`, `randn`,
    `randint`, `randperm`, `tensor` and `as_tensor`, resolved through imports (`from torch
    import zeros`, or a project module that re-exports torch through `import *`), and the
    legacy typed constructors `torch.Tensor`, `FloatTensor`, `LongTensor`, `IntTensor`,
    `ByteTensor`, `BoolTensor`, `DoubleTensor`... (`torch.LongTensor(ids).to(device)`).
    Flagged shapes:
    - moved in the same expression, also through wrappers and methods that keep the tensor
      on the CPU: `Variable(torch.zeros(n)).cuda()`, `torch.zeros(n).long().cuda()`,
      `torch.arange(n).unsqueeze(0).repeat(b, 1).to(device)`, `(torch.rand(n) - 0.5).cuda()`
      (`repeat`, `unsqueeze`, `view`, `reshape`, `expand`, `long`, `float`, `fill_`,
      `normal_`, `uniform_`, `t`, `transpose`, `permute`, `contiguous`, indexing,
      arithmetic with a number);
    - moved by a later statement of the same block with no other use of the name in
      between: `h = torch.zeros(n)` then `h = h.cuda()`, `if use_cuda: h = h.cuda()`,
      `h = h.cuda() if use_cuda else h`, `return h.cuda()`; also when the tensor is built
      in an `if` branch and moved after the `if`, or renamed on the way (`y = Variable(h)`);
    - handed to a helper of the module that moves its first parameter
      (`def cuda_variable(t): return Variable(t.cuda())`, then `cuda_variable(torch.zeros(n))`).
    The finding says when it runs on every iteration of a loop.

    The move must clearly go to a device: `.cuda()`, or `.to(...)` / `.to(device=...)`
    with an accelerator device the file names (`"cuda"`, `torch.device("cuda" if
    torch.cuda.is_available() else "cpu")`, through names and `self.device`),
    `torch.device(...)`, a GPU index, `x.device`, or a name spelled like a device
    (`device`, `dev`, `target_device`, `local_rank`).

    Not flagged: `.to(torch.float16)` and `.to(x.dtype)` (a conversion, not a move),
    `.to(other_tensor)` (unknown), a device known to be the CPU (`"cpu"`,
    `torch.device("cpu")`: the move is a no-op), `torch.from_numpy(a).to(device)` and
    `torch.FloatTensor(array).to(device)` with a NumPy array (the data exists on the CPU
    already: that is the normal way to send it), `torch.zeros_like` and the other `*_like`
    factories (they inherit the device), a tensor used on the CPU before its move
    (`h[0] = 1`, `print(h)`) or moved inside a loop or comprehension, factories that already
    get `device=`, `out=` or `pin_memory=`, `torch.cuda.FloatTensor`, a user's own `zeros`
    or `LongTensor`, and `x.cpu()`.

    ## Why it wastes energy
    `torch.zeros(n).to(device)` allocates and fills the tensor in host memory, then copies
    every byte over PCIe to the GPU and frees the host copy: two allocations, a fill on the
    CPU and a host-to-device transfer, where `torch.zeros(n, device=device)` only fills
    the GPU memory. For random tensors the numbers are drawn on the CPU, which is much
    slower than the GPU's generator. In a training loop this runs at every step, and the
    synchronous copy stalls the GPU. With a dtype (`.to(device, torch.float16)`) the tensor
    is also made in one dtype and converted into another. For `torch.tensor(data)` the
    data crosses to the device once either way: passing `device=` saves a step, not a copy.

    ## Example
    ```python
    for inputs, targets in loader:
        noise = torch.randn(inputs.shape).to(device)
        mask = torch.ones(inputs.shape[0]).to(device, torch.bool)
    ```

    ## Use instead
    ```python
    for inputs, targets in loader:
        noise = torch.randn(inputs.shape, device=device)
        mask = torch.ones(inputs.shape[0], dtype=torch.bool, device=device)
    ```

    ## Fix safety
    Only a factory moved directly in the same expression is fixed. Safe for the factories
    that fill a tensor (`zeros`, `ones`, `full`, `arange`...) and for `tensor`/`as_tensor`:
    `device=` (and `dtype=`, when `.to` gave one) move into the constructor, with the same
    values. Unsafe for the random factories (`rand`, `randn`, `randint`, `randperm`): the
    numbers are then drawn by the device's generator, so a seeded run draws different ones;
    and unsafe when a dtype moves into `full`, `arange`, `linspace`, `tensor`... (values made
    in the target dtype directly can round differently from values made in float32 and
    converted). No fix with `non_blocking=True`, `copy=`, `memory_format=`, `requires_grad=`
    (the moved tensor is then not a leaf, and the fix would change that), `generator=` (a
    CPU generator cannot draw on the GPU: the fixed call would raise), `.cuda(device)`
    with a variable device, or a factory already given a dtype.

    Advice only, no fix: the legacy constructors (`torch.LongTensor(3)` is an uninitialised
    tensor of size 3 while `torch.LongTensor([3])` holds 3, so the replacement,
    `torch.tensor(values, dtype=torch.long, device=device)` or `torch.zeros(size,
    dtype=torch.long, device=device)`, depends on what the arguments mean); factories moved
    through wrappers and methods; moves in a later statement or a helper (the move is often
    conditional: create the tensor with `device=device`, where `device` is `"cuda" if
    use_cuda else "cpu"`).

    ## Evidence
    - PyTorch's performance tuning guide: "Create tensors directly on the target device:
      instead of calling `torch.rand(size).cuda()` to generate a random tensor, produce the
      output directly on the target device: `torch.rand(size, device='cuda')`. This is
      applicable to all functions which create new tensors and accept `device` argument."
      https://docs.pytorch.org/tutorials/recipes/recipes/tuning_guide.html
    - creedengo-python rule GCI104 (tensors created on the device) measured about half the
      training time and emissions on its benchmark.
      https://github.com/green-code-initiative/creedengo-rules-specifications
    - On a CPU the move is a no-op and only the dtype conversion costs anything: measure the
      effect on your code and hardware with `green-lint verify`.
    """

    code = "GL107"
    name = "tensor-created-then-moved"
    summary = "A tensor is built on the CPU and then copied to the device: create it there with device="
    fix_safety = "safe"
    needs = (Accelerators,)
    triggers = (("torch", ".to("), ("torch", ".cuda("))

    @functools.cached_property
    def _later(self) -> LaterMoves:
        return LaterMoves(self.context, helper_moves(self.context, self.context.module))

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if helper_call(self.context, node, self._later.helpers):
            self._chain(node, positional(node)[0].value, Move(None, "", None, False), f"{func.value}(...)")
            return
        if not (isinstance(func, cst.Attribute) and func.attr.value in MOVES):
            return
        move = device_move(self.context, node)
        if move is not None:
            self._chain(node, func.value, move, f".{func.attr.value}(...)")

    def _chain(self, node: cst.Call, receiver: cst.BaseExpression, move: Move, spelled: str) -> None:
        """`node` moves `receiver`: flag a factory or legacy constructor under it."""
        root, steps = peel(self.context, receiver)
        if not isinstance(root, cst.Call) or not self._made_on_cpu(root):
            return
        where = " on every iteration of the loop" if self._in_loop() else ""
        device = move.device_code or "device"
        legacy = legacy_name(self.context, root)
        if legacy is not None:
            self.report(node, self._legacy_message(legacy, spelled, where, device))
            return
        name = self._factory_name(root)
        if steps or not spelled.startswith("."):
            via = f" (through {' and '.join(dict.fromkeys(steps))}, which keep it there)" if steps else ""
            self.report(node, self._message(name, spelled, where, device, via))
            return
        self.report(
            node, self._message(name, spelled, where, device, ""), fix=self._fix(node, root, name, move)
        )

    def visit_Assign(self, node: cst.Assign) -> None:
        """`h = torch.zeros(n)` then `if use_cuda: h = h.cuda()` later in the block."""
        if len(node.targets) != 1 or not isinstance(node.targets[0].target, cst.Name):
            return
        root, _ = peel(self.context, node.value)
        if not isinstance(root, cst.Call) or not self._made_on_cpu(root):
            return
        blocks = self._blocks()
        if not blocks:
            return
        statement = self.context.parent
        if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
            return
        later = self._later.find(statement, node.targets[0].target.value, blocks)
        if later is None:
            return
        target = node.targets[0].target.value
        where = " on every iteration of the loop" if self._in_loop() else ""
        device = later.move.device_code or "device"
        moved = f"`{target}`, moved by `{later.spelled}` on line {later.line},"
        legacy = legacy_name(self.context, root)
        if legacy is not None:
            self.report(root, self._legacy_message(legacy, later.spelled, where, device, moved))
            return
        self.report(root, self._message(self._factory_name(root), later.spelled, where, device, "", moved))

    def _blocks(self) -> list[tuple[cst.CSTNode, cst.CSTNode]]:
        """(block, its statement holding the one being visited) pairs, nearest first: the
        statement's own block, then the blocks around the `if` statements holding it."""
        found = []
        ancestors = list(self.context.ancestors())
        for index, ancestor in enumerate(ancestors[1:], start=1):
            if isinstance(ancestor, cst.IndentedBlock | cst.Module):
                found.append((ancestor, ancestors[index - 1]))
            elif not isinstance(ancestor, cst.If | cst.Else):
                break
        return found

    def _made_on_cpu(self, root: cst.Call) -> bool:
        if legacy_name(self.context, root) is not None:
            return True
        name = self._factory_name(root)
        return not (name is None or has_star(root) or any(keyword(root, kw) for kw in KEEP_ON_CPU))

    def _message(self, name, spelled, where, device, via, moved="it") -> str:
        built = f"`torch.{name}(...)`"
        if name in FROM_DATA:
            return (
                f"{built} builds a CPU tensor{via} and `{spelled}` then copies {moved} to the device"
                f"{where}: pass the device to the constructor, `torch.{name}(data, device={device})`, "
                "one step instead of two (the data still crosses to the device once)."
            )
        what = "draws the random numbers on the CPU" if name in RANDOM else "fills the tensor on the CPU"
        return (
            f"{built} {what}{via}, then `{spelled}` copies every byte of {moved} to the device{where}: "
            f"create it there, `torch.{name}(..., device={device})`, with no host buffer and no "
            "host-to-device copy (PyTorch's tuning guide: create tensors directly on the target device)."
        )

    def _legacy_message(self, legacy, spelled, where, device, moved="it") -> str:
        dtype = LEGACY[legacy]
        return (
            f"`torch.{legacy}(...)` is a legacy constructor that builds the tensor on the CPU (it takes "
            f"no device), then `{spelled}` copies {moved} to the device{where}: write "
            f"`torch.tensor(values, dtype={dtype}, device={device})` for data, or "
            f"`torch.zeros(size, dtype={dtype}, device={device})` for a size "
            f"(`torch.{legacy}(3)` is an uninitialised tensor of size 3, `torch.{legacy}([3])` holds 3)."
        )

    def _factory_name(self, factory: cst.Call) -> str | None:
        func = factory.func
        if isinstance(func, cst.Attribute) and func.attr.value not in SHORT_NAMES:
            return None
        if not isinstance(func, cst.Attribute | cst.Name):
            return None
        for candidate in torch_names(self.context, func):
            if candidate in FACTORIES:
                return FACTORIES[candidate]
        return None

    def _in_loop(self) -> bool:
        for ancestor in self.context.ancestors():
            if isinstance(ancestor, LOOPS):
                return True
            if isinstance(ancestor, DEFINITIONS):
                return False
        return False

    def _fix(self, node: cst.Call, factory: cst.Call, name: str, move: Move) -> Fix | None:
        if not move.fixable or keyword(factory, "requires_grad") is not None:
            return None
        if keyword(factory, "generator") is not None:
            return None  # a CPU torch.Generator cannot draw on another device: it would raise
        if name == "as_tensor" and len(positional(factory)) > 1:
            return None  # a positional dtype
        new = factory
        safe = name not in RANDOM
        if move.dtype is not None:
            if keyword(factory, "dtype") is not None:
                return None
            new = with_keyword(new, "dtype", self.context.code_for(move.dtype))
            safe = safe and name in EXACT_IN_ANY_DTYPE
        new = with_keyword(new, "device", move.device_code)
        if not factory.lpar and node.lpar:
            new = new.with_changes(lpar=node.lpar, rpar=node.rpar)
        described = "device= and dtype=" if move.dtype is not None else "device="
        return Fix(
            f"Create the tensor on the device: pass {described} to torch.{name}",
            {node: new},
            applicability="safe" if safe else "unsafe",
        )
