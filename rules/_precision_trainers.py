"""Training libraries that set the precision themselves, for GL105: a Lightning `Trainer`
on a GPU without `precision=`, and a Hugging Face `Trainer` whose `TrainingArguments` set
neither `fp16` nor `bf16` (it trains on the GPU whenever there is one)."""

from __future__ import annotations

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._syntax import argument, has_star, keyword, walk
from green_lint.semantic.values import UNKNOWN

LIGHTNING_TRAINERS = (
    "pytorch_lightning.Trainer",
    "pytorch_lightning.trainer.Trainer",
    "pytorch_lightning.trainer.trainer.Trainer",
    "lightning.Trainer",
    "lightning.pytorch.Trainer",
    "lightning.pytorch.trainer.Trainer",
    "lightning.pytorch.trainer.trainer.Trainer",
)
# `lightning` is Lightning 2, whose Trainer picks the GPU by default (`accelerator="auto"`);
# `pytorch_lightning` 1.x trained on the CPU unless told otherwise.
AUTO_BY_DEFAULT = "lightning."
GPU_ACCELERATORS = frozenset({"gpu", "cuda", "mps", "auto"})
HF_TRAINERS = (
    "transformers.Trainer",
    "transformers.Seq2SeqTrainer",
    "transformers.trainer.Trainer",
    "transformers.trainer_seq2seq.Seq2SeqTrainer",
    "trl.SFTTrainer",
    "trl.DPOTrainer",
    "trl.RewardTrainer",
    "trl.ORPOTrainer",
    "trl.KTOTrainer",
    "trl.CPOTrainer",
)
HF_ARGUMENTS = (
    "transformers.TrainingArguments",
    "transformers.Seq2SeqTrainingArguments",
    "transformers.training_args.TrainingArguments",
    "transformers.training_args_seq2seq.Seq2SeqTrainingArguments",
    "trl.SFTConfig",
    "trl.DPOConfig",
    "trl.RewardConfig",
    "trl.ORPOConfig",
    "trl.KTOConfig",
    "trl.CPOConfig",
)
# TrainingArguments that choose the precision (a DeepSpeed config may set fp16 itself) or
# keep the run on the CPU.
HF_PRECISION = ("fp16", "bf16", "deepspeed")
HF_CPU = ("use_cpu", "no_cuda")

LIGHTNING_MESSAGE = (
    "This Lightning Trainer trains on the GPU in full float32 (no `precision=`): pass "
    '`precision="bf16-mixed"` (or `"16-mixed"` on GPUs without bfloat16) so that matmuls and '
    "convolutions run on the tensor cores with half the activation memory (up to 3x faster "
    "training on modern GPUs per TensorFlow's guide; the energy saving is less well measured: "
    "check it with green-lint verify)."
)
HF_MESSAGE = (
    "This Hugging Face Trainer trains in full float32 on the GPU it uses whenever there is one "
    "(its TrainingArguments set neither `fp16` nor `bf16`): set `bf16=True` (Ampere or newer) or "
    "`fp16=True` so that matmuls run on the tensor cores with half the activation memory (up to "
    "3x faster training on modern GPUs per TensorFlow's guide; the energy saving is less well "
    "measured: check it with green-lint verify)."
)


def full_precision_trainer(context: RuleContext, call: cst.Call) -> str | None:
    """The message for a library trainer that trains on a GPU in full float32, or None."""
    trainer = context.qualified_name(call.func)
    if trainer in LIGHTNING_TRAINERS:
        return LIGHTNING_MESSAGE if _lightning_on_gpu_in_float32(context, call, trainer) else None
    if context.resolves_to(call.func, *HF_TRAINERS) or _subclasses_hf_trainer(context, call.func):
        return HF_MESSAGE if _hf_in_float32(context, call) else None
    return None


def _lightning_on_gpu_in_float32(context: RuleContext, call: cst.Call, trainer: str) -> bool:
    if has_star(call) or keyword(call, "precision") is not None:
        return False  # the precision is chosen (or may be, through **kwargs)
    accelerator = argument(call, None, "accelerator")
    gpus = argument(call, None, "gpus")
    if gpus is not None and _some_gpus(context, gpus):
        return True
    if accelerator is not None:
        return bool(_strings(context, accelerator) & GPU_ACCELERATORS)
    if gpus is not None:
        return False  # `gpus=0`: the CPU
    # No accelerator named: Lightning 2 picks the GPU; pytorch_lightning may be 1.x (the CPU).
    return trainer.startswith(AUTO_BY_DEFAULT)


def _hf_in_float32(context: RuleContext, call: cst.Call) -> bool:
    if has_star(call) or _precision_set_later(context):
        return False
    args = argument(call, 1, "args")
    if args is None:
        return True  # the default TrainingArguments: float32
    for value in context.values.expressions(args):
        if not (isinstance(value, cst.Call) and context.resolves_to(value.func, *HF_ARGUMENTS)):
            return False  # arguments built elsewhere (a parser, a config file)
        if has_star(value) or any(keyword(value, name) is not None for name in HF_PRECISION):
            return False
        if any(_maybe_true(context, argument(value, None, name)) for name in HF_CPU):
            return False
    return True


def _subclasses_hf_trainer(context: RuleContext, func: cst.BaseExpression) -> bool:
    """`class MyTrainer(Trainer)` of the file, called as `MyTrainer(...)`."""
    cls = context.semantic.definition(func) if isinstance(func, cst.Name) else None
    return isinstance(cls, cst.ClassDef) and any(
        context.resolves_to(base.value, *HF_TRAINERS) for base in cls.bases
    )


def _precision_set_later(context: RuleContext) -> bool:
    """`training_args.fp16 = True` somewhere in the file."""
    return any(
        isinstance(node, cst.AssignTarget | cst.AugAssign)
        and isinstance(node.target, cst.Attribute)
        and node.target.attr.value in HF_PRECISION
        for node in walk(context.module)
    )


def _strings(context: RuleContext, node: cst.BaseExpression) -> set[str]:
    """The strings `node` may be: literals, both branches of `a if c else b`, names."""
    if isinstance(node, cst.IfExp):
        return _strings(context, node.body) | _strings(context, node.orelse)
    found = set()
    for value in context.values.expressions(node):
        if isinstance(value, cst.IfExp):
            found |= _strings(context, value)
            continue
        constant = context.values.constant(value)
        if isinstance(constant, str):
            found.add(constant.lower())
    return found


def _some_gpus(context: RuleContext, node: cst.BaseExpression) -> bool:
    """`gpus=1`, `gpus=[0]`, `gpus=-1`, `gpus="0,1"`: not 0, None, "" or []."""
    constants = context.values.constants(node)
    return any(value not in (0, None, "", "0", [], ()) for value in constants if value is not UNKNOWN)


def _maybe_true(context: RuleContext, node: cst.BaseExpression | None) -> bool:
    if node is None:
        return False
    return any(value is not False for value in context.values.constants(node))
