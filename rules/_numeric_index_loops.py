"""GL203 on loops over a collection of indices, or of keys mapped to indices, that read or
write one element (or row) of a NumPy array per turn:

    for index in review:            layer_1 += weights[index]         # a gather, summed
    for index in review:            weights[index] -= step            # an update
    for word in text.split(" "):    layer_0[0][word2index[word]] += 1 # a scatter (a histogram)

Each turn is an interpreted indexing call and a tiny array operation; one fancy-indexed
expression does them all (`weights[ids].sum(axis=0)`, `weights[ids] -= step`,
`np.add.at(layer_0[0], ids, 1)`). The loop is taken only when it does nothing else: plain
assignments of arithmetic on numbers and elements, guarded at most by a membership test
(`if word in word2index:`), and the loop variable used only to index. A call, a slice or a
matrix product in the body means each turn already works on whole arrays (a mini-batch of
indices); a loop variable or iterable named like a batch, a chunk or a fold, likewise."""

from __future__ import annotations

import re

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._data import block_statements, walk
from green_lint.rules._data_nodes import is_number
from green_lint.rules._numeric_arrays import Arrays
from green_lint.rules._numeric_loop_scan import array_label, subscript_chain, subscript_root
from green_lint.rules._numeric_vocabulary import ARITHMETIC, is_builtin

# Names of a loop (or of what it iterates) whose turns hold many indices at once.
MANY_INDICES = re.compile(r"batch|chunk|fold|split|group|block|window|part|mask|slice", re.IGNORECASE)
# Iterables of index arrays, not of indices.
SPLITTERS = frozenset(f"numpy.{name}" for name in ("split", "array_split", "hsplit", "vsplit", "dsplit"))
PLAIN = (
    cst.Name
    | cst.Integer
    | cst.Float
    | cst.Attribute
    | cst.Subscript
    | cst.BinaryOperation
    | cst.UnaryOperation
)
INDEX_ADVICE = {
    "gather": "read all the rows at once with fancy indexing (`layer = weights[indices].sum(axis=0)`)",
    "update": "update all the elements at once with fancy indexing (`weights[indices] -= step`, or "
    "`np.add.at(weights, indices, step)` when an index repeats)",
    "scatter": "count or set all the elements at once (`np.add.at(counts, indices, 1)`, "
    "`np.bincount(indices, minlength=n)`, `onehot[indices] = 1`), the indices gathered first "
    "(`indices = [word2index[w] for w in words]`)",
}


