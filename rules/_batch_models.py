"""Which calls of a file run a model's inference on their argument, for GL305
unbatched-inference: a scikit-learn-style estimator's `predict`/`predict_proba`/
`decision_function`/`transform` (scikit-learn, XGBoost, LightGBM, CatBoost, a
`joblib`/`pickle`-loaded model), a Keras model's `predict`, a transformers `pipeline(...)`
called, `SentenceTransformer.encode` / `CrossEncoder.predict`, and a torch module's forward
(`TorchModules`). Precision first: a receiver whose value the file does not show is not a
model.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._torch_modules import TorchModules

ESTIMATOR = "estimator"  # scikit-learn API: 2-D input, one row per sample
LOADED = "loaded"  # joblib/pickle-loaded: an estimator when `predict*` is called on it
KERAS = "keras"
PIPELINE = "pipeline"  # transformers pipeline(...)
SENTENCE = "sentence"  # SentenceTransformer
CROSS = "cross"  # CrossEncoder
TORCH = "torch"

ESTIMATOR_PACKAGES = ("sklearn", "xgboost", "lightgbm", "catboost", "imblearn")
KERAS_PACKAGES = ("keras", "tensorflow.keras", "tf_keras")
KERAS_BUILDERS = frozenset({"Sequential", "Model", "load_model", "clone_model", "model_from_json"})
PICKLE_LOADS = (
    "joblib.load",
    "pickle.load",
    "pickle.loads",
    "cloudpickle.load",
    "dill.load",
    "skops.io.load",
)
PIPELINE_FUNCTIONS = ("transformers.pipeline", "transformers.pipelines.pipeline")
SENTENCE_CLASSES = ("sentence_transformers.SentenceTransformer",)
CROSS_CLASSES = ("sentence_transformers.CrossEncoder", "sentence_transformers.cross_encoder.CrossEncoder")
# Methods returning the estimator itself.
SELF_RETURNING = frozenset({"fit", "set_params", "set_output", "compile"})
PREDICT_METHODS = frozenset({"predict", "predict_proba", "predict_log_proba", "decision_function"})
ESTIMATOR_METHODS = PREDICT_METHODS | {"transform", "score_samples"}
SENTENCE_METHODS = frozenset({"encode", "encode_query", "encode_document"})


@dataclass(frozen=True)
class ModelCall:
    """A call that runs inference: the model kind, the model expression, the method (""
    for a call of the model itself) and the call's item argument."""

    kind: str
    model: cst.BaseExpression
    method: str
    argument: cst.Arg


def model_call(context: RuleContext, call: cst.Call) -> ModelCall | None:
    """What inference `call` runs, if it runs one; None otherwise."""
    func = call.func
    first = _first_argument(call)
    if first is None:
        return None
    if isinstance(func, cst.Attribute):
        method = func.attr.value
        receiver = func.value
        if method in ESTIMATOR_METHODS | SENTENCE_METHODS:
            kind = model_kind(context, receiver)
            if kind == LOADED and method in PREDICT_METHODS:
                kind = ESTIMATOR
            if (
                (kind == ESTIMATOR and method in ESTIMATOR_METHODS)
                or (kind == KERAS and method == "predict")
                or (kind == SENTENCE and method in SENTENCE_METHODS)
                or (kind == CROSS and method == "predict")
            ):
                return ModelCall(kind, receiver, method, first)
            if method != "forward":
                return None
    if isinstance(func, cst.Name | cst.Attribute) and model_kind(context, func) == PIPELINE:
        return ModelCall(PIPELINE, func, "", first)
    target = func.value if isinstance(func, cst.Attribute) and func.attr.value == "forward" else func
    if isinstance(target, cst.Name | cst.Attribute | cst.Subscript) and context.semantic.imports_module(
        "torch"
    ):
        modules = context.analysis(TorchModules)
        if modules.lookup(target, context.scope()) is not None:
            method = "forward" if target is not func else ""
            return ModelCall(TORCH, target, method, first)
    return None


def _first_argument(call: cst.Call) -> cst.Arg | None:
    """The first argument: a positional one, else a `**inputs` (a tokenizer's output)."""
    for arg in call.args:
        if arg.keyword is None and arg.star == "":
            return arg
        if arg.star == "*":
            return None
    for arg in call.args:
        if arg.star == "**":
            return arg
    return None


def model_kind(context: RuleContext, expr: cst.BaseExpression, depth: int = 0) -> str | None:
    """The kind of model `expr` holds where it is used, when every value that reaches it is
    one model kind; None otherwise."""
    if depth > 4:
        return None
    if isinstance(expr, cst.Call):
        return _built_kind(context, expr, depth)
    if not isinstance(expr, cst.Name | cst.Attribute):
        return None
    values = context.values.expressions(expr)
    kinds = {
        _built_kind(context, value, depth) if isinstance(value, cst.Call) else None
        for value in values
        if value is not expr
    }
    if len(kinds) != 1 or len(values) == 0 or any(value is expr for value in values):
        return None
    return kinds.pop()


def _built_kind(context: RuleContext, call: cst.Call, depth: int) -> str | None:
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value in SELF_RETURNING:
        receiver_kind = model_kind(context, func.value, depth + 1)
        return receiver_kind if receiver_kind in (ESTIMATOR, KERAS) else None
    if context.resolves_to(func, *PIPELINE_FUNCTIONS):
        return PIPELINE
    if context.resolves_to(func, *SENTENCE_CLASSES):
        return SENTENCE
    if context.resolves_to(func, *CROSS_CLASSES):
        return CROSS
    if context.resolves_to(func, *PICKLE_LOADS):
        return LOADED
    qualified = context.resolves_under(func, *ESTIMATOR_PACKAGES)
    if qualified is not None:
        last = qualified.rsplit(".", 1)[-1]
        if last[:1].isupper() or last == "make_pipeline":
            return ESTIMATOR
        return None
    qualified = context.resolves_under(func, *KERAS_PACKAGES)
    if qualified is not None:
        last = qualified.rsplit(".", 1)[-1]
        if last in KERAS_BUILDERS or ".applications." in qualified:
            return KERAS
    return None
