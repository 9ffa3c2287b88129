"""GL306 search-refits-preprocessing."""

from __future__ import annotations

import libcst as cst

from green_lint.fixes import add_import
from green_lint.rule import Fix, Rule
from green_lint.rules._syntax import (
    argument,
    code,
    has_star,
    is_none,
    keyword,
    last_name,
    positional,
    string_value,
)

SEARCHES = {
    "sklearn.model_selection.GridSearchCV": "param_grid",
    "sklearn.model_selection.HalvingGridSearchCV": "param_grid",
    "sklearn.model_selection.RandomizedSearchCV": "param_distributions",
    "sklearn.model_selection.HalvingRandomSearchCV": "param_distributions",
}
PIPELINE = "sklearn.pipeline.Pipeline"
MAKE_PIPELINE = "sklearn.pipeline.make_pipeline"
# Transformers whose fit (or fit_transform) costs far more than hashing their input.
COSTLY = frozenset(
    {
        "PCA",
        "IncrementalPCA",
        "KernelPCA",
        "SparsePCA",
        "TruncatedSVD",
        "FastICA",
        "NMF",
        "LatentDirichletAllocation",
        "DictionaryLearning",
        "FactorAnalysis",
        "TfidfVectorizer",
        "CountVectorizer",
        "HashingVectorizer",
        "PolynomialFeatures",
        "SplineTransformer",
        "Nystroem",
        "SelectFromModel",
        "RFE",
        "RFECV",
        "SequentialFeatureSelector",
        "Isomap",
        "LocallyLinearEmbedding",
        "KNNImputer",
        "IterativeImputer",
    }
)
# Steps that hold other transformers: costly when one of theirs is.
COMPOSITES = frozenset(
    {
        "ColumnTransformer",
        "make_column_transformer",
        "FeatureUnion",
        "make_union",
        "Pipeline",
        "make_pipeline",
    }
)
TITLE = "Cache the pipeline's fitted transformers (memory=joblib.Memory(...))"


