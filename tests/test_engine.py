"""The engine's own pieces: import resolution, positions, the walk, text edits, fixes."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from green_lint import walk as walk_module
from green_lint.context import RuleContext
from green_lint.engine import LintSettings, lint_source, text_edits
from green_lint.fix import apply_edits
from green_lint.registry import select_rules
from green_lint.semantic import SemanticModel
from green_lint.source import load_source
from green_lint.statement_lines import first_lines
from green_lint.walk import walk

ROOT = Path(__file__).resolve().parent.parent
ENGINE_SOURCE = ROOT / "green_lint" / "engine.py"


def _call_target(code: str) -> tuple[SemanticModel, cst.BaseExpression]:
    module = cst.parse_module(textwrap.dedent(code))
    last = module.body[-1].body[0]
    return SemanticModel(module), last.value.func


@pytest.mark.parametrize(
    "code",
    [
        "from sklearn.model_selection import GridSearchCV\nGridSearchCV()",
        "from sklearn.model_selection import GridSearchCV as G\nG()",
        "from sklearn import model_selection as ms\nms.GridSearchCV()",
        "import sklearn.model_selection\nsklearn.model_selection.GridSearchCV()",
        "import sklearn.model_selection as skms\nskms.GridSearchCV()",
        "from sklearn.model_selection import *\nGridSearchCV()",
    ],
)
def test_import_spellings_resolve_to_the_qualified_name(code):
    table, func = _call_target(code)
    assert "sklearn.model_selection.GridSearchCV" in table.candidates(func)


@pytest.mark.parametrize(
    "code",
    [
        "class GridSearchCV:\n    pass\nGridSearchCV()",
        "from sklearn.model_selection import GridSearchCV\nclass GridSearchCV:\n    pass\nGridSearchCV()",
        "from .model_selection import GridSearchCV\nGridSearchCV()",
        "from mylib import GridSearchCV\nGridSearchCV()",
        "GridSearchCV()",
        # An import inside a function binds nothing at module level (a NameError there).
        "def f():\n    from sklearn.model_selection import GridSearchCV\nGridSearchCV()",
    ],
)
def test_look_alikes_do_not_resolve_to_sklearn(code):
    table, func = _call_target(code)
    assert "sklearn.model_selection.GridSearchCV" not in table.candidates(func)


def test_relative_import_keeps_its_dots():
    table, func = _call_target("from ..pkg import thing\nthing()")
    assert table.qualified_name(func) == "..pkg.thing"


def test_builtins_resolve_when_not_shadowed():
    table, func = _call_target("open('x')")
    assert table.qualified_name(func) == "builtins.open"
    table, func = _call_target("def open(p):\n    pass\nopen('x')")
    assert table.qualified_name(func) is None


def test_positions_per_statement_equal_whole_file_positions():
    text = ENGINE_SOURCE.read_text(encoding="utf-8")
    module = cst.parse_module(text)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    context = RuleContext(module, "engine.py", text)
    nodes = list(walk(module))[1:]
    sample = nodes[:: max(1, len(nodes) // 400)]
    for node in sample:
        assert context.position(node) == expected[node], type(node).__name__


def test_walk_visits_code_not_trivia_in_source_order():
    module = cst.parse_module("@deco\ndef f(a, b=1):\n    return a + b\n")
    kinds = [type(node).__name__ for node in walk(module)]
    assert kinds[:4] == ["Module", "FunctionDef", "Decorator", "Name"]
    assert "SimpleWhitespace" not in kinds and "Add" not in kinds and "Comma" not in kinds
    assert "BinaryOperation" in kinds


def _every_code_child(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The walk's children by brute force: every field, every node that is not trivia."""
    found = []
    for name in walk_module._fields_of(type(node)):
        value = getattr(node, name)
        for item in value if isinstance(value, tuple | list) else (value,):
            if isinstance(item, cst.CSTNode) and not isinstance(item, walk_module._TRIVIA_BASES):
                found.append(item)
    return found


RARE_SYNTAX = """\
import a.b as c
from . import (d, e as f)
global_value: int = 1
async def g(x, /, y=2, *args, z: "int" = 3, **kw) -> None:
    global global_value
    async with h() as (i, j), k():
        await i
    async for m in n:
        yield m
    del x[1:2:3], y
    assert (w := 4) > 3, f"{w!r:>{y}} {{}}"
    lambda p, *q, r=1, **s: p if q else r
    try:
        raise ValueError from None
    except* (TypeError, ValueError) as error:
        pass
    else:
        pass
    finally:
        pass
    while False:
        continue
    else:
        break
    match command:
        case [1, *rest] | {"k": v, **others} if v:
            pass
        case Point(x=0, y=_) as point:
            pass
        case str() | None:
            pass
    x @= {t for t in u if t} | {t: t for t in u} | [*u] | (yield from u)
    print(*args, **kw, sep=~-+1 ** 2 // 3 >> 4 & 5 ^ 6 | (not 7 is not 8 in 9))
    constants = (b"bytes" b"implicit", rb"raw", 1j, 1.5, ..., x[1, ::2])
class K[T: int, *Ts, **P](Base, metaclass=M):
    type Alias[U] = list[U]
    def method(self): return super().method()
"""


