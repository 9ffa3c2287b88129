"""Hugging Face for GL102 no-early-stopping: a transformers (or trl) `Trainer` whose
`TrainingArguments` set an epoch budget, without `EarlyStoppingCallback`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from green_lint.rules._stopping_budget import budget_of, followups, shown_count
from green_lint.rules._stopping_callbacks import NONE, callbacks_state
from green_lint.rules._syntax import argument, has_star, keyword_value, keywords

if TYPE_CHECKING:
    from green_lint.rules.no_early_stopping import NoEarlyStopping

HF_TRAINERS = (
    "transformers.Trainer",
    "transformers.Seq2SeqTrainer",
    "transformers.trainer.Trainer",
    "transformers.trainer_seq2seq.Seq2SeqTrainer",
)
HF_ARGUMENTS = (
    "transformers.TrainingArguments",
    "transformers.Seq2SeqTrainingArguments",
    "transformers.training_args.TrainingArguments",
    "transformers.training_args_seq2seq.Seq2SeqTrainingArguments",
)


def check_hf_trainer(rule: NoEarlyStopping, node: cst.Call, name: str) -> None:
    if has_star(node):
        return
    if callbacks_state(rule.context, keyword_value(node, "callbacks")) != NONE:
        return
    for call in followups(rule.context, node, ("add_callback",)):
        if (
            not call.args
            or callbacks_state(rule.context, cst.List([cst.Element(call.args[0].value)])) != NONE
        ):
            return
    arguments = argument(node, 1, "args")
    value = rule.context.single_value(arguments)
    if not isinstance(value, cst.Call) or has_star(value):
        return
    qualified = rule.context.resolves_under(value.func, "transformers", "trl")
    if qualified is None or not (
        qualified in HF_ARGUMENTS or (qualified.startswith("trl.") and qualified.endswith("Config"))
    ):
        return
    settings = keywords(value)
    if "max_steps" in settings:
        steps = rule.context.values.number(settings["max_steps"])
        if steps is None or steps > 0:
            return
    epochs = settings.get("num_train_epochs")
    budget = budget_of(rule.context, epochs, 3)
    if budget is None or budget < rule.min_epochs:
        return
    shown = f"`num_train_epochs={rule.context.code_for(epochs)}`" if epochs is not None else "the default 3"
    rule.report(
        node,
        f"`{name}` trains all {shown_count(budget)} epochs ({shown}) with no EarlyStoppingCallback: add "
        "`callbacks=[EarlyStoppingCallback(early_stopping_patience=3)]`; it needs "
        '`load_best_model_at_end=True`, `metric_for_best_model="eval_loss"` and an evaluation '
        'strategy (`eval_strategy="epoch"`, `evaluation_strategy` in older releases) with the '
        "same `save_strategy` in the TrainingArguments.",
    )
