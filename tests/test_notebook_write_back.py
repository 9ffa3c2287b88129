"""Fixing a notebook rewrites the changed cells' source and no other byte (#13, section 6)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from green_lint.engine import LintSettings
from green_lint.fix import fix_source
from green_lint.notebook import load_notebook
from green_lint.registry import select_rules

GRID_CELL = (
    '    "from sklearn.model_selection import GridSearchCV\\n",\n'
    '    "search = GridSearchCV(None, {\\"C\\": [1, 2, 3], \\"gamma\\": [1, 2, 3]})\\n"\n'
)

# Escapes, number spellings, key order and spacing json.dumps would not reproduce.
ODD_NOTEBOOK = (
    "{\n"
    '  "nbformat_minor": 4, "nbformat": 4,\n'
    '  "metadata": {"kernelspec": {"name": "python3", "display_name": "Py\\u00e9thon \\/ 3"},\n'
    '               "ratio": 1.0E0, "big": 1e10, "path": "a\\/b"},\n'
    '  "cells": [\n'
    '   {"cell_type": "markdown", "metadata": {}, "source": ["Caf\\u00e9 \\/ notes"]},\n'
    '   {"cell_type": "code", "execution_count": 1.0e0, "metadata": {"tags": []},\n'
    '    "outputs": [{"output_type": "stream", "name": "stdout", "text": ["x \\/ y\\n"]}],\n'
    '    "source": [\n' + GRID_CELL + "    ]\n"
    "   },\n"
    '   {"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [],\n'
    '    "source": "print(\\"untouched \\/ cell\\")"}\n'
    "  ]\n"
    "}"
)


def _fix(tmp_path: Path, data: bytes, rule: str = "GL103") -> bytes:
    path = tmp_path / "nb.ipynb"
    path.write_bytes(data)
    source = load_notebook(path, "nb.ipynb", data)
    outcome = fix_source(source, LintSettings(rules=select_rules([rule])), unsafe=True)
    return source.with_text(outcome.text).render(outcome.text)


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_only_the_fixed_cells_source_changes_byte_for_byte(tmp_path, newline):
    original = ODD_NOTEBOOK.replace("\n", newline)
    fixed = _fix(tmp_path, original.encode()).decode()
    head, _, rest = original.partition('"source": [' + newline)
    _, _, tail = rest.partition("    ]" + newline + "   },")
    assert fixed.startswith(head + '"source": [' + newline)
    assert fixed.endswith("    ]" + newline + "   }," + tail)
    cell = json.loads(fixed)["cells"][1]["source"]
    assert any("HalvingGridSearchCV(" in line for line in cell)
    assert all(line.endswith("\n") for line in cell[:-1])


def test_a_string_source_is_replaced_by_a_string(tmp_path):
    nb = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "outputs": [],
                "execution_count": None,
                "source": 'from sklearn.model_selection import GridSearchCV\nGridSearchCV(None, {"C": [1, 2, 3], "g": [1, 2, 3]})',
            }
        ],
    }
    data = json.dumps(nb, separators=(",", ":")).encode()
    fixed = _fix(tmp_path, data)
    assert isinstance(json.loads(fixed)["cells"][0]["source"], str)
    assert fixed.startswith(data[: data.index(b'"source":') + len(b'"source":')])


def test_lines_that_look_like_green_lints_markers_survive_a_fix(tmp_path):
    lookalikes = [
        "# %% green-lint cell 2\n",
        "x = 1  #!green-lint-magic!not a magic\n",
    ]
    nb = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "outputs": [],
                "execution_count": None,
                "source": lookalikes,
            },
            {
                "cell_type": "code",
                "metadata": {},
                "outputs": [],
                "execution_count": None,
                "source": [
                    "%matplotlib inline\n",
                    "from sklearn.model_selection import GridSearchCV\n",
                    'GridSearchCV(None, {"C": [1, 2, 3], "g": [1, 2, 3]})',
                ],
            },
        ],
    }
    fixed = json.loads(_fix(tmp_path, json.dumps(nb, indent=1).encode()))
    assert fixed["cells"][0]["source"] == lookalikes
    assert fixed["cells"][1]["source"][0] == "%matplotlib inline\n"
    assert any("HalvingGridSearchCV(" in line for line in fixed["cells"][1]["source"])


def test_an_nbformat_3_notebook_is_reported_as_not_checked(run_cli, tmp_path):
    old = {
        "nbformat": 3,
        "nbformat_minor": 0,
        "metadata": {},
        "worksheets": [{"cells": [{"cell_type": "code", "input": ["import numpy\n"], "outputs": []}]}],
    }
    (tmp_path / "old.ipynb").write_text(json.dumps(old))
    result = run_cli("--no-cache", "--output-format", "json", "old.ipynb", cwd=tmp_path)
    [finding] = json.loads(result.stdout)
    assert finding["code"] == "GL003"
    assert "nbformat 3" in finding["message"]
