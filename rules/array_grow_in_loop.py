"""GL205 array-grow-in-loop."""

from __future__ import annotations

import re

import libcst as cst

from green_lint.rule import Rule
from green_lint.rules._data import enclosing_loop
from green_lint.rules._grow_calls import few_iterations, growth_of, uses_in_loop
from green_lint.rules._grow_fix import grow_fix
from green_lint.rules._syntax import LOOPS, code

ADVICE = {
    "append": "collect the pieces in a list inside the loop and call `np.concatenate(pieces)` once after it "
    "(`np.array(values)` for scalars), or preallocate `np.empty(n)` and fill it by index",
    "join": "collect the pieces in a list inside the loop and join them once after it "
    "(`np.concatenate(pieces)`, `np.vstack(pieces)`, `torch.cat(pieces)`), or preallocate the array "
    "and fill it by index",
}


GROWS_ITSELF = re.compile(
    r"^[ \t]*([\w.]+)[ \t]*=(?!=)[^\n]*?"
    r"(?:\b(?:append|concatenate|concat|vstack|hstack|dstack|row_stack|column_stack|cat)\(|\.[rc]_\[)"
    r"\s*[\[(]?\s*\1\b",
    re.MULTILINE,
)


class ArrayGrowInLoop(Rule):
    """
    ## What it does
    Flags a NumPy array or a PyTorch tensor grown by one piece on every iteration of a
    `for`/`while` loop (also under an `if` in the loop body), the accumulator being the
    same name (or `self.x`) on both sides:
    `acc = np.append(acc, x)`, `acc = np.concatenate([acc, x])`,
    `acc = np.vstack((acc, row))` (also `hstack`, `row_stack`, `column_stack`, `dstack`),
    `acc = np.r_[acc, x]`, `acc = torch.cat((acc, x), 0)` (also `torch.concat`,
    `torch.vstack`...), `acc = x if acc is None else np.concatenate([acc, x])`; the same
    functions of CuPy and `jax.numpy`, and `tf.concat`. Names are resolved through the
    imports (`from numpy import append`), so a function of your own named `append` or
    `cat` never fires.

    Not flagged: `list.append` (amortised constant time: the right way to collect), a
    join outside a loop, a join of two different arrays, a join of pieces collected in
    a list after the loop, loops of ten iterations or fewer (`for i in range(3)`, a
    literal tuple), an accumulator reset in the loop (`acc = np.empty(0)` before it
    grows again) or trimmed (`acc = acc[-100:]`: a bounded window), and a loop that
    consumes the whole accumulator on every iteration besides growing it (passes it to a
    model or a function, `acc.mean()`): there the growth is part of the algorithm (an
    autoregressive decoder feeding its tokens back) and costs no more than that work.
    `np.stack`/`torch.stack` are not matched: stacking the accumulator with a piece adds
    a dimension, so it cannot be repeated on the same name.

    ## Why it wastes energy
    A NumPy array or a tensor is one fixed-size block of memory: it cannot grow in place.
    `np.append` "returns a copy" and every `concatenate`/`cat` allocates a new array and
    copies both inputs into it. Growing by one piece per iteration therefore copies
    1 + 2 + ... + n pieces: n²/2 element copies and n allocations for a job that needs
    n. At 20,000 scalars that is 200 million element copies instead of 20,000; the loop
    spends its energy on memory traffic. A Python list grows in amortised constant time,
    and one join at the end copies each piece once.

    ## Example
    ```python
    embeddings = np.empty((0, 384))
    for batch in batches:
        embeddings = np.concatenate([embeddings, encode(batch)])

    tokens = torch.empty(0, dtype=torch.long)
    for chunk in chunks:
        tokens = torch.cat((tokens, tokenize(chunk)), 0)
    ```

    ## Use instead
    ```python
    parts = [encode(batch) for batch in batches]
    embeddings = np.concatenate(parts)

    token_parts = []
    for chunk in chunks:
        token_parts.append(tokenize(chunk))
    tokens = torch.cat(token_parts, 0)
    ```
    Or, when the final size is known, preallocate (`np.empty((n, 384))`) and fill it by
    index.

    ## Fix safety
    Unsafe, offered for the shape it can prove: the accumulator is set to an empty array
    (`np.empty(0)`, `np.zeros((0, d))`, `np.array([])`, `torch.empty(0)`, `[]`) by the
    statement just before the loop, the loop (without an `else`) grows it in one
    statement (directly in its body or under an `if`, not in a `try`) and reads or
    writes it nowhere else, and the piece is not changed in place later in the loop.
    The fix keeps the empty array as the first piece of a list `acc_parts`, appends each
    piece to it, and joins once after the loop with the same function and arguments
    (`np.append` without `axis` becomes `np.concatenate` of the flattened pieces, as
    `np.append` flattens). The result has the same values, shape and dtype. It is unsafe
    because the list keeps the pieces themselves until the join: a piece modified in
    place afterwards by code the rule cannot see (a buffer reused by a callee) would be
    joined modified, and the pieces are held in memory until the join (about as much
    again as the result). Every other shape gets the advice only.

    ## Evidence
    - NumPy, `numpy.append`: "Note that append does not occur in-place: a new array is
      allocated and filled." Returns "A copy of arr with values appended to axis."
      https://numpy.org/doc/stable/reference/generated/numpy.append.html
    - NumPy for MATLAB users / array creation: arrays have a fixed size at creation;
      growing means a new array. `numpy.concatenate` returns a new array ("The
      concatenated array").
      https://numpy.org/doc/stable/reference/generated/numpy.concatenate.html
    - PyTorch, `torch.cat`: "Concatenates the given sequence of tensors" into a new
      tensor (`out=` aside). https://pytorch.org/docs/stable/generated/torch.cat.html
    - The cost grows with the square of the number of iterations (the sum 1 + ... + n of
      the copies above); no published energy figure applies to a given loop: measure yours
      with `green-lint verify`.
    """

    code = "GL205"
    name = "array-grow-in-loop"
    summary = "An array grown by np.append/concatenate/torch.cat in a loop is copied every time; join once"
    fix_safety = "unsafe"
    # A line that assigns a name the join on its right starts with (`acc = np.append(acc,`,
    # `self.x = torch.cat((self.x,`, `acc = x if acc is None else np.r_[acc,`): anchored
    # at line starts, so the search stays cheap on large files.
    triggers = tuple((module, GROWS_ITSELF) for module in ("numpy", "cupy", "torch", "tensorflow", "jax"))

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) != 1:
            return
        target = node.targets[0].target
        if not _is_reference(target):
            return
        growth = growth_of(self.context, target, node.value)
        if growth is None:
            return
        loop = enclosing_loop(self.context.stack)
        if not isinstance(loop, LOOPS) or few_iterations(self.context, loop):
            return
        uses = uses_in_loop(self.context, loop, target, node)
        if uses.costly_reads or uses.resets:
            return
        shown = _shown(target, growth)
        fix = grow_fix(self.context, node, growth, loop)
        advice = ADVICE["append" if growth.kind == "append" else "join"]
        self.report(
            node,
            f"`{shown}` in a loop copies the whole array on every iteration (quadratic time and memory "
            f"traffic): {advice}.",
            fix=fix,
        )


def _shown(target: cst.BaseExpression, growth) -> str:
    """`acc = np.concatenate([acc, x])` as written, or shortened when long."""
    name = code(target)
    written = f"{name} = {code(growth.call)}"
    if len(written) <= 70 and "\n" not in written:
        return written
    if growth.kind == "index":
        return f"{name} = {code(growth.call.value)}[{name}, ...]"
    return f"{name} = {code(growth.call.func)}({name}, ...)"


def _is_reference(node: cst.BaseExpression) -> bool:
    """`acc` or `self.acc`: the same place when written twice."""
    return isinstance(node, cst.Name) or (
        isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name)
    )
