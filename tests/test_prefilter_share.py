"""bench/prefilter_share.py counts what the prefilter lets through (issue #16): the files
and characters libcst parses, and those of the files that then hold a finding."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "prefilter_share.py"

# A model loaded again on every request: flagged.
FLAGGED = (
    "import torch\n\n"
    "def serve(requests):\n"
    "    for request in requests:\n"
    "        model = torch.load('model.pt')\n"
    "        print(model(request))\n"
)
# Hits GL302's trigger (a loader of torch), but loads once: parsed, nothing found.
PARSED_FOR_NOTHING = "import torch\n\nmodel = torch.load('model.pt')\nprint(model)\n"
NEVER_PARSED = "print('hello')\n"


def _measure(tree: Path, monkeypatch):
    spec = importlib.util.spec_from_file_location("prefilter_share", BENCH)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module.measure(tree)


def test_counts_files_and_characters_parsed_and_with_findings(tmp_path, monkeypatch):
    for name, text in (("a.py", FLAGGED), ("b.py", PARSED_FOR_NOTHING), ("c.py", NEVER_PARSED)):
        (tmp_path / name).write_text(text)
    share = _measure(tmp_path, monkeypatch)
    assert (share.files, share.parsed, share.with_findings) == (3, 2, 1)
    assert share.characters == len(FLAGGED) + len(PARSED_FOR_NOTHING) + len(NEVER_PARSED)
    assert share.parsed_characters == len(FLAGGED) + len(PARSED_FOR_NOTHING)
    assert share.finding_characters == len(FLAGGED)
    assert share.fruitless["GL302"] == 1
    assert share.parse_seconds > 0 and share.walk_seconds > 0
    assert share.parse_seconds + share.walk_seconds < share.seconds
