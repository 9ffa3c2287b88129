"""GL305 unbatched-inference."""

from __future__ import annotations

import libcst as cst

from green_lint.rule import Fix, Rule
from green_lint.rules._batch_loops import Items, Loop, per_item_loop
from green_lint.rules._batch_models import (
    CROSS,
    ESTIMATOR,
    KERAS,
    PIPELINE,
    PREDICT_METHODS,
    SENTENCE,
    TORCH,
    ModelCall,
    model_call,
)
from green_lint.rules._data import enclosing_loop, names_in
from green_lint.rules._syntax import code
from green_lint.rules._torch_call_graph import Analysis
from green_lint.rules._torch_modules import TorchModules

FIX_TITLE = "Predict all items in one call"


class UnbatchedInference(Rule):
    """
    ## What it does
    Flags a model called once per item inside a Python loop over a dataset, a list or
    DataFrame rows, where its API takes a whole batch:
    - a scikit-learn-style estimator (scikit-learn, XGBoost, LightGBM, CatBoost, or a
      model loaded with `joblib.load`/`pickle.load`) whose `predict`, `predict_proba`,
      `predict_log_proba`, `decision_function`, `transform` or `score_samples` is given
      one row made into a batch of one: `clf.predict([x])`, `x.reshape(1, -1)`,
      `np.array([x])`, `X[i:i+1]`, `df.iloc[[i]]`, `row.to_frame().T`;
    - a Keras model's `predict` given one item the same way;
    - a transformers `pipeline(...)` called on one text, `SentenceTransformer.encode`
      on one sentence, `CrossEncoder.predict` on one pair;
    - a torch module's forward on one item: `model(x.unsqueeze(0))`, `model(x[None])`,
      `model(torch.tensor([x]))`, `model(**tokenizer(text, return_tensors="pt"))`,
      `model(tokenize(text))`.

    The loops: `for` loops, list/set/dict comprehensions and generator expressions, and a
    lambda given to `df.apply(..., axis=1)`, `Series.map`/`apply` or `map`. Names are
    resolved through imports and assignments (`clf = LogisticRegression().fit(X, y)`,
    `pipe = pipeline("sentiment-analysis")`, a torch model as GL301/GL303 see one).

    Not flagged, to stay precise: loops over batches (a `DataLoader`, `range(0, n, bs)`,
    `np.array_split`, names with batch/loader/chunk in them), `while` loops and loops
    whose input depends on the previous output (autoregressive generation,
    `state = env.step(policy(state))`), loops that `break`, `return`, `yield` or `await`
    (they may stop on a prediction, or stream), training loops (`backward`, `step`,
    `fit`), a call that already passes a batch (`model(torch.stack(items))`,
    `clf.predict(X_test)` in a loop over folds), a loop over a literal list of a few
    values, a model chosen by the loop, and a `predict` of the user's own class.

    On the labelled corpus (16 labels) it found 1 with 1 extra (a seq2seq loop whose input depends on the previous step): precision below 0.9, so it is a preview rule (run it with `--preview` or `--select GL305`); most labelled cases call a per-item helper (`translate_sentence`, a generator per image) that it does not follow yet.

    ## Why it wastes energy
    Every inference call pays a fixed cost before any arithmetic: scikit-learn validates
    and converts its input, Keras builds a data pipeline and a predict loop, PyTorch
    dispatches every operator and, on a GPU, launches every kernel for a handful of
    numbers. Called once per item, that overhead is paid n times, and the arithmetic runs
    as many small matrix-vector products instead of a few matrix-matrix products that
    keep the vector units (or the GPU) busy. Batched, the same predictions cost a
    fraction of the time and of the energy.

    ## Example
    ```python
    clf = LogisticRegression().fit(X_train, y_train)
    predictions = [clf.predict([x])[0] for x in X_test]

    embeddings = []
    for sentence in sentences:
        embeddings.append(encoder.encode(sentence))
    ```

    ## Use instead
    ```python
    predictions = list(clf.predict(X_test))

    embeddings = encoder.encode(sentences, batch_size=64)
    ```
    For a torch model, stack the items into batches (`DataLoader(dataset, batch_size=64)`)
    and call the model once per batch, under `torch.inference_mode()`; for a transformers
    pipeline, pass the list (or a dataset) with `batch_size=`.

    ## Fix safety
    Unsafe, and offered only where the rewrite is mechanical and keeps the output's shape:
    a list comprehension `[clf.predict([x])[0] for x in X]` (also `predict_proba`,
    `predict_log_proba`, `decision_function`, and `x.reshape(1, -1)`) becomes
    `list(clf.predict(X))`, and an append loop right after `preds = []` whose only
    statement is `preds.append(clf.predict([x])[0])` becomes `preds = list(clf.predict(X))`.
    It needs `X` to be a 2-D array or a list of rows (not a generator, which the loop
    consumed just as well); a linear model's scores may differ in the last bits (BLAS
    sums a batch in another order). Everything else gets advice only: a pipeline returns a
    flatter list for a list of texts than for one text, `encode` pads a batch, and a
    torch model's outputs would need unstacking.

    ## Evidence
    - scikit-learn, "Computational Performance" and its "Prediction Latency" example,
      which measures prediction "either in bulk or atomic (i.e. one by one) mode" (the
      atomic benchmark is this loop: `estimator.predict(X_test[[i], :])` per row).
      https://scikit-learn.org/stable/computing/computational_performance.html,
      https://scikit-learn.org/stable/auto_examples/applications/plot_prediction_latency.html
    - Keras `Model.predict`: "This method is designed for batch processing of large
      numbers of inputs. It is not intended for use inside of loops that iterate over
      your data and process small numbers of inputs at a time."
      https://keras.io/api/models/model_training_apis/#predict-method
    - sentence-transformers `SentenceTransformer.encode(sentences, batch_size=32, ...)`
      encodes a list in batches. https://sbert.net/docs/package_reference/sentence_transformer/SentenceTransformer.html
    - transformers, "Pipeline batching": pass a list, a dataset or a generator with
      `batch_size=`; batching helps most on a GPU, and the docs advise measuring it.
      https://huggingface.co/docs/transformers/main_classes/pipelines#pipeline-batching
    - PyTorch `DataLoader` batches samples (`batch_size`) for the model.
      https://pytorch.org/docs/stable/data.html
    - No published energy figure applies to every model: `green-lint verify` measures the
      gallery program (a scikit-learn model predicting 20,000 rows one at a time, then at
      once) and your own code.
    """

    code = "GL305"
    preview = True
    needs = (Analysis, TorchModules)
    name = "unbatched-inference"
    summary = "A model is called once per item in a loop where its API takes a batch; call it on the batch"
    fix_safety = "unsafe"
    triggers = (
        ("predict", "sklearn"),
        ("predict", "joblib"),
        ("predict", "pickle"),
        ("predict", "xgboost"),
        ("predict", "lightgbm"),
        ("predict", "catboost"),
        ("predict", "keras"),
        ("transform", "sklearn"),
        ("pipeline", "transformers"),
        ("sentence_transformers",),
        ("torch", "for "),
    )

    def visit_Module(self, node: cst.Module) -> None:
        self._loops: dict[int, Loop | None] = {}

    def visit_Call(self, node: cst.Call) -> None:
        if not node.args:
            return
        loop = self._loop()
        if loop is None:
            return
        found = model_call(self.context, node)
        if found is None or names_in(found.model) & loop.bound:
            return
        items = Items(self.context, loop)
        if not _one_item(items, found):
            return
        self.report(
            node, _message(found, code(node), _batch_name(loop, found)), fix=self._fix(node, found, loop)
        )

    def _loop(self) -> Loop | None:
        loop_node = enclosing_loop(self.context.stack)
        key = id(loop_node) if loop_node is not None else None
        if key is not None and key in self._loops:
            return self._loops[key]
        found = per_item_loop(self.context)
        if key is not None:
            self._loops[key] = found
        return found

    # -- the fix -----------------------------------------------------------------------
    def _fix(self, node: cst.Call, found: ModelCall, loop: Loop) -> Fix | None:
        if found.kind != ESTIMATOR or found.method not in PREDICT_METHODS or len(node.args) != 1:
            return None
        if self.context.semantic.lookup("list", node) is not None:
            return None  # `list` is not the builtin here
        if isinstance(loop.node, cst.ListComp):
            return self._comprehension_fix(node, loop.node)
        if isinstance(loop.node, cst.For):
            return self._append_loop_fix(node, loop.node)
        return None

    def _comprehension_fix(self, node: cst.Call, comp: cst.ListComp) -> Fix | None:
        for_in = comp.for_in
        if for_in.ifs or for_in.inner_for_in is not None or for_in.asynchronous is not None:
            return None
        if not (_first_of(comp.elt, node) and _one_row_of(node.args[0].value, for_in.target)):
            return None
        return Fix(FIX_TITLE, {comp: _batched(node, for_in.iter)})

    def _append_loop_fix(self, node: cst.Call, loop: cst.For) -> Fix | None:
        if loop.orelse is not None or loop.asynchronous is not None:
            return None
        if any(line.comment is not None for line in loop.leading_lines):
            return None
        body = loop.body.body if isinstance(loop.body, cst.IndentedBlock) else ()
        if len(body) != 1 or not isinstance(body[0], cst.SimpleStatementLine) or len(body[0].body) != 1:
            return None
        statement = body[0].body[0]
        append = statement.value if isinstance(statement, cst.Expr) else None
        if not (
            isinstance(append, cst.Call)
            and isinstance(append.func, cst.Attribute)
            and append.func.attr.value == "append"
            and isinstance(append.func.value, cst.Name)
            and len(append.args) == 1
            and _first_of(append.args[0].value, node)
            and _one_row_of(node.args[0].value, loop.target)
        ):
            return None
        accumulator = append.func.value.value
        if accumulator in names_in(loop.iter) | names_in(node.func):
            return None
        before = self._statement_before(loop)
        assign = (
            before.body[0] if isinstance(before, cst.SimpleStatementLine) and len(before.body) == 1 else None
        )
        if not (
            isinstance(assign, cst.Assign)
            and len(assign.targets) == 1
            and isinstance(assign.targets[0].target, cst.Name)
            and assign.targets[0].target.value == accumulator
            and isinstance(assign.value, cst.List)
            and not assign.value.elements
        ):
            return None
        new_line = before.with_changes(body=[assign.with_changes(value=_batched(node, loop.iter))])
        return Fix(FIX_TITLE, {before: new_line, loop: cst.RemovalSentinel.REMOVE})

    def _statement_before(self, loop: cst.For) -> cst.CSTNode | None:
        stack = self.context.stack
        for index in range(len(stack) - 1, 0, -1):
            if stack[index] is loop:
                container = stack[index - 1]
                body = list(getattr(container, "body", ()))
                position = next((i for i, s in enumerate(body) if s is loop), None)
                return body[position - 1] if position else None
        return None