class IndexLoop:
    """`found` is "gather", "update" or "scatter" when a `for v in collection:` loop does
    only that to elements of known arrays, indexed by `v` or by a lookup of it."""

    def __init__(self, context: RuleContext, arrays: Arrays, scope: cst.CSTNode) -> None:
        self.context = context
        self.arrays = arrays
        self.scope = scope
        self.indices: set[str] = set()  # the loop variable and names assigned a lookup of it
        self.arrays_used: set[str] = set()
        self.kinds: set[str] = set()
        self.foreign = False

    @property
    def found(self) -> str | None:
        if self.foreign:
            return None
        return next((kind for kind in ("scatter", "update", "gather") if kind in self.kinds), None)

    def scan(self, loop: cst.For) -> None:
        if not self._collection_of_indices(loop):
            return
        self.indices.add(loop.target.value)
        self._block(loop.body)
        if not self.foreign and not self._only_indexes(loop):
            self.foreign = True

    def _collection_of_indices(self, loop: cst.For) -> bool:
        target, iterable = loop.target, loop.iter
        if not isinstance(target, cst.Name) or loop.orelse is not None:
            return False
        methods = {id(n.attr) for n in walk(iterable) if isinstance(n, cst.Attribute)}
        names = [
            target.value,
            *(n.value for n in walk(iterable) if isinstance(n, cst.Name) and id(n) not in methods),
        ]
        if any(MANY_INDICES.search(name) for name in names):
            return False
        if isinstance(iterable, cst.Call) and (
            is_builtin(self.context, iterable.func, "builtins.range", "builtins.enumerate", "builtins.zip")
            or self.context.resolves_to(iterable.func, *SPLITTERS)
        ):
            return False  # index loops go to the other scans; splits hand out index arrays
        # The rows of a matrix are arrays, not indices.
        rank = self.arrays.rank_of(iterable, self.scope) if isinstance(iterable, cst.Name) else None
        return rank is None or rank == 1

    # -- statements ----------------------------------------------------------------------
    def _block(self, block: cst.BaseSuite) -> None:
        for statement in block_statements(block):
            if self.foreign:
                return
            self._statement(statement)

    def _statement(self, node: cst.CSTNode) -> None:
        if isinstance(node, cst.If):
            if not self._membership_or_plain(node.test):
                self.foreign = True
                return
            self._block(node.body)
            if isinstance(node.orelse, cst.If):
                self._statement(node.orelse)
            elif node.orelse is not None:
                self._block(node.orelse.body)
        elif isinstance(node, cst.AugAssign):
            if not self._plain(node.value):
                self.foreign = True
            elif self._element(node.target):
                self.kinds.add("scatter" if is_number(node.value) else "update")
            elif isinstance(node.target, cst.Name | cst.Attribute) and self._reads_element(node.value):
                self.kinds.add("gather")
            else:
                self.foreign = True
        elif isinstance(node, cst.Assign) and len(node.targets) == 1:
            target = node.targets[0].target
            if not self._plain(node.value):
                self.foreign = True
            elif self._element(target):
                self.kinds.add("scatter" if is_number(node.value) else "update")
            elif isinstance(target, cst.Name) and self._lookup_of_index(node.value):
                self.indices.add(target.value)  # `idx = word2index[word]`
            else:
                self.foreign = True
        elif not isinstance(node, cst.Pass | cst.Continue | cst.Break):
            self.foreign = True  # calls, prints, nested loops, returns: more than indexing

    def _plain(self, expr: cst.BaseExpression) -> bool:
        """Numbers, names, attributes, element reads and arithmetic on them: no call, no
        slice, no matrix product (each of those is whole-array work)."""
        for node in walk(expr):
            if isinstance(node, cst.Slice):
                return False
            if isinstance(node, cst.BinaryOperation) and not isinstance(node.operator, ARITHMETIC):
                return False
            if isinstance(node, cst.BaseExpression) and not isinstance(node, PLAIN):
                return False
        return True

    def _membership_or_plain(self, test: cst.BaseExpression) -> bool:
        """`word in word2index`, `word in self.word2index.keys()`, or a plain comparison."""
        if isinstance(test, cst.Comparison) and all(
            isinstance(c.operator, cst.In | cst.NotIn) for c in test.comparisons
        ):
            container = test.comparisons[-1].comparator
            if (
                isinstance(container, cst.Call)
                and isinstance(container.func, cst.Attribute)
                and container.func.attr.value == "keys"
                and not container.args
            ):
                container = container.func.value
            return self._plain(test.left) and self._plain(container)
        if isinstance(test, cst.Comparison):
            return self._plain(test.left) and all(self._plain(c.comparator) for c in test.comparisons)
        return False

    # -- elements --------------------------------------------------------------------------
    def _element(self, node: cst.BaseExpression) -> bool:
        """An element or row of a known array indexed (no slices) by the loop's index, or
        by a lookup of it (`layer_0[0][word2index[word]]`)."""
        root = subscript_root(node) if isinstance(node, cst.Subscript) else None
        if root is None:
            root = _attribute_root(node)
        if root is None or not self._is_array(root):
            return False
        indices = [
            e.slice.value for s in subscript_chain(node) for e in s.slice if isinstance(e.slice, cst.Index)
        ]
        if not any(self._is_index(index) or self._lookup_of_index(index) for index in indices):
            return False
        self.arrays_used.add(array_label(root))
        return True

    def _reads_element(self, expr: cst.BaseExpression) -> bool:
        return any(isinstance(node, cst.Subscript) and self._element(node) for node in walk(expr))

    def _is_index(self, node: cst.BaseExpression) -> bool:
        return isinstance(node, cst.Name) and node.value in self.indices

    def _lookup_of_index(self, node: cst.BaseExpression) -> bool:
        """`word2index[word]`, `self.vocab[w]`: a mapping (not a known array) read by the index."""
        if not isinstance(node, cst.Subscript) or len(node.slice) != 1:
            return False
        element = node.slice[0].slice
        return (
            isinstance(element, cst.Index)
            and self._is_index(element.value)
            and isinstance(node.value, cst.Name | cst.Attribute)
            and not self._is_array(node.value)
        )

    def _only_indexes(self, loop: cst.For) -> bool:
        """The loop's variables appear only inside an index or a membership test: it holds
        an index or a key, never a number the body computes with."""
        allowed: set[int] = set()
        for node in walk(loop.body):
            if isinstance(node, cst.SubscriptElement):
                allowed.update(id(n) for n in walk(node))
            elif isinstance(node, cst.Comparison) and all(
                isinstance(c.operator, cst.In | cst.NotIn) for c in node.comparisons
            ):
                allowed.add(id(node.left))
            elif isinstance(node, cst.AssignTarget):
                allowed.add(id(node.target))
        return all(
            id(node) in allowed
            for node in walk(loop.body)
            if isinstance(node, cst.Name) and node.value in self.indices
        )

    def _is_array(self, node: cst.BaseExpression) -> bool:
        if isinstance(node, cst.Name):
            return self.arrays.is_array(node.value, self.scope)
        return isinstance(node, cst.Attribute) and self.arrays.is_array_attribute(node)


def _attribute_root(node: cst.BaseExpression) -> cst.Attribute | None:
    """`self.w` of `self.w[i]` and `self.w[i][j]`."""
    while isinstance(node, cst.Subscript):
        node = node.value
    return node if isinstance(node, cst.Attribute) else None
