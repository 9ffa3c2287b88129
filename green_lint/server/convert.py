"""Findings and fixes as the Language Server Protocol spells them.

green-lint counts columns in characters from 1; LSP counts from 0, in UTF-16 code units
unless the client agreed on another encoding. Every conversion goes through the line's
text, so a line with an emoji before the finding still gets the right range."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from green_lint.findings import Edit, Finding, Position
from green_lint.lines import split_lines

SEVERITIES = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "info": types.DiagnosticSeverity.Information,
}
SOURCE = "green-lint"


class Lines:
    """A text's lines, for turning character columns into the client's units."""

    def __init__(self, text: str, encoding: str = types.PositionEncodingKind.Utf16) -> None:
        self.lines = split_lines(text)  # a final line break leaves an empty last line
        self.encoding = encoding

    def position(self, position: Position) -> types.Position:
        line = position.row - 1
        if line >= len(self.lines):  # past the end: the end of the text
            return types.Position(line=len(self.lines) - 1, character=self.units(self.lines[-1]))
        prefix = self.lines[line][: max(position.column - 1, 0)]
        return types.Position(line=line, character=self.units(prefix))

    def range(self, start: Position, end: Position) -> types.Range:
        return types.Range(start=self.position(start), end=self.position(end))

    def units(self, text: str) -> int:
        if self.encoding == types.PositionEncodingKind.Utf8:
            return len(text.encode("utf-8"))
        if self.encoding == types.PositionEncodingKind.Utf32:
            return len(text)
        return len(text.encode("utf-16-le")) // 2


def diagnostic(finding: Finding, lines: Lines) -> types.Diagnostic:
    related = [
        types.DiagnosticRelatedInformation(
            location=types.Location(
                uri=Path(place.filename).resolve().as_uri(),
                range=types.Range(
                    start=types.Position(line=place.location.row - 1, character=0),
                    end=types.Position(line=place.location.row - 1, character=0),
                ),
            ),
            message=place.message,
        )
        for place in finding.related
    ]
    return types.Diagnostic(
        range=lines.range(finding.location, finding.end_location),
        message=finding.message,
        severity=SEVERITIES.get(finding.severity, types.DiagnosticSeverity.Warning),
        code=finding.code,
        code_description=types.CodeDescription(href=finding.url) if finding.url else None,
        source=SOURCE,
        related_information=related or None,
    )


def text_edits(edits: tuple[Edit, ...], lines: Lines) -> list[types.TextEdit]:
    return [
        types.TextEdit(range=lines.range(edit.location, edit.end_location), new_text=edit.content)
        for edit in edits
    ]


def whole_text_edit(new: str, lines: Lines) -> types.TextEdit:
    """One edit replacing the whole text by `new` (a fix-all)."""
    end = types.Position(line=len(lines.lines) - 1, character=lines.units(lines.lines[-1]))
    return types.TextEdit(range=types.Range(start=types.Position(line=0, character=0), end=end), new_text=new)
