"""The language server: document and notebook sync in, diagnostics, code actions, hovers
and the `green-lint.explain` command out.

The rule modules and libcst load once per server, on the first lint; each change re-lints
the buffer after a short pause (typing produces a change per key). A crash while linting
one buffer is shown to the user and logged on one line; the server goes on."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from green_lint import __version__
from green_lint.engine import LintSettings
from green_lint.registry import select_rules
from green_lint.server.actions import FIX_ALL, code_actions, explain, hover
from green_lint.server.documents import Linted, lint_notebook, lint_text
from green_lint.server.settings import ClientOptions, DocumentSettings, SettingsProblem

# Seconds of quiet after a change before the buffer is linted again.
DEBOUNCE = 0.15
CONFIG_NAMES = ("pyproject.toml", "green-lint.toml", ".green-lint.toml")
EXPLAIN = "green-lint.explain"


class GreenLintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "green-lint",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            notebook_document_sync=types.NotebookDocumentSyncOptions(
                notebook_selector=[
                    types.NotebookDocumentFilterWithCells(
                        notebook="jupyter-notebook", cells=[types.NotebookCellLanguage(language="python")]
                    )
                ],
                save=True,
            ),
        )
        self.settings = DocumentSettings()
        self.linted: dict[str, Linted] = {}  # by the uri of a file or a notebook
        self.owner: dict[str, str] = {}  # the uri of each part (a cell) -> its document's
        self._pending: dict[str, asyncio.TimerHandle] = {}
        self._problems_shown: set[str] = set()

    # -- linting ------------------------------------------------------------------------
    def lint(self, uri: str) -> None:
        """Lint a text document or a notebook (by either uri) and publish its diagnostics."""
        uri = self.owner.get(uri, uri)
        notebook = self.workspace.get_notebook_document(notebook_uri=uri)
        path = Path(to_fs_path(uri) or uri)
        encoding = self.workspace.position_encoding or types.PositionEncodingKind.Utf16
        try:
            settings = self._settings_for(path)
            if notebook is not None:
                cells = [
                    (cell.document, cell.kind, self.workspace.get_text_document(cell.document).source)
                    for cell in notebook.cells
                ]
                linted = lint_notebook(path, cells, settings, encoding)
            else:
                text = self.workspace.get_text_document(uri).source
                linted = lint_text(uri, path, text, settings, encoding)
        except Exception as error:  # a crash in a rule: say so, keep serving
            message = f"green-lint could not lint {path.name}: {type(error).__name__}: {error}"
            self.window_log_message(types.LogMessageParams(type=types.MessageType.Error, message=message))
            self.window_show_message(types.ShowMessageParams(type=types.MessageType.Error, message=message))
            return
        old = self.linted.get(uri)
        self.linted[uri] = linted
        for part_uri, part in linted.parts.items():
            self.owner[part_uri] = uri
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=part_uri, diagnostics=part.diagnostics)
            )
        for gone in set(old.parts if old else ()) - set(linted.parts):  # a deleted cell
            self.owner.pop(gone, None)
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=gone, diagnostics=[]))

    def lint_soon(self, uri: str) -> None:
        pending = self._pending.pop(uri, None)
        if pending is not None:
            pending.cancel()
        loop = asyncio.get_running_loop()
        self._pending[uri] = loop.call_later(DEBOUNCE, self._lint_pending, uri)

    def _lint_pending(self, uri: str) -> None:
        self._pending.pop(uri, None)
        if uri in self.linted or self.workspace.get_notebook_document(notebook_uri=uri) is not None:
            self.lint(uri)

    def forget(self, uri: str) -> None:
        pending = self._pending.pop(uri, None)
        if pending is not None:
            pending.cancel()
        linted = self.linted.pop(uri, None)
        for part_uri in linted.parts if linted else (uri,):
            self.owner.pop(part_uri, None)
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=part_uri, diagnostics=[])
            )

    def relint_all(self) -> None:
        self.settings.forget()
        for uri in list(self.linted):
            self.lint(uri)

    def _settings_for(self, path: Path):
        try:
            return self.settings.for_path(path)
        except SettingsProblem as problem:
            self.show_problem(f"{problem} (green-lint uses its default settings until it is fixed)")
            return LintSettings(rules=select_rules())

    def show_problem(self, message: str) -> None:
        """A settings problem, shown once (not on every key stroke) and logged."""
        self.window_log_message(types.LogMessageParams(type=types.MessageType.Error, message=message))
        if message not in self._problems_shown:
            self._problems_shown.add(message)
            self.window_show_message(types.ShowMessageParams(type=types.MessageType.Error, message=message))


server = GreenLintServer()


@server.feature(types.INITIALIZE)
def _initialize(ls: GreenLintServer, params: types.InitializeParams) -> None:
    try:
        ls.settings = DocumentSettings(ClientOptions.parse(params.initialization_options))
    except SettingsProblem as problem:
        ls.show_problem(str(problem))


@server.feature(types.INITIALIZED)
def _initialized(ls: GreenLintServer, params: types.InitializedParams) -> None:
    watch = ls.client_capabilities.workspace
    dynamic = watch and watch.did_change_watched_files and watch.did_change_watched_files.dynamic_registration
    if dynamic:
        watchers = [types.FileSystemWatcher(glob_pattern=f"**/{name}") for name in CONFIG_NAMES]
        ls.client_register_capability(
            types.RegistrationParams(
                registrations=[
                    types.Registration(
                        id="green-lint-config",
                        method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                        register_options=types.DidChangeWatchedFilesRegistrationOptions(watchers=watchers),
                    )
                ]
            )
        )


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def _did_open(ls: GreenLintServer, params: types.DidOpenTextDocumentParams) -> None:
    if params.text_document.uri not in ls.owner:  # not a notebook's cell
        ls.lint(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def _did_change(ls: GreenLintServer, params: types.DidChangeTextDocumentParams) -> None:
    ls.lint_soon(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def _did_save(ls: GreenLintServer, params: types.DidSaveTextDocumentParams) -> None:
    if Path(to_fs_path(params.text_document.uri) or "").name in CONFIG_NAMES:
        ls.relint_all()
    elif params.text_document.uri in ls.linted:
        ls.lint(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def _did_close(ls: GreenLintServer, params: types.DidCloseTextDocumentParams) -> None:
    if params.text_document.uri in ls.linted:
        ls.forget(params.text_document.uri)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
def _notebook_open(ls: GreenLintServer, params: types.DidOpenNotebookDocumentParams) -> None:
    ls.lint(params.notebook_document.uri)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
def _notebook_change(ls: GreenLintServer, params: types.DidChangeNotebookDocumentParams) -> None:
    ls.lint_soon(params.notebook_document.uri)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_SAVE)
def _notebook_save(ls: GreenLintServer, params: types.DidSaveNotebookDocumentParams) -> None:
    ls.lint(params.notebook_document.uri)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
def _notebook_close(ls: GreenLintServer, params: types.DidCloseNotebookDocumentParams) -> None:
    ls.forget(params.notebook_document.uri)


@server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def _watched_files(ls: GreenLintServer, params: types.DidChangeWatchedFilesParams) -> None:
    ls.relint_all()


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL]),
)
def _code_action(ls: GreenLintServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    linted, part = _part(ls, params.text_document.uri)
    if part is None:
        return []
    only = params.context.only
    return code_actions(linted, part, params.range, only, ls.settings.options.unsafe_fixes)


@server.feature(types.TEXT_DOCUMENT_HOVER)
def _hover(ls: GreenLintServer, params: types.HoverParams) -> types.Hover | None:
    _linted, part = _part(ls, params.text_document.uri)
    return hover(part, params.position) if part is not None else None


@server.command(EXPLAIN)
def _explain(ls: GreenLintServer, *arguments: Any) -> str:
    code = arguments[0] if arguments else ""
    return explain(code if isinstance(code, str) else str(code))


def _part(ls: GreenLintServer, uri: str):
    linted = ls.linted.get(ls.owner.get(uri, uri))
    if linted is None:
        return None, None
    return linted, linted.parts.get(uri)
