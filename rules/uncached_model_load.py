"""GL302 uncached-model-load."""

from __future__ import annotations

import re

import libcst as cst

from green_lint.names import dotted_name
from green_lint.rule import Rule
from green_lint.rules._model_load_exemptions import (
    guarded_by_target,
    is_cached,
    lazy_load,
    only_returns_load,
    rewrites_source,
    runs_once,
)
from green_lint.rules._model_load_fix import existing_loaders, loader_fix
from green_lint.rules._model_load_invariance import Invariance
from green_lint.rules._model_loaders import (
    LOADERS,
    PRETRAINED_PACKAGES,
    imported_loader,
    imports_project_loader,
)
from green_lint.rules._torch_call_graph import Analysis
from green_lint.rules._torch_calls import FunctionInfo
from green_lint.rules._torch_request_handlers import is_request_handler

# What a file that loads a model contains (each: all of its words): each loader's name
# with the package it comes from, since most files that call some `load(` (json, numpy,
# yaml) or import `sklearn.pipeline` load no model.
LOADER_TRIGGERS = (
    *(("load(", package) for package in ("torch", "joblib", "pickle", "dill", "tensorflow", "spacy")),
    ("load_model",),
    ("pipeline", "from transformers"),
    ("pipeline", "import transformers"),
    ("from_pretrained",),
    ("InferenceSession",),
    ("SentenceTransformer",),
    ("CrossEncoder",),
)
# A function with one of these name prefixes runs once per item or request.
PER_CALL_PREFIXES = ("predict", "classify", "infer", "score", "handle", "serve")
SETUP_FUNCTIONS = frozenset({"__init__", "__post_init__", "__enter__", "__aenter__", "setup", "setUp"})


