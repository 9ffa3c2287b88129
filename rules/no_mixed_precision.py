"""GL105 no-mixed-precision."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from green_lint.rule import Rule
from green_lint.rules._accelerator import Accelerators
from green_lint.rules._precision_trainers import full_precision_trainer
from green_lint.rules._syntax import DEFINITIONS, argument

AMP_MODULES = ("torch.amp", "torch.cuda.amp", "torch.cpu.amp")
AMP_NAMES = ("torch.autocast", "torch.GradScaler")
LOW_PRECISION_DTYPES = ("torch.float16", "torch.half", "torch.bfloat16")
LOW_PRECISION_ATTRIBUTES = frozenset(name.rsplit(".", 1)[1] for name in LOW_PRECISION_DTYPES)
ACCELERATOR = "accelerate.Accelerator"
TF32_ADVICE = (
    " If the model must stay in float32, at least let its matmuls use TF32 on Ampere or newer "
    'GPUs: `torch.set_float32_matmul_precision("high")` (or `torch.backends.cuda.matmul.allow_tf32 '
    "= True`), which PyTorch leaves off by default."
)


@dataclass
class _Event:
    kind: str  # "backward" | "step" | "call"
    function: cst.FunctionDef | None  # for "call": the def of the file its name stands for
    ancestry: tuple[cst.CSTNode, ...]  # the enclosing loops and definitions, outermost first


@dataclass
class _Effects:
    backward: bool = False
    step: bool = False
    training_loop: bool = False  # a training loop runs inside (it gets the finding)


class NoMixedPrecision(Rule):
    """
    ## What it does
    Flags a PyTorch training loop (a `for`/`while` loop whose body calls `.backward()`
    and an optimizer `.step()`, directly or through a function of the same file it calls)
    in a file that moves work to an accelerator and never uses mixed precision. Work moves
    through `.cuda()`, `.to(device)`, a `device=` argument or `torch.set_default_device`,
    with a device that may be a GPU: `"cuda"`, `"cuda:0"`, `torch.device("cuda")`,
    `torch.device("cuda:{}".format(i))`, `f"cuda:{rank}"`, `"cuda" if torch.cuda.is_available()
    else "cpu"`, `torch.accelerator.current_accelerator()`, `"mps"`, a device kept on `self`
    (`self.device = ...`), or `args.device` whose `add_argument` default is one of these.
    Mixed precision is `torch.autocast`, `torch.amp.autocast`, `torch.cuda.amp.autocast`,
    `torch.cpu.amp`, a `GradScaler`, half-precision dtypes (`.half()`, `torch.float16`,
    `torch.bfloat16`) or `accelerate.Accelerator(mixed_precision=...)` anywhere in the
    file. The finding is on the innermost loop that trains (the batch loop, not the epoch
    loop around it).

    Training libraries that set the precision themselves are flagged at the trainer: a
    Lightning `Trainer` on a GPU (`accelerator="gpu"`, `"cuda"` or `"auto"`, `gpus=N`, or
    Lightning 2's `lightning.Trainer` with no accelerator, which picks the GPU) without
    `precision=`, and a Hugging Face `Trainer` (or `Seq2SeqTrainer`, a TRL trainer, a
    subclass of the file) whose `TrainingArguments` set neither `fp16` nor `bf16`: it
    trains on the GPU whenever there is one. `use_cpu=True`/`no_cuda=True`, a DeepSpeed
    config, arguments built elsewhere (a parser) and `**kwargs` are left alone.

    Not flagged: files that never move work to an accelerator (CPU training gains little
    from autocast; a comment or `torch.cuda.is_available()` alone moves nothing), files
    that already use autocast or a GradScaler, and inference loops (no backward).

    ## Why it wastes energy
    Float16 and bfloat16 matrix multiplications and convolutions run on the tensor cores
    of Volta and later NVIDIA GPUs, at several times the float32 throughput, and halve
    the memory traffic and the activation memory (PyTorch leaves TF32 off for float32
    matmuls by default). Automatic mixed precision uses the low precision where it is
    safe and keeps float32 where it is not, so each step takes less time and memory,
    usually at the same accuracy. Less time on the same GPU is usually less energy, but
    the energy saving has been measured far less than the speed-up (see Evidence).

    ## Example
    ```python
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = Net().to(device)
    for inputs, targets in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(inputs.to(device)), targets.to(device))
        loss.backward()
        optimizer.step()
    ```

    ## Use instead
    ```python
    scaler = torch.amp.GradScaler("cuda")  # needed for float16, not for bfloat16
    for inputs, targets in loader:
        optimizer.zero_grad()
        with torch.autocast(device_type="cuda", dtype=torch.float16):
            loss = loss_fn(model(inputs.to(device)), targets.to(device))
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
    ```

    Where the model cannot run in reduced precision (a loss that overflows in float16, a
    numerically delicate model), float32 matmuls can still use the tensor cores through
    TF32 on Ampere and newer GPUs, which PyTorch leaves off for matmuls by default:
    ```python
    torch.set_float32_matmul_precision("high")  # or: torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True  # convolutions (already True by default)
    ```
    TF32 keeps float32's range with a 10-bit mantissa in the matmul inputs; the CUDA
    message says so for CUDA loops.

    ## Fix safety
    No fix: which region to autocast, which dtype, and whether the model is numerically
    fine in reduced precision need a person.

    ## Evidence
    - TensorFlow mixed precision guide: mixed precision can speed training up by more than
      3x on modern GPUs and by 60% on TPUs. That is a speed figure, not an energy one.
      https://www.tensorflow.org/guide/mixed_precision
    - The only energy measurement found is weak: a TU Delft student project measured
      about 12% less energy for 1% less accuracy on one CNN.
      https://luiscruz.github.io/course_sustainableSE/2026/p1_measuring_software/g30_mixed-precision.html
    - PyTorch AMP recipe: `torch.autocast` and `torch.amp.GradScaler`.
      https://pytorch.org/docs/stable/amp.html
    - PyTorch, TF32 on Ampere (and later) devices: `torch.backends.cuda.matmul.allow_tf32`
      and `torch.set_float32_matmul_precision`; on an A100, TF32 tensor cores run matmuls
      at 156 TFLOPS against 19.5 TFLOPS for plain FP32 (NVIDIA A100 datasheet).
      https://pytorch.org/docs/stable/notes/cuda.html#tensorfloat-32-tf32-on-ampere-and-later-devices,
      https://pytorch.org/docs/stable/generated/torch.set_float32_matmul_precision.html,
      https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a100/pdf/nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf
    - The saving depends on the GPU (tensor cores) and on how much of the step is
      matmul/convolution: measure it on your code with `green-lint verify`.
    """

    code = "GL105"
    needs = (Accelerators,)
    name = "no-mixed-precision"
    summary = "A GPU training loop in full float32: autocast to run on tensor cores with less memory"
    severity = "info"
    # An accelerator (`cuda`, `mps`, `xpu`, `torch.accelerator`, `torch.device(0)`) or a
    # library trainer.
    triggers = (
        "cuda",
        ("mps", "torch"),
        ("xpu", "torch"),
        ("accelerator", "torch"),
        ("device(", "torch"),
        ("gpus", "lightning"),
        ("Trainer", "lightning"),
        ("Trainer", "transformers"),
        ("Trainer", "trl"),
    )

    def visit_Module(self, node: cst.Module) -> None:
        imported = self.context.semantic.imported_names
        self._reduced_precision = any(
            target.startswith(prefix) for target in imported for prefix in AMP_MODULES
        ) or any(target in AMP_NAMES for target in imported)
        self._events: list[_Event] = []
        self._loops: list[tuple[cst.CSTNode, tuple[cst.CSTNode, ...]]] = []
        self._frames: list[cst.CSTNode] = []
        # Library trainers that train in float32, with their messages.
        self._trainers: list[tuple[cst.Call, str]] = []

    def _ancestry(self) -> tuple[cst.CSTNode, ...]:
        return tuple(self._frames)

    # The enclosing loops and definitions, kept as the traversal enters and leaves them.
    def _enter_loop(self, node: cst.CSTNode) -> None:
        self._loops.append((node, self._ancestry()))
        self._frames.append(node)

    def _enter(self, node: cst.CSTNode) -> None:
        self._frames.append(node)

    def _leave(self, original_node: cst.CSTNode) -> None:
        self._frames.pop()

    visit_For = visit_While = _enter_loop
    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _enter_loop
    visit_FunctionDef = visit_ClassDef = visit_Lambda = _enter
    leave_For = leave_While = leave_ListComp = leave_SetComp = leave_DictComp = _leave
    leave_GeneratorExp = leave_FunctionDef = leave_ClassDef = leave_Lambda = _leave

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if (
            not self._reduced_precision
            and node.attr.value in LOW_PRECISION_ATTRIBUTES
            and self.context.resolves_to(node, *LOW_PRECISION_DTYPES)
        ):
            self._reduced_precision = True

    def visit_Call(self, node: cst.Call) -> None:
        context = self.context
        func = node.func
        if isinstance(func, cst.Attribute):
            attr = func.attr.value
            if attr == "backward":
                self._events.append(_Event("backward", None, self._ancestry()))
            elif attr == "step" and len(node.args) <= 1:
                self._events.append(_Event("step", None, self._ancestry()))
            elif attr in ("half", "bfloat16") and not node.args:
                self._reduced_precision = True
        elif isinstance(func, cst.Name) and (called := context.values.calls.target(node)) is not None:
            self._events.append(_Event("call", called, self._ancestry()))
        if self._reduced_precision:
            return
        message = full_precision_trainer(context, node)
        if message is not None:
            self._trainers.append((node, message))
        if context.resolves_under(func, *AMP_MODULES) or context.resolves_to(func, *AMP_NAMES):
            self._reduced_precision = True
        elif context.resolves_to(func, ACCELERATOR):
            precision = argument(node, None, "mixed_precision")
            if precision is not None and not (
                isinstance(precision, cst.SimpleString) and precision.evaluated_value == "no"
            ):
                self._reduced_precision = True

    def leave_Module(self, original_node: cst.Module) -> None:
        if self._reduced_precision:
            return
        for call, message in self._trainers:
            self.report(call, message)
        if not self._loops:
            return
        analysis = _Analysis(self._events, self._loops)
        training_loops = [loop for loop, _ in self._loops if analysis.is_training_loop(loop)]
        # Where the work runs is asked last: following device expressions costs the most.
        placements = self.context.analysis(Accelerators).placements if training_loops else None
        if not placements:
            return  # the loops run on the CPU, where autocast gains little
        name, device_type = _device_names(placements)
        for loop in training_loops:
            self.report(
                loop,
                f"This {name} training loop runs in full float32: run the forward pass and the loss "
                f'under `with torch.autocast(device_type="{device_type}", dtype=torch.bfloat16):` '
                "(or float16 with a torch.amp.GradScaler) so that matmuls and convolutions use the "
                "tensor cores, cutting step time and activation memory (up to 3x faster training "
                "on modern GPUs per TensorFlow's guide; the energy saving is less well measured: "
                "check it with green-lint verify)."
                + (TF32_ADVICE if device_type == "cuda" and not _sets_tf32(self.context.text) else ""),
                end_node=_header_end(loop),
            )


def _device_names(placements: frozenset[str]) -> tuple[str, str]:
    """How the message names the device, and the `device_type` autocast takes: CUDA unless
    the file only ever moves work to another accelerator."""
    if len(placements) == 1 and next(iter(placements)) in ("mps", "xpu", "npu", "hpu"):
        device_type = next(iter(placements))
        return device_type.upper(), device_type
    return "CUDA", "cuda"


def _sets_tf32(text: str) -> bool:
    """Whether the file already chooses TF32 (or another float32 matmul precision)."""
    return "allow_tf32" in text or "set_float32_matmul_precision" in text


def _header_end(loop: cst.CSTNode) -> cst.CSTNode:
    """Where the reported range ends: the `for ... in ...` / `while ...` header."""
    if isinstance(loop, cst.For):
        return loop.iter
    if isinstance(loop, cst.While):
        return loop.test
    return loop


def _index_by_container(items, ancestry_of) -> dict[int, list]:
    """Each item under every loop or function it runs as part of: its enclosing loops up
    to, and including, the nearest enclosing function (a function defined inside a loop
    runs when it is called, not as part of the loop)."""
    index: dict[int, list] = {}
    for item in items:
        for node in reversed(ancestry_of(item)):
            index.setdefault(id(node), []).append(item)
            if isinstance(node, DEFINITIONS):
                break
    return index


class _Analysis:
    """Which loops train: backward and step inside, and no inner loop that trains."""

    def __init__(self, events: list[_Event], loops) -> None:
        self.events = _index_by_container(events, lambda event: event.ancestry)
        self.loops = _index_by_container(loops, lambda loop: loop[1])
        self._loop_memo: dict[int, bool] = {}
        self._function_memo: dict[int, _Effects] = {}

    def is_training_loop(self, loop: cst.CSTNode) -> bool:
        key = id(loop)
        if key not in self._loop_memo:
            self._loop_memo[key] = False  # recursion guard
            effects = self._effects_of(loop)
            self._loop_memo[key] = effects.backward and effects.step and not effects.training_loop
        return self._loop_memo[key]

    def _effects_of(self, container: cst.CSTNode) -> _Effects:
        effects = _Effects()
        for event in self.events.get(id(container), ()):
            if event.kind == "backward":
                effects.backward = True
            elif event.kind == "step":
                effects.step = True
            else:
                function = event.function
                if function is not None and function is not container:
                    called = self._function_effects(function)
                    effects.backward |= called.backward
                    effects.step |= called.step
                    effects.training_loop |= called.training_loop
        for loop, _ in self.loops.get(id(container), ()):
            if self.is_training_loop(loop):
                effects.training_loop = True
        return effects

    def _function_effects(self, function: cst.FunctionDef) -> _Effects:
        key = id(function)
        if key not in self._function_memo:
            self._function_memo[key] = _Effects()  # recursion guard
            self._function_memo[key] = self._effects_of(function)
        return self._function_memo[key]
