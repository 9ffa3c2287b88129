"""`green-lint server`: a Language Server Protocol server over stdio, for editors.

It needs the `lsp` extra (pygls and lsprotocol); the linter itself never imports them."""

from __future__ import annotations

from green_lint.errors import UsageProblem

EXTRA_MODULES = ("pygls", "lsprotocol", "cattrs", "attrs")


def run_server() -> int:
    try:
        from green_lint.server.app import server
    except ImportError as error:
        if (error.name or "").split(".")[0] not in EXTRA_MODULES:
            raise
        raise UsageProblem(
            f"the language server needs the `lsp` extra ({error.name} is not installed): "
            "pip install 'green-lint[lsp]'"
        ) from None
    server.start_io()
    return 0
