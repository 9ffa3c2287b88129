"""GL109 frozen-backbone-with-grad: which names hold a pretrained module, and how the file
uses each one (`backbone_uses`): forwards, head replacements, the sub-modules whose
parameters it reads, and whether any use is one the rule cannot follow.

Pretrained, here: a torchvision builder given `weights=` (not None) or `pretrained=True`,
`timm.create_model(..., pretrained=True)`, a transformers `from_pretrained` model,
`torch.hub.load`, a whole model from `torch.load`/`torch.jit.load`, or a module whose
`load_state_dict(...)` is given weights read from a file in the scope that builds it. Model kinds come from `_torch_model_values.model_value`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._scratch_timm import TIMM_CREATE
from green_lint.rules._scratch_torchvision import torchvision_builder
from green_lint.rules._syntax import argument, has_star, keyword, positional
from green_lint.rules._torch_model_values import MODULE_CHAIN_METHODS, model_value
from green_lint.walk import traverse, walk

# Calls that build an optimizer: their parameters are the ones trained.
OPTIMIZER_PACKAGES = ("torch.optim", "bitsandbytes.optim", "torch_optimizer", "apex.optimizers", "timm.optim")
NOT_OPTIMIZERS = ("torch.optim.lr_scheduler", "torch.optim.swa_utils", "torch.optim.Optimizer")
TRANSFORMERS_OPTIMIZERS = ("transformers.AdamW", "transformers.Adafactor", "transformers.optimization.AdamW")
# Methods of a module that neither alias it nor touch its parameters' gradients.
KEPT_METHODS = (MODULE_CHAIN_METHODS - {"requires_grad_", "share_memory"}) | {"load_state_dict"}
# Methods whose result holds no module and no parameter.
PLAIN_RESULT_METHODS = frozenset({"state_dict", "extra_repr"})
PARAMETER_METHODS = frozenset({"parameters", "named_parameters"})
# torch.nn.Module methods (and common library ones) that are not a forward pass.
MODULE_METHODS = frozenset(
    {
        "add_module",
        "apply",
        "buffers",
        "children",
        "get_buffer",
        "get_parameter",
        "get_submodule",
        "modules",
        "named_buffers",
        "named_children",
        "named_modules",
        "register_buffer",
        "register_module",
        "register_parameter",
        "register_forward_hook",
        "register_forward_pre_hook",
        "register_backward_hook",
        "register_full_backward_hook",
        "register_full_backward_pre_hook",
        "requires_grad_",
        "share_memory",
        "zero_grad",
        "get_classifier",
        "reset_classifier",
        "resize_token_embeddings",
        "gradient_checkpointing_enable",
        "save_pretrained",
        "push_to_hub",
        "freeze",
        "unfreeze",
    }
)
# Attributes a program reads off a model to size its new head: no parameter escapes.
SIZE_ATTRIBUTES = frozenset(
    {
        "in_features",
        "out_features",
        "in_channels",
        "out_channels",
        "num_features",
        "embed_dim",
        "hidden_size",
        "num_classes",
        "training",
        "config",
    }
)
WEIGHT_FILES = (
    "torch.load",
    "torch.hub.load_state_dict_from_url",
    "torch.utils.model_zoo.load_url",
    "safetensors.torch.load_file",
    "safetensors.torch.load",
)
BUILTIN_READERS = ("builtins.print", "builtins.repr", "builtins.str", "builtins.type")


def is_optimizer(context: RuleContext, func: cst.BaseExpression) -> bool:
    qualified = context.resolves_under(func, *OPTIMIZER_PACKAGES)
    if qualified is not None:
        last = qualified.rsplit(".", 1)[-1]
        return last[:1].isupper() and not any(
            qualified == p or qualified.startswith(p + ".") for p in NOT_OPTIMIZERS
        )
    return context.resolves_to(func, *TRANSFORMERS_OPTIMIZERS)


def pretrained_source(context: RuleContext, value: cst.BaseExpression | None) -> str | None:
    """How `value` gets pretrained weights (for the message), or None when it is not a
    pretrained model as written (a module of the file needs its `load_state_dict`)."""
    chained = value
    while isinstance(chained, cst.Call) and isinstance(chained.func, cst.Attribute):
        if chained.func.attr.value == "requires_grad_":
            return None  # frozen (or asked for gradients) as it is built
        chained = chained.func.value
    if isinstance(chained, cst.Attribute) and isinstance(chained.value, cst.Call):
        # `vgg16(weights=...).features`: a part of a pretrained model.
        found = pretrained_source(context, chained.value)
        return f"{found[:-1]}.{chained.attr.value}`" if found is not None else None
    info = model_value(context, {}, value, lambda expr: None)
    if info is None or not isinstance(info.node, cst.Call):
        return None
    call = info.node
    if has_star(call):
        return None
    shown = context.code_for(call.func)
    if info.kind == "pretrained":
        return f"`{shown}(...)`"
    if info.kind == "load":
        return f"`{shown}(...)`"
    if info.kind != "builder":
        return None
    if context.resolves_to(call.func, *TIMM_CREATE):
        flag = keyword(call, "pretrained")
        flag_value = flag.value if flag is not None else argument(call, 1, "pretrained")
        return f"`{shown}(..., pretrained=True)`" if _true(context, flag_value) else None
    qualified = context.resolves_under(call.func, "torchvision.models")
    if qualified is None or torchvision_builder(qualified.split(".")[2:]) is None:
        return None
    weights = keyword(call, "weights")
    if weights is not None:
        single = context.single_value(weights.value)
        none = isinstance(weights.value, cst.Name) and weights.value.value == "None"
        if none or (isinstance(single, cst.Name) and single.value == "None"):
            return None
        return f"`{shown}(weights=...)`"
    flag = keyword(call, "pretrained")
    legacy = positional(call)
    flag_value = flag.value if flag is not None else (legacy[0].value if len(legacy) == 1 else None)
    return f"`{shown}(pretrained=True)`" if _true(context, flag_value) else None


def _true(context: RuleContext, node: cst.BaseExpression | None) -> bool:
    if node is None:
        return False
    single = context.single_value(node)
    return any(isinstance(n, cst.Name) and n.value == "True" for n in (node, single))


@dataclass
class BackboneUses:
    """How the file uses one name that holds a pretrained module."""

    # Calls that run its forward pass (`backbone(x)`, `backbone.features(x)`).
    forwards: list[cst.Call] = field(default_factory=list)
    # `backbone.fc = nn.Linear(...)`: the attribute path ("fc", "classifier[6]").
    heads: list[str] = field(default_factory=list)
    # `backbone.fc.parameters()`: the paths whose parameters the file reads (trains).
    trained: list[str] = field(default_factory=list)
    # `backbone.load_state_dict(...)` called.
    loads_weights: bool = False
    # A use the rule cannot follow (passed on, aliased, its parameters read whole...).
    unknown: str | None = None


def name_uses(context: RuleContext, names: set[str]) -> dict[str, list[list[cst.CSTNode]]]:
    """For each of `names`: the ancestor paths (module first, the Name last) of its
    loads in the file, binding targets and attribute names left out."""
    found: dict[str, list[list[cst.CSTNode]]] = {name: [] for name in names}
    path: list[cst.CSTNode] = []

    def on_visit(node: cst.CSTNode) -> None:
        path.append(node)
        if isinstance(node, cst.Name) and node.value in names:
            parent = path[-2] if len(path) > 1 else None
            if isinstance(parent, cst.Attribute) and parent.attr is node:
                return
            if isinstance(parent, cst.Arg) and parent.keyword is node:
                return
            if isinstance(parent, cst.Param | cst.FunctionDef | cst.ClassDef | cst.ImportAlias):
                return
            found[node.value].append(list(path))

    def on_leave(node: cst.CSTNode) -> None:
        path.pop()

    traverse(context.module, on_visit, on_leave)
    return found


def backbone_uses(context: RuleContext, name: str, paths: list[list[cst.CSTNode]], own) -> BackboneUses:
    """Classify the uses of `name` (`paths` from `name_uses`, only those whose binding is
    `own`, a predicate on the Name node) into a `BackboneUses`."""
    uses = BackboneUses()
    for path in paths:
        node = path[-1]
        if not own(node):
            continue
        problem = _classify(context, name, path, uses)
        if problem is not None:
            uses.unknown = problem
            return uses
    return uses


def _classify(context: RuleContext, name: str, path: list[cst.CSTNode], uses: BackboneUses) -> str | None:
    """Record one use; return why it cannot be followed, or None."""
    index = len(path) - 1
    current: cst.CSTNode = path[index]
    chain: list[str] = []  # attribute names and subscripts, in order
    shown: list[str] = []  # their code (`.fc`, `[6]`)
    while index > 0:
        parent = path[index - 1]
        if isinstance(parent, cst.Attribute) and parent.value is current:
            chain.append(parent.attr.value)
            shown.append(f".{parent.attr.value}")
        elif isinstance(parent, cst.Subscript) and parent.value is current:
            chain.append("[]")
            shown.append(context.code_for(parent)[len(context.code_for(current)) :].strip())
        else:
            break
        current = parent
        index -= 1
    parent = path[index - 1] if index > 0 else None
    grand = path[index - 2] if index > 1 else None
    # A binding target: `name = ...` itself is followed through its bindings, elsewhere.
    if not chain and isinstance(parent, cst.AssignTarget | cst.AnnAssign):
        return None
    if isinstance(parent, cst.AssignTarget) and chain and isinstance(grand, cst.Assign):
        if chain[-1] in SIZE_ATTRIBUTES or "config" in chain:
            return "an attribute of it is set"
        uses.heads.append("".join(shown).lstrip("."))
        return None
    called = isinstance(parent, cst.Call) and parent.func is current
    if not called:
        if chain and (chain[-1] in SIZE_ATTRIBUTES or "config" in chain):
            return None
        if (
            not chain
            and isinstance(parent, cst.Arg)
            and isinstance(grand, cst.Call)
            and context.resolves_to(grand.func, *BUILTIN_READERS)
        ):
            return None
        return f"`{name}` is used as `{context.code_for(current)}`"
    method = chain[-1] if chain else None
    if method is None or (method == "forward" and len(chain) == 1):
        uses.forwards.append(parent)
        return None
    if method in PARAMETER_METHODS:
        if len(chain) == 1:
            return f"`{name}.{method}()` is read"
        uses.trained.append("".join(shown[:-1]).lstrip("."))
        return None
    if len(chain) == 1 and method in KEPT_METHODS:
        if method == "load_state_dict":
            uses.loads_weights = uses.loads_weights or _weights_from_file(context, parent)
            return None
        return _chained_method_use(name, path, index - 1)
    if len(chain) == 1 and method in PLAIN_RESULT_METHODS:
        return None
    if method in MODULE_METHODS or method in KEPT_METHODS or method.startswith("_") or "[]" in chain:
        return f"`{context.code_for(parent)}` is called"
    uses.forwards.append(parent)  # a submodule or a method that runs the model
    return None


def _weights_from_file(context: RuleContext, call: cst.Call) -> bool:
    """Whether `load_state_dict(...)` gets weights read from a file or a URL
    (`torch.load(path)`, `ckpt["model"]` of `ckpt = torch.load(path)`), not the state of
    another model of the program (a target network's copy of the policy network)."""
    state = argument(call, 0, "state_dict")
    if state is None:
        return False
    base = state
    while isinstance(base, cst.Subscript | cst.Attribute):
        base = base.value
    values = context.values.expressions(base) if isinstance(base, cst.Name) else []
    return any(
        isinstance(node, cst.Call) and context.resolves_to(node.func, *WEIGHT_FILES)
        for value in (state, *values)
        for node in walk(value)
    )


def _chained_method_use(name: str, path: list[cst.CSTNode], call_index: int) -> str | None:
    """`backbone.eval()`, `backbone.to(device)`: fine as a statement of its own or as the
    value assigned back to the same name (chains of them too); anything else aliases it."""
    index = call_index
    while (
        index >= 2
        and isinstance(path[index - 1], cst.Attribute)
        and isinstance(path[index - 2], cst.Call)
        and path[index - 1].attr.value in KEPT_METHODS
    ):
        index -= 2
    parent = path[index - 1] if index > 0 else None
    if isinstance(parent, cst.Expr):
        return None
    if isinstance(parent, cst.Assign) and all(
        isinstance(t.target, cst.Name) and t.target.value == name for t in parent.targets
    ):
        return None
    return f"`{name}` is aliased by a `.{path[call_index].func.attr.value}()` call"