class UncachedModelLoad(Rule):
    """
    ## What it does
    Flags a model, tokenizer, pipeline or estimator loaded with arguments that do not
    change (literals, module constants) where it runs again and again:
    - inside a loop body;
    - inside a function called from a loop of the file, a web request handler (Flask
      `@app.route`/`@app.get`, FastAPI `@app.get`/`@router.post`..., DRF `@api_view`,
      a Django view in `views.py`, a gradio `fn`), or a function named
      predict/classify/infer/score/handle/serve (`predict_batch` too) that does more than
      return the loaded object.

    The loads: `transformers.pipeline(...)`, `X.from_pretrained(...)` (transformers,
    sentence-transformers, diffusers, peft, optimum), `torch.load`, `torch.jit.load`,
    `torch.hub.load`, `joblib.load`, `pickle.load`, `keras.models.load_model` (also through
    `tf.keras`), `onnxruntime.InferenceSession`, `SentenceTransformer(...)`, `spacy.load`.
    A call of a function of another module of the project that is named like a loader
    (`load_weights()` from `serving.py`) counts as a load when that function loads with
    arguments of its own and no cache; the message names the module and line that load.

    Not flagged: module-level loads, `__init__`, loaders decorated with `functools.cache`,
    `lru_cache`, `cached_property` (or any `*cache*` decorator), lazy loaders
    (`if _model is None: _model = load(...)`, a cache dict, a guarded `self.model`),
    functions that only return what they load, loops over different checkpoints, loads
    that run on one iteration only (`if i == rank:`, followed by `break`), functions
    whose argument (a parameter) picks the file, loops that also write the file they
    read, and configs (`AutoConfig.from_pretrained`).

    ## Why it wastes energy
    Loading reads the file from disk (or the network), deserialises every weight and, for
    ONNX Runtime, optimises the graph again: often seconds and hundreds of megabytes for
    a prediction that takes milliseconds. Done per request or per item, the load
    dominates the energy of the service.

    ## Example
    ```python
    @app.route("/predict")
    def predict():
        model = joblib.load("model.joblib")
        return {"label": int(model.predict([features()])[0])}
    ```

    ## Use instead
    ```python
    @functools.cache
    def _load_model():
        return joblib.load("model.joblib")


    @app.route("/predict")
    def predict():
        model = _load_model()
        return {"label": int(model.predict([features()])[0])}
    ```
    Or load once at module level, or in `__init__`; for a loop, load before the loop.
    A loader that takes the model name or path as a parameter needs a bounded cache,
    or it keeps every model it was ever asked for in memory:
    ```python
    @functools.lru_cache(maxsize=8)
    def _load_model(name):
        return AutoModel.from_pretrained(name)
    ```

    ## Fix safety
    Unsafe: the loaded object is then shared by every call. If the code mutates it
    (fine-tunes it, moves it to another device, changes its settings) the calls are no
    longer independent, and a model file replaced on disk is no longer picked up without
    a restart. The fix is offered for a load in a module-level function or method whose
    arguments only use constants and module-level names; a load in a loop gets advice
    only (hoist it before the loop). The loader the fix writes takes no parameters (the
    load's arguments are constants), so `@functools.cache` holds exactly one entry: it is
    as bounded as `functools.lru_cache(maxsize=1)`, with no LRU bookkeeping. A loader that takes arguments (the model name) is never written by the fix;
    when you write one, bound it with `functools.lru_cache(maxsize=...)` (a handful of
    models, e.g. 8): an unbounded `functools.cache` keyed by a name that comes from requests
    grows without limit (creedengo flags unbounded caches as GCI89).

    ## Evidence
    - No peer-reviewed energy figure was found for model-load caching; vendor claims of
      "~40% redundant inference calls" are marketing. The cost of one load is easy to see
      on your code: measure it with `green-lint verify`.
    - `functools.cache` is `lru_cache(maxsize=None)`: unbounded; `lru_cache(maxsize=n)`
      keeps the n most recently used results.
      https://docs.python.org/3/library/functools.html#functools.lru_cache
    - The cost is the load itself: deserialising the weights (pickle/joblib/`torch.load`)
      and, for ONNX Runtime, building and optimising the session.
      https://onnxruntime.ai/docs/performance/tune-performance/
    """

    code = "GL302"
    needs = (Analysis,)
    name = "uncached-model-load"
    summary = "A model is loaded again on every call or iteration with the same arguments; load it once"
    fix_safety = "unsafe"
    # Each loader's name with the package it comes from (its import is in the text): most
    # files that call some `load(` (json, numpy, yaml) or import `sklearn.pipeline` load
    # no model.
    # A loader of another module of the project, imported here (`from serving import
    # load_weights`), is a trigger too; the tree prefilter then asks its summary.
    # The name must be in the import statement itself: on its line, or in its parentheses.
    triggers = (
        *LOADER_TRIGGERS,
        re.compile(r"import(?<=\bimport)(?:[ \t][^;#\n(]{0,200}?|\s*\([^)]{0,400}?)\bload\w*"),
    )

    @classmethod
    def may_flag(cls, tree, text: str, project_function=None) -> bool:
        if any(all(part in text for part in trigger) for trigger in LOADER_TRIGGERS):
            return True
        return project_function is not None and imports_project_loader(tree, project_function)

    def visit_Module(self, node: cst.Module) -> None:
        # id(call) -> what it loads: most files with a trigger word load nothing, and
        # they never need the file's call graph.
        self._loads: dict[int, tuple[str, str]] = {}  # (what, where it loads, if elsewhere)

    def visit_Call(self, node: cst.Call) -> None:
        what = self._load_name(node)
        if what is not None:
            self._loads[id(node)] = (what, "")
            return
        imported = imported_loader(self.context, node)
        if imported is not None:
            self._loads[id(node)] = imported

    def leave_Module(self, node: cst.Module) -> None:
        if not self._loads:
            return
        context = self.context
        analysis = context.analysis(Analysis)
        invariance = Invariance(context)
        planned: dict[str, str] = dict(existing_loaders(context))
        inserted: set[str] = set()
        for call, state in analysis.calls:
            what, origin = self._loads.get(id(call), (None, ""))
            if what is None:
                continue
            info = analysis.functions.get(state.func) if state.func is not None else None
            if info is not None and self._excluded(analysis, info):
                continue
            if info is not None and lazy_load(info.node, call):
                continue  # loaded once, kept beyond the call
            why = self._per_call_reason(analysis, info, call) if info is not None else None
            if why is not None and invariance.in_function(call):
                # A loader of another module is fixed there (cache it), not here.
                fix = None if origin else loader_fix(context, invariance, call, info, planned, inserted)
                self.report(
                    call,
                    f"`{what}`{origin} in `{info.name}()` loads the model again on every call ({why}), "
                    "with the same arguments: it reads and deserialises every weight each time. "
                    "Load it once: at module level, in `__init__`, or in a cached loader "
                    "(`functools.cache` on a loader without parameters; `functools.lru_cache(maxsize=8)` "
                    "on one that takes the model name, so the cache stays bounded).",
                    fix=fix,
                )
                continue
            loop = state.loops[-1] if state.loops else None
            if loop is None or not invariance.in_loop(call, loop):
                continue
            if (
                rewrites_source(context.code_for(loop), call)
                or runs_once(loop, call, invariance)
                or guarded_by_target(loop, call)
            ):
                continue
            self.report(
                call,
                f"`{what}`{origin} runs on every iteration of the loop with the same arguments: it reads "
                "and deserialises the model each time. Load it once, before the loop, and reuse it.",
            )

    # -- what is a load ------------------------------------------------------------------
    def _load_name(self, call: cst.Call) -> str | None:
        context = self.context
        func = call.func
        for qualified in context.semantic.candidates(func):
            if qualified in LOADERS:
                return dotted_name(func) or qualified
        if isinstance(func, cst.Attribute) and func.attr.value == "from_pretrained":
            owner = context.resolves_under(func.value, *PRETRAINED_PACKAGES)
            if owner is not None and not owner.endswith("Config"):  # a config is not a model
                return dotted_name(func) or "from_pretrained"
        return None

    # -- where it runs -------------------------------------------------------------------
    def _excluded(self, analysis: Analysis, info: FunctionInfo) -> bool:
        """Loads in setup code or in a cached loader (or a function inside one)."""
        for enclosing in analysis.enclosing_functions(info.node):
            if enclosing.name in SETUP_FUNCTIONS or is_cached(enclosing.node):
                return True
        return False

    def _per_call_reason(self, analysis: Analysis, info: FunctionInfo, call: cst.Call) -> str | None:
        func = info.node
        if rewrites_source(self.context.code_for(func), call):
            return None
        if is_request_handler(self.context, func, analysis):
            reason = "it is a request handler"
        else:
            reason = self._called_per_item(analysis, info)
        if reason is None and info.name.lstrip("_").lower().startswith(PER_CALL_PREFIXES):
            reason = "a prediction entry point, called per item or request"
        if reason is None or only_returns_load(func, call, self._load_name):
            return None
        return reason

    def _called_per_item(self, analysis: Analysis, info: FunctionInfo) -> str | None:
        for site in analysis.call_sites(info.node):
            if site.how in ("argument", "method"):
                continue
            if site.how == "mapped" or site.state.loops:
                line = self.context.position(site.node).start.line
                return f"it is called in a loop at line {line}"
        return None
