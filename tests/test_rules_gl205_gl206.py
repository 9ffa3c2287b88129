"""GL205 array-grow-in-loop and GL206 slow-tree-method: the cases the fixtures do not pin
down (GL206's fix, since its fixtures are lint-only without xgboost)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from green_lint.engine import LintSettings, lint_source
from green_lint.fix import fix_source
from green_lint.registry import select_rules
from green_lint.source import load_source


def _source(code: str):
    text = textwrap.dedent(code).lstrip("\n")
    return load_source(Path("t.py"), "t.py", text.encode("utf-8"))


def rows(code: str, rule: str) -> list[int]:
    return [f.location.row for f in lint_source(_source(code), LintSettings(rules=select_rules([rule])))]


def fixed(code: str, rule: str) -> str:
    return fix_source(_source(code), LintSettings(rules=select_rules([rule])), unsafe=True).text


def dedent(code: str) -> str:
    return textwrap.dedent(code).lstrip("\n")


# -- GL205 ----------------------------------------------------------------------------------
def test_gl205_fix_collects_and_joins_once():
    code = """
        import numpy as np

        def f(xs):
            acc = np.empty(0)
            for x in xs:
                acc = np.append(acc, x)
            return acc
    """
    assert rows(code, "GL205") == [6]
    assert fixed(code, "GL205") == dedent(
        """
        import numpy as np

        def f(xs):
            acc_parts = [np.empty(0)]
            for x in xs:
                acc_parts.append(x)
            acc = np.concatenate([np.ravel(part) for part in acc_parts])
            return acc
        """
    )


def test_gl205_parts_name_avoids_names_in_use():
    code = """
        import torch

        acc_parts = None
        acc = torch.empty(0)
        for x in range(100):
            acc = torch.cat([acc, torch.tensor([x])])
    """
    assert "acc_parts_2 = [torch.empty(0)]" in fixed(code, "GL205")


def test_gl205_no_fix_when_the_piece_is_changed_in_place():
    code = """
        import numpy as np

        buf = np.zeros(3)
        acc = np.empty((0, 3))
        for x in range(100):
            buf[:] = x
            acc = np.vstack([acc, buf])
    """
    assert rows(code, "GL205") == [7]
    assert fixed(code, "GL205") == dedent(code)


def test_gl205_no_fix_when_the_accumulator_is_read_or_not_started_just_before():
    read = """
        import numpy as np

        acc = np.empty(0)
        for x in range(100):
            acc = np.append(acc, x)
            print(acc.shape)
    """
    gap = """
        import numpy as np

        acc = np.empty(0)
        n = 5
        for x in range(100):
            acc = np.append(acc, x)
    """
    in_try = """
        import numpy as np

        acc = np.empty(0)
        for x in range(100):
            try:
                acc = np.append(acc, x)
            except ValueError:
                pass
    """
    for code in (read, gap, in_try):
        assert rows(code, "GL205"), code
        assert fixed(code, "GL205") == dedent(code)


def test_gl205_not_flagged_shapes():
    consumed = """
        import torch

        def generate(model, tokens, steps):
            for _ in range(steps):
                tokens = torch.cat([tokens, model(tokens)[:, -1:]], dim=1)
            return tokens
    """
    nested_def = """
        import numpy as np

        acc = np.empty(0)
        for x in range(100):
            def add(acc=acc):
                return np.append(acc, x)
    """
    shadowed = """
        import numpy as np

        def f(xs, np):
            acc = []
            for x in xs:
                acc = np.append(acc, x)
            return acc
    """
    for code in (consumed, nested_def, shadowed):
        assert rows(code, "GL205") == [], code


# -- GL206 ----------------------------------------------------------------------------------
def test_gl206_fix_turns_exact_into_hist_keeping_quotes():
    code = """
        import xgboost as xgb

        model = xgb.XGBClassifier(tree_method='exact')
        params = {"tree_method": "exact"}
        booster = xgb.train(params, None)
    """
    assert rows(code, "GL206") == [3, 4]
    assert fixed(code, "GL206") == dedent(
        """
        import xgboost as xgb

        model = xgb.XGBClassifier(tree_method='hist')
        params = {"tree_method": "hist"}
        booster = xgb.train(params, None)
        """
    )


def test_gl206_a_constant_gets_advice_only_and_is_reported_once():
    code = """
        from xgboost import XGBRegressor

        METHOD = "exact"
        first = XGBRegressor(tree_method=METHOD)
    """
    assert rows(code, "GL206") == [4]
    assert fixed(code, "GL206") == dedent(code)


def test_gl206_the_fixture_fixes_every_literal():
    path = Path(__file__).resolve().parent.parent / "fixtures" / "GL206" / "exact_static.py"
    source = load_source(path, path.name, path.read_bytes())
    text = fix_source(source, LintSettings(rules=select_rules(["GL206"])), unsafe=True).text
    assert '"exact"' not in text.replace('METHOD = "exact"', "")
