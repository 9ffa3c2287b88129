"""A Jupyter notebook as one Python text, and back.

The text is the notebook's code cells joined in order, so an import in cell 1 is visible
to code in cell 5. Cells whose first non-empty line is a cell magic (`%%time`, `%%bash`)
are left out, and markdown/raw cells are never part of the text.

Cell boundaries. Every included cell after the first is preceded by a boundary line
`# %% green-lint cell <n>` (n = the 1-based index in the notebook's `cells` list, the
number users see). The first cell has no boundary, so text row 1 is row 1 of the first
cell. `render` finds the cells of a changed text by looking for the boundary lines in
order, not by row counts: any number of lines may be inserted or removed anywhere, and
text added before the first boundary (an import at the top) lands in the first cell.
A boundary line counts as the row after the last row of the cell before it, which is
where a range ending with that cell's last newline ends.

Magics. IPython syntax that libcst cannot parse is replaced line by line, keeping the
row count and the indentation, by a placeholder that carries the original text after
the `#!green-lint-magic!` marker:

    %matplotlib inline     ->  pass  #!green-lint-magic!%matplotlib inline
    files = !ls            ->  files = ...  #!green-lint-magic!files = !ls
    !pip install \\         ->  pass  #!green-lint-magic!!pip install \\
        torch              ->      #!green-lint-magic!torch

A statement (not a bare comment) keeps a magic that is the only line of a block
parseable, and the assignment form keeps the assigned names defined. `render` turns
every line holding the marker back into its indentation plus the carried text. Only
lines that start a statement are magics: a line starting with `%` inside brackets or a
string is Python.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from green_lint.findings import Position
from green_lint.lines import split_lines
from green_lint.source import SourceError, SourceFile, _byte_position


@dataclass(frozen=True)
class Markers:
    """The boundary and magic markers of one notebook: spellings that none of its cells
    contains, so that a user's line that happens to hold one survives a fix."""

    boundary: str = "# %% green-lint cell {}"
    magic: str = "#!green-lint-magic!"

    @classmethod
    def unused_in(cls, sources: list[str]) -> Markers:
        text = "\n".join(sources)
        attempt = 0
        while True:
            tag = f"-{attempt}" if attempt else ""
            markers = cls(f"# %% green-lint{tag} cell {{}}", f"#!green-lint-magic{tag}!")
            if markers.boundary.format("") not in text and markers.magic not in text:
                return markers
            attempt += 1

    @property
    def magic_line(self) -> re.Pattern[str]:
        return re.compile(r"^(?P<indent>[ \t]*).*?" + re.escape(self.magic) + r"(?P<original>.*)$")


# IPython's assign-from-system/magic form: `a, b.c = !cmd` or `x = %magic`.
_MAGIC_ASSIGNMENT = re.compile(r"^(?P<targets>[\w.]+(?:\s*,\s*[\w.]+)*)\s*=\s*[!%]")
_UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class NotebookCell:
    """A code cell that is part of the joined text."""

    number: int  # 1-based index in the notebook's `cells` list
    first_row: int  # row of the cell's first line in the joined text
    source: str  # the cell's original source, magics included


