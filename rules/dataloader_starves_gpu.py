"""GL106 dataloader-starves-gpu."""

from __future__ import annotations

import libcst as cst

from green_lint.fixes import add_import
from green_lint.rule import Fix, Rule
from green_lint.rules._accelerator import Accelerators
from green_lint.rules._loader_feeds import feeds_training, loader_target
from green_lint.rules._syntax import argument, has_star, keyword, positional, walk
from green_lint.rules._training_edits import with_keyword

DATALOADERS = ("torch.utils.data.DataLoader", "torch.utils.data.dataloader.DataLoader")
# DataLoader(dataset, batch_size, shuffle, sampler, batch_sampler, num_workers, collate_fn, pin_memory, ...)
NUM_WORKERS_AT, PIN_MEMORY_AT = 5, 7
WORKERS_CODE = "min(8, {os}.cpu_count() or 1)"
MAX_FOLLOW = 3
EVIDENCE = "creedengo GCI102 measured 9.8% less training time and 7.6% less CO2"


class DataloaderStarvesGpu(Rule):
    """
    ## What it does
    Flags a `torch.utils.data.DataLoader` (resolved through imports: `from
    torch.utils.data import DataLoader as DL` too) in a file that runs on an accelerator
    (it moves work to a CUDA device, `.cuda()`, `.to(device)` with a device that may be
    `"cuda"`, `torch.device("cuda" if torch.cuda.is_available() else "cpu")`, a Lightning
    `accelerator="gpu"`... the same detection as GL105) when it loads in the main process
    (`num_workers` unset or 0) or copies from pageable memory (`pin_memory` unset or
    `False`). The finding says which of the two is missing. Only a loader that feeds
    training counts: iterated by a loop that back-propagates (or by a function of the file,
    or of another module of the project, that does), given to a `fit`, returned by a
    Lightning `train_dataloader()`, or handed elsewhere under a training name
    (`train_loader`).

    Not flagged: loaders in files that never use an accelerator (CPU-only code),
    `num_workers` set from a variable or option that is not known to be 0 (a
    command-line `--workers` whose default is 0 is flagged), `pin_memory` set from a
    variable (`pin_memory=use_cuda`), calls with `*args`/`**kwargs`, loaders over data
    already on the GPU (`TensorDataset(x.to(device), ...)`, a dataset class of the file
    that moves its items to the device: workers cannot use CUDA and CUDA tensors cannot be
    pinned), pinned memory on Apple's MPS (not supported there), other libraries'
    `DataLoader` (PyTorch Geometric, a user's own class), and evaluation loaders
    (`test_loader`, `{"val": DataLoader(...)}`, `val_dataloader()`, a loader whose loops
    never train, loaders in a file where nothing trains): they run without gradients and
    far less often, and what they cost is small next to training.

    ## Why it wastes energy
    With `num_workers=0` the training process reads, decodes, augments and collates every
    batch itself, while the GPU waits: a GPU at a fraction of its utilisation still draws
    most of its idle-to-busy power, for longer. Worker processes prepare the next batches
    while the GPU computes. Without pinned (page-locked) host memory each host-to-device
    copy first goes through a staging buffer and cannot overlap with compute; with
    `pin_memory=True` the loader's batches are copied by DMA, asynchronously with
    `.to(device, non_blocking=True)`.

    ## Example
    ```python
    loader = DataLoader(train_set, batch_size=64, shuffle=True)
    for inputs, targets in loader:
        inputs, targets = inputs.to("cuda"), targets.to("cuda")
        ...
    ```

    ## Use instead
    ```python
    import os

    loader = DataLoader(
        train_set,
        batch_size=64,
        shuffle=True,
        num_workers=min(8, os.cpu_count() or 1),
        pin_memory=True,
        persistent_workers=True,
    )
    for inputs, targets in loader:
        inputs = inputs.to("cuda", non_blocking=True)
        targets = targets.to("cuda", non_blocking=True)
        ...
    ```

    ## Fix safety
    Unsafe. The fix adds `num_workers=min(8, os.cpu_count() or 1)` and
    `persistent_workers=True` (and `import os`) where the workers are unset or a literal
    0, and `pin_memory=True` where it is unset or a literal `False`. Worker processes
    change how the program runs: with the `spawn` or `forkserver` start method (Windows,
    macOS, Python 3.14 on Linux) the script's top-level code must sit under `if __name__
    == "__main__":` and the dataset and `collate_fn` must be picklable (no lambdas);
    random augmentations in the dataset draw from per-worker seeds, and persistent workers
    do not draw a new seed each epoch, so a seeded run shuffles its later epochs in
    another order and sees other random numbers; each worker holds a copy of the dataset's memory; and under
    distributed training every process starts its own workers, which can oversubscribe
    the CPUs (lower the count). Pinned memory is a limited resource of the host. Where
    `num_workers` or `pin_memory` comes from a variable known to be 0/False (a
    command-line default), the finding has no fix: change the default.

    ## Evidence
    - creedengo-python rule GCI102 (DataLoader with pinned memory): batch time 0.0472 s ->
      0.0378 s, training time -9.82%, emissions -7.56% on its benchmark.
      https://github.com/green-code-initiative/creedengo-rules-specifications
    - PyTorch's performance tuning guide: "Enable async data loading and augmentation"
      with `num_workers > 0`, and "use pinned memory buffers" with `pin_memory=True` and
      `non_blocking=True`.
      https://docs.pytorch.org/tutorials/recipes/recipes/tuning_guide.html
    - PyTorch's `torch.utils.data` documentation (single- and multi-process data loading,
      memory pinning). https://docs.pytorch.org/docs/stable/data.html
    - How much the loader holds the GPU back depends on the dataset and the model: check
      the GPU's utilisation, and measure the fix with `green-lint verify`.
    """

    code = "GL106"
    name = "dataloader-starves-gpu"
    summary = "A DataLoader feeding an accelerator loads batches in the main process or without pinned memory"
    fix_safety = "unsafe"
    needs = (Accelerators,)
    triggers = ("DataLoader",)

    def visit_Module(self, node: cst.Module) -> None:
        # (loader call, the name it is assigned to, the def that returns it)
        self._loaders: list[tuple[cst.Call, str | None, str | None]] = []

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if (
            isinstance(func, cst.Attribute | cst.Name)
            and not has_star(node)
            and self.context.resolves_to(func, *DATALOADERS)
        ):
            self._loaders.append((node, *loader_target(self.context)))

    def leave_Module(self, original_node: cst.Module) -> None:
        if not self._loaders:
            return
        accelerators = self.context.analysis(Accelerators)
        if not accelerators.targets_accelerator:
            return
        pins = accelerators.placements != frozenset({"mps"})
        for call, target, returned_by in self._loaders:
            if feeds_training(self.context, target, returned_by):
                self._check(call, pins)

    def _check(self, call: cst.Call, pins: bool) -> None:
        values = self.context.values
        workers = argument(call, NUM_WORKERS_AT, "num_workers")
        pin = argument(call, PIN_MEMORY_AT, "pin_memory")
        no_workers = workers is None or values.number(workers) == 0
        no_pinning = pins and (pin is None or values.constant(pin, default=None) in (False, 0))
        if not (no_workers or no_pinning) or self._data_on_device(argument(call, 0, "dataset")):
            return
        missing = []
        if no_workers:
            missing.append(
                "loads every batch in the training process (num_workers "
                + ("unset" if workers is None else "0")
                + "), so the GPU waits while each batch is read, transformed and collated"
            )
        if no_pinning:
            missing.append(
                "copies batches from pageable memory (pin_memory is not True), a slower copy that "
                "cannot overlap with compute"
            )
        advice = []
        if no_workers:
            advice.append("num_workers=min(8, os.cpu_count() or 1), persistent_workers=True")
        if no_pinning:
            advice.append("pin_memory=True (then copy with .to(device, non_blocking=True))")
        self.report(
            call,
            f"This DataLoader feeds an accelerator but {'; it also '.join(missing)}. Pass "
            f"{', '.join(advice)}: {EVIDENCE}.",
            fix=self._fix(call, no_workers, no_pinning),
        )

    # -- data that is on the device already -----------------------------------------------
    def _data_on_device(self, dataset: cst.BaseExpression | None) -> bool:
        """Whether the dataset holds (or its class makes) tensors on an accelerator."""
        return dataset is not None and self._moves_to_device(dataset, 0, set())

    def _moves_to_device(self, node: cst.CSTNode, depth: int, seen: set[int]) -> bool:
        if depth > MAX_FOLLOW or id(node) in seen:
            return False
        seen.add(id(node))
        context = self.context
        accelerators = context.analysis(Accelerators)
        if isinstance(node, cst.ClassDef):  # a dataset class of the file
            return any(accelerators.placement(inner) for inner in walk(node) if isinstance(inner, cst.Call))
        for found in walk(node, enter_definitions=False):
            if isinstance(found, cst.Call):
                if accelerators.placement(found):
                    return True
                definition = context.semantic.definition(found.func)
                if isinstance(definition, cst.ClassDef) and self._moves_to_device(
                    definition, depth + 1, seen
                ):
                    return True
            elif isinstance(found, cst.Name):
                for value in context.values.expressions(found):
                    if value is not found and self._moves_to_device(value, depth + 1, seen):
                        return True
        return False

    # -- the fix ---------------------------------------------------------------------------
    def _fix(self, call: cst.Call, no_workers: bool, no_pinning: bool) -> Fix | None:
        workers = argument(call, NUM_WORKERS_AT, "num_workers")
        pin = argument(call, PIN_MEMORY_AT, "pin_memory")
        if no_workers and workers is not None and not isinstance(workers, cst.Integer):
            return None  # a variable or an option known to be 0: its default is the user's knob
        if no_pinning and pin is not None and not (isinstance(pin, cst.Name) and pin.value == "False"):
            return None
        new = call
        changes: dict = {}
        if no_workers:
            os_name = self.context.semantic.local_name_for("os", call)
            if os_name is None:
                if self.context.semantic.lookup("os", call) is not None:
                    return None  # `os` means something else here
                os_name = "os"
                changes.update(add_import(self.context, "import os", binds="os"))
            new = _set_argument(new, NUM_WORKERS_AT, "num_workers", WORKERS_CODE.format(os=os_name))
        persistent = no_workers or (self.context.values.number(workers) or 0) > 0
        if persistent and keyword(new, "persistent_workers") is None:
            new = with_keyword(new, "persistent_workers", "True")
        if no_pinning:
            new = _set_argument(new, PIN_MEMORY_AT, "pin_memory", "True")
        changes[call] = new
        what = {(True, True): "in worker processes, into pinned memory", (True, False): "in worker processes"}
        message = f"Load batches {what.get((no_workers, no_pinning), 'into pinned memory')}"
        return Fix(message, changes, applicability="unsafe")


def _set_argument(call: cst.Call, position: int, name: str, value_code: str) -> cst.Call:
    """`call` with its argument `name` (by keyword, or at `position`) set to `value_code`."""
    if keyword(call, name) is None:
        args = positional(call)
        if position < len(args):
            old = args[position]
            new = old.with_changes(value=cst.parse_expression(value_code))
            return call.with_changes(args=[new if arg is old else arg for arg in call.args])
    return with_keyword(call, name, value_code)
