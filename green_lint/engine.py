"""Lint one source: skip by triggers, parse once, run every rule in one traversal, suppress.

The engine knows no rule by name: it asks the selected rule classes what they need
(`triggers`, `file_kinds`, `handles_parse_errors`) and turns their reports into findings.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import gc
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from green_lint.code_text import without_docstrings
from green_lint.discovery import display_path
from green_lint.findings import Edit, Finding, Position, RelatedLocation, TextFix
from green_lint.lines import LINE_BREAK, advance, split_lines
from green_lint.rule import Report, Rule
from green_lint.source import SourceError, SourceFile
from green_lint.suppressions import (
    apply_noqa,
    file_level_codes,
    unused_noqa_codes,
    without_codes,
)
from green_lint.trusted_parse import parse_trusted

if TYPE_CHECKING:
    import ast
    from pathlib import Path

    from green_lint.project import ProjectModules


@dataclass
class LintSettings:
    """What the engine needs to lint a file: selected rule classes and their options."""

    rules: Sequence[type[Rule]]
    rule_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # The project's other modules, for what a file imports from them (None: not followed).
    project: ProjectModules | None = None
    # False runs every selected rule on every file, triggers and tree prefilters ignored:
    # how the tests check that the prefilter never drops a finding.
    prefilter: bool = True


def lint_source(source: SourceFile, settings: LintSettings) -> list[Finding]:
    """All unsuppressed findings of `source`, sorted by position."""
    suppressed_codes = file_level_codes(source.text)
    if suppressed_codes is None:
        return []
    # A notebook is linted as the Python text of its code cells.
    kind = "python" if source.kind == "notebook" else source.kind
    rules = [rule for rule in settings.rules if kind in rule.file_kinds and rule.code not in suppressed_codes]
    findings = _run_rules(source, rules, settings.rule_options, settings.project, settings.prefilter)
    findings, used = apply_noqa(source.text, findings)
    unused_rule = next((rule for rule in rules if rule.reports_unused_suppressions), None)
    if unused_rule is not None and source.kind != "requirements":
        findings += _unused_noqa_findings(source, unused_rule, used, {rule.code for rule in rules})
    return sorted(findings, key=Finding.sort_key)


def _unused_noqa_findings(source: SourceFile, rule: type[Rule], used, checked: set[str]) -> list[Finding]:
    lines = split_lines(source.text, keepends=True)
    findings = []
    for noqa, codes in unused_noqa_codes(source.text, used, checked):
        line = lines[noqa.row - 1]
        body = line.rstrip("\r\n")
        start, end = Position(noqa.row, noqa.start + 1), Position(noqa.row, noqa.end + 1)
        fix = TextFix(
            "safe",
            f"Remove {', '.join(codes)} from the noqa comment",
            (
                Edit(
                    without_codes(body, noqa, codes), Position(noqa.row, 1), Position(noqa.row, len(body) + 1)
                ),
            ),
        )
        message = f"`# noqa` lists {', '.join(codes)}, which {'does' if len(codes) == 1 else 'do'} not fire on this line: remove it"
        findings.append(_source_finding(source, rule, message, start, end, fix))
    return findings


def source_error_findings(
    source_path: str, error: SourceError, settings: LintSettings, cell: int | None = None
) -> list[Finding]:
    """A file that cannot even be read as text: one finding from the parse-error rule (or,
    for a format green-lint does not read, from the rule that reports unchecked files)."""
    for rule in settings.rules:
        if rule.reports_unchecked_files if error.unsupported else rule.handles_parse_errors:
            return [
                _make_finding(rule, source_path, error.message, error.position, error.position, None, cell)
            ]
    return []


def _run_rules(
    source: SourceFile,
    rules: Sequence[type[Rule]],
    rule_options: Mapping[str, Mapping[str, Any]],
    project: ProjectModules | None = None,
    prefilter: bool = True,
) -> list[Finding]:
    text = source.text
    searched: dict = {}  # a pattern several rules share is searched once per file
    triggered = [
        rule
        for rule in rules
        if not (prefilter and rule.triggers) or any(_hit(t, text, searched) for t in rule.triggers)
    ]
    parse_error_rules = [rule for rule in rules if rule.handles_parse_errors]
    if source.kind not in ("python", "notebook"):
        return _run_text_rules(source, triggered, rule_options)
    unchecked_rule = next((rule for rule in rules if rule.reports_unchecked_files), None)
    over_cap = _over_caps(text, _caps(unchecked_rule, rule_options))
    if over_cap is not None:
        return _not_checked(source, unchecked_rule, over_cap)
    # CPython's verdict decides what is a syntax error, and its parser (in C) rejects
    # input nested too deeply for libcst before libcst sees it.
    with _collector_paused():  # CPython's tree holds no cycles either
        syntax_errors, python_module = _python_verdict(source, parse_error_rules)
    if syntax_errors is not None:
        return syntax_errors
    if prefilter:
        triggered = _triggered_by_code(triggered, text, python_module)
    # Rules whose text hit only a trigger for what they find through other modules.
    across_files = [
        rule
        for rule in rules
        if project is not None
        and rule not in triggered
        and any(_hit(t, text, searched) for t in rule.project_triggers)
    ]
    project_function = _project_function(project, source)
    visitors = [
        rule
        for rule in triggered
        if not (rule.handles_parse_errors or rule.reports_unchecked_files)
        and (not prefilter or rule.may_flag(python_module, text, project_function))
    ]
    if across_files:
        lookup = _ProjectLookup(project, source.path)
        visitors += [rule for rule in across_files if rule.may_flag_across_files(python_module, lookup)]
    if not visitors:
        return []

    import libcst as cst

    from green_lint.context import RuleContext

    with _collector_paused():
        try:
            module = parse_trusted(text)
        except cst.ParserSyntaxError as error:
            message = error.message.strip().splitlines()[0] if error.message.strip() else str(error)
            reason = f"libcst cannot parse it, although Python can ({message}, line {error.raw_line})"
            return _not_checked(source, unchecked_rule, reason)
        except (RecursionError, MemoryError) as error:
            return _not_checked(source, unchecked_rule, f"libcst ran out of {_resource(error)} parsing it")
        context = RuleContext(module, source.display_path, text, python_module, source.path, project)
        instances = [rule(context, rule_options.get(rule.code)) for rule in visitors]
        context.declared_analyses = frozenset(kind for instance in instances for kind in instance.needs)
        try:
            _traverse(module, instances, context)
            return [_finding_from_report(source, context, report) for report in context.reports]
        finally:
            context.close()


@contextlib.contextmanager
def _collector_paused():
    """Pause the cyclic garbage collector while one file is linted.

    A parse makes hundreds of thousands of nodes and the collector would scan them again
    and again; a libcst tree holds no cycles, so it is freed as soon as the file is done."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _triggered_by_code(rules: list, text: str, tree: ast.Module) -> list:
    """The rules whose triggers still hit once the docstrings are gone (see code_text)."""
    if not any(rule.triggers for rule in rules):
        return rules
    code = without_docstrings(text, tree)
    if code is None:
        return rules
    searched: dict = {}
    return [
        rule for rule in rules if not rule.triggers or any(_hit(t, code, searched) for t in rule.triggers)
    ]


