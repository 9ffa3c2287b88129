"""GL304 eager-cpu-inference (preview)."""

from __future__ import annotations

import ast
import re

import libcst as cst

from green_lint.rule import Rule
from green_lint.rules._accelerator import Accelerators
from green_lint.rules._torch import has_inference_name, loop_needs_grad
from green_lint.rules._torch_call_graph import Analysis
from green_lint.rules._torch_model_values import ModelInfo
from green_lint.rules._torch_modules import TorchModules
from green_lint.rules._torch_request_handlers import is_request_handler

# Already compiled, scripted, quantised or exported.
OPTIMISED = (
    "torch.compile",
    "torch.jit.script",
    "torch.jit.trace",
    "torch.jit.freeze",
    "torch.export.export",
    "torch.onnx.export",
    "torch.ao.quantization.quantize_dynamic",
    "torch.quantization.quantize_dynamic",
    "torch.ao.quantization.quantize_fx.convert_fx",
)
RUNTIMES = ("onnxruntime", "openvino", "tensorrt", "torch_tensorrt", "optimum", "intel_extension_for_pytorch")
QUANTIZABLE = re.compile(r"\b(Linear|LSTM|GRU|RNN)\b")


class EagerCpuInference(Rule):
    """
    ## What it does
    Flags repeated eager PyTorch inference on the CPU: a forward pass in a loop (or in a
    function called from a loop, or in a web request handler) that computes no
    gradients, in a file whose code never targets an accelerator and never compiles,
    scripts, quantises or exports the model. Code targets an accelerator when it moves work
    to one (`.cuda()`, `.to(device)` or `device=` with a device that may be `"cuda"`, `"mps"`,
    `torch.device("cuda:{}".format(i))`, `f"cuda:{rank}"`, `self.device = "cuda" if ... else
    "cpu"`, `args.device` with an argparse default `"cuda"`,
    `torch.accelerator.current_accelerator()`), names an accelerator device in a string,
    places a model with `device_map=`, or uses `torch.cuda` beyond asking whether there is
    a GPU, `torch.accelerator`, accelerate's `Accelerator` or `nn.DataParallel`. A comment
    that mentions CUDA does not count. It suggests ONNX Runtime,
    `torch.compile`, or dynamic quantisation for models made of `nn.Linear` / `nn.LSTM`
    layers.

    This rule is in preview and its severity is "info": it is advice to measure, not a
    defect.

    ## Why it wastes energy
    Eager mode dispatches every operator from Python, one at a time, with no fusion.
    For a model served many times on a CPU, a graph runtime (ONNX Runtime fuses
    operators and picks CPU kernels), `torch.compile`, or int8 dynamic quantisation
    (`torch.ao.quantization.quantize_dynamic`, for `nn.Linear` / `nn.LSTM`) can cut the
    time and energy per prediction. The PyTorch BERT tutorial measured 1.78x faster
    inference on one thread with dynamic quantisation, for an F1 of 0.902 vs 0.9019.

    **The gain depends on the model and must be measured.** It is not universal: a user
    found eager PyTorch faster than ONNX Runtime for wav2vec2, and headline ONNX figures
    often mix several optimisations (distillation, fusion, quantisation). Measure both
    versions on your own model and data with `green-lint verify` (the fixtures of this
    rule hold an eager model and its ONNX Runtime version to compare).

    ## Example
    ```python
    model.eval()
    with torch.no_grad():
        for batch in batches:
            outputs.append(model(batch))
    ```

    ## Use instead
    ```python
    torch.onnx.export(model, (example,), "model.onnx", input_names=["x"],
                      dynamic_axes={"x": {0: "batch"}}, dynamo=False)
    session = onnxruntime.InferenceSession("model.onnx", providers=["CPUExecutionProvider"])
    for batch in batches:
        outputs.append(session.run(None, {"x": batch.numpy()})[0])
    ```
    Or `model = torch.compile(model)`, or
    `model = torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)`
    (check the accuracy afterwards).

    ## Fix safety
    No fix: the choice of runtime, the export and the accuracy check are decisions for a
    person, backed by a measurement.

    ## Evidence
    - PyTorch tutorial, dynamic quantisation of BERT on MRPC: 438 MB -> 181 MB, 1 thread
      160 s -> 90 s (1.78x), F1 0.9019 vs 0.902.
      https://github.com/pytorch/tutorials/blob/main/intermediate_source/dynamic_quantization_bert_tutorial.rst
    - GAISSA, 42 Hugging Face image models (Computing 107:103, 2025): dynamic
      quantisation significantly cuts inference time and energy; `torch.compile` balances
      accuracy and energy.
      https://gaissa.upc.edu/en/news/gaissa-team-publishes-research-on-ml-optimization-for-sustainability-in-computing
    - Counter-example: eager PyTorch faster than ONNX for wav2vec2.
      https://discuss.pytorch.org/t/does-onnx-increase-inference-efficiency-compared-to-pytorch-model/194980
    - No neutral, reproducible headline figure exists for ONNX Runtime vs eager PyTorch on
      CPU: the evidence is weak, so measure with `green-lint verify`.
    """

    code = "GL304"
    needs = (Accelerators, Analysis, TorchModules)
    name = "eager-cpu-inference"
    summary = "Repeated eager PyTorch inference on CPU; ONNX Runtime, torch.compile or dynamic quantisation may serve it cheaper (measure)"
    severity = "info"
    preview = True
    triggers = ("torch",)

    @classmethod
    def may_flag(cls, tree, text: str, project_function=None) -> bool:
        """The file imports torch (or may, through a relative import) and no runtime."""
        modules, relative = _imported_modules(tree)
        if any(_under(name, RUNTIMES) for name in modules):
            return False
        return relative or any(_under(name, ("torch",)) for name in modules)

    def leave_Module(self, node: cst.Module) -> None:
        context = self.context
        imports = context.semantic
        if not imports.imports_module("torch") or any(imports.imports_module(name) for name in RUNTIMES):
            return
        analysis = context.analysis(Analysis)
        if any(context.resolves_to(call.func, *OPTIMISED) for call, _ in analysis.calls):
            return
        models = context.analysis(TorchModules)
        needs_grad = analysis.needs_grad()
        candidates = []
        for call, state in analysis.calls:
            forward = models.forward_model(call, state)
            if forward is None:
                continue
            func = state.func
            if func is None:
                if not state.loops or loop_needs_grad(analysis, state.loops[0], needs_grad):
                    continue
                where, key = "in a loop", state.loops[0]
            else:
                if func in needs_grad:
                    continue
                info = analysis.functions[func]
                if (
                    info.method_of is not None
                    and info.method_of.name.value in models.module_classes
                    and not has_inference_name(context, info)
                ):
                    continue  # a module's own forward calling its submodules
                where = self._repetition(analysis, info, state)
                if where is None:
                    continue
                key = func
            candidates.append((call, forward, where, key))
        if not candidates or context.analysis(Accelerators).targets_accelerator:
            return  # the model may run on an accelerator: not (only) CPU inference
        reported = set()
        for call, (target, info), where, key in candidates:
            if id(key) in reported:
                continue
            reported.add(id(key))
            self.report(call, self._message(context.code_for(target), info, where))

    def _repetition(self, analysis, info, state) -> str | None:
        if state.loops:
            return "in a loop"
        if is_request_handler(self.context, info.node, analysis):
            return "on every request"
        for site in analysis.call_sites(info.node):
            if site.how == "mapped" or (site.how == "call" and site.state.loops):
                return f"in `{info.name}()`, called in a loop"
        return None

    def _message(self, target: str, info: ModelInfo, where: str) -> str:
        suggestions = "export it to ONNX Runtime (`torch.onnx.export`) or try `torch.compile`"
        text = self.context.code_for(info.node) if info.node is not None else ""
        if info.kind == "class":
            cls = self.context.analysis(TorchModules).module_classes.get(info.detail)
            text = self.context.code_for(cls) if cls is not None else text
        if info.kind in ("class", "layer") and QUANTIZABLE.search(text):
            suggestions += (
                ", or quantise its Linear/LSTM layers with "
                "`torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)`"
            )
        return (
            f"`{target}` runs eager PyTorch inference on the CPU {where}: {suggestions}. "
            "The gain depends on the model (eager can even win): measure it with "
            "`green-lint verify` before switching."
        )


def _imported_modules(tree: ast.Module) -> tuple[set[str], bool]:
    """The modules the file's import statements name, in any scope, and whether one of
    them is relative (its package, and so what it imports, is not known here)."""
    modules: set[str] = set()
    relative = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            relative = relative or node.level > 0
            if node.module and not node.level:
                modules.add(node.module)
    return modules, relative


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)
