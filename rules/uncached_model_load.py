"""GL302 uncached-model-load."""

from __future__ import annotations

import builtins
import re

import libcst as cst

from green_lint.fixes import add_import
from green_lint.names import dotted_name, statements_of
from green_lint.rule import Fix, Rule
from green_lint.rules._torch import (
    MODULE_CHAIN_METHODS,
    Analysis,
    AnalysisHooks,
    FunctionInfo,
    analysis_for,
    bound_names_in,
    is_request_handler,
)
from green_lint.walk import children, path_to

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
# A function with one of these name prefixes runs once per item or request.
PER_CALL_PREFIXES = ("predict", "classify", "infer", "score", "handle", "serve")
# Calls whose result depends only on their arguments: an argument built with them from
# constants is a constant.
PURE_FUNCTIONS = frozenset(
    {
        "os.path.join",
        "os.path.abspath",
        "os.path.expanduser",
        "os.path.dirname",
        "os.path.realpath",
        "os.path.normpath",
        "os.getenv",
        "os.environ.get",
        "os.fspath",
        "pathlib.Path",
        "pathlib.PurePath",
        "pathlib.PosixPath",
        "pathlib.WindowsPath",
        "builtins.str",
        "builtins.open",
        "builtins.dict",
        "builtins.list",
        "builtins.tuple",
        "builtins.int",
        "builtins.float",
        "builtins.bool",
        "torch.device",
        "onnxruntime.get_available_providers",
    }
)
PURE_METHODS = frozenset(
    {"joinpath", "with_suffix", "with_name", "resolve", "absolute", "expanduser", "format", "join", "get"}
)
# Writing in the loop (or function) suggests the file read is not the same every time.
WRITES = re.compile(r"\b(save|dump|export|write|to_disk)\w*\s*\(")
CACHE_DECORATOR = re.compile(r"cache|memoize|memoise", re.IGNORECASE)
SETUP_FUNCTIONS = frozenset({"__init__", "__post_init__", "__enter__", "__aenter__", "setup", "setUp"})
_BUILTINS = frozenset(dir(builtins)) | {"__file__", "__name__"}