@dataclass
class NotebookSource(SourceFile):
    kind: str = "notebook"
    cells: tuple[NotebookCell, ...] = ()
    notebook: dict[str, Any] = field(default_factory=dict, repr=False)
    original: bytes = field(default=b"", repr=False)
    markers: Markers = field(default_factory=Markers)

    def to_cell(self, position: Position) -> tuple[int | None, Position]:
        if not self.cells:
            return None, position
        cell = self.cells[0]
        for candidate in self.cells:
            if candidate.first_row > position.row:
                break
            cell = candidate
        return cell.number, Position(max(position.row - cell.first_row + 1, 1), position.column)

    def with_text(self, text: str) -> NotebookSource:
        """The notebook after fixes changed its text: cells found again by their boundaries."""
        if not self.cells:
            return dataclasses.replace(self, text=text)
        first_rows = [1]
        boundaries = {self.markers.boundary.format(cell.number): cell for cell in self.cells[1:]}
        for row, line in enumerate(split_lines(text, keepends=True), start=1):
            if line.strip() in boundaries:
                first_rows.append(row + 1)
        if len(first_rows) != len(self.cells):
            raise SourceError("the fixes removed a notebook cell boundary: not written")
        cells = tuple(
            dataclasses.replace(cell, first_row=row) for cell, row in zip(self.cells, first_rows, strict=True)
        )
        return dataclasses.replace(self, text=text, cells=cells)

    def cell_texts(self) -> dict[int, str]:
        """Each code cell's source as the user wrote it, by cell number (for code frames)."""
        return {cell.number: cell.source for cell in self.cells}

    def render(self, new_text: str) -> bytes:
        if not self.cells:
            return self.original
        segments = _split_cells(new_text, self.cells, self.markers)
        changed: dict[int, str | list[str]] = {}
        for cell, segment in zip(self.cells, segments, strict=True):
            source = _cell_source(segment, cell.source, self.markers)
            if source != cell.source:
                changed[cell.number] = _like(self.notebook["cells"][cell.number - 1]["source"], source)
        if not changed:
            return self.original
        return _splice_sources(self.original, changed)


def load_notebook(path: Path, display_path: str, data: bytes) -> NotebookSource:
    """Read a nbformat-4 notebook; raises SourceError for anything that is not one."""
    notebook = _parse_json(data)
    raw_cells = _checked_cells(notebook)
    markers = Markers.unused_in([_source_text(raw["source"]) for raw in raw_cells])
    parts: list[str] = []
    cells: list[NotebookCell] = []
    row = 1
    for number, raw in enumerate(raw_cells, start=1):
        source = _source_text(raw["source"])
        if raw.get("cell_type") != "code" or _is_cell_magic(source):
            continue
        if cells:
            parts.append(markers.boundary.format(number) + "\n")
            row += 1
        segment = _neutralise_magics(source, markers.magic)
        if segment and not segment.endswith(("\n", "\r")):
            segment += "\n"
        cells.append(NotebookCell(number, row, source))
        parts.append(segment)
        row += len(split_lines(segment, keepends=True))
    return NotebookSource(
        path=path,
        display_path=display_path,
        text="".join(parts),
        cells=tuple(cells),
        notebook=notebook,
        original=data,
        markers=markers,
    )


# Reading


