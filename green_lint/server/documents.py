"""Lint what the editor holds: a Python buffer (its text, not the file on disk) or a
notebook's cells, and keep each finding next to the diagnostic it became, so that code
actions and hovers find their finding again."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from lsprotocol import types

from green_lint.engine import LintSettings, lint_source, source_error_findings
from green_lint.findings import Finding
from green_lint.fix import fix_source
from green_lint.server.convert import Lines, diagnostic
from green_lint.source import SourceError, SourceFile, load_source

PYTHON_SUFFIXES = (".py", ".pyi", ".pyw")


@dataclass
class Part:
    """One document the client shows: a file, or one cell of a notebook."""

    uri: str
    text: str
    lines: Lines
    findings: list[Finding] = field(default_factory=list)
    diagnostics: list[types.Diagnostic] = field(default_factory=list)

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)
        self.diagnostics.append(diagnostic(finding, self.lines))

    def findings_in(self, wanted: types.Range) -> list[Finding]:
        """The findings whose range touches `wanted` (a cursor or a selection)."""
        return [
            finding
            for finding, shown in zip(self.findings, self.diagnostics, strict=True)
            if _touches(shown.range, wanted)
        ]


@dataclass
class Linted:
    """A document's last lint: its parts (one, or one per notebook cell) and what fixes
    need to run again on the same text."""

    source: SourceFile | None
    settings: LintSettings
    parts: dict[str, Part]


def lint_text(uri: str, path: Path, text: str, settings: LintSettings, encoding: str) -> Linted:
    part = Part(uri, text, Lines(text, encoding))
    try:
        source = _python_or_text(path, text)
    except SourceError as error:
        for finding in source_error_findings(str(path), error, settings):
            part.add(finding)
        return Linted(None, settings, {uri: part})
    for finding in lint_source(source, settings):
        part.add(finding)
    return Linted(source, settings, {uri: part})


def lint_notebook(
    path: Path, cells: list[tuple[str, int, str]], settings: LintSettings, encoding: str
) -> Linted:
    """`cells`: (uri, kind, text) in the notebook's order; kind 2 is a code cell."""
    parts = {uri: Part(uri, text, Lines(text, encoding)) for uri, _kind, text in cells}
    notebook = {
        "cells": [
            {"cell_type": "code", "source": text, "metadata": {}, "outputs": [], "execution_count": None}
            if kind == types.NotebookCellKind.Code
            else {"cell_type": "markdown", "source": text, "metadata": {}}
            for _uri, kind, text in cells
        ],
        "metadata": {"language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    try:
        source = load_source(path, str(path), json.dumps(notebook).encode())
    except SourceError:
        return Linted(None, settings, parts)
    for finding in lint_source(source, settings):
        if finding.cell is not None and 0 < finding.cell <= len(cells):
            parts[cells[finding.cell - 1][0]].add(finding)
    return Linted(source, settings, parts)


def fixed_texts(linted: Linted, unsafe: bool) -> dict[str, str]:
    """The text of each part after every applicable fix (only the parts that change)."""
    source = linted.source
    if source is None:
        return {}
    outcome = fix_source(source, linted.settings, unsafe)
    if not outcome.changed(source.text):
        return {}
    if source.kind != "notebook":
        (uri,) = linted.parts
        return {uri: outcome.text}
    rendered = json.loads(source.render(outcome.text))
    changed = {}
    for (uri, part), cell in zip(linted.parts.items(), rendered["cells"], strict=True):
        text = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        if text != part.text:
            changed[uri] = text
    return changed


def _python_or_text(path: Path, text: str) -> SourceFile:
    if path.suffix.lower() in PYTHON_SUFFIXES or not path.suffix:
        # The buffer is text already: no encoding declaration to honour.
        return SourceFile(path=path, display_path=str(path), text=text)
    return load_source(path, str(path), text.encode("utf-8"))


def _touches(shown: types.Range, wanted: types.Range) -> bool:
    def key(position: types.Position) -> tuple[int, int]:
        return position.line, position.character

    return key(shown.start) <= key(wanted.end) and key(wanted.start) <= key(shown.end)