def _hit(trigger, text: str, searched: dict | None = None) -> bool:
    """A trigger is a substring, a regex, or a tuple of them that must all match.
    `searched` keeps the answers for this text: rules share many of their parts."""
    if not isinstance(trigger, str | re.Pattern):  # a tuple (or list) of parts
        # A loop, not all(...): a generator per call costs, and this runs for every rule
        # on every file.
        for part in trigger:  # noqa: SIM110
            if not _hit(part, text, searched):
                return False
        return True
    if searched is None:
        return _search(trigger, text)
    found = searched.get(trigger)
    if found is None:
        found = searched[trigger] = _search(trigger, text)
    return found


def _search(atom, text: str) -> bool:
    return atom in text if isinstance(atom, str) else atom.search(text) is not None


def _run_text_rules(
    source: SourceFile, rules: Sequence[type[Rule]], rule_options: Mapping[str, Mapping[str, Any]]
) -> list[Finding]:
    from green_lint.context import RuleContext

    context = RuleContext(None, source.display_path)
    for rule in rules:
        rule(context, rule_options.get(rule.code)).lint_text(source.text)
    return [_finding_from_report(source, context, report) for report in context.reports]


def _python_verdict(source: SourceFile, parse_error_rules: Sequence[type[Rule]]):
    """CPython's verdict: (the GL001 findings of a file it rejects, an empty list when the
    parse-error rule is not selected, or None when it accepts the file; its tree then)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. invalid escape sequences
            # ONLY_AST: the tree, no bytecode.
            tree = compile(source.text, source.display_path, "exec", flags=0x400, dont_inherit=True)
    except SyntaxError as error:
        position = Position(error.lineno or 1, max(error.offset or 1, 1))
        return _syntax_error(source, parse_error_rules, error.msg, position), None
    except (RecursionError, MemoryError) as error:
        message = f"too deeply nested for Python's parser (it ran out of {_resource(error)})"
        return _syntax_error(source, parse_error_rules, message, Position(1, 1)), None
    except ValueError as error:  # e.g. NUL bytes; decode_python catches them earlier
        return _syntax_error(source, parse_error_rules, str(error), Position(1, 1)), None
    return None, tree


def _syntax_error(source: SourceFile, parse_error_rules, message: str, position: Position) -> list[Finding]:
    if not parse_error_rules:
        return []
    rule = parse_error_rules[0]
    rule_class = rule.load() if hasattr(rule, "load") else rule  # a RuleSpec loads its class
    message = rule_class.parse_error_message(source.text, message, position.row, position.column)
    return [_source_finding(source, rule, message, position, position)]


def _resource(error: BaseException) -> str:
    return "memory" if isinstance(error, MemoryError) else "stack"


# Caps on what is checked: the options of the rule that reports unchecked files (GL003),
# which apply with these values when that rule is not selected.
DEFAULT_CAPS = {"max-file-bytes": 2_000_000, "max-line-bytes": 200_000}


def _caps(rule, rule_options: Mapping[str, Mapping[str, Any]]) -> Mapping[str, int]:
    if rule is None:
        return DEFAULT_CAPS
    return {**DEFAULT_CAPS, **rule.options, **rule_options.get(rule.code, {})}


def _over_caps(text: str, caps: Mapping[str, int]) -> str | None:
    """Why the file is too big to check, or None."""
    # Encoding costs a copy: only when the text could be over the cap (4 bytes a character).
    could_be_over = len(text) * 4 > caps["max-file-bytes"]
    size = len(text.encode("utf-8", errors="surrogatepass")) if could_be_over else len(text)
    if size > caps["max-file-bytes"]:
        return f"it is {size:,} bytes, over max-file-bytes ({caps['max-file-bytes']:,})"
    # No line is longer than the whole text: most files need no split into lines.
    longest = max(map(len, LINE_BREAK.split(text)), default=0) if len(text) > caps["max-line-bytes"] else 0
    if longest > caps["max-line-bytes"]:
        return f"a line has {longest:,} characters, over max-line-bytes ({caps['max-line-bytes']:,})"
    return None


def not_checked_findings(display_path: str, reason: str, settings: LintSettings) -> list[Finding]:
    """A file that was not checked at all (its process crashed): one finding, from the
    rule that reports unchecked files."""
    for rule in settings.rules:
        if rule.reports_unchecked_files:
            message = _not_checked_message(reason)
            return [_make_finding(rule, display_path, message, Position(1, 1), Position(1, 1), None, None)]
    return []


def _not_checked(source: SourceFile, rule, reason: str) -> list[Finding]:
    if rule is None:
        return []
    return [_source_finding(source, rule, _not_checked_message(reason), Position(1, 1), Position(1, 1))]


def _not_checked_message(reason: str) -> str:
    return f"File not checked: {reason}. The rest of the run goes on."


def _traverse(module, instances: Sequence[Rule], context) -> None:
    """One traversal calling every rule's visit_<Node>/leave_<Node> methods.

    Iterative (deep expressions cannot exhaust the recursion limit): a visited node goes
    back on the stack under a None marker, to be left once its children are done. The
    dispatch is written out here rather than through `walk.traverse`'s callbacks: this
    loop runs for every node of every parsed file."""
    from green_lint.walk import children

    visits: dict[str, list] = {}
    leaves: dict[str, list] = {}
    for instance in instances:
        for attribute in dir(type(instance)):
            if attribute.startswith("visit_"):
                visits.setdefault(attribute[6:], []).append(getattr(instance, attribute))
            elif attribute.startswith("leave_"):
                leaves.setdefault(attribute[6:], []).append(getattr(instance, attribute))
    # Per node type (not name): the methods to call, found once.
    visits_by_type: dict[type, tuple] = {}
    leaves_by_type: dict[type, tuple] = {}

    stack = context.stack
    top_level = context.top_level_indexes
    push = stack.append
    push(module)
    top_level[id(module)] = None
    for method in visits.get("Module", ()):
        method(module)
    for position, statement in enumerate(module.body):
        pending = [statement]
        while pending:
            node = pending.pop()
            if node is None:  # the marker: leave the node under it
                node = pending.pop()
                kind = type(node)
                methods = leaves_by_type.get(kind)
                if methods is None:
                    methods = leaves_by_type[kind] = tuple(leaves.get(kind.__name__, ()))
                for method in methods:
                    method(node)
                stack.pop()
                continue
            push(node)
            top_level[id(node)] = position
            kind = type(node)
            methods = visits_by_type.get(kind)
            if methods is None:
                methods = visits_by_type[kind] = tuple(visits.get(kind.__name__, ()))
            for method in methods:
                method(node)
            pending.append(node)
            pending.append(None)
            pending.extend(reversed(children(node)))
    for method in leaves.get("Module", ()):
        method(module)
    stack.pop()


def _finding_from_report(source: SourceFile, context, report: Report) -> Finding:
    rule = report.rule
    if report.span is not None:
        (row, column), (end_row, end_column) = report.span
        start, end = Position(row, column), Position(end_row, end_column)
    else:
        code_range = context.position(report.node)
        end_range = context.position(report.end_node) if report.end_node is not None else code_range
        start = Position(code_range.start.line, code_range.start.column + 1)
        end = Position(end_range.end.line, end_range.end.column + 1)
    text_fix = _text_fix(context, report) if report.fix is not None else None
    finding = _source_finding(source, type(rule), report.message, start, end, text_fix, report.severity)
    # Named as the finding's own file is, so the outputs treat both paths alike.
    finding.related = tuple(
        RelatedLocation(display_path(path), Position(line, 1), message)
        for path, line, message in report.related
    )
    return finding


def _source_finding(
    source: SourceFile,
    rule: type[Rule],
    message: str,
    start: Position,
    end: Position,
    text_fix: TextFix | None = None,
    severity: str | None = None,
) -> Finding:
    cell, cell_start = source.to_cell(start)
    _, cell_end = source.to_cell(end)
    display_fix = text_fix
    if text_fix is not None and cell is not None:
        display_fix = TextFix(
            text_fix.applicability,
            text_fix.message,
            tuple(
                Edit(edit.content, source.to_cell(edit.location)[1], source.to_cell(edit.end_location)[1])
                for edit in text_fix.edits
            ),
        )
    finding = _make_finding(
        rule, source.display_path, message, cell_start, cell_end, display_fix, cell, severity
    )
    finding.source_location, finding.source_end_location, finding.source_fix = start, end, text_fix
    return finding


def _make_finding(rule, path, message, start, end, fix, cell, severity=None) -> Finding:
    return Finding(
        code=rule.code,
        name=rule.name,
        message=message,
        severity=severity or rule.severity,
        filename=path,
        location=start,
        end_location=end,
        noqa_row=start.row,
        url=rule.url(),
        fix=fix,
        cell=cell,
        source_location=start,
        source_end_location=end,
        source_fix=fix,
    )


def _text_fix(context, report: Report) -> TextFix | None:
    """Turn the rule's node replacements into text edits.

    Each change is made inside the top-level statement that holds it: only that statement's
    ancestors are rebuilt and only its text is generated and compared, so a fix costs
    little even in a large file.
    """
    from green_lint.walk import path_to, replace_child

    if not context.splits_by_statement() or context.module in report.fix.changes:
        return _whole_module_fix(context, report)
    body = context.module.body
    versions: dict[int, list] = {}  # top-level index -> the statements that replace it
    try:
        for old, new in report.fix.changes.items():
            index = context.top_level_index(old)
            if index is None:
                return None  # the node is not in this tree: a rule bug, drop the fix
            statements = versions.setdefault(index, [body[index]])
            found = next(
                ((position, path) for position, s in enumerate(statements) if (path := path_to(s, old))),
                None,
            )
            if found is None:
                return None
            position, path = found
            replacement = new
            for parent, child in zip(reversed(path[:-1]), reversed(path[1:]), strict=True):
                replacement = replace_child(parent, child, replacement)
            statements[position : position + 1] = _as_statements(replacement)
    except ValueError:
        return None
    edits = []
    for index, statements in sorted(versions.items()):
        new_text = "".join(context.module.code_for_node(statement) for statement in statements)
        shift = context.statement_first_line(index) - 1
        for edit in text_edits(context.statement_text(index), new_text):
            edits.append(
                Edit(
                    edit.content,
                    Position(edit.location.row + shift, edit.location.column),
                    Position(edit.end_location.row + shift, edit.end_location.column),
                )
            )
    if not edits:
        return None
    return TextFix(report.fix.applicability, report.fix.message, tuple(edits))


def _as_statements(replacement) -> list:
    import libcst as cst

    if isinstance(replacement, cst.FlattenSentinel):
        return list(replacement.nodes)
    if isinstance(replacement, cst.RemovalSentinel):
        return []
    return [replacement]


def _whole_module_fix(context, report: Report) -> TextFix | None:
    """The slow path: rebuild the module and compare all of its text."""
    changes = {id(node): new for node, new in report.fix.changes.items()}
    edits = text_edits(context.module.code, context.module.visit(_replacer_class()(changes)).code)
    return TextFix(report.fix.applicability, report.fix.message, tuple(edits)) if edits else None


@functools.cache
def _replacer_class():
    """A transformer that swaps nodes by identity, made once (libcst is imported only when
    needed; a class made per call is a reference cycle that keeps the tree it saw alive)."""
    import libcst as cst

    class Replacer(cst.CSTTransformer):
        def __init__(self, changes: dict) -> None:
            super().__init__()
            self.changes = changes

        def on_leave(self, original_node, updated_node):
            return self.changes.get(id(original_node), updated_node)

    return Replacer


def text_edits(old: str, new: str) -> list[Edit]:
    """Minimal edits (per changed hunk of lines, trimmed to the changed characters)."""
    old_lines = split_lines(old, keepends=True)
    new_lines = split_lines(new, keepends=True)
    edits = []
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            continue
        before = "".join(old_lines[a0:a1])
        after = "".join(new_lines[b0:b1])
        prefix = suffix = 0
        if a1 - a0 == 1 and b1 - b0 == 1:  # one line changed: edit just the changed characters
            prefix = _common_prefix(before, after)
            suffix = _common_prefix(before[prefix:][::-1], after[prefix:][::-1])
        start = advance(Position(a0 + 1, 1), before[:prefix])
        end = advance(start, before[prefix : len(before) - suffix])
        edits.append(Edit(after[prefix : len(after) - suffix], start, end))
    return edits


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


class _ProjectLookup:
    """The project's other modules as a file's prefilter sees them: by qualified names as
    imported in that file."""

    def __init__(self, project: ProjectModules, path: Path | None) -> None:
        self._project, self._path = project, path

    def function(self, qualified: str):
        return self._project.function(qualified, self._path)

    def project_class(self, qualified: str):
        return self._project.project_class(qualified, self._path)


def _project_function(project: ProjectModules | None, source: SourceFile):
    """What a rule's tree prefilter asks of the project: a function another module defines."""
    if project is None:
        return None
    return lambda qualified: project.function(qualified, source.path)
