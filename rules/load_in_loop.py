"""GL204 load-in-loop."""

from __future__ import annotations

import ast

import libcst as cst

from green_lint.rule import Rule
from green_lint.rules._data import (
    enclosing_loop,
    loop_bound_names,
    names_bound_in,
    names_in,
    not_a_definition,
    walk,
)
from green_lint.rules._data_frames import PANDAS_FILE_READERS
from green_lint.rules._loop_prefilter import aliases_of, called_name, nodes_in_loops
from green_lint.rules._syntax import code

# Readers that load a whole file (or dataset) each time they are called.
READERS = frozenset(
    {
        *PANDAS_FILE_READERS,
        *(
            f"polars.{name}"
            for name in ("read_csv", "read_parquet", "read_json", "read_ndjson", "read_ipc", "read_excel")
        ),
        "numpy.load",
        "numpy.loadtxt",
        "numpy.genfromtxt",
        "numpy.fromfile",
        "torch.load",
        "joblib.load",
        "scipy.io.loadmat",
        "scipy.sparse.load_npz",
    }
)
# Loaders that read from a file object: `json.load(open(path))`.
FILE_OBJECT_LOADERS = frozenset({"json.load", "pickle.load", "yaml.safe_load", "yaml.load", "tomllib.load"})
READ_METHODS = frozenset({"read", "readlines", "read_text", "read_bytes"})
# Calls that build a path from their arguments (same arguments, same path).
PATH_BUILDERS = frozenset(
    {
        "os.path.join",
        "os.path.expanduser",
        "os.path.abspath",
        "os.fspath",
        "pathlib.Path",
        "pathlib.PurePath",
        "builtins.str",
        "io.StringIO",
        "io.BytesIO",
    }
)
# A loop that waits (polls) or runs other programs may read a file that changes.
WAITS = frozenset({"time.sleep", "asyncio.sleep"})
PROCESSES = ("subprocess", "os.system", "os.popen", "os.spawnv", "os.spawnl")
READ_MODES = frozenset("rbt")


# The names the readers are called by (`read_csv`, `load`, `open`...): a call of none of
# them inside a loop means the file holds nothing to flag.
_READER_NAMES = frozenset({name.rsplit(".", 1)[-1] for name in READERS | FILE_OBJECT_LOADERS} | {"open"})


