"""How fast the language server re-lints a buffer after a change.

    python bench/lsp_latency.py [--lines 1000] [--changes 20] [--dense]

Starts `green-lint server` as an editor would (over stdio, with pygls's client), opens a
generated Python file of about `--lines` lines, one block in four holding findings of
several rules (model inference, a training loop, a grid search, NumPy element loops; every
block with `--dense`) and the others plain code, then edits one line
`--changes` times, waiting each time for the new diagnostics. Prints the median and worst
time from the change to its diagnostics, and the same less the server's debounce (the
pause it waits for more keystrokes before linting): the re-lint itself. The first lint
(loading the rule modules and libcst) is reported apart. Not a test: the figures are this
machine's.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from green_lint.server.app import DEBOUNCE

BLOCK = """

def predict_{n}(batch):
    model.eval()
    return model(batch)


def train_{n}(loader, optimizer):
    for epoch in range(100):
        for inputs, targets in loader:
            optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(model(inputs), targets)
            loss.backward()
            optimizer.step()


def scale_{n}(values):
    out = np.zeros(len(values))
    for i in range(len(values)):
        out[i] = values[i] * 2.0 + 1.0
    return out


search_{n} = GridSearchCV(SVC(), {{"C": [0.1, 1, 10], "gamma": [0.01, 0.1]}}, cv=3)
"""
# Code without findings: most of a real file.
PLAIN = '''

def normalise_{n}(rows, scale=1.0):
    """Scale each row to unit length."""
    result = []
    for row in rows:
        total = sum(value * value for value in row) ** 0.5 or 1.0
        result.append([scale * value / total for value in row])
    return result


class Config{n}:
    def __init__(self, name, layers=2, width=64):
        self.name = name
        self.layers = layers
        self.width = width

    def describe(self):
        return f"{{self.name}}: {{self.layers}} x {{self.width}}"
'''
HEADER = (
    "import numpy as np\nimport torch\nfrom sklearn.model_selection import GridSearchCV\n"
    "from sklearn.svm import SVC\nfrom torch import nn\n\nmodel = nn.Linear(4, 2)\n"
)


def make_source(lines: int, dense: bool) -> str:
    """About `lines` lines: findings in one block of four (every block with `dense`)."""
    blocks = []
    n = 0
    while (HEADER + "".join(blocks)).count("\n") < lines:
        blocks.append((BLOCK if dense or n % 4 == 0 else PLAIN).format(n=n))
        n += 1
    return HEADER + "".join(blocks)


async def measure(lines: int, changes: int, dense: bool) -> None:
    text = make_source(lines, dense)
    folder = Path(tempfile.mkdtemp(prefix="green-lint-lsp-"))
    path = folder / "model.py"
    uri = path.as_uri()
    client = LanguageClient("green-lint-bench", "1")
    published: asyncio.Queue = asyncio.Queue()

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def _diagnostics(params: types.PublishDiagnosticsParams) -> None:
        published.put_nowait((time.perf_counter(), len(params.diagnostics)))

    await client.start_io(sys.executable, "-m", "green_lint", "server")
    await client.initialize_async(
        types.InitializeParams(capabilities=types.ClientCapabilities(), root_uri=folder.as_uri())
    )
    client.initialized(types.InitializedParams())
    start = time.perf_counter()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)
        )
    )
    arrived, count = await published.get()
    print(
        f"file: {text.count(chr(10))} lines, {count} findings; first lint {1000 * (arrived - start):.0f} ms"
    )
    latencies = []
    line = HEADER.count("\n") - 1  # `model = nn.Linear(4, 2)`, edited in place
    old_line = "model = nn.Linear(4, 2)"
    for version in range(2, changes + 2):
        new_line = f"model = nn.Linear(4, {version + 1})"
        sent = time.perf_counter()
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(
                            start=types.Position(line=line, character=0),
                            end=types.Position(line=line, character=len(old_line)),
                        ),
                        text=new_line,
                    )
                ],
            )
        )
        arrived, found = await published.get()
        if found != count:
            sys.exit(f"the edit changed the findings ({count} -> {found}): the benchmark is broken")
        latencies.append(arrived - sent)
        old_line = new_line
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    median, worst = statistics.median(latencies), max(latencies)
    print(
        f"change -> diagnostics over {changes} edits: median {1000 * median:.0f} ms, worst {1000 * worst:.0f} ms"
    )
    print(
        f"re-lint (less the {1000 * DEBOUNCE:.0f} ms debounce): median {1000 * (median - DEBOUNCE):.0f} ms, "
        f"worst {1000 * (worst - DEBOUNCE):.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--dense", action="store_true", help="findings in every block, not one in four")
    args = parser.parse_args()
    asyncio.run(measure(args.lines, args.changes, args.dense))


if __name__ == "__main__":
    main()
