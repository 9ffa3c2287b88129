"""torchvision for GL101 train-from-scratch: model builders (`resnet50()`,
`get_model(name)`, `models.__dict__[arch]()`, `getattr(models, arch)()`) without weights."""

from __future__ import annotations

import re

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rule import Fix
from green_lint.rules._scratch_build import Build, int_literal, is_false_value, is_none_value
from green_lint.rules._syntax import has_star, keyword, keywords, positional, string_value
from green_lint.rules._training_edits import replace_arg, with_keyword

TORCHVISION = "torchvision.models"
TV_SUBPACKAGES = frozenset({"detection", "segmentation", "video", "quantization", "optical_flow"})
TV_NOT_BUILDERS = frozenset(
    {"get_model", "get_model_builder", "get_model_weights", "get_weight", "list_models"}
)
CLASSIFICATION = frozenset(
    {
        "alexnet",
        "convnext_tiny",
        "convnext_small",
        "convnext_base",
        "convnext_large",
        "densenet121",
        "densenet161",
        "densenet169",
        "densenet201",
        "efficientnet_b0",
        "efficientnet_b1",
        "efficientnet_b2",
        "efficientnet_b3",
        "efficientnet_b4",
        "efficientnet_b5",
        "efficientnet_b6",
        "efficientnet_b7",
        "efficientnet_v2_s",
        "efficientnet_v2_m",
        "efficientnet_v2_l",
        "googlenet",
        "inception_v3",
        "maxvit_t",
        "mnasnet0_5",
        "mnasnet0_75",
        "mnasnet1_0",
        "mnasnet1_3",
        "mobilenet_v2",
        "mobilenet_v3_large",
        "mobilenet_v3_small",
        "regnet_y_400mf",
        "regnet_y_800mf",
        "regnet_y_1_6gf",
        "regnet_y_3_2gf",
        "regnet_y_8gf",
        "regnet_y_16gf",
        "regnet_y_32gf",
        "regnet_y_128gf",
        "regnet_x_400mf",
        "regnet_x_800mf",
        "regnet_x_1_6gf",
        "regnet_x_3_2gf",
        "regnet_x_8gf",
        "regnet_x_16gf",
        "regnet_x_32gf",
        "resnet18",
        "resnet34",
        "resnet50",
        "resnet101",
        "resnet152",
        "resnext50_32x4d",
        "resnext101_32x8d",
        "resnext101_64x4d",
        "wide_resnet50_2",
        "wide_resnet101_2",
        "shufflenet_v2_x0_5",
        "shufflenet_v2_x1_0",
        "shufflenet_v2_x1_5",
        "shufflenet_v2_x2_0",
        "squeezenet1_0",
        "squeezenet1_1",
        "vgg11",
        "vgg11_bn",
        "vgg13",
        "vgg13_bn",
        "vgg16",
        "vgg16_bn",
        "vgg19",
        "vgg19_bn",
        "vit_b_16",
        "vit_b_32",
        "vit_l_16",
        "vit_l_32",
        "vit_h_14",
        "swin_t",
        "swin_s",
        "swin_b",
        "swin_v2_t",
        "swin_v2_s",
        "swin_v2_b",
    }
)
# Detection and segmentation builders load an ImageNet backbone by default
# (`weights_backbone`): without `weights` only their heads start from scratch.
WITH_BACKBONE = frozenset(
    {
        "fasterrcnn_resnet50_fpn",
        "fasterrcnn_resnet50_fpn_v2",
        "fasterrcnn_mobilenet_v3_large_fpn",
        "fasterrcnn_mobilenet_v3_large_320_fpn",
        "fcos_resnet50_fpn",
        "keypointrcnn_resnet50_fpn",
        "maskrcnn_resnet50_fpn",
        "maskrcnn_resnet50_fpn_v2",
        "retinanet_resnet50_fpn",
        "retinanet_resnet50_fpn_v2",
        "ssd300_vgg16",
        "ssdlite320_mobilenet_v3_large",
        "deeplabv3_mobilenet_v3_large",
        "deeplabv3_resnet50",
        "deeplabv3_resnet101",
        "fcn_resnet50",
        "fcn_resnet101",
        "lraspp_mobilenet_v3_large",
    }
)
VIDEO = frozenset(
    {
        "r3d_18",
        "mc3_18",
        "r2plus1d_18",
        "s3d",
        "mvit_v1_b",
        "mvit_v2_s",
        "swin3d_t",
        "swin3d_s",
        "swin3d_b",
    }
)
OPTICAL_FLOW = frozenset({"raft_large", "raft_small"})
KNOWN_BUILDERS = CLASSIFICATION | WITH_BACKBONE | VIDEO | OPTICAL_FLOW
# Builder arguments that keep the architecture of the published weights.
TV_FIX_KEEPS = frozenset(
    {
        "weights",
        "pretrained",
        "progress",
        "quantize",
        "num_classes",
        "weights_backbone",
        "pretrained_backbone",
        "trainable_backbone_layers",
        "dropout",
        "attention_dropout",
        "zero_init_residual",
    }
)
# How to put a new classifier on a pretrained torchvision model, by family.
HEADS = (
    (re.compile(r"(resnet|resnext|wide_resnet|regnet|googlenet|inception|shufflenet)"), "model.fc"),
    (re.compile(r"(vgg|alexnet)"), "model.classifier[6]"),
    (re.compile(r"(mobilenet|mnasnet|efficientnet|convnext|maxvit)"), "model.classifier[-1]"),
    (re.compile(r"densenet"), "model.classifier"),
    (re.compile(r"vit_"), "model.heads.head"),
    (re.compile(r"swin_"), "model.head"),
)


