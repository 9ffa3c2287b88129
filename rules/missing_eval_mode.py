"""GL303 missing-eval-mode."""

from __future__ import annotations

import libcst as cst

from green_lint.names import statements_of
from green_lint.project import where_in_project
from green_lint.rule import Rule
from green_lint.rules._graph_flow import FlowIndex
from green_lint.rules._torch import is_inference_function, is_model_code
from green_lint.rules._torch_call_graph import Analysis
from green_lint.rules._torch_eval_mode import is_eval_call
from green_lint.rules._torch_forwards import Forwards
from green_lint.rules._torch_model_values import MODULE_CHAIN_METHODS, ModelInfo
from green_lint.rules._torch_modules import TorchModules, model_key


class MissingEvalMode(Rule):
    """
    ## What it does
    Flags inference on a torch module (a forward pass under `torch.no_grad()` /
    `torch.inference_mode()`, in an inference function as GL301 defines it, or in a
    function of any name that only keeps the outputs, such as a sampling helper) when
    nothing in the file ever calls `.eval()` (or `.train(False)`) on that module, matched
    by its variable or attribute name (a submodule follows its owner). One finding per
    function.

    A module's own method that calls `self(x)` is not flagged: like a parameter, its
    caller decides the mode. The caller is: `tagger.predict(x)`, where `predict` runs the
    module for inference, is flagged when nothing switches `tagger` to eval mode.

    Only modules whose behaviour depends on the mode are flagged: classes of the file and
    `nn.Sequential`... that use dropout, batch norm, instance norm or transformer layers,
    and models that come from `torch.load`, `torch.jit.load`, torchvision or timm
    builders. Models from transformers' `from_pretrained` (already in eval mode), plain
    layers such as `nn.Linear`, function parameters (the caller may have switched them),
    and the `dropout=` of a one-layer `nn.RNN`/`nn.LSTM`/`nn.GRU` (it acts between stacked
    layers only) are not. A class imported from another module of the project
    (`from models import Net`) counts when that module's code uses dropout, batch norm,
    instance norm, transformer layers or `self.training`; read from its words only, it is
    flagged where autograd is off (under `torch.no_grad()`...), and the message names the
    file that defines it.

    ## Why it wastes energy
    A module starts in training mode. Without `.eval()`, dropout keeps dropping
    activations at random and batch norm normalises each batch with its own statistics
    (and keeps updating its running averages): the predictions are wrong, they change
    with the batch size, and the work spent computing them is wasted. In training mode a
    model also cannot use some fused inference paths (`nn.TransformerEncoder`'s fast path
    runs only in eval mode).

    ## Example
    ```python
    model = Net()
    model.load_state_dict(torch.load("weights.pt"))
    with torch.no_grad():
        predictions = model(batch)
    ```

    ## Use instead
    ```python
    model = Net()
    model.load_state_dict(torch.load("weights.pt"))
    model.eval()
    with torch.no_grad():
        predictions = model(batch)
    ```

    ## Fix safety
    No fix: where `.eval()` belongs (and whether the module is switched back to training
    later) depends on the program.

    ## Evidence
    - PyTorch, `nn.Module.eval`: "This has an effect only on certain modules ... e.g.
      Dropout, BatchNorm"; `torch.no_grad` does not change the mode.
      https://docs.pytorch.org/docs/stable/generated/torch.nn.Module.html#torch.nn.Module.eval
    - PyTorch, `nn.TransformerEncoderLayer`: the fast path needs `training` to be False.
      https://docs.pytorch.org/docs/stable/generated/torch.nn.TransformerEncoderLayer.html
    - This is first a correctness problem; the energy wasted is the whole inference run.
      Measure on your code with `green-lint verify`.
    """

    code = "GL303"
    needs = (Analysis, TorchModules, FlowIndex)
    name = "missing-eval-mode"
    summary = "Inference on a torch module that is never switched to eval mode: dropout and batch norm stay in training mode"
    triggers = tuple(
        ("torch", word)
        for word in ("no_grad", "inference_mode", "eval", "valid", "test", "predict", "infer", "generate")
    )

    def leave_Module(self, node: cst.Module) -> None:
        context = self.context
        if not context.semantic.imports_module("torch"):
            return
        analysis = context.analysis(Analysis)
        models = context.analysis(TorchModules)
        evaluated = _evaluated_keys(analysis, models)
        any_eval = bool(evaluated)
        grad_free = analysis.grad_free_functions()
        needs_grad = analysis.needs_grad()
        forwards = Forwards(context, analysis, models)
        reported: set[tuple[int, str | None]] = set()
        for call, state in analysis.calls:
            forward = models.forward_model(call, state)
            via_method = forward is None
            if via_method:
                forward = _inference_method(forwards, call, state, grad_free)
            if forward is None:
                continue
            target, info = forward
            if not models.mode_dependent(info):
                continue
            func = state.func
            function_info = analysis.functions[func] if func is not None else None
            if function_info is not None and _own_forward(target, function_info):
                continue  # `self(x)` in the module's own method: its caller decides the mode
            key = _owner_key(models, target, state)
            # One finding per function (its first model left in training mode); at module
            # level, one per model.
            place = (id(func), key if func is None else None)
            if key is None or key in evaluated or place in reported:
                continue
            method_of = function_info.method_of if function_info is not None else None
            if (
                any_eval
                and method_of is not None
                and method_of.name.value in models.module_classes
                and _through_self(target)
            ):
                continue  # a module's own submodule: `.eval()` on the outer module switches it
            inference = via_method or state.grad_off is not None or analysis.module_disables_grad
            if function_info is not None:
                inference = inference or func in grad_free
            # A class of another module is known mode-dependent from the words of its code
            # only (a `dropout_p` that feeds a one-layer GRU counts): it is flagged where the
            # file itself says the call is inference (autograd off), not on a function's name.
            if function_info is not None and info.defined_in is None:
                inference = (
                    inference
                    or is_inference_function(models, function_info)
                    or _sampling_helper(forwards, call, function_info, needs_grad)
                )
            if not inference:
                continue
            reported.add(place)
            code = context.code_for(target)
            defined, related = _defined_elsewhere(context, info)
            self.report(
                call,
                f"`{code}`{defined} runs inference but nothing in the file calls `{code}.eval()`: "
                "dropout stays active and batch norm uses (and updates) the statistics of each "
                "batch, so the predictions are wrong and the work is wasted. Call `.eval()` "
                "before inference (and `.train()` to resume training).",
                related=related,
            )


