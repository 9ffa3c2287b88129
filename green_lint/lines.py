"""The one line model of the program: Python's own. A line ends at `\\r\\n`, `\\r` or `\\n`
and nowhere else (the parser, libcst's rows and CPython agree on it).

`str.splitlines` also splits on `\\f`, `\\v`, `\\x1c`-`\\x1e`, `\\x85`, U+2028 and U+2029, and
counting `\\n` alone misses CR-only files: either one puts a row off by the number of such
characters above it, and a fix computed on one model and applied on the other lands on
the wrong line. Every row, column and offset in green-lint is computed here.
"""

from __future__ import annotations

import re

from green_lint.findings import Position

LINE_BREAK = re.compile(r"\r\n|\r|\n")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def split_lines(text: str, keepends: bool = False) -> list[str]:
    """The rows of `text` (row n is item n - 1). Without ends, a text that ends with a line
    break has an empty last item, like `str.split("\\n")`; with ends, it does not."""
    if keepends:
        return _LINE.findall(text)
    return LINE_BREAK.split(text)


def count_line_breaks(text: str, start: int = 0, end: int | None = None) -> int:
    return len(LINE_BREAK.findall(text, start, len(text) if end is None else end))


def line_starts(text: str) -> list[int]:
    """The offset at which each row starts (row n at item n - 1)."""
    return [0, *(match.end() for match in LINE_BREAK.finditer(text))]


def offset_of(position: Position, starts: list[int], text: str) -> int:
    """The offset of a 1-based (row, column) position, clamped to the text."""
    if position.row > len(starts):
        return len(text)
    return min(starts[position.row - 1] + position.column - 1, len(text))


def advance(position: Position, text: str) -> Position:
    """The position just after `text` written at `position`."""
    breaks = list(LINE_BREAK.finditer(text))
    if not breaks:
        return Position(position.row, position.column + len(text))
    return Position(position.row + len(breaks), len(text) - breaks[-1].end() + 1)