def _one_item(items: Items, found: ModelCall) -> bool:
    value = found.argument.value
    if found.argument.star == "**":
        return found.kind == TORCH and items.tokenized_item(value)
    if found.kind in (PIPELINE, SENTENCE):
        return items.single_text(value)
    if found.kind == TORCH:
        return items.one_item(value) or items.tokenized_item(value)
    return items.one_item(value)


def _first_of(expr: cst.BaseExpression, call: cst.Call) -> bool:
    """`call(...)[0]`."""
    return (
        isinstance(expr, cst.Subscript)
        and expr.value is call
        and len(expr.slice) == 1
        and isinstance(expr.slice[0].slice, cst.Index)
        and isinstance(expr.slice[0].slice.value, cst.Integer)
        and expr.slice[0].slice.value.value == "0"
    )


def _one_row_of(arg: cst.BaseExpression, target: cst.BaseExpression) -> bool:
    """`[x]` or `x.reshape(1, -1)` for the loop target `x`."""
    if not isinstance(target, cst.Name):
        return False
    if isinstance(arg, cst.List) and len(arg.elements) == 1:
        element = arg.elements[0]
        return (
            not isinstance(element, cst.StarredElement)
            and isinstance(element.value, cst.Name)
            and element.value.value == target.value
        )
    if (
        isinstance(arg, cst.Call)
        and isinstance(arg.func, cst.Attribute)
        and arg.func.attr.value == "reshape"
        and isinstance(arg.func.value, cst.Name)
        and arg.func.value.value == target.value
        and [code(a.value) for a in arg.args] == ["1", "-1"]
    ):
        return all(a.keyword is None and not a.star for a in arg.args)
    return False


