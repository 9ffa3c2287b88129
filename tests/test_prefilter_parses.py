"""A file that cannot hold a finding of any selected rule is not parsed with libcst (issue
#16): the rules' prefilters state necessary conditions, checked on the text and on
CPython's tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from green_lint import engine
from green_lint.engine import LintSettings, lint_source
from green_lint.registry import select_rules
from green_lint.source import load_source


@pytest.fixture
def parses(monkeypatch) -> list[str]:
    seen: list[str] = []
    real = engine.parse_trusted
    monkeypatch.setattr(engine, "parse_trusted", lambda text: seen.append(text) or real(text))
    return seen


def _lint(text: str, code: str):
    source = load_source(Path("example.py"), "example.py", text.encode())
    return lint_source(source, LintSettings(rules=select_rules([code])))


READ_ONCE = (
    "import json\n\nfor step in range(3):\n    print(step)\n\n"
    "with open('settings.json') as handle:\n    settings = json.load(handle)\n"
)


def test_gl204_parses_only_files_that_read_inside_a_loop(parses):
    assert _lint(READ_ONCE, "GL204") == [] and parses == []
    in_loop = "import json\n\nfor step in range(3):\n    with open('settings.json') as handle:\n        s = json.load(handle)\n"
    assert [finding.code for finding in _lint(in_loop, "GL204")] == ["GL204"]
    assert len(parses) == 1


def test_gl204_sees_a_reader_imported_under_another_name(parses):
    aliased = "from pandas import read_csv as rc\n\nframes = [rc('data.csv') for _ in range(3)]\n"
    assert [finding.code for finding in _lint(aliased, "GL204")] == ["GL204"]


def test_gl202_parses_only_files_that_assign_a_growth_inside_a_loop(parses):
    built_once = (
        "import pandas as pd\n\nparts = [pd.DataFrame({'a': [i]}) for i in range(3)]\n"
        "frame = pd.concat(parts)\nrows = []\nfor i in range(3):\n    rows.append(i)\n"
    )
    assert _lint(built_once, "GL202") == [] and parses == []
    grown = "import pandas as pd\n\nframe = pd.DataFrame()\nfor i in range(3):\n    frame = pd.concat([frame, pd.DataFrame({'a': [i]})])\n"
    assert [finding.code for finding in _lint(grown, "GL202")] == ["GL202"]