def test_walk_reads_only_fields_that_can_hold_code_and_misses_no_node():
    corpus = [*sorted((ROOT / "green_lint").rglob("*.py")), *sorted((ROOT / "fixtures").rglob("*.py"))]
    modules = [cst.parse_module(path.read_text(encoding="utf-8")) for path in corpus]
    modules.append(cst.parse_module(RARE_SYNTAX))
    seen_types = set()
    for path, module in zip([*corpus, "RARE_SYNTAX"], modules, strict=True):
        for node in walk(module):
            seen_types.add(type(node))
            children = list(walk_module.children(node))
            expected = _every_code_child(node)
            assert [id(child) for child in children] == [id(child) for child in expected], (path, node)
    assert len(seen_types) >= 100


def test_deeply_nested_expression_does_not_exhaust_the_stack(tmp_path):
    path = tmp_path / "deep.py"
    path.write_text(
        "from sklearn.model_selection import GridSearchCV\nx = " + " + ".join(["1"] * 1200) + "\n"
    )
    source = load_source(path, "deep.py", path.read_bytes())
    assert lint_source(source, LintSettings(select_rules(["GL103"]))) == []


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("a = 1\nb = 2\n", "a = 1\nb = 3\n"),
        ("a = 1\nb = 2\n", "import x\na = 1\nb = 2\n"),
        ("a = 1\nb = 2\nc = 3\n", "a = 1\nc = 3\n"),
        ("x = f(a)\n", "x = g(a, b)\n"),
        ("", "import x\n"),
    ],
)
def test_text_edits_turn_old_into_new(old, new):
    assert apply_edits(old, text_edits(old, new)) == new


def test_identical_edits_from_two_fixes_apply_once():
    edits = text_edits("a\n", "import x\na\n")
    assert apply_edits("a\n", edits + edits) == "import x\na\n"


LINE_LAYOUTS = [
    "# header comment\n\nimport os\n\n\n# about f\n@deco  # why\n\n@other(\n    1,\n)\ndef f():\n    pass\n    # dedented comment\n# footer comment\n",
    "a = 1; b = 2\nif a:\n    b = 3\nelse:\n    b = 4\n\n\nc = '''\nmulti\nline\n'''\n",
    "x = 1\r\ny = [\r\n    2,\r\n]\r\n# end\r\n",
    "value = 1 + \\\n    2\nclass K:\n\n    def m(self):\n        return 1\n\n\n\nprint(value)\n",
    "async def f():\n    async with g():\n        pass\n@decorator\nclass C: pass\n",
]


@pytest.mark.parametrize("text", [*LINE_LAYOUTS, RARE_SYNTAX], ids=range(len(LINE_LAYOUTS) + 1))
def test_statements_start_where_libcst_says_they_do(text):
    module = cst.parse_module(text)
    context = RuleContext(module, "layout.py", text)
    assert context.splits_by_statement()
    line = 1 + "".join(module.code_for_node(empty) for empty in module.header).count("\n")
    for index, statement in enumerate(module.body):
        code = module.code_for_node(statement)
        assert context.statement_first_line(index) == line
        assert context.statement_text(index) == code
        line += code.count("\n")


def test_python_and_libcst_statements_line_up_across_the_corpus():
    corpus = [*sorted((ROOT / "green_lint").rglob("*.py")), *sorted((ROOT / "fixtures").rglob("*.py"))]
    for path in corpus:
        text = path.read_text(encoding="utf-8")
        module = cst.parse_module(text)
        starts = first_lines(module, text)
        assert starts is not None, path
        line = 1 + len(module.header)
        for start, statement in zip(starts, module.body, strict=True):
            assert start == line, path
            line += module.code_for_node(statement).count("\n")


def test_the_collector_is_running_again_after_each_file(tmp_path):
    import gc

    settings = LintSettings(select_rules(["GL103"]))
    for name, text in (
        ("ok.py", "from sklearn.model_selection import GridSearchCV\n"),
        ("bad.py", "from sklearn.model_selection import GridSearchCV\nx = (\n"),
    ):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        lint_source(load_source(path, name, path.read_bytes()), settings)
        assert gc.isenabled()
    gc.disable()
    try:
        lint_source(load_source(path, "bad.py", path.read_bytes()), settings)
        assert not gc.isenabled()  # a caller that paused it keeps it paused
    finally:
        gc.enable()