def _batched(call: cst.Call, iterable: cst.BaseExpression) -> cst.Call:
    inner = call.with_changes(args=[cst.Arg(iterable.deep_clone())])
    return cst.Call(func=cst.Name("list"), args=[cst.Arg(inner)])


def _batch_name(loop: Loop, found: ModelCall) -> str | None:
    """How the message names the whole batch: the loop's iterable when it is a plain name
    (`X_test`, `self.texts`, `df`) and the call is given the loop's item itself."""
    if found.kind == CROSS or not _direct_item(found.argument.value, loop.items):
        return None
    iterable = loop.iterable
    if (
        isinstance(iterable, cst.Call)
        and isinstance(iterable.func, cst.Attribute)
        and iterable.func.attr.value in ("iterrows", "itertuples", "items")
    ):
        iterable = iterable.func.value
    if isinstance(iterable, cst.Name | cst.Attribute) and len(code(iterable)) <= 30:
        return code(iterable)
    return None


def _direct_item(value: cst.BaseExpression, items: set[str]) -> bool:
    """`x`, `[x]`, `x.reshape(1, -1)`, `x.unsqueeze(0)`, `row.values` for an item `x`."""
    if isinstance(value, cst.List) and len(value.elements) == 1:
        value = value.elements[0].value
    while isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute):
        value = value.func.value
    if isinstance(value, cst.Attribute) and value.attr.value in ("values", "T"):
        value = value.value
    return isinstance(value, cst.Name) and value.value in items