def dynamic_torchvision_arch(context: RuleContext, func: cst.BaseExpression) -> str | None:
    """For `models.__dict__[arch]` and `getattr(models, arch)`: the architecture name
    when it is a literal, "" when it is not; None when this is not such a lookup."""
    if isinstance(func, cst.Subscript):
        value = func.value
        if not (isinstance(value, cst.Attribute) and value.attr.value == "__dict__"):
            return None
        if not context.resolves_to(value.value, TORCHVISION):
            return None
        if len(func.slice) != 1 or not isinstance(func.slice[0].slice, cst.Index):
            return None
        return string_value(func.slice[0].slice.value) or ""
    if isinstance(func, cst.Call) and context.resolves_to(func.func, "builtins.getattr"):
        args = positional(func)
        if len(args) == 2 and context.resolves_to(args[0].value, TORCHVISION):
            return string_value(args[1].value) or ""
    return None


def torchvision_build(
    context: RuleContext,
    node: cst.Call,
    arch: str | None,
    subpackage: str | None,
    *,
    label: str,
    positional_weights: bool = True,
) -> Build:
    if has_star(node):
        return Build(node, random=False)
    weights = keyword(node, "weights")
    pretrained = keyword(node, "pretrained")
    args = positional(node)
    legacy = args[0] if positional_weights and args else None
    if weights is not None:
        if not is_none_value(context, weights.value):
            return Build(node, random=False)
        why, edit = "`weights=None`", ("replace", weights)
    elif pretrained is not None:
        if not is_false_value(context, pretrained.value):
            return Build(node, random=False)
        why, edit = "`pretrained=False`", ("replace", pretrained)
    elif legacy is not None:
        if not is_false_value(context, legacy.value) or len(args) > 1:
            return Build(node, random=False)
        why, edit = "`pretrained=False`", ("replace", legacy)
    else:
        why, edit = "no `weights`", ("add", None)
    with_backbone = subpackage in ("detection", "segmentation") or (arch in WITH_BACKBONE)
    if with_backbone:
        backbone = keyword(node, "weights_backbone")
        legacy_backbone = keyword(node, "pretrained_backbone")
        if not (
            (backbone is not None and is_none_value(context, backbone.value))
            or (legacy_backbone is not None and is_false_value(context, legacy_backbone.value))
        ):
            return Build(node, random=False)
        why += " and no backbone weights"
    head = _head_change(context, node, arch, subpackage)
    other = [name for name in keywords(node) if name not in TV_FIX_KEEPS]
    subject = label if arch is None or label != f"`{arch}`" else f"torchvision's `{arch}`"
    message = (
        f"{subject} is built with random weights ({why}) and trained here, although "
        "torchvision publishes pretrained weights for it: fine-tuning from them reaches "
        "the same accuracy in a fraction of the epochs and energy. "
    )
    fix = None
    if head is not None:
        message += head
    elif other:
        message += (
            'Load them with `weights="DEFAULT"` (check that '
            + ", ".join(f"`{name}`" for name in other)
            + " keeps the architecture of the published weights)."
        )
    else:
        message += 'Load them with `weights="DEFAULT"`.'
        kind, arg = edit
        new = (
            with_keyword(node, "weights", '"DEFAULT"')
            if kind == "add"
            else replace_arg(node, arg, "weights", '"DEFAULT"')
        )
        fix = Fix('Load the pretrained weights (weights="DEFAULT")', {node: new})
    return Build(node, random=True, message=message, fix=fix)


def _head_change(
    context: RuleContext, node: cst.Call, arch: str | None, subpackage: str | None
) -> str | None:
    classes = keyword(node, "num_classes")
    if classes is None:
        return None
    count = int_literal(context.single_value(classes.value))
    default = 1000
    if subpackage == "video" or arch in VIDEO:
        default = 400
    elif subpackage == "detection":
        default = 91
    elif subpackage == "segmentation":
        default = 21
    if count == default and (subpackage is not None or arch in CLASSIFICATION):
        return None
    shown = context.code_for(classes.value)
    builder = arch or "the builder"
    hint = _head_hint(arch, shown) if arch else None
    if hint is None:
        return (
            f"`num_classes={shown}` changes the head, so the published weights cannot load "
            f'as they are: build with `weights="DEFAULT"` and replace the final '
            f"classification layer with a new one for {shown} classes."
        )
    return (
        f"`num_classes={shown}` changes the head, so the published weights cannot load as "
        f'they are: load them and replace the head instead: `model = {builder}(weights="DEFAULT")` '
        f"then `{hint}`."
    )


def torchvision_builder(rest: list[str]) -> tuple[str, str | None] | None:
    """(architecture, subpackage) when `torchvision.models.<rest>` is a model builder."""
    if len(rest) == 1:
        name, subpackage = rest[0], None
    elif len(rest) == 2 and rest[0] in TV_SUBPACKAGES:
        subpackage, name = rest
    elif len(rest) in (2, 3) and rest[-1] in KNOWN_BUILDERS:
        # Through the architecture's module: torchvision.models.resnet.resnet50.
        name, subpackage = rest[-1], (rest[0] if rest[0] in TV_SUBPACKAGES else None)
    else:
        return None
    if name.startswith("_") or not name.islower() or name in TV_NOT_BUILDERS or name in TV_SUBPACKAGES:
        return None
    return name, subpackage


def _head_hint(arch: str, classes: str) -> str | None:
    if arch == "squeezenet1_0" or arch == "squeezenet1_1":
        return f"model.classifier[1] = nn.Conv2d(512, {classes}, kernel_size=1)"
    for pattern, layer in HEADS:
        if pattern.match(arch):
            return f"{layer} = nn.Linear({layer}.in_features, {classes})"
    return None