def test_declared_analyses_are_built_once_per_file_and_shared(monkeypatch):
    from green_lint import engine
    from green_lint.rule import Rule

    built: list[str] = []

    class Counter:
        def __init__(self, context: RuleContext) -> None:
            built.append(context.path)
            self.calls = sum(1 for node in walk_module.walk(context.module) if isinstance(node, cst.Call))

    class Undeclared(Counter):
        pass

    class First(Rule):
        code, name, summary, needs = "GL901", "first", "test", (Counter,)

        def leave_Module(self, node: cst.Module) -> None:
            self.report(node, f"{self.context.analysis(Counter).calls} calls")

    class Second(First):
        code, name = "GL902", "second"

    class Sloppy(First):
        code, name, needs = "GL903", "sloppy", ()

        def leave_Module(self, node: cst.Module) -> None:
            self.context.analysis(Undeclared)

    source = load_source(Path("a.py"), "a.py", b"print(len([1]))\nprint(2)\n")
    findings = engine.lint_source(source, LintSettings(rules=[First, Second]))
    assert [finding.message for finding in findings] == ["3 calls", "3 calls"]
    assert built == ["a.py"]
    with pytest.raises(LookupError, match="Undeclared is not declared"):
        engine.lint_source(source, LintSettings(rules=[Sloppy]))


def test_a_fix_adds_the_import_it_needs_when_only_a_function_imports_it():
    """`add_import` asks the module scope: an import inside another function does not make
    the name available where the fix uses it."""
    from green_lint.fix import fix_source

    code = (
        "from sklearn.model_selection import GridSearchCV\n"
        "def helper():\n"
        "    from sklearn.experimental import enable_halving_search_cv  # noqa: F401\n"
        'search = GridSearchCV(SVC(), {"C": [1, 10]}, cv=3)\n'
    )
    source = load_source(Path("a.py"), "a.py", code.encode())
    fixed = fix_source(source, LintSettings(rules=select_rules(["GL103"])), unsafe=True).text
    module_level = [line for line in fixed.splitlines() if not line.startswith(" ")]
    assert "from sklearn.experimental import enable_halving_search_cv  # noqa: F401" in module_level
    assert "search = HalvingGridSearchCV(" in fixed


def test_a_rule_whose_tree_check_declines_the_file_is_not_run_and_nothing_is_parsed(monkeypatch):
    from green_lint import engine
    from green_lint.rule import Rule

    asked: list[str] = []

    class Picky(Rule):
        code, name, summary, triggers = "GL904", "picky", "test", ("print",)

        @classmethod
        def may_flag(cls, tree, text: str, project_function=None) -> bool:
            asked.append(type(tree).__name__)
            return any(
                isinstance(node, ast.Call) and getattr(node.func, "id", "") == "flag"
                for node in ast.walk(tree)
            )

        def visit_Call(self, node: cst.Call) -> None:
            self.report(node, "call")

    parsed: list[str] = []
    real_parse = engine.parse_trusted
    monkeypatch.setattr(engine, "parse_trusted", lambda text: parsed.append(text) or real_parse(text))
    declined = load_source(Path("a.py"), "a.py", b"print(1)\n")
    assert engine.lint_source(declined, LintSettings(rules=[Picky])) == []
    assert asked == ["Module"] and parsed == []
    accepted = load_source(Path("b.py"), "b.py", b"print(flag(1))\n")
    assert len(engine.lint_source(accepted, LintSettings(rules=[Picky]))) == 2
    assert len(parsed) == 1


def test_a_linted_file_leaves_no_reference_cycle_that_keeps_its_tree_alive():
    """Analyses and reports refer back to the context: left in place, each file's tree
    would wait for the cyclic collector, which then scans it again during the next files."""
    import gc

    from green_lint.context import RuleContext
    from green_lint.project import ProjectModules
    from green_lint.registry import select_rules

    settings = LintSettings(rules=select_rules(preview=True), project=ProjectModules([ROOT / "fixtures"]))
    paths = sorted((ROOT / "fixtures").rglob("*.py"))  # every rule, its fixes too
    sources = [load_source(path, str(path), path.read_bytes()) for path in paths]
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        assert sum(len(lint_source(source, settings)) for source in sources) > 0
        gc.collect()
        kept = [obj for obj in gc.garbage if isinstance(obj, cst.CSTNode | RuleContext)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was_enabled:
            gc.enable()
    assert kept == []
