"""Which expressions build a torch module, and what kind: an `nn.Module` subclass of the
file, a class of another module of the project that uses dropout or batch norm, a
`torch.nn` layer, `torch.load`/`torch.jit.load`/`torch.hub.load`, a torchvision or timm
builder, a transformers model class, or `.to()`/`.eval()`/`torch.compile` of one of those.
Precision first: anything else is not a model.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from green_lint.context import RuleContext
from green_lint.names import statements_of
from green_lint.rules._syntax import argument

if TYPE_CHECKING:
    from green_lint.project import ProjectClass

MODULE_BASE_CLASSES = (
    "torch.nn.Module",
    "torch.nn.modules.module.Module",
    "lightning.pytorch.LightningModule",
    "lightning.LightningModule",
    "pytorch_lightning.LightningModule",
    "transformers.PreTrainedModel",
    "transformers.modeling_utils.PreTrainedModel",
)
NOT_LAYERS = frozenset(
    {"Parameter", "UninitializedParameter", "UninitializedBuffer", "Buffer", "ParameterList", "ParameterDict"}
)
NOT_LAYER_PACKAGES = ("torch.nn.functional", "torch.nn.init", "torch.nn.utils", "torch.nn.parameter")
# torch.nn layers without parameters: calling them records no graph worth the name, and
# they have no train/eval behaviour that matters here. Not treated as models.
PARAMETER_FREE = re.compile(
    r"^(?:\w*Loss|ReLU6?|RReLU|GELU|SiLU|Mish|Sigmoid|Tanh|Softmax2?d?|LogSoftmax|Softmin|Softplus|"
    r"Softsign|Hardtanh|Hardswish|Hardsigmoid|LeakyReLU|ELU|SELU|CELU|GLU|Tanhshrink|Softshrink|"
    r"Hardshrink|LogSigmoid|Threshold|Identity|Flatten|Unflatten|\w*Pool[123]d|MaxUnpool[123]d|"
    r"Upsample\w*|PixelShuffle|PixelUnshuffle|ChannelShuffle|\w*Pad[123]d|\w*Dropout\w*|"
    r"CosineSimilarity|PairwiseDistance|Fold|Unfold)$"
)
# Methods of a module that return the module itself (or a copy): the value is still a model.
MODULE_CHAIN_METHODS = frozenset(
    {
        "to",
        "eval",
        "train",
        "cuda",
        "cpu",
        "half",
        "float",
        "double",
        "bfloat16",
        "requires_grad_",
        "share_memory",
    }
)
TORCH_LOADS = ("torch.load", "torch.jit.load", "torch.hub.load")
TORCH_WRAPPERS = ("torch.jit.script", "torch.jit.trace", "torch.compile", "copy.deepcopy", "copy.copy")
# Not models (tokenizers, configs...), or not PyTorch models (TensorFlow's and Flax's `TF...`,
# `Flax...` classes).
NOT_MODEL_CLASS = re.compile(r"Tokenizer|Processor|Config|FeatureExtractor|Pipeline|Extractor|^TF|^Flax")


@dataclass
class ModelInfo:
    """What a name that holds a torch module was built from."""

    # "class" (an nn.Module subclass of the file, or a class of another module of the
    # project whose computation depends on train/eval mode), "layer" (torch.nn), "load"
    # (torch.load, torch.jit.load, torch.hub.load), "builder" (torchvision/timm/transformers
    # from_config), "pretrained" (transformers from_pretrained: already in eval mode),
    # "parameter".
    kind: str
    node: cst.CSTNode | None = None
    # The class name for a "class" of the file ("" for one of another module: no class of
    # the file), the layer name for "layer".
    detail: str = ""
    # For a "class" of another module of the project: where it is defined.
    defined_in: ProjectClass | None = None


def module_classes(context: RuleContext) -> dict[str, cst.ClassDef]:
    """The classes of the file that are torch modules (directly or through another)."""
    classes = [s for s in statements_of(context.module) if isinstance(s, cst.ClassDef)]
    found: dict[str, cst.ClassDef] = {}
    changed = True
    while changed:
        changed = False
        for cls in classes:
            if cls.name.value in found:
                continue
            for base in cls.bases:
                value = base.value
                if (
                    context.resolves_to(value, *MODULE_BASE_CLASSES)
                    or layer_name(context, value) is not None
                    or (isinstance(value, cst.Name) and value.value in found)
                ):
                    found[cls.name.value] = cls
                    changed = True
                    break
    return found


def layer_name(context: RuleContext, func: cst.BaseExpression) -> str | None:
    """The torch.nn layer/container class `func` stands for (`nn.Linear` -> "Linear")."""
    qualified = context.resolves_under(func, "torch.nn")
    if qualified is None or any(qualified == p or qualified.startswith(p + ".") for p in NOT_LAYER_PACKAGES):
        return None
    last = qualified.rsplit(".", 1)[-1]
    if not last[:1].isupper() or last in NOT_LAYERS or last == "Module":
        return None
    return last


def model_value(
    context: RuleContext,
    classes: dict[str, cst.ClassDef],
    value: cst.BaseExpression | None,
    lookup: Callable[[cst.BaseExpression], ModelInfo | None],
) -> ModelInfo | None:
    """What model `value` is, if it is one. `classes` are the file's module classes;
    `lookup` answers for names and `self.x` attributes."""
    if isinstance(value, cst.Name | cst.Attribute):
        return lookup(value)
    if not isinstance(value, cst.Call):
        return None
    func = value.func
    # A class of the file only where its name refers to that class (not shadowed).
    if (
        isinstance(func, cst.Name)
        and func.value in classes
        and context.semantic.definition(func) is classes[func.value]
    ):
        return ModelInfo("class", value, func.value)
    layer = layer_name(context, func)
    if layer is not None:
        return None if PARAMETER_FREE.match(layer) else ModelInfo("layer", value, layer)
    if context.resolves_to(func, *TORCH_LOADS):
        return ModelInfo("load", value)
    if context.resolves_to(func, *TORCH_WRAPPERS):
        first = argument(value, 0, "model") or argument(value, 0, "obj")
        return model_value(context, classes, first, lookup)
    if context.resolves_to(func, "timm.create_model"):
        return ModelInfo("builder", value)
    qualified = context.resolves_under(func, "torchvision.models")
    if qualified is not None:
        last = qualified.rsplit(".", 1)[-1]
        if last.endswith("_Weights") or last in ("get_weight", "get_model_weights", "list_models"):
            return None
        return ModelInfo("builder", value)
    if isinstance(func, cst.Attribute):
        method = func.attr.value
        if method in ("from_pretrained", "from_config", "_from_config"):
            owner = context.resolves_under(func.value, "transformers")
            if owner is not None and not NOT_MODEL_CLASS.search(owner.rsplit(".", 1)[-1]):
                return ModelInfo("pretrained" if method == "from_pretrained" else "builder", value)
            return None
        if method in MODULE_CHAIN_METHODS:
            return model_value(context, classes, func.value, lookup)
    if context.resolves_to(
        func, "sentence_transformers.SentenceTransformer", "sentence_transformers.CrossEncoder"
    ):
        return ModelInfo("pretrained", value)
    owner = context.resolves_under(func, "transformers")
    last = owner.rsplit(".", 1)[-1] if owner is not None else ""
    if owner is not None and re.search(r"(Model|For[A-Z]\w*)$", owner) and not NOT_MODEL_CLASS.search(last):
        return ModelInfo("builder", value)
    defined_in = _mode_dependent_project_class(context, func)
    if defined_in is not None:
        return ModelInfo("class", value, "", defined_in)
    return None


def _mode_dependent_project_class(context: RuleContext, func: cst.BaseExpression) -> ProjectClass | None:
    """The class of another module of the project that `func` (`Net`, `models.Net`) is
    imported as, when what it computes depends on train/eval mode (dropout, batch norm...):
    the other module's summary says so. Any other class of the project is left to the
    evidence of its use (`_torch_model_evidence`): the summary does not tell a torch module
    from a plain class. Only CapWords names are looked up (as `constructor_name` does): the
    many lowercase calls of a file (`F.relu`, `np.zeros`) are not classes."""
    if context.project is None or not isinstance(func, cst.Name | cst.Attribute):
        return None
    written = func.value if isinstance(func, cst.Name) else func.attr.value
    if not written[:1].isupper():
        return None
    found = context.values.imported_class(func)
    return found if found is not None and found.mode_dependent else None
