"""GL101 train-from-scratch: the rule, its docs, and the dispatch to one detector per library
(`_scratch_torchvision`, `_scratch_timm`, `_scratch_hub`, `_scratch_keras`,
`_scratch_transformers`); whether the model is then trained is decided once the whole file
is read (`_scratch_flow`, `_scratch_evidence`)."""

from __future__ import annotations

import libcst as cst

from green_lint.rule import Rule
from green_lint.rules._scratch_build import Build
from green_lint.rules._scratch_evidence import LIGHTNING, evidence, has_alternative
from green_lint.rules._scratch_flow import Flow, Follower
from green_lint.rules._scratch_hub import hub_build
from green_lint.rules._scratch_keras import KERAS_APPLICATIONS, keras_build
from green_lint.rules._scratch_timm import TIMM_CREATE, timm_build
from green_lint.rules._scratch_torchvision import (
    TORCHVISION,
    dynamic_torchvision_arch,
    torchvision_build,
    torchvision_builder,
)
from green_lint.rules._scratch_transformers import (
    AUTO_PREFIXES,
    is_transformers_model_class,
    transformers_build,
)
from green_lint.rules._syntax import argument, string_value


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

    Across files: a model the file returns from a top-level function (`build_model()`)
    or holds in a class (`self.backbone = resnet50()`) is followed into the project's
    other modules that call it: flagged at the build, naming the module that trains it,
    when one trains it and none gives it weights (`load_state_dict`, `load_checkpoint`).

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
    needs = (Flow,)
    # transformers: only configs loaded from a checkpoint (`AutoConfig`, `BertConfig`, ...).
    triggers = ("torchvision", "timm", "hub.load", ("applications", "keras"), ("transformers", "Config"))

    def __init__(self, context, options=None) -> None:
        super().__init__(context, options)
        self._candidates: list[Build] = []
        # Calls that build a model with (possibly) pretrained weights.
        self._pretrained: set[int] = set()

    # -- collecting builds ---------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        build = self._classify(node)
        if build is None:
            return
        if build.random:
            build.origin_ids = {id(ancestor) for ancestor in self.context.stack}
            self._candidates.append(build)
        else:
            self._pretrained.add(id(node))

    def _classify(self, node: cst.Call) -> Build | None:
        func = node.func
        context = self.context
        if isinstance(func, cst.Subscript | cst.Call):
            arch = dynamic_torchvision_arch(context, func)
            if arch is not None:
                label = f"the torchvision model `{context.code_for(func)}(...)`"
                return torchvision_build(context, node, arch or None, None, label=label)
            return None
        qualified = context.resolves_under(func, TORCHVISION)
        if qualified is not None:
            rest = qualified.split(".")[2:]
            if rest == ["get_model"]:
                arch = string_value(argument(node, 0, "name"))
                label = f'`get_model("{arch}")`' if arch else "`get_model(...)`"
                return torchvision_build(context, node, arch, None, label=label, positional_weights=False)
            found = torchvision_builder(rest)
            if found is None:
                return None
            arch, subpackage = found
            return torchvision_build(context, node, arch, subpackage, label=f"`{arch}`")
        if context.resolves_to(func, *TIMM_CREATE):
            return timm_build(context, node)
        if context.resolves_to(func, "torch.hub.load"):
            return hub_build(context, node)
        qualified = context.resolves_under(func, *KERAS_APPLICATIONS)
        if qualified is not None:
            name = qualified.rsplit(".", 1)[-1]
            if name[:1].isupper() and not name.endswith("_Weights"):
                return keras_build(context, node, name)
            return None
        if isinstance(func, cst.Attribute) and func.attr.value == "from_config":
            owner = context.resolves_under(func.value, "transformers")
            if owner is not None and owner.rsplit(".", 1)[-1].startswith(AUTO_PREFIXES):
                return transformers_build(context, node, owner.rsplit(".", 1)[-1], from_config=True)
            return None
        qualified = context.resolves_under(func, "transformers")
        if qualified is not None:
            name = qualified.rsplit(".", 1)[-1]
            if is_transformers_model_class(name):
                return transformers_build(context, node, name, from_config=False)
        return None

    # -- deciding, once every call of the file is known ----------------------------------
    def leave_Module(self, original_node: cst.Module) -> None:
        if not self._candidates:
            return
        flow = self.context.analysis(Flow)
        lightning = any(self.context.semantic.imports_module(name) for name in LIGHTNING)
        for build in self._candidates:
            follower = Follower(flow, build.origin_ids)
            if has_alternative(self.context, flow, follower, build, self._pretrained):
                continue
            trained, loaded = evidence(self.context, flow, follower, lightning)
            if trained and not loaded:
                self.report(build.call, build.message, fix=build.fix)
            elif not (trained or loaded):
                self._trained_in_another_module(build, follower)

    def _trained_in_another_module(self, build: Build, follower: Follower) -> None:
        """A model the file returns from a top-level function, or holds in a class, that
        another module of the project calls and trains without giving it weights."""
        holders = [
            statement
            for statement in self.context.module.body
            if (isinstance(statement, cst.FunctionDef) and ("fn", id(statement)) in follower.keys)
            or (isinstance(statement, cst.ClassDef) and id(statement) in follower.classes)
        ]
        callers = [caller for holder in holders for caller in self.context.project_callers(holder)]
        if any(caller.use.loaded for caller in callers):
            return
        trainer = next((caller for caller in callers if caller.use.trained), None)
        if trainer is not None:
            place = self.context.project_place(trainer)
            self.report(
                build.call,
                build.message.replace("trained here", f"trained in `{place}`", 1),
                fix=build.fix,
                related=[(trainer.path, trainer.use.line, "trained here")],
            )
