"""Lightning for GL102 no-early-stopping: a `Trainer` with an epoch budget and no
`EarlyStopping` callback."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import libcst as cst

from green_lint.rules._stopping_budget import followups, shown_count
from green_lint.rules._stopping_callbacks import NONE, callbacks_state
from green_lint.rules._syntax import has_star, is_false, keywords

if TYPE_CHECKING:
    from green_lint.rules.no_early_stopping import NoEarlyStopping

LIGHTNING_TRAINERS = (
    "lightning.Trainer",
    "lightning.pytorch.Trainer",
    "lightning.pytorch.trainer.Trainer",
    "lightning.pytorch.trainer.trainer.Trainer",
    "pytorch_lightning.Trainer",
    "pytorch_lightning.trainer.Trainer",
    "pytorch_lightning.trainer.trainer.Trainer",
)
SHOULD_STOP = re.compile(r"\bshould_stop\s*=\s*True")


def check_lightning(rule: NoEarlyStopping, node: cst.Call) -> None:
    if has_star(node):
        return
    settings = keywords(node)
    if callbacks_state(rule.context, settings.get("callbacks")) != NONE:
        return
    if SHOULD_STOP.search(rule.context.module.code):
        return  # the LightningModule stops the trainer itself
    if "fast_dev_run" in settings and not is_false(settings["fast_dev_run"]):
        return
    if "max_epochs" in settings:
        budget = rule.context.values.number(settings["max_epochs"])
        shown = f"`max_epochs={rule.context.code_for(settings['max_epochs'])}`"
    else:
        if any(key in settings for key in ("max_steps", "max_time")) or not followups(
            rule.context, node, ("fit",)
        ):
            return
        budget, shown = 1000, "no `max_epochs` nor `max_steps`: 1000 epochs by default"
    if budget is None or budget < rule.min_epochs:
        return
    rule.report(
        node,
        f"`Trainer` runs all {shown_count(budget)} epochs ({shown}) with no EarlyStopping callback: "
        'add `callbacks=[EarlyStopping(monitor="val_loss", patience=5)]` (from '
        '`lightning.pytorch.callbacks`) and log `"val_loss"` with `self.log` in `validation_step`; '
        "training then stops 5 epochs after the best validation loss.",
    )