def _message(found: ModelCall, written: str, batch: str | None) -> str:
    model = code(found.model)
    shown = written if len(written) <= 60 else written[:57] + "..."
    if found.kind == ESTIMATOR:
        return (
            f"`{shown}` runs once per item in this loop: each call validates its input and dispatches "
            f"for one row, so the loop pays that overhead n times. Call `{model}.{found.method}({batch or 'X'})` "
            "once "
            "on all the rows (`list(...)` of it for a list; `pd.Series(..., index=df.index)` for "
            "DataFrame rows)."
        )
    if found.kind == KERAS:
        return (
            f"`{shown}` runs once per item in this loop: Keras builds a data pipeline and a predict loop "
            f"for every call, and its docs warn against calling `predict` in loops. Call "
            f"`{model}.predict({batch or 'X'}, batch_size=...)` once on all the inputs."
        )
    if found.kind == PIPELINE:
        return (
            f"`{shown}` runs the pipeline once per text in this loop. Pass the whole list (or a dataset) "
            f"with a batch size: `{model}({batch or 'texts'}, batch_size=32)`; check the output's shape (a list of "
            "texts gives one result per text)."
        )
    if found.kind == SENTENCE:
        return (
            f"`{shown}` encodes one sentence per call in this loop. Encode the list at once: "
            f"`{model}.{found.method}({batch or 'sentences'}, batch_size=64)` returns one array, a row per sentence."
        )
    if found.kind == CROSS:
        return (
            f"`{shown}` scores one pair per call in this loop. Score the list of pairs at once: "
            f"`{model}.predict({batch or 'pairs'}, batch_size=32)`."
        )
    if found.argument.star == "**" or "token" in written.lower():
        return (
            f"`{shown}` tokenizes and runs the model once per text in this loop. Tokenize the texts "
            'in batches (`tokenizer(texts[i:i + 32], padding=True, return_tensors="pt")`) and call '
            f"`{model}` once per batch, under `torch.inference_mode()`."
        )
    return (
        f"`{shown}` runs the model's forward pass once per item in this loop: the per-call overhead "
        "(operator dispatch, kernel launches on a GPU) is paid for every item and the matrix products "
        "run one row at a time. Stack the items into batches (`torch.stack(items[i:i + 64])` or a "
        f"`DataLoader(dataset, batch_size=64)`) and call `{model}` once per batch, under "
        "`torch.inference_mode()`."
    )
