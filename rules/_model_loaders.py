"""What GL302 counts as loading a model: the loader calls, and the functions of other
modules of the project that load one (`load_model()` in `serving.py`, called per request
from `app.py`), read from the project's summaries of them."""

from __future__ import annotations

import ast
import os

import libcst as cst

from green_lint.context import RuleContext
from green_lint.names import dotted_name
from green_lint.project import imported_name
from green_lint.rules._model_load_exemptions import CACHE_DECORATOR

# Calls that read (or download) a model, tokenizer, pipeline or estimator.
LOADERS = (
    "transformers.pipeline",
    "transformers.pipelines.pipeline",
    "torch.load",
    "torch.jit.load",
    "torch.hub.load",
    "joblib.load",
    "pickle.load",
    "cloudpickle.load",
    "dill.load",
    "keras.models.load_model",
    "keras.saving.load_model",
    "tensorflow.keras.models.load_model",
    "tensorflow.keras.saving.load_model",
    "tf_keras.models.load_model",
    "tensorflow.saved_model.load",
    "onnxruntime.InferenceSession",
    "sentence_transformers.SentenceTransformer",
    "sentence_transformers.CrossEncoder",
    "spacy.load",
)
# `X.from_pretrained(...)` loads when X comes from one of these packages.
PRETRAINED_PACKAGES = ("transformers", "sentence_transformers", "diffusers", "peft", "optimum")


def imported_loader(context: RuleContext, call: cst.Call) -> tuple[str, str] | None:
    """(`load_model()`, ` (it calls torch.load in serving.py:6)`) when `call` runs a top-level
    function of another module of the project that loads a model with arguments of its
    own (not its parameters), with no cache: each call loads again. None otherwise."""
    # Named like a loader, as the prefilter asks (`load_weights`, `get_model` is not read).
    name = dotted_name(call.func)
    if name is None or "load" not in name.rsplit(".", 1)[-1].lower():
        return None
    function = context.values.imported_function(call.func)
    inner = loading_call(function) if function is not None else None
    if inner is None:
        return None
    where = function.path.name
    if context.source_path is not None:
        where = os.path.relpath(function.path, context.source_path.parent)
    return f"{name}()", f" (it calls `{inner.callee}` in `{where}:{inner.line}`)"


def loading_call(function):
    """The load a project function (a `project.Function`) makes on every call, with
    arguments of its own; None for a cached or lazy loader, or one whose caller picks
    what to load."""
    if function.declares_global:
        return None  # a lazy loader may keep what it loads in a global
    if any(CACHE_DECORATOR.search(decorator) for decorator in function.decorators):
        return None
    for inner in function.calls:
        if _loads(inner.callee) and not inner.reads & set(function.parameters):
            return inner
    return None


def imports_project_loader(tree: ast.Module, project_function) -> bool:
    """Whether the module level imports, from another module of the project, a function
    named like a loader that loads on every call (the tree prefilter's question)."""
    for statement in tree.body:
        if not isinstance(statement, ast.ImportFrom):
            continue
        for alias in statement.names:
            if "load" not in alias.name.lower():
                continue
            function = project_function(imported_name(statement, alias))
            if function is not None and loading_call(function) is not None:
                return True
    return False


def _loads(callee: str) -> bool:
    if callee in LOADERS:
        return True
    owner, _, method = callee.rpartition(".")
    return (
        method == "from_pretrained"
        and owner.split(".")[0] in PRETRAINED_PACKAGES
        and not owner.endswith("Config")
    )