class SearchRefitsPreprocessing(Rule):
    """
    ## What it does
    Flags a scikit-learn `GridSearchCV`, `RandomizedSearchCV`, `HalvingGridSearchCV` or
    `HalvingRandomSearchCV` whose estimator is a `Pipeline(...)`/`make_pipeline(...)`
    without `memory=`, when a step before the last one is a costly transformer (`PCA`,
    `KernelPCA`, `TruncatedSVD`, `NMF`, `TfidfVectorizer`, `CountVectorizer`,
    `PolynomialFeatures`, `Nystroem`, `SelectFromModel`, `RFE`, `KNNImputer`,
    `IterativeImputer`..., also inside a `ColumnTransformer`, `FeatureUnion` or nested
    pipeline) and the parameter grid varies a later step (the classifier's `C`, another
    final estimator): candidates that share the transformer's settings then fit it again
    on the same fold (SonarSource S6969).

    Not flagged: a pipeline with `memory=` set (not `None`); a pipeline of cheap steps
    only (`StandardScaler`, `OneHotEncoder`, `SimpleImputer`... followed by a model):
    hashing the fold's data and writing the cache costs about as much as refitting a
    scaler, so caching would not pay; a search whose grid varies only the costly step or
    the steps before it: every candidate then has its own transformer settings, so the
    cache would never hit (the cache does not help across CV folds either: each fold
    fits on other rows); a grid the rule cannot read (built elsewhere); a pipeline not in
    a search.

    ## Why it wastes energy
    A search fits every candidate on every fold. For `{"svc__C": [0.1, 1, 10]}` over
    `make_pipeline(TfidfVectorizer(), SVC())` with 5 folds, the vectorizer is fitted 15
    times where 5 distinct fits exist: each fold's vocabulary is rebuilt for every value
    of `C`. With `memory=`, the pipeline stores each fitted transformer (keyed by its
    parameters and its input) and loads it for the next candidate instead of fitting it.

    ## Example
    ```python
    pipe = make_pipeline(PCA(n_components=50), SVC())
    search = GridSearchCV(pipe, {"svc__C": [0.1, 1, 10], "svc__gamma": [0.01, 0.1]}, cv=5)
    ```

    ## Use instead
    ```python
    import tempfile

    import joblib

    pipe = make_pipeline(PCA(n_components=50), SVC(), memory=joblib.Memory(tempfile.mkdtemp(), verbose=0))
    search = GridSearchCV(pipe, {"svc__C": [0.1, 1, 10], "svc__gamma": [0.01, 0.1]}, cv=5)
    ```
    Delete the cache folder when the search is done (`shutil.rmtree`), or give a folder
    you manage.

    ## Fix safety
    Unsafe: the fix adds `memory=joblib.Memory(tempfile.mkdtemp(), verbose=0)` to the
    pipeline (and the `import joblib` / `import tempfile` it needs). The cache folder is
    left on disk, the search's results are the same, but with caching the transformers
    are cloned before fitting, so the transformer objects the code passed in stay
    unfitted (read them from `best_estimator_` instead). With `n_jobs`, candidates that
    run at the same time may each fit before the other has written the cache.

    ## Evidence
    - scikit-learn user guide, "Caching transformers: avoid repeated computation":
      "Fitting transformers may be computationally expensive. With its memory parameter
      set, Pipeline will cache each transformer after calling fit. This feature is used to
      avoid computing the fit transformers within a pipeline if the parameters and input
      data are identical."
      https://scikit-learn.org/stable/modules/compose.html#caching-transformers-avoid-repeated-computation
    - SonarSource rule S6969, "memory parameter should be specified for Scikit-Learn
      Pipeline". https://rules.sonarsource.com/python/RSPEC-6969/
    - How much the cache saves depends on how many candidates share the transformer:
      measure it with `green-lint verify`.
    """

    code = "GL306"
    name = "search-refits-preprocessing"
    summary = "A search refits the pipeline's costly preprocessing for every candidate; cache it with memory="
    fix_safety = "unsafe"
    triggers = (("SearchCV", "pipeline"),)

    def visit_Module(self, node: cst.Module) -> None:
        self._fixed: set[int] = set()

    def visit_Call(self, node: cst.Call) -> None:
        grid_parameter = next(
            (name for search, name in SEARCHES.items() if self.context.resolves_to(node.func, search)), None
        )
        if grid_parameter is None or has_star(node):
            return
        pipeline = self._one_value(argument(node, 0, "estimator"))
        if not isinstance(pipeline, cst.Call) or has_star(pipeline):
            return
        steps = self._steps(pipeline)
        if steps is None or len(steps) < 2:
            return
        memory = keyword(pipeline, "memory")
        if memory is not None and not is_none(memory.value):
            return
        costly = [index for index, (_, step) in enumerate(steps[:-1]) if self._costly(step)]
        if not costly:
            return
        last_costly = costly[-1]
        names = [name for name, _ in steps]
        grids = self._grids(argument(node, 1, grid_parameter))
        if not grids or not any(_varies_after(keys, names, last_costly) for keys in grids):
            return
        step_name = names[last_costly]
        self.report(
            node,
            f"This search refits the pipeline's `{step_name}` step for every candidate, also for the "
            "candidates that change only later steps: each fold fits the same transformer again. Give "
            "the pipeline `memory=joblib.Memory(tempfile.mkdtemp(), verbose=0)` (or a cache folder) so "
            "that each fitted transformer is stored once and reused.",
            fix=self._fix(pipeline),
        )

    def _one_value(self, node: cst.BaseExpression | None) -> cst.BaseExpression | None:
        if node is None:
            return None
        return self.context.single_value(node)

    def _steps(self, pipeline: cst.Call) -> list[tuple[str, cst.BaseExpression]] | None:
        """(name, estimator) of each step of a `Pipeline([...])` or `make_pipeline(...)`."""
        if self.context.resolves_to(pipeline.func, MAKE_PIPELINE):
            found = []
            for arg in positional(pipeline):
                value = self._one_value(arg.value)
                if not isinstance(value, cst.Call):
                    return None
                name = _simple_name(value.func)
                if name is None:
                    return None
                found.append((name.lower(), value))
            if len({name for name, _ in found}) != len(found):
                return None  # make_pipeline numbers repeated classes: not followed
            return found
        if not self.context.resolves_to(pipeline.func, PIPELINE):
            return None
        listed = self._one_value(argument(pipeline, 0, "steps"))
        if not isinstance(listed, cst.List | cst.Tuple):
            return None
        found = []
        for element in listed.elements:
            pair = element.value
            if not isinstance(pair, cst.Tuple) or len(pair.elements) != 2:
                return None
            name = string_value(pair.elements[0].value)
            if name is None:
                return None
            found.append((name, self._one_value(pair.elements[1].value) or pair.elements[1].value))
        return found

    def _costly(self, step: cst.BaseExpression, depth: int = 0) -> bool:
        if not isinstance(step, cst.Call) or depth > 3:
            return False
        qualified = self.context.resolves_under(step.func, "sklearn")
        if qualified is None:
            return False
        last = qualified.rsplit(".", 1)[-1]
        if last in COSTLY:
            return True
        if last not in COMPOSITES:
            return False
        inner = [v for arg in step.args if arg.keyword is None for v in _nested_values(arg.value)]
        return any(self._costly(self._one_value(value) or value, depth + 1) for value in inner)

    def _grids(self, grid: cst.BaseExpression | None) -> list[list[str]] | None:
        """The keys of each sub-grid of a literal grid (a dict, `dict(...)` or a list of
        them); None when one cannot be read."""
        grid = self._one_value(grid)
        if isinstance(grid, cst.List | cst.Tuple):
            found = []
            for element in grid.elements:
                keys = self._keys(self._one_value(element.value))
                if keys is None:
                    return None
                found.append(keys)
            return found
        keys = self._keys(grid)
        return [keys] if keys is not None else None

    def _keys(self, grid: cst.BaseExpression | None) -> list[str] | None:
        if isinstance(grid, cst.Dict):
            keys = []
            for element in grid.elements:
                key = string_value(element.key) if isinstance(element, cst.DictElement) else None
                if key is None:
                    return None
                keys.append(key)
            return keys
        if isinstance(grid, cst.Call) and self.context.resolves_to(grid.func, "builtins.dict"):
            if has_star(grid) or positional(grid):
                return None
            return [arg.keyword.value for arg in grid.args]
        return None

    # -- the fix -----------------------------------------------------------------------
    def _fix(self, pipeline: cst.Call) -> Fix | None:
        if id(pipeline) in self._fixed:
            return None
        semantic = self.context.semantic
        joblib_name = semantic.local_name_for("joblib")
        tempfile_name = semantic.local_name_for("tempfile")
        imports = ""
        if tempfile_name is None:
            imports += "import tempfile\n"
            tempfile_name = "tempfile"
        if joblib_name is None:
            imports += "import joblib\n"
            joblib_name = "joblib"
        memory = cst.parse_expression(f"{joblib_name}.Memory({tempfile_name}.mkdtemp(), verbose=0)")
        existing = keyword(pipeline, "memory")
        if existing is not None:
            args = [arg.with_changes(value=memory) if arg is existing else arg for arg in pipeline.args]
        else:
            args = list(pipeline.args)
            if args and args[-1].comma is cst.MaybeSentinel.DEFAULT:
                args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
            elif args:
                args[-1] = args[-1].with_changes(
                    comma=args[-1].comma.with_changes(whitespace_after=cst.SimpleWhitespace(" "))
                    if "\n" not in code(args[-1].comma)
                    else args[-1].comma
                )
            args.append(
                cst.Arg(
                    keyword=cst.Name("memory"),
                    value=memory,
                    equal=cst.AssignEqual(
                        whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")
                    ),
                )
            )
        changes: dict = {pipeline: pipeline.with_changes(args=args)}
        if imports:
            bound = "tempfile" if "tempfile" in imports else "joblib"
            changes.update(add_import(self.context, imports, bound))
        self._fixed.add(id(pipeline))
        return Fix(TITLE, changes)


def _nested_values(value: cst.BaseExpression) -> list[cst.BaseExpression]:
    """The estimators written inside a composite's arguments: `[("t", Tfidf(), "col")]`,
    `make_union(PCA(), ...)`."""
    if isinstance(value, cst.List | cst.Tuple):
        return [inner for element in value.elements for inner in _nested_values(element.value)]
    return [value]


def _varies_after(keys: list[str], names: list[str], index: int) -> bool:
    """Whether a sub-grid changes a step after `index` (then candidates share the
    transformers up to it)."""
    for key in keys:
        step = key.split("__", 1)[0]
        if step in names and names.index(step) > index:
            return True
    return False


def _simple_name(func: cst.BaseExpression) -> str | None:
    return last_name(func) if isinstance(func, cst.Name | cst.Attribute) else None
