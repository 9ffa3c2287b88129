import json
from pathlib import Path

import libcst as cst
import pytest

from green_lint.findings import Position
from green_lint.notebook import NotebookSource, load_notebook
from green_lint.source import SourceError, load_source

# Helpers: nbformat-4 notebooks as dicts, written the way Jupyter writes them.


def lines(text: str) -> list[str]:
    """A cell source as nbformat stores it: a list of lines with their ends."""
    return text.splitlines(keepends=True)


def code(source: str | list[str], outputs: list | None = None, count: int | None = None) -> dict:
    return {
        "cell_type": "code",
        "execution_count": count,
        "metadata": {},
        "outputs": outputs or [],
        "source": lines(source) if isinstance(source, str) else source,
    }


def markdown(source: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": lines(source)}


def notebook(*cells: dict) -> dict:
    return {
        "cells": list(cells),
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def to_bytes(nb: dict, indent: int | str = 1) -> bytes:
    return (json.dumps(nb, indent=indent, ensure_ascii=False) + "\n").encode("utf-8")


def load(tmp_path: Path, nb: dict | bytes) -> NotebookSource:
    data = nb if isinstance(nb, bytes) else to_bytes(nb)
    path = tmp_path / "analysis.ipynb"
    path.write_bytes(data)
    return load_notebook(path, "analysis.ipynb", data)


def row_of(text: str, line: str) -> int:
    return text.splitlines().index(line) + 1


def replace_line(text: str, old: str, new: str) -> str:
    return "".join(new + "\n" if line == old + "\n" else line for line in text.splitlines(keepends=True))


# Joining cells and mapping positions


def test_code_cells_form_one_text_in_notebook_order(tmp_path):
    source = load(
        tmp_path,
        notebook(markdown("# Title"), code("import math"), markdown("text"), code("y = math.sqrt(4)")),
    )

    assert source.kind == "notebook"
    namespace: dict = {}
    exec(source.text, namespace)
    assert namespace["y"] == 2.0


def test_positions_map_to_cells_across_markdown_skipped_cells_and_magics(tmp_path):
    source = load(
        tmp_path,
        notebook(
            markdown("# Data"),  # cell 1
            code("a = 1\nb = 2"),  # cell 2
            code("%%time\nslow()"),  # cell 3: skipped
            markdown("more"),  # cell 4
            code(""),  # cell 5: empty
            code("%matplotlib inline\n!pip install x\nc = a + b"),  # cell 6
        ),
    )

    assert "slow()" not in source.text
    assert source.to_cell(Position(2, 1)) == (2, Position(2, 1))
    assert source.to_cell(Position(row_of(source.text, "c = a + b"), 5)) == (6, Position(3, 5))
    assert [cell.number for cell in source.cells] == [2, 5, 6]


def test_a_boundary_row_is_the_row_after_the_previous_cell(tmp_path):
    source = load(tmp_path, notebook(code("x = 1"), code("y = 2")))

    # A range ending with cell 1's last newline ends at the start of the boundary row.
    assert source.to_cell(Position(2, 1)) == (1, Position(2, 1))
    assert source.to_cell(Position(3, 1)) == (2, Position(1, 1))


def test_load_source_reads_ipynb_files_as_notebooks(tmp_path):
    data = to_bytes(notebook(code("import torch")))
    path = tmp_path / "train.ipynb"

    source = load_source(path, "train.ipynb", data)

    assert isinstance(source, NotebookSource)
    assert source.text == "import torch\n"


@pytest.mark.parametrize(
    "nb",
    [notebook(), notebook(markdown("# only prose")), notebook(code("%%bash\nls"))],
    ids=["empty", "markdown-only", "cell-magic-only"],
)
def test_a_notebook_without_python_code_has_an_empty_text(tmp_path, nb):
    source = load(tmp_path, nb)

    assert source.text == ""
    assert source.to_cell(Position(1, 1)) == (None, Position(1, 1))
    assert source.render("") == to_bytes(nb)


# Magics


@pytest.mark.parametrize(
    "cell",
    [
        "%matplotlib inline\nimport numpy as np",
        "!pip install x",
        "x = !ls\nprint(x)",
        "files, more = %sx ls\nprint(files)",
        "for i in range(3):\n    !echo {i}",
        "!pip install \\\n    torch \\\n    numpy\nimport torch",
        "np.zeros?\n??np.ones\n%time  x = 1",
    ],
)
def test_magics_are_neutralised_for_parsing_and_round_trip(tmp_path, cell):
    data = to_bytes(notebook(code("%%time\nrun()"), code(cell), code("done = True")))
    source = load(tmp_path, data)

    cst.parse_module(source.text)
    assert source.render(source.text) == data
    # A change in the same cell keeps its magics as they were.
    changed = json.loads(source.render(source.text.replace("done = True", "done = False")))
    assert changed["cells"][1]["source"] == lines(cell)


def test_lines_inside_strings_and_brackets_are_not_magics(tmp_path):
    cell = 's = """\n%d items\nwhy?\n!\n"""\nx = (7\n     % 2)\nnote = "is it?"  # really?'
    source = load(tmp_path, notebook(code(cell)))

    assert source.text == cell + "\n"


def test_a_changed_magic_cell_is_written_with_its_magics(tmp_path):
    source = load(tmp_path, notebook(code("%matplotlib inline\nfiles = !ls\nn = len(files)")))

    rendered = json.loads(source.render(source.text.replace("n = len(files)", "n = 0")))

    assert rendered["cells"][0]["source"] == ["%matplotlib inline\n", "files = !ls\n", "n = 0"]


# Writing back


def test_render_changes_only_the_edited_cells_and_keeps_the_rest(tmp_path):
    outputs = [{"name": "stdout", "output_type": "stream", "text": ["4\n"]}]
    nb = notebook(
        markdown("# Training"),
        code("x = 1\ny = 2", count=1),
        code("print(x + y)", outputs=outputs, count=2),
        code("model.fit(x)\nmodel.save()", count=3),
    )
    nb["cells"][3]["metadata"] = {"tags": ["train"]}
    source = load(tmp_path, nb)

    new_text = "import torch\n" + replace_line(source.text, "model.fit(x)", "model.fit(x, epochs=1)")
    rendered = source.render(new_text)

    expected = json.loads(json.dumps(nb))
    expected["cells"][1]["source"] = ["import torch\n", "x = 1\n", "y = 2"]
    expected["cells"][3]["source"] = ["model.fit(x, epochs=1)\n", "model.save()"]
    assert rendered == to_bytes(expected)


def test_a_line_inserted_at_the_top_goes_into_the_first_code_cell(tmp_path):
    source = load(tmp_path, notebook(markdown("# Notes"), code("a = 1"), code("b = 2")))

    rendered = json.loads(source.render("import os\n" + source.text))

    assert [cell["source"] for cell in rendered["cells"]] == [
        ["# Notes"],
        ["import os\n", "a = 1"],
        ["b = 2"],
    ]


def test_removed_lines_and_emptied_cells_are_written_back(tmp_path):
    source = load(tmp_path, notebook(code("import os\nimport sys"), code("x = 1\n")))

    rendered = json.loads(source.render(source.text.replace("import os\n", "").replace("x = 1\n", "")))

    assert [cell["source"] for cell in rendered["cells"]] == [["import sys"], []]


def test_string_and_list_sources_keep_their_representation_and_trailing_newline(tmp_path):
    nb = notebook(code("a = 1\n"), code("b = 2"), code("c = 3"))
    nb["cells"][1]["source"] = "b = 2"
    nb["cells"][2]["source"] = "c = 3\n"
    source = load(tmp_path, nb)

    new_text = source.text.replace("a = 1", "a = 10").replace("b = 2", "b = 20").replace("c = 3", "c = 30")
    rendered = json.loads(source.render(new_text))

    assert [cell["source"] for cell in rendered["cells"]] == [["a = 10\n"], "b = 20", "c = 30\n"]


@pytest.mark.parametrize("indent", [1, 2, "\t"])
def test_render_keeps_the_json_indentation(tmp_path, indent):
    nb = notebook(code("x = 1"), code("print('héllo')"))
    source = load(tmp_path, to_bytes(nb, indent))

    rendered = source.render(source.text.replace("x = 1", "x = 2"))

    nb["cells"][0]["source"] = ["x = 2"]
    assert rendered == to_bytes(nb, indent)


def test_render_keeps_crlf_line_ends_and_missing_final_newline(tmp_path):
    nb = notebook(code("x = 1"))
    data = json.dumps(nb, indent=1).replace("\n", "\r\n").encode()
    source = load(tmp_path, data)

    rendered = source.render("x = 2\n")

    nb["cells"][0]["source"] = ["x = 2"]
    assert rendered == json.dumps(nb, indent=1).replace("\n", "\r\n").encode()


def test_unchanged_text_renders_the_original_bytes(tmp_path):
    data = b'{"cells": [{"cell_type": "code", "source": "x = 1", "outputs": [], "metadata": {}}]}'
    source = load(tmp_path, data)

    assert source.render(source.text) == data
    assert source.render("x = 1") == data  # differs only by the newline loading added


def test_render_refuses_a_text_whose_cell_boundary_was_removed(tmp_path):
    source = load(tmp_path, notebook(code("a = 1"), code("b = 2")))

    with pytest.raises(SourceError, match="boundary of notebook cell 2"):
        source.render("a = 1\nb = 2\n")


# Errors


def test_broken_json_is_a_source_error_at_the_json_position(tmp_path):
    data = b'{\n "cells": [\n  {"cell_type": "code" "source": []}\n ]\n}\n'

    with pytest.raises(SourceError) as error:
        load(tmp_path, data)

    assert error.value.message == "not a valid notebook: Expecting ',' delimiter (line 3, column 24)"
    assert error.value.position == Position(3, 24)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"metadata": {}}', "no `cells` list"),
        (b"[1, 2]", "no `cells` list"),
        (b'{"cells": [{"cell_type": "code"}]}', "cell 1 has no `source`"),
        (b'{"cells": [{"cell_type": "code", "source": 3}]}', "`source` of cell 1 is not text"),
    ],
)
def test_json_that_is_not_a_notebook_is_a_source_error(tmp_path, data, message):
    with pytest.raises(SourceError, match=message):
        load(tmp_path, data)


def test_undecodable_bytes_are_a_source_error_with_position(tmp_path):
    with pytest.raises(SourceError, match="byte 0xff is not valid UTF-8") as error:
        load(tmp_path, b'{\n "cells": ["\xff"]}')

    assert error.value.position == Position(2, 13)
