"""A file to lint as one text, with the way back from text positions to the file.

A Python file is its decoded text. A notebook is its code cells joined into one text
(see `notebook.py`), and positions map back to (cell, row inside the cell).
"""

from __future__ import annotations

import codecs
import dataclasses
import io
import tokenize
from dataclasses import dataclass
from pathlib import Path

from green_lint.findings import Position


class SourceError(Exception):
    """The file cannot be read as source: reported as a syntax error at `position`, or
    (`unsupported`) as a file green-lint does not check, such as an nbformat 3 notebook."""

    def __init__(self, message: str, position: Position | None = None, unsupported: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.position = position or Position(1, 1)
        self.unsupported = unsupported


@dataclass
class SourceFile:
    path: Path
    # What the user sees in reports: the path as given or relative to the working folder.
    display_path: str
    text: str
    kind: str = "python"  # "python" | "notebook" | "requirements"
    encoding: str = "utf-8"
    bom: bool = False

    def to_cell(self, position: Position) -> tuple[int | None, Position]:
        """(cell, position inside the cell); plain files have no cells."""
        return None, position

    def with_text(self, text: str) -> SourceFile:
        """The same file with its text changed (by fixes)."""
        return dataclasses.replace(self, text=text)

    def render(self, text: str) -> bytes:
        """The bytes of the file after its text was changed to `text`."""
        data = text.encode(self.encoding)
        return codecs.BOM_UTF8 + data if self.bom else data


def decode_python(data: bytes) -> tuple[str, str, bool]:
    """Decode Python source bytes as the interpreter would: BOM, PEP 263, else UTF-8.

    Returns (text, encoding, had_bom); raises SourceError with a position on failure.
    """
    if b"\x00" in data:
        offset = data.index(b"\x00")
        raise SourceError(
            "the file contains NUL bytes: it is binary, not Python source",
            _byte_position(data, offset),
        )
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        if not str(error.msg).startswith("invalid or missing encoding declaration"):
            raise SourceError(f"bad encoding declaration: {error.msg}") from None
        # A byte that is not UTF-8 in the first two lines and no declaration: decoding as
        # UTF-8 below names the byte and its position.
        encoding = "utf-8"
    bom = encoding == "utf-8-sig"
    body = data[len(codecs.BOM_UTF8) :] if bom else data
    codec = "utf-8" if bom else encoding
    try:
        text = body.decode(codec)
    except UnicodeDecodeError as error:
        declared = "" if encoding == "utf-8" else f" (declared encoding {encoding})"
        raise SourceError(
            f"byte 0x{body[error.start]:02x} is not valid {codec}{declared}: "
            "save the file as UTF-8 or declare its encoding with a `# -*- coding: ... -*-` line",
            _byte_position(body, error.start),
        ) from None
    return text, codec, bom


def _byte_position(data: bytes, offset: int) -> Position:
    line_start = data.rfind(b"\n", 0, offset) + 1
    return Position(data.count(b"\n", 0, offset) + 1, offset - line_start + 1)


def load_source(path: Path, display_path: str, data: bytes) -> SourceFile:
    """Make the SourceFile of `path` from its bytes; raises SourceError."""
    suffix = path.suffix.lower()
    if suffix == ".ipynb":
        from green_lint.notebook import load_notebook

        return load_notebook(path, display_path, data)
    if suffix in (".txt", ".toml", ".cfg"):
        text = data.decode("utf-8", errors="replace")
        return SourceFile(path=path, display_path=display_path, text=text, kind="requirements")
    text, encoding, bom = decode_python(data)
    return SourceFile(path=path, display_path=display_path, text=text, encoding=encoding, bom=bom)
