"""GL101 train-from-scratch."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from green_lint.names import statements_of
from green_lint.rule import Fix, Rule
from green_lint.rules._training import (
    Flow,
    Follower,
    argument,
    assignment_targets,
    calls_in,
    has_star,
    is_false,
    is_none,
    is_true,
    keyword,
    keywords,
    last_name,
    positional,
    replace_arg,
    string_value,
    with_keyword,
)

# -- torchvision -------------------------------------------------------------------------
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

# torch.hub.load's own keywords; the others go to the repository's entry point.
HUB_OWN_KEYWORDS = frozenset(
    {
        "repo_or_dir",
        "model",
        "source",
        "trust_repo",
        "force_reload",
        "verbose",
        "skip_validation",
        "pretrained",
        "weights",
    }
)

# -- timm, keras, transformers -----------------------------------------------------------
TIMM_CREATE = (
    "timm.create_model",
    "timm.models.create_model",
    "timm.models._factory.create_model",
    "timm.models.factory.create_model",
)
KERAS_APPLICATIONS = (
    "keras.applications",
    "keras.src.applications",
    "tensorflow.keras.applications",
    "tensorflow.python.keras.applications",
    "tf_keras.applications",
)
AUTO_PREFIXES = ("AutoModel", "TFAutoModel", "FlaxAutoModel")
# Config arguments that keep the architecture of the checkpoint's weights.
CONFIG_KEEPS = frozenset(
    {
        "num_labels",
        "id2label",
        "label2id",
        "problem_type",
        "finetuning_task",
        "output_hidden_states",
        "output_attentions",
        "return_dict",
        "use_cache",
        "trust_remote_code",
        "revision",
        "cache_dir",
        "token",
        "use_auth_token",
        "local_files_only",
        "force_download",
        "torch_dtype",
    }
)

# -- what "trained" and "loaded" mean ----------------------------------------------------
OPTIMIZERS = (
    "torch.optim",
    "torch.distributed.optim",
    "timm.optim",
    "transformers.AdamW",
    "transformers.Adafactor",
    "transformers.optimization",
    "bitsandbytes.optim",
    "apex.optimizers",
    "torch_optimizer",
    "deepspeed.initialize",
)
NOT_OPTIMIZERS = ("torch.optim.lr_scheduler", "torch.optim.swa_utils")
FIT_METHODS = frozenset({"fit", "fit_generator", "train_on_batch"})
GRADIENT_METHODS = frozenset({"apply_gradients", "minimize"})
LOAD_METHODS = frozenset(
    {
        "load_state_dict",
        "load_weights",
        "set_weights",
        "load_checkpoint",
        "load_adapter",
        "load_from_checkpoint",
        "from_pretrained",
    }
)
LOAD_NAME = re.compile(r"(^|_)(load|restore)")
RESUME_KEYWORDS = ("ckpt_path", "resume_from_checkpoint", "checkpoint_path")
LOADERS = frozenset({"from_pretrained", "load_model", "load_from_checkpoint"})
LIGHTNING = ("lightning", "pytorch_lightning")


@dataclass
class _Build:
    """A model built by a call: randomly initialised or not, and how to say and fix it."""

    call: cst.Call
    random: bool
    message: str = ""
    fix: Fix | None = None
    origin_ids: set[int] = field(default_factory=set)


class TrainFromScratch(Rule):
    """
    ## What it does
    Flags a model of a published architecture built with random weights and then trained
    in the same file:
    - torchvision builders (`resnet50()`, `models.get_model("resnet50")`,
      `models.__dict__[arch]()`, `getattr(models, arch)()`, also under `detection`,
      `segmentation`, `video`, `quantization`, `optical_flow`) with no `weights`,
      `weights=None` or the deprecated `pretrained=False`;
    - `timm.create_model(name)` without `pretrained=True`;
    - `torch.hub.load(repo, name, ...)` with `pretrained=False` or `weights=None`, or with
      neither for `pytorch/vision` (whose entry points default to random weights);
    - `keras.applications.*` (also `tf.keras.applications`, `tf_keras.applications`) with
      `weights=None`;
    - transformers `AutoModel*.from_config(config)` and `XxxForYyy(config)` /
      `XxxModel(config)` when `config` comes from `AutoConfig.from_pretrained(name)` (or
      `XxxConfig.from_pretrained(name)`): the checkpoint exists, only its weights are
      skipped.

    "Trained" means that the model (followed through variables, `self` attributes,
    function parameters and return values, wrappers such as `.to(device)` or
    `DataParallel`) has its parameters given to an optimizer (`torch.optim`, `timm.optim`,
    transformers, bitsandbytes, DeepSpeed), gets `.train()`, `.fit(...)` (Keras, or
    Lightning's `trainer.fit(model)`), `apply_gradients`, or is given to a trainer that
    gets `.train()`. A model built but never trained in the file (exported, traced,
    summarised, or only built) is not flagged: this rule only speaks when it sees the
    training. Nor is a model that receives weights in the file (`load_state_dict`,
    `load_weights`, `load_checkpoint(model, ...)`, `ckpt_path=` / `resume_from_checkpoint=`),
    nor one whose variable is given pretrained weights on another branch (`if
    args.pretrained: ... else: ...`: the user chose). Classes built directly (`ResNet(...)`,
    `FasterRCNN(backbone, ...)`) and the user's own `nn.Module`s are custom architectures
    with no published checkpoint and are never flagged; so are transformers models built
    from a config written by hand (`BertConfig(hidden_size=256)`) or changed after
    loading (`config.num_hidden_layers = 4`). Detection and segmentation builders load an
    ImageNet backbone by default: they are flagged only with `weights_backbone=None` (or
    `pretrained_backbone=False`) as well.
    Unit tests build random models on purpose (no download): silence them with
    `per-file-ignores`.

    ## Why it wastes energy
    Training from random weights redoes the expensive part, the pre-training on a large
    data set, that someone already paid for and published. Fine-tuning from those weights
    reaches a given accuracy in a fraction of the epochs, often with less data, so the
    same result costs far less energy.

    ## Example
    ```python
    import torch
    from torchvision.models import resnet50

    model = resnet50()  # random weights
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    ```

    ## Use instead
    ```python
    model = resnet50(weights="DEFAULT")
    model.fc = torch.nn.Linear(model.fc.in_features, 10)  # a new head for 10 classes
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    ```
    `timm.create_model(name, pretrained=True, num_classes=10)` (timm resets the
    classifier), `keras.applications.ResNet50(weights="imagenet", include_top=False,
    pooling="avg")` plus a new `Dense` head, `AutoModelForSequenceClassification
    .from_pretrained(name, num_labels=3)`.

    ## Fix safety
    Unsafe: the model then starts from the pretrained weights (downloaded on first use),
    which changes the training and its result. The fix sets `weights="DEFAULT"`
    (torchvision, replacing `pretrained=False` / `weights=None`), `pretrained=True`
    (timm, and `torch.hub.load` of another repository), `weights="imagenet"` (Keras), or turns `from_config(config)` /
    `XxxForYyy(config)` into `from_pretrained(name)` when the config comes from
    `from_pretrained(name)` in the same scope (keeping `config=config` when it overrides
    `num_labels` and the like). There is no fix when the call changes the head
    (`num_classes=10` with torchvision, `classes=10` or a custom `input_shape` with the
    Keras top) or passes arguments that may change the architecture: the message says
    how to load the weights and replace the head instead.

    ## Evidence
    - Wang, Na, Strubell, Friedler, Luccioni, "Energy and Carbon Considerations of
      Fine-Tuning BERT" (EMNLP Findings 2023), measured with CodeCarbon and a power meter:
      "a single pre-training run draws substantially more energy than fine-tuning".
      https://arxiv.org/abs/2311.10267
    - "The Power of Training: How Different Neural Network Setups Influence the Energy
      Demand" measures the energy benefit of recycling knowledge through pre-training.
      https://arxiv.org/abs/2401.01851
    - torchvision: `weights="DEFAULT"` (since 0.13; `pretrained=` is deprecated).
      https://pytorch.org/vision/stable/models.html
    - The saving depends on the task and how far the data is from the pre-training data;
      measure it on your code with `green-lint verify`.
    """

    code = "GL101"
    name = "train-from-scratch"
    summary = "A published architecture is trained from random weights; fine-tune its pretrained weights"
    fix_safety = "unsafe"
    # transformers: only configs loaded from a checkpoint (`AutoConfig`, `BertConfig`, ...).
    triggers = ("torchvision", "timm", "hub.load", ("applications", "keras"), ("transformers", "Config"))

    def __init__(self, context, options=None) -> None:
        super().__init__(context, options)
        self._candidates: list[_Build] = []
        # Calls that build a model with (possibly) pretrained weights.
        self._pretrained: set[int] = set()
        # The file's assignments, calls and returns, recorded during the traversal.
        self._flow = Flow(context.module) if context.module is not None else None
        self._index = self._flow.indexer if self._flow is not None else None

    # -- the index for following models (fed by the one traversal) -------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._index.visit_FunctionDef(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._index.leave_FunctionDef(original_node)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._index.visit_ClassDef(node)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._index.leave_ClassDef(original_node)

    def visit_Assign(self, node: cst.Assign) -> None:
        self._index.visit_Assign(node)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._index.visit_AnnAssign(node)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._index.visit_AugAssign(node)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._index.visit_NamedExpr(node)

    def visit_For(self, node: cst.For) -> None:
        self._index.visit_For(node)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        self._index.visit_WithItem(node)

    def visit_Return(self, node: cst.Return) -> None:
        self._index.visit_Return(node)

    # -- collecting builds ---------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        self._index.visit_Call(node)
        build = self._classify(node)
        if build is None:
            return
        if build.random:
            build.origin_ids = {id(ancestor) for ancestor in self.context.stack}
            self._candidates.append(build)
        else:
            self._pretrained.add(id(node))

    def _classify(self, node: cst.Call) -> _Build | None:
        func = node.func
        context = self.context
        if isinstance(func, cst.Subscript | cst.Call):
            arch = self._dynamic_torchvision(func)
            if arch is not None:
                label = f"the torchvision model `{context.code_for(func)}(...)`"
                return self._torchvision(node, arch or None, None, label=label)
            return None
        qualified = context.resolves_under(func, TORCHVISION)
        if qualified is not None:
            rest = qualified.split(".")[2:]
            if rest == ["get_model"]:
                arch = string_value(argument(node, 0, "name"))
                label = f'`get_model("{arch}")`' if arch else "`get_model(...)`"
                return self._torchvision(node, arch, None, label=label, positional_weights=False)
            found = _builder(rest)
            if found is None:
                return None
            arch, subpackage = found
            return self._torchvision(node, arch, subpackage, label=f"`{arch}`")
        if context.resolves_to(func, *TIMM_CREATE):
            return self._timm(node)
        if context.resolves_to(func, "torch.hub.load"):
            return self._hub(node)
        qualified = context.resolves_under(func, *KERAS_APPLICATIONS)
        if qualified is not None:
            name = qualified.rsplit(".", 1)[-1]
            if name[:1].isupper() and not name.endswith("_Weights"):
                return self._keras(node, name)
            return None
        if isinstance(func, cst.Attribute) and func.attr.value == "from_config":
            owner = context.resolves_under(func.value, "transformers")
            if owner is not None and owner.rsplit(".", 1)[-1].startswith(AUTO_PREFIXES):
                return self._transformers(node, owner.rsplit(".", 1)[-1], from_config=True)
            return None
        qualified = context.resolves_under(func, "transformers")
        if qualified is not None:
            name = qualified.rsplit(".", 1)[-1]
            if _is_transformers_model_class(name):
                return self._transformers(node, name, from_config=False)
        return None

    def _dynamic_torchvision(self, func: cst.BaseExpression) -> str | None:
        """For `models.__dict__[arch]` and `getattr(models, arch)`: the architecture name
        when it is a literal, "" when it is not; None when this is not such a lookup."""
        if isinstance(func, cst.Subscript):
            value = func.value
            if not (isinstance(value, cst.Attribute) and value.attr.value == "__dict__"):
                return None
            if not self.context.resolves_to(value.value, TORCHVISION):
                return None
            if len(func.slice) != 1 or not isinstance(func.slice[0].slice, cst.Index):
                return None
            return string_value(func.slice[0].slice.value) or ""
        if isinstance(func, cst.Call) and self.context.resolves_to(func.func, "builtins.getattr"):
            args = positional(func)
            if len(args) == 2 and self.context.resolves_to(args[0].value, TORCHVISION):
                return string_value(args[1].value) or ""
        return None

    # -- torchvision -------------------------------------------------------------------
    def _torchvision(
        self,
        node: cst.Call,
        arch: str | None,
        subpackage: str | None,
        *,
        label: str,
        positional_weights: bool = True,
    ) -> _Build:
        if has_star(node):
            return _Build(node, random=False)
        weights = keyword(node, "weights")
        pretrained = keyword(node, "pretrained")
        args = positional(node)
        legacy = args[0] if positional_weights and args else None
        if weights is not None:
            if not self._is_none(weights.value):
                return _Build(node, random=False)
            why, edit = "`weights=None`", ("replace", weights)
        elif pretrained is not None:
            if not self._is_false(pretrained.value):
                return _Build(node, random=False)
            why, edit = "`pretrained=False`", ("replace", pretrained)
        elif legacy is not None:
            if not self._is_false(legacy.value) or len(args) > 1:
                return _Build(node, random=False)
            why, edit = "`pretrained=False`", ("replace", legacy)
        else:
            why, edit = "no `weights`", ("add", None)
        with_backbone = subpackage in ("detection", "segmentation") or (arch in WITH_BACKBONE)
        if with_backbone:
            backbone = keyword(node, "weights_backbone")
            legacy_backbone = keyword(node, "pretrained_backbone")
            if not (
                (backbone is not None and self._is_none(backbone.value))
                or (legacy_backbone is not None and self._is_false(legacy_backbone.value))
            ):
                return _Build(node, random=False)
            why += " and no backbone weights"
        head = self._head_change(node, arch, subpackage)
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
        return _Build(node, random=True, message=message, fix=fix)

    def _head_change(self, node: cst.Call, arch: str | None, subpackage: str | None) -> str | None:
        classes = keyword(node, "num_classes")
        if classes is None:
            return None
        count = _int_literal(self.context.single_value(classes.value))
        default = 1000
        if subpackage == "video" or arch in VIDEO:
            default = 400
        elif subpackage == "detection":
            default = 91
        elif subpackage == "segmentation":
            default = 21
        if count == default and (subpackage is not None or arch in CLASSIFICATION):
            return None
        shown = self.context.code_for(classes.value)
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

    def _is_none(self, node: cst.BaseExpression) -> bool:
        return is_none(node) or is_none(self.context.single_value(node))

    def _is_false(self, node: cst.BaseExpression) -> bool:
        return is_false(node) or is_false(self.context.single_value(node))

    # -- timm --------------------------------------------------------------------------
    def _timm(self, node: cst.Call) -> _Build | None:
        if has_star(node):
            return _Build(node, random=False)
        name_node = argument(node, 0, "model_name")
        name = string_value(name_node)
        if name is not None and name in self.context.imports.own_definitions:
            return None  # an architecture registered by the file itself
        checkpoint = keyword(node, "checkpoint_path")
        if checkpoint is not None and not (
            self._is_none(checkpoint.value) or string_value(checkpoint.value) == ""
        ):
            return _Build(node, random=False)
        pretrained_kw = keyword(node, "pretrained")
        args = positional(node)
        pretrained_pos = args[1] if len(args) > 1 else None
        pretrained = pretrained_kw or pretrained_pos
        if pretrained is not None and not self._is_false(pretrained.value):
            return _Build(node, random=False)
        why = "`pretrained=False`" if pretrained is not None else "`pretrained` defaults to False"
        shown = f'`timm.create_model("{name}")`' if name else "`timm.create_model(...)`"
        message = (
            f"{shown} builds random weights ({why}) and the model is trained here, although "
            "timm publishes pretrained weights for its architectures: fine-tuning from them "
            "reaches the same accuracy in a fraction of the epochs and energy. Pass "
            "`pretrained=True` (timm resets the classifier for `num_classes`)."
        )
        if pretrained_pos is not None and pretrained_kw is None:
            new = node.with_changes(
                args=[
                    arg.with_changes(value=cst.Name("True")) if arg is pretrained_pos else arg
                    for arg in node.args
                ]
            )
        else:
            new = with_keyword(node, "pretrained", "True")
        return _Build(node, random=True, message=message, fix=Fix("Load the pretrained weights", {node: new}))

    # -- torch.hub ---------------------------------------------------------------------
    def _hub(self, node: cst.Call) -> _Build | None:
        """`torch.hub.load(repo, name, **kwargs)`: kwargs go to the repository's entry point."""
        if has_star(node):
            return _Build(node, random=False)
        repo = string_value(argument(node, 0, "repo_or_dir"))
        name = string_value(argument(node, 1, "model"))
        if repo is None or name is None:
            return None
        torchvision_repo = repo.split(":", 1)[0] == "pytorch/vision"
        weights_value = '"DEFAULT"' if torchvision_repo else "True"
        weights_name = "weights" if torchvision_repo else "pretrained"
        pretrained, weights = keyword(node, "pretrained"), keyword(node, "weights")
        if weights is not None and self._is_none(weights.value):
            why, arg = "`weights=None`", weights
            weights_name, weights_value = "weights", '"DEFAULT"'
        elif pretrained is not None and self._is_false(pretrained.value):
            why, arg = "`pretrained=False`", pretrained
        elif weights is None and pretrained is None and torchvision_repo:
            why, arg = "torchvision's entry points default to `weights=None`", None
        else:
            return _Build(node, random=False)
        load = f"`{weights_name}={weights_value}`"
        message = (
            f'`torch.hub.load("{repo}", "{name}")` builds random weights ({why}) and the model is '
            "trained here, although the repository publishes pretrained weights: fine-tuning "
            f"from them reaches the same accuracy in a fraction of the epochs and energy. Load them with {load}"
        )
        entry_point_arguments = [
            keyword_name for keyword_name in keywords(node) if keyword_name not in HUB_OWN_KEYWORDS
        ]
        if entry_point_arguments or len(positional(node)) > 2:
            # `num_classes=10` and the like change the model: the weights may not fit it.
            message += " and replace the head after loading, instead of building it changed."
            return _Build(node, random=True, message=message)
        new = (
            with_keyword(node, weights_name, weights_value)
            if arg is None
            else replace_arg(node, arg, weights_name, weights_value)
        )
        fix = Fix(f"Load the pretrained weights ({weights_name}={weights_value})", {node: new})
        return _Build(node, random=True, message=message + ".", fix=fix)

    # -- keras -------------------------------------------------------------------------
    def _keras(self, node: cst.Call, name: str) -> _Build:
        if has_star(node):
            return _Build(node, random=False)
        weights_kw = keyword(node, "weights")
        args = positional(node)
        weights_pos = args[1] if weights_kw is None and len(args) > 1 else None
        weights = weights_kw or weights_pos
        if weights is None or not self._is_none(weights.value):
            return _Build(node, random=False)
        include_top = argument(node, 0, "include_top")
        no_top = include_top is not None and self._is_false(include_top)
        classes = keyword(node, "classes")
        input_shape = keyword(node, "input_shape")
        input_tensor = keyword(node, "input_tensor")
        message = (
            f"`{name}(weights=None)` builds random weights and the model is trained here, "
            "although Keras publishes ImageNet weights for it: fine-tuning from them reaches "
            "the same accuracy in a fraction of the epochs and energy. "
        )
        head = None
        if no_top:
            if input_shape is not None and not _three_channels(self.context.single_value(input_shape.value)):
                head = (
                    'Load them with `weights="imagenet"` (they need 3 input channels: check `input_shape`).'
                )
        else:
            count = _int_literal(self.context.single_value(classes.value)) if classes is not None else 1000
            if classes is not None and count != 1000:
                shown = self.context.code_for(classes.value)
                head = (
                    f"`classes={shown}` with the ImageNet top cannot load the weights: load the base "
                    f'and add a new head instead: `base = {name}(weights="imagenet", include_top=False, '
                    f'pooling="avg")` then `outputs = keras.layers.Dense({shown}, '
                    'activation="softmax")(base.output)`.'
                )
            elif input_shape is not None or input_tensor is not None:
                head = (
                    "The ImageNet top needs the default input size: load the base with "
                    '`weights="imagenet", include_top=False, pooling="avg"` and add a new '
                    "`Dense` head."
                )
        if head is not None:
            return _Build(node, random=True, message=message + head)
        message += 'Load them with `weights="imagenet"`.'
        if weights_kw is not None:
            new = replace_arg(node, weights_kw, "weights", '"imagenet"')
        else:
            new = node.with_changes(
                args=[
                    arg.with_changes(value=cst.SimpleString('"imagenet"')) if arg is weights_pos else arg
                    for arg in node.args
                ]
            )
        fix = Fix('Load the ImageNet weights (weights="imagenet")', {node: new})
        return _Build(node, random=True, message=message, fix=fix)

    # -- transformers ------------------------------------------------------------------
    def _transformers(self, node: cst.Call, class_name: str, *, from_config: bool) -> _Build | None:
        if has_star(node):
            return None
        config = argument(node, 0, "config")
        if config is None:
            return None
        source = self._config_source(config)
        if source is None:
            return None
        config_call, checkpoint, overrides = source
        shown_checkpoint = self.context.code_for(checkpoint)
        built = f"`{class_name}.from_config(...)`" if from_config else f"`{class_name}(config)`"
        message = (
            f"{built} builds random weights although its config comes from the pretrained "
            f"checkpoint {shown_checkpoint}, and the model is trained here: that redoes the "
            "pre-training, which costs far more energy than fine-tuning. Load the weights "
            f"with `{class_name}.from_pretrained({shown_checkpoint}"
            + (", config=config" if overrides else "")
            + ")`."
        )
        fix = None
        others = [arg for arg in node.args if arg.value is not config]
        same_scope = config is config_call or (
            isinstance(config, cst.Name) and self.context.assigned_values(config.value, self.context.scope())
        )
        if same_scope and (from_config or not others):
            parts = [self.context.code_for(checkpoint)]
            if overrides:
                parts.append(f"config={self.context.code_for(config)}")
            for arg in others:
                value = self.context.code_for(arg.value)
                parts.append(f"{arg.keyword.value}={value}" if arg.keyword is not None else value)
            owner = node.func.value if from_config else node.func
            code = f"{self.context.code_for(owner)}.from_pretrained({', '.join(parts)})"
            fix = Fix("Load the pretrained weights (from_pretrained)", {node: cst.parse_expression(code)})
        return _Build(node, random=True, message=message, fix=fix)

    def _config_source(self, config: cst.BaseExpression):
        """(the `from_pretrained` call, the checkpoint, whether it overrides arguments)
        when the config is loaded from a checkpoint and keeps its architecture."""
        value = config
        if isinstance(config, cst.Name):
            values = []
            for scope in dict.fromkeys([self.context.scope(), self.context.module]):
                values = self.context.assigned_values(config.value, scope)
                if values:
                    break
            if len(values) != 1 or self._config_changed(config.value):
                return None
            value = values[0]
        if not (
            isinstance(value, cst.Call)
            and isinstance(value.func, cst.Attribute)
            and value.func.attr.value == "from_pretrained"
            and not has_star(value)
        ):
            return None
        owner = self.context.resolves_under(value.func.value, "transformers")
        if owner is None or not owner.endswith("Config"):
            return None
        checkpoint = argument(value, 0, "pretrained_model_name_or_path")
        if checkpoint is None:
            return None
        overrides = [name for name in keywords(value) if name != "pretrained_model_name_or_path"]
        if any(not _keeps_architecture(name) for name in overrides):
            return None
        return value, checkpoint, bool(overrides)

    def _config_changed(self, name: str) -> bool:
        """Whether the config `name` gets architecture attributes set in the scope."""
        scope = self.context.scope()
        for statement in statements_of(scope, enter_definitions=False):
            for target in assignment_targets(statement):
                if (
                    isinstance(target, cst.Attribute)
                    and isinstance(target.value, cst.Name)
                    and target.value.value == name
                    and not _keeps_architecture(target.attr.value)
                ):
                    return True
        for call in calls_in(scope, enter_definitions=False):
            func = call.func
            if (
                isinstance(func, cst.Attribute)
                and isinstance(func.value, cst.Name)
                and func.value.value == name
                and func.attr.value in ("update", "update_from_string")
            ):
                return True
            if self.context.resolves_to(func, "builtins.setattr") and call.args:
                first = call.args[0].value
                if isinstance(first, cst.Name) and first.value == name:
                    return True
        return False

    # -- deciding ----------------------------------------------------------------------
    def leave_Module(self, original_node: cst.Module) -> None:
        if not self._candidates:
            return
        flow = self._flow
        lightning = any(self.context.imports.imports_module(name) for name in LIGHTNING)
        for build in self._candidates:
            follower = Follower(flow, build.origin_ids)
            if self._has_alternative(flow, follower, build):
                continue
            trained, loaded = self._evidence(flow, follower, lightning)
            if trained and not loaded:
                self.report(build.call, build.message, fix=build.fix)

    def _has_alternative(self, flow: Flow, follower: Follower, build: _Build) -> bool:
        """Whether the variable the model goes to (or the function that returns it) is
        given pretrained weights on another path: the user chose."""
        others = []
        for scope, targets, value in flow.assignments:
            if id(value) not in build.origin_ids and any(
                flow.target_key(scope, target) in follower.direct for target in targets
            ):
                others.append(value)
        builders = {id(function) for function, value in flow.returns if id(value) in build.origin_ids}
        others.extend(
            value
            for function, value in flow.returns
            if id(function) in builders and id(value) not in build.origin_ids
        )
        for value in others:
            for call in calls_in(value):
                if id(call) in self._pretrained or last_name(call.func) in LOADERS:
                    return True
                if self.context.resolves_to(call.func, "torch.load"):
                    return True
        return False

    def _evidence(self, flow: Flow, follower: Follower, lightning: bool) -> tuple[bool, bool]:
        trained = loaded = False
        context = self.context
        for scope, call in flow.calls:
            func = call.func
            receiver = func.value if isinstance(func, cst.Attribute) else None
            attr = func.attr.value if isinstance(func, cst.Attribute) else None
            holds_receiver = receiver is not None and follower.holds(receiver, scope)
            holding_args = [arg for arg in call.args if follower.holds(arg.value, scope)]
            if holds_receiver:
                if (
                    attr == "train" and (not call.args or is_true(call.args[0].value))
                ) or attr in FIT_METHODS:
                    trained = True
                elif attr in LOAD_METHODS or attr == "restore":
                    loaded = True
            if holding_args:
                if attr in GRADIENT_METHODS or (attr == "fit" and lightning):
                    trained = True
                qualified = context.resolves_under(func, *OPTIMIZERS)
                if qualified is not None and not any(
                    qualified == prefix or qualified.startswith(prefix + ".") for prefix in NOT_OPTIMIZERS
                ):
                    trained = True
                name = last_name(func)
                if name is not None and LOAD_NAME.search(name.lower()):
                    loaded = True
            if holds_receiver or holding_args:
                for resume in RESUME_KEYWORDS:
                    found = keyword(call, resume)
                    if found is not None and not (is_none(found.value) or is_false(found.value)):
                        loaded = True
        return trained, loaded


def _builder(rest: list[str]) -> tuple[str, str | None] | None:
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


def _is_transformers_model_class(name: str) -> bool:
    return (
        name[:1].isupper()
        and ("For" in name or name.endswith("Model"))
        and not name.startswith(AUTO_PREFIXES)
        and "PreTrained" not in name
        and not name.endswith(("Config", "Output", "Tokenizer", "Processor"))
    )


def _keeps_architecture(name: str) -> bool:
    return name in CONFIG_KEEPS or "dropout" in name


def _int_literal(node: cst.BaseExpression | None) -> int | None:
    if isinstance(node, cst.Integer):
        return int(node.value.replace("_", ""), 0)
    return None


def _three_channels(node: cst.BaseExpression | None) -> bool:
    if not isinstance(node, cst.Tuple | cst.List):
        return False
    values = [_int_literal(element.value) for element in node.elements]
    return bool(values) and (values[-1] == 3 or values[0] == 3)