class LoadInLoop(Rule):
    """
    ## What it does
    Flags a file read inside a loop (`for`, `while`, comprehension) when what is read does
    not depend on the iteration: `pd.read_csv/read_parquet/read_json/read_excel/
    read_feather/read_pickle` (and the other pandas and Polars readers),
    `np.load/loadtxt/genfromtxt`, `torch.load`, `joblib.load`, `scipy.io.loadmat`,
    `scipy.sparse.load_npz`, `open(path).read()`,
    `json.load(open(path))`, `pickle.load(open(path))` and `with open(path) as f:` in a
    reading mode, when no argument uses the loop variable or a name assigned in the loop.

    Not flagged: a different file per iteration (`pd.read_csv(path)` with `path` the loop
    variable or built from it, an f-string using it, `skiprows=i * n`), reads under an
    `if` that tests the name the read assigns (lazy loading) or a `==` (first iteration
    only), reads inside a `try` (retry loops), loops that sleep (polling a changing file),
    run a process (`subprocess`, `os.system`) or pass the same path to another call (which
    may write it: `df.to_csv(path)`, `run(["prog", "-o", path])`), and the iterable of a
    `for` (evaluated once).

    ## Why it wastes energy
    Reading and parsing a file costs disk or network I/O and CPU on every call: a CSV is
    parsed again, a checkpoint deserialised again, for the same bytes. Read it once
    before the loop and reuse the object (`.copy()` it if the loop modifies it).

    ## Example
    ```python
    for model in models:
        df = pd.read_csv("train.csv")
        model.fit(df[features], df["y"])
    ```

    ## Use instead
    ```python
    df = pd.read_csv("train.csv")
    for model in models:
        model.fit(df[features], df["y"])
    ```

    ## Fix safety
    No fix: hoisting a read changes behaviour when the loop modifies the loaded object in
    place or the file changes during the loop.

    ## Evidence
    - The saving is the cost of all but one read: proportional to the number of
      iterations times the parse time of the file. pandas' I/O guide gives the read times
      of each format (https://pandas.pydata.org/docs/user_guide/io.html#performance-considerations).
    - GL302 (uncached-model-load) covers model loads (`torch.load` of a checkpoint, ...)
      in functions called per request; a `torch.load` inside a loop may be reported by
      both rules.
    - No published energy figure for this pattern: measure yours with `green-lint verify`.
    """

    code = "GL204"
    name = "load-in-loop"
    summary = "The same file is read again on every iteration of a loop; read it once before the loop"
    triggers = tuple(
        (loop, reader)
        for loop in ("for ", "while ")
        for reader in (
            "read_",
            "load(",
            "loadtxt",
            "genfromtxt",
            "fromfile",
            "loadmat",
            "load_npz",
            ".read(",
            "readlines(",
            "open(",
        )
    )

    @classmethod
    def may_flag(cls, tree: ast.Module, text: str, project_function=None) -> bool:
        """A read is flagged only where a reader (or `open`) is called inside a loop: a
        call of one of their names (or an alias a from-import gives one) in a loop's
        body or a comprehension."""
        names = aliases_of(tree, text, _READER_NAMES)
        return any(
            isinstance(node, ast.Call) and called_name(node) in names for node in nodes_in_loops(tree, text)
        )

    def visit_Call(self, node: cst.Call) -> None:
        found = self._read(node)
        if found is None:
            return
        description, arguments = found
        stack = self.context.stack
        loop = enclosing_loop(stack)
        if loop is None or not self._invariant(arguments, loop):
            return
        if self._guarded(loop) or self._loop_waits_or_writes(loop, arguments, node):
            return
        where = self._loop_description(loop)
        self.report(
            node,
            f"{description} reads the same data on every iteration of {where}: read it once before the "
            "loop and reuse it (`.copy()` it if the loop modifies it).",
        )

    # -- what is a read ---------------------------------------------------------------
    def _read(self, node: cst.Call) -> tuple[str, list[cst.BaseExpression]] | None:
        """(how to name it, the expressions that choose what is read), or None."""
        context = self.context
        qualified = context.qualified_name(node.func)
        if qualified in READERS:
            return f"`{code(node.func)}(...)`", [arg.value for arg in node.args]
        if qualified in FILE_OBJECT_LOADERS and node.args:
            opened = self._open_for_reading(node.args[0].value)
            if opened is not None:
                return f"`{code(node.func)}(open(...))`", [arg.value for arg in opened.args]
        if isinstance(node.func, cst.Attribute) and node.func.attr.value in READ_METHODS:
            opened = self._open_for_reading(node.func.value)
            if opened is not None:
                return f"`open(...).{node.func.attr.value}()`", [arg.value for arg in opened.args]
        if self._open_for_reading(node) is node and self._is_with_item_read(node):
            return "`with open(...)`", [arg.value for arg in node.args]
        return None

    def _open_for_reading(self, node: cst.BaseExpression) -> cst.Call | None:
        """`open(path)` / `open(path, "rb")` (no writing mode)."""
        if not (isinstance(node, cst.Call) and self.context.resolves_to(node.func, "builtins.open")):
            return None
        mode = None
        positional = [arg for arg in node.args if arg.keyword is None]
        if len(positional) >= 2:
            mode = positional[1].value
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value == "mode":
                mode = arg.value
        if mode is None:
            return node
        if isinstance(mode, cst.SimpleString) and set(str(mode.evaluated_value)) <= READ_MODES:
            return node
        return None

    def _is_with_item_read(self, node: cst.Call) -> bool:
        """`with open(path) as f:` whose body reads `f` (not a bare `open` elsewhere)."""
        parent = self.context.parent
        grandparent = self.context.stack[-3] if len(self.context.stack) > 2 else None
        return (
            isinstance(parent, cst.WithItem)
            and parent.item is node
            and isinstance(grandparent, cst.With)
            and parent.asname is not None
            and isinstance(parent.asname.name, cst.Name)
        )

    # -- does it depend on the iteration ----------------------------------------------
    def _invariant(self, arguments: list[cst.BaseExpression], loop: cst.CSTNode) -> bool:
        varying = loop_bound_names(loop)
        for argument in arguments:
            if names_in(argument) & varying:
                return False
            for inner in walk(argument):
                if isinstance(inner, cst.Call) and not self.context.resolves_to(inner.func, *PATH_BUILDERS):
                    return False  # `next(paths)`, `pick()`: may differ every time
        return True

    def _guarded(self, loop: cst.CSTNode) -> bool:
        """Reads inside a `try` (retries) or an `if` that loads lazily / on one iteration."""
        stack = self.context.stack
        inside = False
        assigned = self._assigned_by_read()
        for ancestor in stack:
            if ancestor is loop:
                inside = True
                continue
            if not inside:
                continue
            if isinstance(ancestor, cst.Try | cst.TryStar):
                return True
            if isinstance(ancestor, cst.If | cst.IfExp):
                test = ancestor.test
                if names_in(test) & assigned:
                    return True
                if any(
                    isinstance(n, cst.Comparison)
                    and any(isinstance(c.operator, cst.Equal) for c in n.comparisons)
                    for n in walk(test)
                ):
                    return True
        return False

    def _assigned_by_read(self) -> set[str]:
        """Names the statement holding the read assigns (`df = pd.read_csv(...)`)."""
        for ancestor in reversed(self.context.stack):
            if isinstance(ancestor, cst.Assign | cst.AnnAssign | cst.AugAssign):
                return names_bound_in(ancestor)
            if isinstance(ancestor, cst.With):
                return names_bound_in(ancestor.body) | names_bound_in(*ancestor.items)
            if isinstance(ancestor, cst.BaseCompoundStatement):
                break
        return set()

    def _loop_waits_or_writes(
        self, loop: cst.CSTNode, arguments: list[cst.BaseExpression], read: cst.Call
    ) -> bool:
        """The file may change between iterations: the loop sleeps (polling), runs a
        process, or hands the path to another call (which may write it)."""
        path = arguments[0] if arguments else None
        path_code = code(path) if path is not None else None
        body = loop.body if isinstance(loop, cst.For | cst.While) else loop
        for node in walk(body, enter=lambda n: not_a_definition(n) and n is not read):
            if not isinstance(node, cst.Call) or node is read:
                continue
            if self.context.resolves_to(node.func, *WAITS) or self.context.resolves_under(
                node.func, *PROCESSES
            ):
                return True
            if path_code is None or self._is_read(node):
                continue  # another read of the same file is no write
            for arg in node.args:
                if self._is_read(arg.value):
                    continue
                for sub in walk(arg.value, enter=lambda n: not self._is_read(n)):
                    if type(sub) is type(path) and not self._is_read(sub) and code(sub) == path_code:
                        return True
        return False

    def _is_read(self, node: cst.CSTNode) -> bool:
        return isinstance(node, cst.Call) and (
            self._read(node) is not None or self._open_for_reading(node) is node
        )

    def _loop_description(self, loop: cst.CSTNode) -> str:
        line = self.context.position(loop).start.line
        if isinstance(loop, cst.For):
            return f"the `for {code(loop.target)} in ...` loop (line {line})"
        if isinstance(loop, cst.While):
            return f"the `while` loop (line {line})"
        return f"the comprehension (line {line})"