class UncachedModelLoad(AnalysisHooks, Rule):
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

    ## Fix safety
    Unsafe: the loaded object is then shared by every call. If the code mutates it
    (fine-tunes it, moves it to another device, changes its settings) the calls are no
    longer independent, and a model file replaced on disk is no longer picked up without
    a restart. The fix is offered for a load in a module-level function or method whose
    arguments only use constants and module-level names; a load in a loop gets advice
    only (hoist it before the loop).

    ## Evidence
    - No peer-reviewed energy figure was found for model-load caching; vendor claims of
      "~40% redundant inference calls" are marketing. The cost of one load is easy to see
      on your code: measure it with `green-lint verify`.
    - The cost is the load itself: deserialising the weights (pickle/joblib/`torch.load`)
      and, for ONNX Runtime, building and optimising the session.
      https://onnxruntime.ai/docs/performance/tune-performance/
    """

    code = "GL302"
    name = "uncached-model-load"
    summary = "A model is loaded again on every call or iteration with the same arguments; load it once"
    fix_safety = "unsafe"
    triggers = (
        "load(",
        "load_model",
        "pipeline",
        "from_pretrained",
        "InferenceSession",
        "SentenceTransformer",
        "CrossEncoder",
    )

    def leave_Module(self, node: cst.Module) -> None:
        context = self.context
        analysis = analysis_for(context)
        invariance = _Invariance(context, analysis)
        planned: dict[str, str] = dict(self._existing_loaders())
        inserted: set[str] = set()
        for call, state in analysis.calls:
            what = self._load_name(call)
            if what is None:
                continue
            info = analysis.functions.get(state.func) if state.func is not None else None
            if info is not None and self._excluded(analysis, info):
                continue
            if info is not None and _lazy_load(info.node, call):
                continue  # loaded once, kept beyond the call
            why = self._per_call_reason(analysis, info, call) if info is not None else None
            if why is not None and invariance.in_function(call, info.node):
                fix = self._loader_fix(invariance, call, info, planned, inserted)
                self.report(
                    call,
                    f"`{what}` in `{info.name}()` loads the model again on every call ({why}), "
                    "with the same arguments: it reads and deserialises every weight each time. "
                    "Load it once: at module level, in `__init__`, or in a `functools.cache`d "
                    "loader.",
                    fix=fix,
                )
                continue
            loop = state.loops[-1] if state.loops else None
            if loop is None or not invariance.in_loop(call, loop):
                continue
            if (
                _rewrites_source(context.code_for(loop), call)
                or _runs_once(loop, call, invariance)
                or _guarded_by_target(loop, call)
            ):
                continue
            self.report(
                call,
                f"`{what}` runs on every iteration of the loop with the same arguments: it reads "
                "and deserialises the model each time. Load it once, before the loop, and reuse it.",
            )

    # -- what is a load ------------------------------------------------------------------
    def _load_name(self, call: cst.Call) -> str | None:
        context = self.context
        func = call.func
        for qualified in context.imports.candidates(func):
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
            if enclosing.name in SETUP_FUNCTIONS or _is_cached(enclosing.node):
                return True
        return False

    def _per_call_reason(self, analysis: Analysis, info: FunctionInfo, call: cst.Call) -> str | None:
        func = info.node
        if _rewrites_source(self.context.code_for(func), call):
            return None
        if is_request_handler(self.context, func, analysis):
            reason = "it is a request handler"
        else:
            reason = self._called_per_item(analysis, info)
        if reason is None and info.name.lstrip("_").lower().startswith(PER_CALL_PREFIXES):
            reason = "a prediction entry point, called per item or request"
        if reason is None or _only_returns_load(func, call, self._load_name):
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

    # -- the fix -------------------------------------------------------------------------
    def _existing_loaders(self) -> dict[str, str]:
        """Module-level cached loaders `def f(): return <load>` already in the file."""
        found = {}
        for statement in self.context.module.body:
            if not isinstance(statement, cst.FunctionDef) or not _is_cached(statement):
                continue
            body = statement.body
            if isinstance(body, cst.SimpleStatementSuite):
                smalls = list(body.body)
            elif len(body.body) == 1 and isinstance(body.body[0], cst.SimpleStatementLine):
                smalls = list(body.body[0].body)
            else:
                continue
            small = smalls[0] if len(smalls) == 1 else None
            if (
                not statement.params.params
                and isinstance(small, cst.Return)
                and isinstance(small.value, cst.Call)
            ):
                found[_code(small.value)] = statement.name.value
        return found

    def _loader_fix(
        self,
        invariance: _Invariance,
        call: cst.Call,
        info: FunctionInfo,
        planned: dict[str, str],
        inserted: set[str],
    ) -> Fix | None:
        context = self.context
        module = context.module
        if info.outer is not None:
            return None
        anchor = info.method_of if info.method_of is not None else info.node
        if not any(statement is anchor for statement in module.body):
            return None
        if not invariance.only_module_names(call, info.node):
            return None
        code = _code(call)
        if code in inserted:
            return None  # another fix of this round inserts the loader; the next round reuses it
        functools_name = context.imports.local_name_for("functools") or "functools"
        import_changes = add_import(context, "import functools", binds="functools")
        insert = code not in planned
        if insert:
            planned[code] = self._loader_name(call, info.node, planned)
            inserted.add(code)
        name = planned[code]
        new_anchor = anchor.deep_replace(call, cst.parse_expression(f"{name}()"))
        if not insert:
            changes = {anchor: new_anchor}
        else:
            loader = cst.parse_statement(f"@{functools_name}.cache\ndef {name}():\n    return {code}\n")
            blank = [line for line in _leading_blank_run(anchor.leading_lines)]
            kept = list(anchor.leading_lines[len(blank) :])
            loader = loader.with_changes(leading_lines=blank)
            new_anchor = new_anchor.with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine(), *kept])
            changes = {anchor: cst.FlattenSentinel([loader, new_anchor]), **import_changes}
        return Fix(f"Load once, in the `functools.cache`d loader `{name}()`", changes, applicability="unsafe")

    def _loader_name(self, call: cst.Call, func: cst.FunctionDef, planned: dict[str, str]) -> str:
        target = "model"
        for statement in statements_of(func, enter_definitions=False):
            if isinstance(statement, cst.Assign) and _contains(statement.value, call):
                first = statement.targets[0].target
                if isinstance(first, cst.Name):
                    target = first.value.lstrip("_")
                break
        base = f"_load_{target}"
        taken = (
            set(planned.values()) | self.context.imports.own_definitions | set(self.context.imports.bindings)
        )
        taken |= set(bound_names_in(self.context.module))
        name, counter = base, 2
        while name in taken:
            name, counter = f"{base}_{counter}", counter + 1
        return name


def _load_targets(path: list[cst.CSTNode], call: cst.Call) -> list[cst.BaseExpression]:
    """What the statement holding the load assigns its result to."""
    for node in reversed(path):
        if isinstance(node, cst.Assign) and _contains(node.value, call):
            return [target.target for target in node.targets]
        if isinstance(node, cst.AnnAssign | cst.AugAssign) and _contains(node.value, call):
            return [node.target]
        if isinstance(node, cst.BaseSmallStatement | cst.BaseCompoundStatement):
            return []
    return []


def _guarded_by_target(root: cst.CSTNode, call: cst.Call, path: list[cst.CSTNode] | None = None) -> bool:
    """`if model is None: model = load(...)`: the load runs while its target is unset."""
    path = path if path is not None else path_to(root, call) or []
    targets = _load_targets(path, call)
    if not targets:
        return False
    names = [_code(target) for target in targets]
    cache_entry = any(isinstance(target, cst.Subscript) for target in targets)
    for index, node in enumerate(path[:-1]):
        if isinstance(node, cst.If | cst.IfExp) and path[index + 1] is not node.test:
            test = _code(node.test)
            if cache_entry or any(re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", test) for name in names):
                return True  # a cache entry: `if key not in cache: cache[key] = load(...)`
    return False


def _lazy_load(func: cst.FunctionDef, call: cst.Call) -> bool:
    """A lazy loader: the load is conditional and its result kept beyond the call (an
    attribute, a global, a cache entry), or it only runs while its target is unset."""
    path = path_to(func, call) or []
    declared = {
        item.name.value
        for statement in statements_of(func, enter_definitions=False)
        if isinstance(statement, cst.Global | cst.Nonlocal)
        for item in statement.names
    }
    conditional = any(
        isinstance(node, cst.If | cst.IfExp) and path[index + 1] is not node.test
        for index, node in enumerate(path[:-1])
    )
    for target in _load_targets(path, call):
        kept = isinstance(target, cst.Attribute | cst.Subscript) or (
            isinstance(target, cst.Name) and target.value in declared
        )
        if kept and conditional:
            return True
    return _guarded_by_target(func, call, path)


def _runs_once(loop: cst.CSTNode, call: cst.Call, invariance: _Invariance) -> bool:
    """Whether the load, though inside the loop, runs on one iteration only: under a
    condition on what the loop changes (`if i == rank:`), or followed by `break` or
    `return` in its block."""
    path = path_to(loop, call) or []
    varying = invariance.analysis.bound_names(loop)
    for index, node in enumerate(path[:-1]):
        child = path[index + 1]
        if isinstance(node, cst.If | cst.IfExp) and child is not node.test:
            names, _ = _read_names(node.test)
            if any(name.value in varying for name in names):
                return True
        if isinstance(node, cst.IndentedBlock) and index > 0:
            for statement in node.body:
                if isinstance(statement, cst.SimpleStatementLine) and any(
                    isinstance(small, cst.Break | cst.Return) for small in statement.body
                ):
                    return True
    return False


def _rewrites_source(scope_code: str, call: cst.Call) -> bool:
    """Whether the loop or function also writes (saves, dumps) what the load reads: then
    the load does not read the same thing every time."""
    if not call.args or not WRITES.search(scope_code):
        return False
    source = call.args[0].value
    if isinstance(source, cst.Call) and source.args:  # pickle.load(open(PATH, "rb"))
        source = source.args[0].value
    return scope_code.count(_code(source)) > 1


def _is_cached(func: cst.FunctionDef) -> bool:
    for decorator in func.decorators:
        expr = decorator.decorator
        expr = expr.func if isinstance(expr, cst.Call) else expr
        if CACHE_DECORATOR.search(dotted_name(expr) or ""):
            return True
    return False


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def _leading_blank_run(lines) -> list[cst.EmptyLine]:
    run = []
    for line in lines:
        if line.comment is not None:
            break
        run.append(line)
    return run


def _contains(expr: cst.CSTNode, node: cst.CSTNode) -> bool:
    """Whether `expr` is `node` or a chain of module methods over it (`load(...).eval()`)."""
    while True:
        if expr is node:
            return True
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
            expr = expr.func.value
        elif isinstance(expr, cst.Attribute):
            expr = expr.value
        else:
            return False


def _only_returns_load(func: cst.FunctionDef, call: cst.Call, load_name) -> bool:
    """Whether the function only loads and returns what it loaded (a loader)."""
    loaded: set[str] = set()
    returns = []
    for statement in statements_of(func, enter_definitions=False):
        if isinstance(statement, cst.Assign) and _is_loaded(statement.value, load_name, loaded):
            for target in statement.targets:
                if isinstance(target.target, cst.Name):
                    loaded.add(target.target.value)
        elif isinstance(statement, cst.Return):
            returns.append(statement.value)
    if not returns:
        return False
    for value in returns:
        elements = [e.value for e in value.elements] if isinstance(value, cst.Tuple) else [value]
        if not elements or not all(_is_loaded(e, load_name, loaded) for e in elements):
            return False
    return True


def _is_loaded(expr: cst.BaseExpression | None, load_name, loaded: set[str]) -> bool:
    while (
        isinstance(expr, cst.Call)
        and isinstance(expr.func, cst.Attribute)
        and expr.func.attr.value in MODULE_CHAIN_METHODS
    ):
        expr = expr.func.value
    if isinstance(expr, cst.Name):
        return expr.value in loaded
    return isinstance(expr, cst.Call) and load_name(expr) is not None


def _read_names(expr: cst.CSTNode) -> tuple[list[cst.Name], bool]:
    """The names an expression reads (not attribute names or keywords), and whether it
    holds a lambda or a comprehension (their own scopes: not followed)."""
    names: list[cst.Name] = []
    pending = [expr]
    while pending:
        node = pending.pop()
        if isinstance(node, cst.Lambda | cst.ListComp | cst.SetComp | cst.DictComp | cst.GeneratorExp):
            return names, True
        if isinstance(node, cst.Name):
            names.append(node)
        elif isinstance(node, cst.Attribute | cst.Arg):
            pending.append(node.value)
        else:
            pending.extend(children(node))
    return names, False


class _Invariance:
    """Whether a load's arguments are the same every time it runs."""

    def __init__(self, context, analysis: Analysis) -> None:
        self.context = context
        self.analysis = analysis
        self._bindings: dict[int, dict[str, list]] = {}
        self._globals: set[str] | None = None

    # -- the two questions -------------------------------------------------------------
    def in_function(self, call: cst.Call, func: cst.FunctionDef) -> bool:
        """Same arguments on every call of `func` (its parameters vary)."""
        name_ok = lambda name: self._name_in_function(name, func, set())  # noqa: E731
        return all(self._expression(arg.value, name_ok) for arg in call.args)

    def in_loop(self, call: cst.Call, loop: cst.CSTNode) -> bool:
        """Same arguments on every iteration of `loop`."""
        varying = set(self.analysis.bound_names(loop))
        assigned_attributes = {
            _code(target)
            for target in _assignment_targets(loop)
            if isinstance(target, cst.Attribute | cst.Subscript)
        }

        def name_ok(name: str) -> bool:
            return name not in varying

        return all(self._expression(arg.value, name_ok, assigned_attributes) for arg in call.args)

    def only_module_names(self, call: cst.Call, func: cst.FunctionDef) -> bool:
        """Whether the load reads only module-level names (it can move to module level)."""
        names, complex_ = _read_names(call)
        if complex_:
            return False
        local = set()
        for info in self.analysis.enclosing_functions(func):
            local.update(self.analysis.bound_names(info.node))
        module_names = self.analysis.bound_names(self.context.module)
        for name in names:
            if name.value in local:
                return False
            if name.value in module_names:
                statement = self.context.imports.binding_statements.get(name.value)
                if statement is not None and not _top_level(self.context.module, statement):
                    return False
            elif name.value not in _BUILTINS:
                return False
        return True

    # -- expressions ---------------------------------------------------------------------
    def _expression(self, expr: cst.CSTNode, name_ok, mutated: frozenset | set = frozenset()) -> bool:
        check = lambda e: self._expression(e, name_ok, mutated)  # noqa: E731
        if mutated and _code(expr) in mutated:
            return False
        if isinstance(expr, cst.Call):
            if not all(check(arg.value) for arg in expr.args):
                return False
            return self._pure_callee(expr.func, check)
        if isinstance(expr, cst.Name):
            if expr.value in ("True", "False", "None"):
                return True
            return name_ok(expr.value)
        if isinstance(expr, cst.Attribute):
            return check(expr.value)
        if isinstance(expr, cst.BaseNumber | cst.SimpleString):
            return True
        if isinstance(expr, cst.ConcatenatedString):
            return check(expr.left) and check(expr.right)
        if isinstance(expr, cst.FormattedString):
            return all(
                check(part.expression)
                for part in expr.parts
                if isinstance(part, cst.FormattedStringExpression)
            )
        if isinstance(expr, cst.BinaryOperation):
            return check(expr.left) and check(expr.right)
        if isinstance(expr, cst.UnaryOperation):
            return check(expr.expression)
        if isinstance(expr, cst.Tuple | cst.List | cst.Set):
            return all(check(element.value) for element in expr.elements)
        if isinstance(expr, cst.Dict):
            return all(
                isinstance(element, cst.DictElement) and check(element.key) and check(element.value)
                for element in expr.elements
            )
        if isinstance(expr, cst.Subscript):
            return check(expr.value) and all(
                isinstance(element.slice, cst.Index) and check(element.slice.value) for element in expr.slice
            )
        return False

    def _pure_callee(self, func: cst.BaseExpression, check) -> bool:
        for qualified in self.context.imports.candidates(func):
            if qualified in PURE_FUNCTIONS or qualified.startswith("os.path."):
                return True
        if isinstance(func, cst.Attribute) and not self.context.imports.candidates(func):
            return func.attr.value in PURE_METHODS and check(func.value)
        return False

    # -- names -------------------------------------------------------------------------
    def _name_in_function(self, name: str, func: cst.FunctionDef | None, seen: set) -> bool:
        for info in self.analysis.enclosing_functions(func):
            if name in info.parameter_names() or name in _star_parameters(info.node):
                return False
            bindings = self._scope_bindings(info.node)
            if name in bindings:
                return self._bound_values_invariant(name, info.node, bindings[name], seen)
            if name in self.analysis.bound_names(info.node):
                return False  # bound in a way we do not follow (walrus, except ... as)
        bindings = self._scope_bindings(self.context.module)
        if name in bindings:
            values = bindings[name]
            if name in self._declared_global():
                return False
            # Bound once at module level, outside any loop: fixed once the module is loaded.
            if len(values) == 1 and values[0] != "vary":
                return True
            return self._bound_values_invariant(name, None, values, seen)
        return name in _BUILTINS

    def _declared_global(self) -> set[str]:
        if self._globals is None:
            self._globals = {
                item.name.value
                for statement in statements_of(self.context.module)
                if isinstance(statement, cst.Global)
                for item in statement.names
            }
        return self._globals

    def _bound_values_invariant(self, name: str, scope, values: list, seen: set) -> bool:
        key = (id(scope), name)
        if key in seen:
            return False
        seen = seen | {key}
        for value in values:
            if value == "fixed":
                continue
            if value == "vary":
                return False
            if not self._expression(value, lambda n: self._name_in_function(n, scope, seen)):
                return False
        return True

    def _scope_bindings(self, scope: cst.CSTNode) -> dict[str, list]:
        """name -> the values bound to it in `scope`: expressions, "fixed" (imports,
        definitions) or "vary" (loop targets, augmented assignments, unpacking)."""
        key = id(scope)
        if key in self._bindings:
            return self._bindings[key]
        found: dict[str, list] = {}
        for statement, in_loop in _statements_in_loops(scope):
            if in_loop and isinstance(scope, cst.Module):
                # At module level, what a loop binds changes while the module runs.
                for name in (
                    bound_names_in(statement) if not isinstance(statement, cst.BaseExpression) else []
                ):
                    found.setdefault(name, []).append("vary")
                continue
            if isinstance(statement, cst.Assign):
                for target in statement.targets:
                    _bind(found, target.target, statement.value)
            elif isinstance(statement, cst.AnnAssign) and statement.value is not None:
                _bind(found, statement.target, statement.value)
            elif isinstance(statement, cst.AugAssign | cst.For):
                _bind(found, statement.target, "vary")
            elif isinstance(statement, cst.With):
                for item in statement.items:
                    if item.asname is not None:
                        _bind(found, item.asname.name, item.item)
            elif isinstance(statement, cst.FunctionDef | cst.ClassDef):
                found.setdefault(statement.name.value, []).append("fixed")
            elif isinstance(statement, cst.Import | cst.ImportFrom) and not isinstance(
                statement.names, cst.ImportStar
            ):
                for alias in statement.names:
                    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                        local = alias.asname.name.value
                    else:
                        local = (dotted_name(alias.name) or "").split(".", 1)[0]
                    found.setdefault(local, []).append("fixed")
        self._bindings[key] = found
        return found