def _defined_elsewhere(context, info: ModelInfo) -> tuple[str, tuple]:
    """For a model whose class another module of the project defines: the words that name
    that module in the message, and the related location of the class."""
    project_class = info.defined_in
    if project_class is None or context.source_path is None:
        return "", ()
    where = f"{where_in_project(project_class.path, context.source_path)}:{project_class.line}"
    return (
        f" (a `{project_class.name}`, defined in `{where}`, which uses dropout or batch norm)",
        ((project_class.path, project_class.line, f"`{project_class.name}` is defined here"),),
    )


def _inference_method(forwards: Forwards, call: cst.Call, state, grad_free):
    """(the model, what it is) for `model.predict(x)` when the method `predict` of the
    model's class runs the model for inference: the caller's module is the one whose mode
    matters (the method's own `self(x)` is not flagged)."""
    found = forwards.method_forward(call, state)
    if found is None:
        return None
    method = forwards.analysis.functions[found[2]]
    inference = method.node in grad_free or is_inference_function(forwards.models, method)
    return (found[0], found[1]) if inference else None


def _own_forward(target: cst.BaseExpression, info) -> bool:
    """`self(...)` (or `self.forward(...)`) inside a method of the module itself."""
    params = [*info.node.params.posonly_params, *info.node.params.params]
    return (
        info.method_of is not None
        and isinstance(target, cst.Name)
        and bool(params)
        and target.value == params[0].name.value
    )


def _owner_key(models: TorchModules, target: cst.BaseExpression, state) -> str | None:
    """The name `.eval()` calls are matched by: a submodule of a model of the file
    (`model.encoder`) follows its owner's mode."""
    while isinstance(target, cst.Attribute) and not _through_self(target):
        if models.lookup(target.value, state.func or models.context.module) is None:
            break
        target = target.value
    return model_key(target)


def _sampling_helper(forwards: Forwards, call: cst.Call, info, needs_grad) -> bool:
    """A function of any name that runs the model only for its outputs (saves samples,
    plots predictions): GL301's forward whose output nothing backpropagates through."""
    if info.node in needs_grad or is_model_code(forwards.context, info):
        return False
    return forwards.fate(call, info.node) == "no" and not forwards.training_data(call, info.node)


def _through_self(target: cst.BaseExpression) -> bool:
    base = target
    while isinstance(base, cst.Attribute):
        base = base.value
    return isinstance(base, cst.Name) and base.value == "self"


def _evaluated_keys(analysis: Analysis, models: TorchModules) -> set[str]:
    """Names of everything the file switches to eval mode: receivers of `.eval()` /
    `.train(False)`, targets assigned `X.eval()`, and the arguments given to a function
    of the file that switches its parameter."""
    keys: set[str] = set()
    switched_parameters: dict[cst.FunctionDef, set[str]] = {}
    for call, state in analysis.calls:
        if not is_eval_call(call):
            continue
        receiver = call.func.value
        key = model_key(receiver)
        if key is not None:
            keys.add(key)
        if (
            state.func is not None
            and isinstance(receiver, cst.Name)
            and receiver.value in analysis.functions[state.func].parameter_names()
        ):
            switched_parameters.setdefault(state.func, set()).add(receiver.value)
    for statement in statements_of(models.context.module):
        if isinstance(statement, cst.Assign | cst.AnnAssign) and _ends_in_eval(statement.value):
            targets = (
                [t.target for t in statement.targets]
                if isinstance(statement, cst.Assign)
                else [statement.target]
            )
            keys.update(key for key in map(model_key, targets) if key is not None)
    for func, names in switched_parameters.items():
        info = analysis.functions[func]
        positions = info.parameter_names()
        for site in analysis.call_sites(func):
            if not isinstance(site.node, cst.Call) or site.how != "call":
                continue
            offset = 1 if info.method_of is not None else 0
            for index, arg in enumerate(site.node.args):
                name = arg.keyword.value if arg.keyword is not None else None
                if name is None and index + offset < len(positions):
                    name = positions[index + offset]
                if name in names:
                    key = model_key(arg.value)
                    if key is not None:
                        keys.add(key)
    return keys


def _ends_in_eval(value: cst.BaseExpression | None) -> bool:
    while isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute):
        if is_eval_call(value):
            return True
        if value.func.attr.value not in MODULE_CHAIN_METHODS:
            return False
        value = value.func.value
    return False
