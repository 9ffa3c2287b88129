// green-lint for VS Code: starts `green-lint server` (LSP over stdio) for Python files and
// the Python cells of Jupyter notebooks. Plain JavaScript, no build step.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

// The extension's settings as the server's initializationOptions.
function initializationOptions() {
  const config = vscode.workspace.getConfiguration("green-lint");
  const options = {
    ignore: config.get("ignore", []),
    unsafeFixes: config.get("unsafeFixes", false),
  };
  const select = config.get("select", null);
  if (Array.isArray(select) && select.length > 0) {
    options.select = select;
  }
  const preview = config.get("preview", null);
  if (typeof preview === "boolean") {
    options.preview = preview;
  }
  return options;
}

function createClient() {
  const command = vscode.workspace.getConfiguration("green-lint").get("path", "green-lint");
  const run = { command, args: ["server"], transport: TransportKind.stdio };
  return new LanguageClient(
    "green-lint",
    "green-lint",
    { run, debug: run },
    {
      documentSelector: [
        { scheme: "file", language: "python" },
        { scheme: "untitled", language: "python" },
        { notebook: "jupyter-notebook", language: "python" },
      ],
      initializationOptions: initializationOptions(),
    },
  );
}

async function activate(context) {
  client = createClient();
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (!event.affectsConfiguration("green-lint")) {
        return;
      }
      // The options travel at initialization only: start a new server with the new ones.
      const old = client;
      client = createClient();
      if (old) {
        await old.stop();
      }
      await client.start();
    }),
  );
  await client.start();
}

async function deactivate() {
  if (client) {
    await client.stop();
  }
}

module.exports = { activate, deactivate };