def _statements_in_loops(scope: cst.CSTNode, in_loop: bool = False):
    """(statement, inside a loop of the scope?) for the statements of `scope`, nested
    functions and classes yielded but not entered."""
    body = scope.body if isinstance(scope, cst.Module) else getattr(scope, "body", None)
    if isinstance(body, cst.IndentedBlock | cst.SimpleStatementSuite):
        body = body.body
    for statement in body if isinstance(body, list | tuple) else ():
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                yield small, in_loop
        else:
            yield from _compound_in_loops(statement, in_loop)


def _compound_in_loops(statement: cst.CSTNode, in_loop: bool):
    yield statement, in_loop
    if isinstance(statement, cst.FunctionDef | cst.ClassDef):
        return
    inner = in_loop or isinstance(statement, cst.For | cst.While)
    yield from _statements_in_loops(statement, inner)
    for part in ("orelse", "finalbody"):
        extra = getattr(statement, part, None)
        if isinstance(extra, cst.If):  # elif
            yield from _compound_in_loops(extra, in_loop)
        elif extra is not None:
            yield from _statements_in_loops(extra, in_loop)
    for handler in getattr(statement, "handlers", ()):
        yield from _statements_in_loops(handler, in_loop)


def _bind(found: dict[str, list], target: cst.BaseExpression, value) -> None:
    if isinstance(target, cst.Name):
        found.setdefault(target.value, []).append(value)
    elif isinstance(target, cst.Tuple | cst.List):
        for element in target.elements:
            _bind(found, element.value, "vary")
    elif isinstance(target, cst.StarredElement):
        _bind(found, target.value, "vary")


def _star_parameters(func: cst.FunctionDef) -> list[str]:
    names = []
    for star in (func.params.star_arg, func.params.star_kwarg):
        if isinstance(star, cst.Param):
            names.append(star.name.value)
    return names


def _assignment_targets(node: cst.CSTNode) -> list[cst.BaseExpression]:
    targets = []
    for statement in statements_of(node) if not isinstance(node, cst.BaseExpression) else []:
        if isinstance(statement, cst.Assign):
            targets.extend(t.target for t in statement.targets)
        elif isinstance(statement, cst.AnnAssign | cst.AugAssign):
            targets.append(statement.target)
    return targets


def _top_level(module: cst.Module, statement: cst.CSTNode) -> bool:
    return any(
        isinstance(line, cst.SimpleStatementLine) and any(s is statement for s in line.body)
        for line in module.body
    )
