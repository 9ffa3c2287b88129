"""The language server end to end, with pytest-lsp as the editor: `green-lint server` runs
as a subprocess and speaks LSP over its stdin and stdout."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

INFERENCE = (
    "import torch\nfrom torch import nn\n\nmodel = nn.Linear(4, 2)\n\n\n"
    "def predict(batch):\n    model.eval()\n    return model(batch)\n\n\n"
    'print("RESULT", predict(torch.ones(1, 4)).shape)\n'
)
CLEAN = "import torch\n\nprint(torch.ones(2).sum())\n"


def _instrument(lsp_client: LanguageClient) -> None:
    """Accept the server's registrations and count the diagnostics it publishes."""
    registrations: list[types.Registration] = []

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def _register(params: types.RegistrationParams) -> None:
        registrations.extend(params.registrations)

    published: list[str] = []
    features = lsp_client.protocol.fm.features
    keep_diagnostics = features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

    def _diagnostics(params: types.PublishDiagnosticsParams) -> None:
        keep_diagnostics(params)
        published.append(params.uri)

    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = _diagnostics
    lsp_client.registrations = registrations
    lsp_client.published = published


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "green_lint", "server"]))
async def client(lsp_client: LanguageClient):
    _instrument(lsp_client)
    # Each test initializes the session itself: some pass their own options.
    yield
    await lsp_client.shutdown_session()


async def _start(client: LanguageClient, root: Path, options: dict | None = None, notebooks: bool = False):
    capabilities = types.ClientCapabilities(
        workspace=types.WorkspaceClientCapabilities(
            did_change_watched_files=types.DidChangeWatchedFilesClientCapabilities(dynamic_registration=True)
        ),
        notebook_document=types.NotebookDocumentClientCapabilities(
            synchronization=types.NotebookDocumentSyncClientCapabilities()
        )
        if notebooks
        else None,
    )
    await client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities,
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="project")],
            initialization_options=options,
        )
    )


async def _open(client: LanguageClient, path: Path, text: str) -> list[types.Diagnostic]:
    uri = path.as_uri()
    after = len(client.published)
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)
        )
    )
    await _published(client, uri, after)
    return list(client.diagnostics[uri])


async def _published(client: LanguageClient, uri: str, after: int = 0) -> None:
    """Wait for diagnostics of `uri` published after the first `after` publications (the
    server publishes one notebook's cells in a row: no notification may be missed)."""
    for _ in range(600):
        if uri in client.published[after:]:
            return
        await asyncio.sleep(0.05)
    logged = [message.message for message in [*client.log_messages, *client.messages]]
    raise AssertionError(f"no diagnostics for {uri}; the server said {logged}")