def _parse_json(data: bytes) -> Any:
    body = data.removeprefix(_UTF8_BOM)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SourceError(
            f"not a valid notebook: byte 0x{body[error.start]:02x} is not valid UTF-8",
            _byte_position(body, error.start),
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise SourceError(
            f"not a valid notebook: {error.msg} (line {error.lineno}, column {error.colno})",
            Position(error.lineno, error.colno),
        ) from None


def _checked_cells(notebook: Any) -> list[dict[str, Any]]:
    if isinstance(notebook, dict) and (notebook.get("nbformat") == 3 or "worksheets" in notebook):
        raise SourceError(
            "File not checked: an nbformat 3 notebook (green-lint reads nbformat 4; "
            "`jupyter nbconvert --to notebook` upgrades it)",
            unsupported=True,
        )
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise SourceError("not a valid notebook: no `cells` list (nbformat 4 is required)")
    for number, cell in enumerate(notebook["cells"], start=1):
        if not isinstance(cell, dict) or "source" not in cell:
            raise SourceError(f"not a valid notebook: cell {number} has no `source`")
        source = cell["source"]
        if not isinstance(source, str) and not (
            isinstance(source, list) and all(isinstance(line, str) for line in source)
        ):
            raise SourceError(f"not a valid notebook: the `source` of cell {number} is not text")
    return notebook["cells"]


def _source_text(source: str | list[str]) -> str:
    return source if isinstance(source, str) else "".join(source)


def _is_cell_magic(source: str) -> bool:
    first_line = next((line for line in split_lines(source, keepends=True) if line.strip()), "")
    return first_line.lstrip().startswith("%%")


# Magics


@dataclass
class _ScanState:
    """Where a line of Python leaves the scanner: inside brackets, a string, a `\\` join."""

    depth: int = 0
    open_string: str | None = None  # the closing quotes of an unfinished triple-quoted string
    joined: bool = False

    @property
    def at_statement_start(self) -> bool:
        return not (self.depth or self.open_string or self.joined)


def _neutralise_magics(source: str, marker: str) -> str:
    state = _ScanState()
    in_magic = False  # the previous line was a magic ending with `\`
    lines = []
    for line in split_lines(source, keepends=True):
        body = line.rstrip("\r\n")
        ending = line[len(body) :]
        if in_magic:
            lines.append(_placeholder(body, "", marker) + ending)
            in_magic = body.endswith("\\")
            continue
        if state.at_statement_start and _is_magic(body):
            lines.append(_placeholder(body, _magic_statement(body), marker) + ending)
            in_magic = body.endswith("\\")
            continue
        state = _scan(body, state)
        lines.append(line)
    return "".join(lines)


def _is_magic(line: str) -> bool:
    stripped = line.strip()
    if not stripped:
        return False
    if stripped[0] in "%!?" or _MAGIC_ASSIGNMENT.match(stripped):
        return True
    # Help syntax `obj?`: the `?` must end the code, not a comment or a string.
    code, after = _code_and_state(line, _ScanState())
    return after.at_statement_start and code.rstrip().endswith("?")


def _magic_statement(line: str) -> str:
    """The Python that stands in for a magic line: an assignment keeps its targets bound."""
    assignment = _MAGIC_ASSIGNMENT.match(line.strip())
    return f"{assignment['targets']} = ...  " if assignment else "pass  "


def _placeholder(line: str, statement: str, marker: str) -> str:
    content = line.lstrip(" \t")
    indent = line[: len(line) - len(content)]
    return f"{indent}{statement}{marker}{content}"


def _restore_magics(text: str, markers: Markers) -> str:
    lines = []
    magic_line = markers.magic_line
    for line in split_lines(text, keepends=True):
        body = line.rstrip("\r\n")
        magic = magic_line.match(body)
        lines.append(magic["indent"] + magic["original"] + line[len(body) :] if magic else line)
    return "".join(lines)


def _scan(line: str, state: _ScanState) -> _ScanState:
    return _code_and_state(line, state)[1]


def _code_and_state(line: str, state: _ScanState) -> tuple[str, _ScanState]:
    """The line without its comment, and the scanner state after it."""
    depth, open_string = state.depth, state.open_string
    index = 0
    if open_string:
        end = _closing_quote(line, 0, open_string)
        if end is None:
            return line, _ScanState(depth, open_string)
        index, open_string = end, None
    while index < len(line):
        char = line[index]
        if char == "#":
            return line[:index], _ScanState(depth)
        if char in "'\"":
            quote = char * 3 if line.startswith(char * 3, index) else char
            end = _closing_quote(line, index + len(quote), quote)
            if end is None:
                # An unfinished single-quoted string is a syntax error; only triple quotes go on.
                return line, _ScanState(depth, quote if len(quote) == 3 else None)
            index = end
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(depth - 1, 0)
        index += 1
    return line, _ScanState(depth, None, line.endswith("\\"))


def _closing_quote(line: str, start: int, quote: str) -> int | None:
    """The index just after the quote that ends a string begun before `start`, if on this line."""
    index = start
    while index < len(line):
        if line[index] == "\\":
            index += 2
        elif line.startswith(quote, index):
            return index + len(quote)
        else:
            index += 1
    return None


# Writing back


def _split_cells(text: str, cells: tuple[NotebookCell, ...], markers: Markers) -> list[str]:
    """The text of each cell, found by the boundary lines; text before the first is cell 1's."""
    segments: list[list[str]] = [[] for _ in cells]
    current = 0
    for line in split_lines(text, keepends=True):
        following = current + 1
        if following < len(cells) and line.strip() == markers.boundary.format(cells[following].number):
            current = following
            continue
        segments[current].append(line)
    if current != len(cells) - 1:
        missing = cells[current + 1].number
        raise SourceError(f"the fixes removed the boundary of notebook cell {missing}: not written")
    return ["".join(lines) for lines in segments]


def _cell_source(segment: str, original: str, markers: Markers) -> str:
    source = _restore_magics(segment, markers)
    # Loading added a newline to cells that lacked one so that the next cell starts a line.
    if not original.endswith(("\n", "\r")) and source.endswith("\n"):
        source = source[:-1]
    return source


def _like(old_source: str | list[str], source: str) -> str | list[str]:
    """`source` in the representation of the cell's original source."""
    return source if isinstance(old_source, str) else split_lines(source, keepends=True)


def _splice_sources(original: bytes, sources: dict[int, str | list[str]]) -> bytes:
    """The notebook's bytes with only the `source` values of the changed cells (by
    1-based number) replaced: every other byte (outputs, metadata, escapes like `\\/`,
    number spellings, key order, line ends) stays as it was."""
    bom = _UTF8_BOM if original.startswith(_UTF8_BOM) else b""
    text = original.removeprefix(_UTF8_BOM).decode("utf-8")
    spans = _source_spans(text)
    ascii_only = text.isascii()
    newline = "\r\n" if "\r\n" in text else "\n"
    for number in sorted(sources, reverse=True):
        start, end = spans[number - 1]
        value = _encode_like(text[start:end], sources[number], ascii_only, newline)
        text = text[:start] + value + text[end:]
    return bom + text.encode("utf-8")


_WHITESPACE = re.compile(r"[ \t\r\n]*")
_DECODER = json.JSONDecoder()


def _source_spans(text: str) -> list[tuple[int, int]]:
    """The (start, end) offsets of each cell's `source` value in the notebook's JSON."""
    spans: list[tuple[int, int]] = []
    for key, start, _end in _members(text, _WHITESPACE.match(text, 0).end()):
        if key == "cells":
            for cell_start in _elements(text, start):
                spans.append(next((s, e) for k, s, e in _members(text, cell_start) if k == "source"))
    return spans


def _members(text: str, index: int):
    """(key, value start, value end) of each member of the object at `index`."""
    index = _WHITESPACE.match(text, index + 1).end()  # past "{"
    while text[index] != "}":
        key, index = json.decoder.scanstring(text, index + 1)
        index = _WHITESPACE.match(text, index).end() + 1  # past ":"
        start = _WHITESPACE.match(text, index).end()
        end = _DECODER.raw_decode(text, start)[1]
        yield key, start, end
        index = _WHITESPACE.match(text, end).end()
        if text[index] == ",":
            index = _WHITESPACE.match(text, index + 1).end()


def _elements(text: str, index: int):
    """The start offset of each element of the array at `index`."""
    index = _WHITESPACE.match(text, index + 1).end()  # past "["
    while text[index] != "]":
        yield index
        index = _WHITESPACE.match(text, _DECODER.raw_decode(text, index)[1]).end()
        if text[index] == ",":
            index = _WHITESPACE.match(text, index + 1).end()


def _encode_like(old: str, value: str | list[str], ascii_only: bool, newline: str) -> str:
    """`value` as JSON laid out like the `old` JSON text of the value it replaces."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=ascii_only)
    items = [json.dumps(line, ensure_ascii=ascii_only) for line in value]
    layout = re.match(r"\[(?P<first>[ \t]*\r?\n(?P<indent>[ \t]*))?", old)
    closing = re.search(r"(?P<before>\r?\n[ \t]*)?\]$", old)
    if not items:
        return "[]"
    if layout["first"] is None:  # all on one line: keep the original separator
        separator = ", " if re.search(r",\s", old) or len(json.loads(old)) < 2 else ","
        return "[" + separator.join(items) + "]"
    indent = layout["indent"]
    before = closing["before"] or newline
    return "[" + newline + indent + ("," + newline + indent).join(items) + before + "]"
