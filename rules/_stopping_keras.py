"""Keras for GL102 no-early-stopping: `model.fit(..., epochs=N)` without an `EarlyStopping`
callback, and the fix that adds one in the file's own spelling of Keras."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from green_lint.context import RuleContext
from green_lint.fixes import add_import
from green_lint.names import statements_of
from green_lint.rule import Fix
from green_lint.rules._stopping_budget import budget_origin, is_set, shown_count
from green_lint.rules._stopping_callbacks import NONE, callbacks_state
from green_lint.rules._syntax import argument, keyword, walk
from green_lint.rules._training_edits import with_element, with_keyword

if TYPE_CHECKING:
    from green_lint.rules.no_early_stopping import NoEarlyStopping

KERAS_MODULES = ("keras", "tensorflow", "tf_keras")


# The positions of `fit`'s and `fit_generator`'s arguments (the same in Keras 1 and 2).
_POSITIONS = {
    "fit": {"epochs": 3, "callbacks": 5, "validation_split": 6, "validation_data": 7},
    "fit_generator": {"epochs": 2, "callbacks": 4, "validation_split": None, "validation_data": 5},
}


def check_keras_fit(rule: NoEarlyStopping, node: cst.Call) -> None:
    """`model.fit(...)` or `model.fit_generator(...)` with `epochs=N` (Keras 1: `nb_epoch=N`)."""
    if any(arg.star == "**" for arg in node.args):
        return
    method = node.func.attr.value
    positions = _POSITIONS[method]
    # Keras 1 spells the budget `nb_epoch`; its EarlyStopping has no `restore_best_weights`.
    old_budget = keyword(node, "nb_epoch")
    keras1 = old_budget is not None
    epochs = old_budget.value if keras1 else argument(node, positions["epochs"], "epochs")
    if epochs is None or not _receiver_is_keras(rule.context, node.func.value):
        return
    budget = rule.context.values.number(epochs)
    if budget is None or budget < rule.min_epochs:
        return
    callbacks = argument(node, positions["callbacks"], "callbacks")
    if callbacks_state(rule.context, callbacks) != NONE:
        return
    split = argument(node, positions["validation_split"], "validation_split")
    data = argument(node, positions["validation_data"], "validation_data")
    validation = is_set(split) or is_set(data)
    if split is not None and rule.context.values.number(split) == 0 and data is None:
        validation = False
    spelled = _early_stopping_spelling(rule.context, _keras_family(rule.context, node.func.value))
    name = spelled[0] if spelled else "keras.callbacks.EarlyStopping"
    if keras1:
        callback = f'{name}(monitor="val_loss", patience=5)'
        kept = ""
    else:
        callback = f'{name}(monitor="val_loss", patience=5, restore_best_weights=True)'
        kept = " and keeps the best weights"
    message = (
        f"`{method}` trains all {shown_count(budget)} epochs{budget_origin(rule.context, epochs)} "
        "with no EarlyStopping callback: add "
        f"`callbacks=[{callback}]`, which stops once the validation loss has not improved for 5 "
        f"epochs{kept}"
    )
    fix = None
    if not validation:
        message += (
            "; pass `validation_data=` or `validation_split=` so that it has a validation loss to watch."
        )
    elif keras1:
        message += "."  # no fix: the Keras 1 API has changed too much to edit it blindly
    elif _history_read_by_epoch(rule, node, budget):
        message += (
            "; not fixed automatically: the code reads the returned history by the fixed epoch "
            "count (`range(epochs)`, `[epochs - 1]`), which a shorter run breaks: index it by "
            '`len(history.history["loss"])` instead.'
        )
    else:
        message += "."
        fix = _keras_fix(node, callbacks, callback, spelled)
    rule.report(node, message, fix=fix)


def _history_read_by_epoch(rule: NoEarlyStopping, node: cst.Call, budget: float) -> bool:
    """Whether a statement of the scope reads the history `fit` returns (`h.history`,
    `h.epoch`) together with the epoch budget (`plt.plot(range(epochs), h.history["loss"])`,
    `h.history["acc"][epochs - 1]`, `len(h.history["loss"]) == epochs`): early stopping
    would make that history shorter than the code expects."""
    context = rule.context
    stack = context.stack
    parent = stack[-2] if len(stack) > 1 else None
    if not isinstance(parent, cst.Assign):
        return False
    names = {t.target.value for t in parent.targets if isinstance(t.target, cst.Name)}
    if not names:
        return False
    for statement in statements_of(context.scope(), enter_definitions=False):
        # A compound statement with its body: `for e in range(epochs): h.history["loss"][e]`.
        nodes = list(walk(statement, enter_definitions=False))
        reads = any(
            isinstance(n, cst.Attribute)
            and n.attr.value in ("history", "epoch")
            and isinstance(n.value, cst.Name)
            and n.value.value in names
            for n in nodes
        )
        if reads and any(
            isinstance(n, cst.Name | cst.Integer)
            and rule.context.values.number(n) in (budget - 1, budget, budget + 1)
            for n in nodes
        ):
            return True
    return False


def _receiver_is_keras(context: RuleContext, receiver: cst.BaseExpression) -> bool:
    """False when the object `fit` is called on is known not to be a Keras model."""
    value = context.single_value(receiver) if isinstance(receiver, cst.Name) else receiver
    if not isinstance(value, cst.Call):
        return True
    func = value.func
    definition = context.semantic.definition(func)
    if isinstance(definition, cst.ClassDef):
        return any(context.resolves_under(base.value, *KERAS_MODULES) for base in definition.bases)
    if isinstance(definition, cst.FunctionDef):
        return True  # a function of the file that builds the model
    qualified = context.qualified_name(func)
    if qualified is None or qualified.startswith("builtins."):
        return True
    return qualified.split(".", 1)[0] in KERAS_MODULES


def _keras_family(context: RuleContext, receiver: cst.BaseExpression) -> str | None:
    """The Keras the model comes from (keras, tensorflow.keras or tf_keras), if known."""
    value = context.single_value(receiver) if isinstance(receiver, cst.Name) else receiver
    if not isinstance(value, cst.Call):
        return None
    func = value.func
    candidates = [func]
    definition = context.semantic.definition(func)
    if isinstance(definition, cst.ClassDef):
        candidates = [base.value for base in definition.bases]
    for candidate in candidates:
        qualified = context.resolves_under(candidate, *KERAS_MODULES)
        if qualified is not None:
            top = qualified.split(".", 1)[0]
            return "tensorflow.keras" if top == "tensorflow" else top
    return None


def _early_stopping_spelling(context: RuleContext, family: str | None) -> tuple[str, dict] | None:
    """The file's spelling of Keras' EarlyStopping (for the model's Keras when known)
    and the changes that import it."""
    bindings = context.semantic.module_imports()
    targets = set(bindings.values())
    if family is None:
        if any(t == "tf_keras" or t.startswith("tf_keras.") for t in targets):
            family = "tf_keras"
        elif any(t == "keras" or t.startswith("keras.") for t in targets):
            family = "keras"
        else:
            family = "tensorflow.keras"
    preferences = [
        (f"{family}.callbacks.EarlyStopping", ""),
        (f"{family}.callbacks", ".EarlyStopping"),
        (family, ".callbacks.EarlyStopping"),
    ]
    if family == "tensorflow.keras":
        preferences.append(("tensorflow", ".keras.callbacks.EarlyStopping"))
    for target, suffix in preferences:
        for local, bound in bindings.items():
            if bound == target:
                return local + suffix, {}
    if "EarlyStopping" in context.semantic.bound_names():
        return None
    code = f"from {family}.callbacks import EarlyStopping\n"
    return "EarlyStopping", add_import(context, code, binds=f"{family}.callbacks.EarlyStopping")


def _keras_fix(node: cst.Call, callbacks, callback: str, spelled) -> Fix | None:
    if spelled is None:
        return None
    _, imports = spelled
    if callbacks is None:
        new = with_keyword(node, "callbacks", f"[{callback}]")
        return Fix("Stop early (keras EarlyStopping callback)", {node: new, **imports})
    found = keyword(node, "callbacks")
    if found is None or not isinstance(found.value, cst.List):
        return None
    return Fix(
        "Stop early (keras EarlyStopping callback)",
        {found.value: with_element(found.value, callback), **imports},
    )
