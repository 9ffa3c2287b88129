"""The language server in a real editor: headless Neovim starts `green-lint server` with its
built-in LSP client, shows the GL301 diagnostic and applies the "Fix GL301" quick fix.

Neovim is not a Python package: CI installs Debian's `neovim` (see .ci/run). The Lua runs on
Neovim 0.7 (`vim.lsp.start_client` + `vim.lsp.buf_attach_client`) and uses `vim.lsp.start`
where it exists (0.8+)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

INFERENCE = (
    "import torch\nfrom torch import nn\n\nmodel = nn.Linear(4, 2)\n\n\n"
    "def predict(batch):\n    model.eval()\n    return model(batch)\n\n\n"
    'print("RESULT", predict(torch.ones(1, 4)).shape)\n'
)

# Reads its inputs from the environment (GREEN_LINT_*), writes JSON to the output files and
# always quits: `cquit 1` with the error in the error file when anything fails.
CLIENT_LUA = r"""
local python = os.getenv("GREEN_LINT_PYTHON")
local file = os.getenv("GREEN_LINT_FILE")
local out_diagnostics = os.getenv("GREEN_LINT_DIAGNOSTICS")
local out_lines = os.getenv("GREEN_LINT_LINES")
local out_error = os.getenv("GREEN_LINT_ERROR")
local WAIT = 30000
local exited -- set when the server process ends

local function write_json(path, value)
  vim.fn.writefile({ vim.fn.json_encode(value) }, path)
end

local function main()
  vim.cmd("edit " .. vim.fn.fnameescape(file))
  local bufnr = vim.api.nvim_get_current_buf()
  local config = {
    name = "green-lint",
    cmd = { python, "-m", "green_lint", "server" },
    root_dir = vim.fn.fnamemodify(file, ":p:h"),
    init_options = { select = { "GL3" } },
    on_exit = function(code, signal)
      exited = { code = code, signal = signal }
    end,
  }
  local client_id
  if vim.lsp.start then -- 0.8+: starts the client and attaches it to the current buffer
    client_id = vim.lsp.start(config)
  else -- 0.7
    client_id = vim.lsp.start_client(config)
    assert(client_id, "vim.lsp.start_client failed")
    assert(vim.lsp.buf_attach_client(bufnr, client_id), "vim.lsp.buf_attach_client failed")
  end
  assert(client_id, "the language client did not start")

  local got = vim.wait(WAIT, function()
    return #vim.diagnostic.get(bufnr) > 0 or exited ~= nil
  end, 50)
  assert(not exited, "the server exited before any diagnostic: " .. vim.inspect(exited))
  assert(got, "no diagnostics within " .. WAIT .. " ms")

  local shown = {}
  local target
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    local lsp = (d.user_data and d.user_data.lsp) or {}
    local code = d.code or lsp.code
    table.insert(shown, {
      lnum = d.lnum, col = d.col, end_lnum = d.end_lnum, end_col = d.end_col,
      code = code, message = d.message, source = d.source,
    })
    if code == "GL301" and not target then
      target = d
      target.the_code = code
    end
  end
  write_json(out_diagnostics, shown)
  assert(target, "no GL301 diagnostic")

  local range = {
    start = { line = target.lnum, character = target.col },
    ["end"] = { line = target.end_lnum, character = target.end_col },
  }
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    range = range,
    context = {
      diagnostics = {
        { range = range, message = target.message, code = target.the_code, source = target.source,
          severity = target.severity },
      },
    },
  }
  local responses, err = vim.lsp.buf_request_sync(bufnr, "textDocument/codeAction", params, WAIT)
  assert(responses, "textDocument/codeAction: " .. tostring(err))
  local action
  local titles = {}
  for _, response in pairs(responses) do
    assert(not response.error, "textDocument/codeAction error: " .. vim.inspect(response.error))
    for _, candidate in ipairs(response.result or {}) do
      table.insert(titles, candidate.title)
      if not action and candidate.title:sub(1, #"Fix GL301") == "Fix GL301" then
        action = candidate
      end
    end
  end
  assert(action, "no 'Fix GL301' action among " .. vim.inspect(titles))
  assert(action.edit, "the action has no edit: " .. vim.inspect(action))

  local client = vim.lsp.get_client_by_id(client_id)
  local encoding = (client and client.offset_encoding) or "utf-16"
  -- 0.7 takes (edit, encoding) and warns without the encoding; a one-argument version
  -- ignores the extra argument.
  vim.lsp.util.apply_workspace_edit(action.edit, encoding)
  write_json(out_lines, vim.api.nvim_buf_get_lines(bufnr, 0, -1, false))
end

local ok, problem = xpcall(main, debug.traceback)
if ok then
  vim.cmd("qa!")
else
  vim.fn.writefile(vim.split(tostring(problem), "\n"), out_error)
  vim.cmd("cquit 1")
end
"""


def _nvim() -> str:
    nvim = shutil.which("nvim")
    if nvim is None:
        pytest.fail(
            "nvim not found: this test needs Neovim; install it with `apt-get install neovim` "
            "(.ci/run does so)",
            pytrace=False,
        )
    return nvim


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def test_neovim_shows_the_diagnostic_and_applies_the_fix(tmp_path: Path) -> None:
    nvim = _nvim()
    project = tmp_path / "project"
    project.mkdir()
    source = project / "infer.py"
    source.write_text(INFERENCE)
    script = tmp_path / "client.lua"
    script.write_text(CLIENT_LUA)
    diagnostics_out = tmp_path / "diagnostics.json"
    lines_out = tmp_path / "lines.json"
    error_out = tmp_path / "error.txt"
    home = tmp_path / "home"  # Neovim's state, log and config stay in tmp_path
    env = {
        **os.environ,
        "GREEN_LINT_PYTHON": sys.executable,
        "GREEN_LINT_FILE": str(source),
        "GREEN_LINT_DIAGNOSTICS": str(diagnostics_out),
        "GREEN_LINT_LINES": str(lines_out),
        "GREEN_LINT_ERROR": str(error_out),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_CACHE_HOME": str(home / "cache"),
    }
    try:
        done = subprocess.run(
            [nvim, "--headless", "--clean", "-u", "NONE", "-c", f"luafile {script}"],
            cwd=project,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=90,
        )
    except subprocess.TimeoutExpired as timeout:
        pytest.fail(f"headless Neovim did not finish in 90 s; stderr: {timeout.stderr!r}")

    logs = "\n".join(f"--- {log}\n{_read(log)}" for log in sorted(home.rglob("*.log")))
    context = (
        f"exit {done.returncode}\nerror: {_read(error_out)}\nstdout: {done.stdout}\n"
        f"stderr: {done.stderr}\n{logs}"
    )
    assert done.returncode == 0, context

    diagnostics = json.loads(diagnostics_out.read_text())
    assert any(
        d["code"] == "GL301" and d["lnum"] == 8 and d["col"] == 11 and d["source"] == "green-lint"
        for d in diagnostics
    ), f"{diagnostics}\n{context}"

    lines = json.loads(lines_out.read_text())
    at = lines.index("def predict(batch):")
    assert lines[at - 1] == "@torch.no_grad()", lines
    # Only the decorator was added.
    assert [line for line in lines if line != "@torch.no_grad()"] == INFERENCE.splitlines()