def _apply(text: str, edits: list[types.TextEdit]) -> str:
    """Apply LSP edits (UTF-16 columns, ASCII here) to `text`, last first."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(position: types.Position) -> int:
        return starts[min(position.line, len(lines))] + position.character

    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end) :]
    return text


async def _actions(client: LanguageClient, uri: str, where: types.Range, only=None) -> list[types.CodeAction]:
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=where,
            context=types.CodeActionContext(diagnostics=list(client.diagnostics[uri]), only=only),
        )
    )
    return [action for action in result or [] if isinstance(action, types.CodeAction)]


@pytest.mark.asyncio
async def test_diagnostics_quick_fix_and_update_after_a_change(client: LanguageClient, tmp_path):
    await _start(client, tmp_path)
    path = tmp_path / "serve.py"
    path.write_text(CLEAN)  # the file on disk is clean: the buffer is what is linted
    (found,) = await _open(client, path, INFERENCE)
    assert found.code == "GL301" and found.source == "green-lint"
    assert found.severity == types.DiagnosticSeverity.Warning
    assert found.range.start == types.Position(line=8, character=11)
    assert found.code_description.href.endswith("#gl301")

    actions = await _actions(client, path.as_uri(), found.range)
    titles = [action.title for action in actions]
    assert "Fix GL301: Decorate the function with @torch.no_grad() (safe)" in titles
    assert "Suppress GL301 on this line" in titles
    fix = next(action for action in actions if action.title.startswith("Fix GL301"))
    fixed = _apply(INFERENCE, fix.edit.changes[path.as_uri()])
    assert "@torch.no_grad()\ndef predict(batch):" in fixed

    after = len(client.published)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=path.as_uri(), version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=fixed)],
        )
    )
    await _published(client, path.as_uri(), after)
    assert list(client.diagnostics[path.as_uri()]) == []


@pytest.mark.asyncio
async def test_suppress_and_fix_all_actions(client: LanguageClient, tmp_path):
    await _start(client, tmp_path)
    path = tmp_path / "serve.py"
    (found,) = await _open(client, path, INFERENCE)
    actions = await _actions(client, path.as_uri(), found.range)
    suppress = next(action for action in actions if action.title == "Suppress GL301 on this line")
    suppressed = _apply(INFERENCE, suppress.edit.changes[path.as_uri()])
    assert "    return model(batch)  # noqa: GL301\n" in suppressed

    (fix_all,) = await _actions(client, path.as_uri(), found.range, only=["source.fixAll"])
    assert fix_all.kind == "source.fixAll.green-lint"
    assert fix_all.title == "Fix all safe GL findings in this file"
    assert "@torch.no_grad()" in _apply(INFERENCE, fix_all.edit.changes[path.as_uri()])


@pytest.mark.asyncio
async def test_hover_and_explain_show_the_rule_docs(client: LanguageClient, tmp_path):
    await _start(client, tmp_path)
    path = tmp_path / "serve.py"
    (found,) = await _open(client, path, INFERENCE)
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=path.as_uri()), position=found.range.start
        )
    )
    assert hover.contents.kind == types.MarkupKind.Markdown
    assert "# GL301 inference-with-autograd" in hover.contents.value
    nothing = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
            position=types.Position(line=0, character=0),
        )
    )
    assert nothing is None
    docs = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="green-lint.explain", arguments=["GL103"])
    )
    assert docs.startswith("# GL103 exhaustive-grid-search")


@pytest.mark.asyncio
async def test_workspace_config_and_initialization_options(client: LanguageClient, tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.green-lint]\nignore = ["GL301"]\n')
    await _start(client, tmp_path, options={"extendSelect": ["GL103"]})
    path = tmp_path / "serve.py"
    assert await _open(client, path, INFERENCE) == []
    watched = [r for r in client.registrations if r.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES]
    assert watched, "the server asks the editor to watch the config files"
    # The config file changes on disk: the server reads it again.
    (tmp_path / "pyproject.toml").write_text("[tool.green-lint]\nignore = []\n")
    after = len(client.published)
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[
                types.FileEvent(uri=(tmp_path / "pyproject.toml").as_uri(), type=types.FileChangeType.Changed)
            ]
        )
    )
    await _published(client, path.as_uri(), after)
    assert [d.code for d in client.diagnostics[path.as_uri()]] == ["GL301"]


@pytest.mark.asyncio
async def test_a_bad_config_is_shown_and_the_server_stays_up(client: LanguageClient, tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.green-lint]\nselect = 3\n")
    await _start(client, tmp_path)
    path = tmp_path / "serve.py"
    found = await _open(client, path, INFERENCE)
    assert [d.code for d in found] == ["GL301"]  # the defaults meanwhile
    assert any(
        "pyproject.toml" in message.message and message.type == types.MessageType.Error
        for message in client.messages
    )
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=path.as_uri()), position=found[0].range.start
        )
    )
    assert hover is not None


@pytest.mark.asyncio
async def test_closing_a_document_clears_its_diagnostics(client: LanguageClient, tmp_path):
    await _start(client, tmp_path)
    path = tmp_path / "serve.py"
    assert await _open(client, path, INFERENCE) != []
    after = len(client.published)
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=path.as_uri()))
    )
    await _published(client, path.as_uri(), after)
    assert list(client.diagnostics[path.as_uri()]) == []


@pytest.mark.asyncio
async def test_notebook_cells_get_their_own_diagnostics_and_fixes(client: LanguageClient, tmp_path):
    await _start(client, tmp_path, notebooks=True)
    notebook = tmp_path / "explore.ipynb"
    cells = [
        ("import torch\nfrom torch import nn\n\nmodel = nn.Linear(4, 2)\n", types.NotebookCellKind.Code),
        ("# Inference", types.NotebookCellKind.Markup),
        ("def predict(batch):\n    model.eval()\n    return model(batch)\n", types.NotebookCellKind.Code),
    ]
    uris = [f"{notebook.as_uri()}#cell{index}" for index in range(len(cells))]
    client.notebook_document_did_open(
        types.DidOpenNotebookDocumentParams(
            notebook_document=types.NotebookDocument(
                uri=notebook.as_uri(),
                notebook_type="jupyter-notebook",
                version=1,
                cells=[
                    types.NotebookCell(kind=kind, document=uri)
                    for (_, kind), uri in zip(cells, uris, strict=True)
                ],
            ),
            cell_text_documents=[
                types.TextDocumentItem(
                    uri=uri, language_id="python" if kind == 2 else "markdown", version=1, text=text
                )
                for (text, kind), uri in zip(cells, uris, strict=True)
            ],
        )
    )
    await _published(client, uris[2])
    (found,) = client.diagnostics[uris[2]]
    assert found.code == "GL301" and found.range.start.line == 2  # in the cell's own lines
    assert list(client.diagnostics.get(uris[0], [])) == []
    actions = await _actions(client, uris[2], found.range)
    fix = next(action for action in actions if action.title.startswith("Fix GL301"))
    assert list(fix.edit.changes) == [uris[2]]
    assert _apply(cells[2][0], fix.edit.changes[uris[2]]).startswith("@torch.no_grad()\ndef predict")


def test_server_without_the_lsp_extra_says_how_to_install_it(tmp_path):
    import subprocess

    blocker = tmp_path / "pygls.py"
    blocker.write_text("raise ImportError('blocked', name='pygls')\n")
    env_path = f"{tmp_path}"
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys; sys.path.insert(0, {env_path!r}); from green_lint.cli import main; main(['server'])",
        ],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert run.returncode == 2
    assert "pip install 'green-lint[lsp]'" in run.stderr and "Traceback" not in run.stderr
    assert run.stdout == ""


CRASHING_SERVER = (
    "import green_lint.server.documents as documents\n"
    "real = documents.lint_source\n"
    "def lint_source(source, settings):\n"
    "    if 'CRASH' in source.text:\n"
    "        raise RuntimeError('a rule fell over')\n"
    "    return real(source, settings)\n"
    "documents.lint_source = lint_source\n"
    "from green_lint.server.app import server\n"
    "server.start_io()\n"
)


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-c", CRASHING_SERVER]))
async def crashing_client(lsp_client: LanguageClient):
    _instrument(lsp_client)
    yield
    await lsp_client.shutdown_session()


@pytest.mark.asyncio
async def test_a_crash_on_one_buffer_is_shown_and_the_server_goes_on(
    crashing_client: LanguageClient, tmp_path
):
    client = crashing_client
    await _start(client, tmp_path)
    broken = tmp_path / "broken.py"
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=broken.as_uri(), language_id="python", version=1, text="# CRASH\n" + INFERENCE
            )
        )
    )
    for _ in range(600):
        if client.messages:
            break
        await asyncio.sleep(0.05)
    (shown,) = client.messages
    assert shown.type == types.MessageType.Error
    assert "broken.py" in shown.message and "RuntimeError: a rule fell over" in shown.message
    assert [log.message for log in client.log_messages] == [shown.message]  # one log line
    # The next buffer is linted as usual.
    assert [d.code for d in await _open(client, tmp_path / "serve.py", INFERENCE)] == ["GL301"]


GRID_SEARCH = (
    "from sklearn.model_selection import GridSearchCV\nfrom sklearn.svm import SVC\n\n"
    'search = GridSearchCV(SVC(), {"C": [0.1, 1, 10]}, cv=3)\n'
)


@pytest.mark.asyncio
@pytest.mark.parametrize("unsafe", [False, True])
async def test_unsafe_fixes_are_offered_only_when_the_editor_asks(client: LanguageClient, tmp_path, unsafe):
    await _start(client, tmp_path, options={"unsafeFixes": unsafe})
    path = tmp_path / "search.py"
    (found,) = await _open(client, path, GRID_SEARCH)
    assert found.code == "GL103"
    titles = [action.title for action in await _actions(client, path.as_uri(), found.range)]
    offered = [title for title in titles if title.startswith("Fix GL103")]
    assert len(offered) == (1 if unsafe else 0)
    assert not offered or offered[0].endswith("(unsafe)")


@pytest.mark.asyncio
async def test_cross_file_findings_point_to_the_other_file(client: LanguageClient):
    project = Path(__file__).resolve().parent.parent / "fixtures" / "project" / "validate_elsewhere"
    await _start(client, project)
    related = []
    for path in sorted(project.rglob("*.py")):
        for found in await _open(client, path, path.read_text()):
            related += [(found.code, info.location.uri) for info in found.related_information or ()]
    assert related, "a project fixture with a finding that names another file"
    assert all(
        uri.startswith(project.as_uri()) and Path(uri[len("file://") :]).is_file() for _, uri in related
    )


@pytest.mark.parametrize(
    "options",
    [{"select": ["GL103"]}, {"extendSelect": ["GL103"]}, {"select": ["GL1"]}],
)
def test_the_editors_options_win_over_the_config_file(tmp_path, options):
    """As the command line's flags do: a rule the config ignores runs when the editor asks."""
    from green_lint.server.settings import ClientOptions, DocumentSettings

    (tmp_path / "pyproject.toml").write_text('[tool.green-lint]\nignore = ["GL103"]\n', encoding="utf-8")
    path = tmp_path / "search.py"
    by_config = {rule.code for rule in DocumentSettings().for_path(path).rules}
    by_editor = {rule.code for rule in DocumentSettings(ClientOptions.parse(options)).for_path(path).rules}
    assert "GL103" not in by_config
    assert "GL103" in by_editor
