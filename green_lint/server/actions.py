"""Code actions and hovers on a linted document: each finding's fix as a quick fix, one
fix-all of the safe fixes (`source.fixAll.green-lint`), a `# noqa` to suppress a finding
on its line, and the rule's documentation on hover."""

from __future__ import annotations

from collections.abc import Sequence

from lsprotocol import types

from green_lint.explain import rule_markdown
from green_lint.findings import Finding
from green_lint.lines import split_lines
from green_lint.registry import SelectionError, rule_by_code
from green_lint.server.convert import text_edits, whole_text_edit
from green_lint.server.documents import Linted, Part, fixed_texts
from green_lint.suppressions import with_noqa

FIX_ALL = "source.fixAll.green-lint"


def code_actions(
    linted: Linted, part: Part, wanted: types.Range, only: Sequence[str] | None, unsafe: bool
) -> list[types.CodeAction]:
    actions: list[types.CodeAction] = []
    if _asked(only, types.CodeActionKind.QuickFix):
        for finding in part.findings_in(wanted):
            shown = part.diagnostics[part.findings.index(finding)]
            fix = finding.fix
            if fix is not None and (fix.applicability == "safe" or unsafe):
                actions.append(
                    types.CodeAction(
                        title=f"Fix {finding.code}: {fix.message} ({fix.applicability})",
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=[shown],
                        is_preferred=fix.applicability == "safe",
                        edit=_edit({part.uri: text_edits(fix.edits, part.lines)}),
                    )
                )
            suppress = _noqa_edit(part, finding)
            if suppress is not None:
                actions.append(
                    types.CodeAction(
                        title=f"Suppress {finding.code} on this line",
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=[shown],
                        edit=_edit({part.uri: [suppress]}),
                    )
                )
    if _asked(only, FIX_ALL) and _has_safe_fix(linted):
        changed = fixed_texts(linted, unsafe=False)
        if changed:
            edits = {uri: [whole_text_edit(text, linted.parts[uri].lines)] for uri, text in changed.items()}
            actions.append(
                types.CodeAction(
                    title="Fix all safe GL findings in this file", kind=FIX_ALL, edit=_edit(edits)
                )
            )
    return actions


def hover(part: Part, position: types.Position) -> types.Hover | None:
    """The rule documentation of the findings under the cursor, in Markdown."""
    here = types.Range(start=position, end=position)
    found = part.findings_in(here)
    if not found:
        return None
    sections = []
    for finding in found:
        try:
            rule = rule_by_code(finding.code)
        except SelectionError:
            continue
        sections.append(f"**{finding.code}**: {finding.message}\n\n{rule_markdown(rule)}")
    if not sections:
        return None
    return types.Hover(
        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value="\n---\n".join(sections)),
        range=part.diagnostics[part.findings.index(found[0])].range,
    )


def explain(code: str) -> str:
    """`green-lint.explain`: the full documentation of one rule."""
    try:
        return rule_markdown(rule_by_code(code))
    except SelectionError as error:
        return str(error)


def _asked(only: Sequence[str] | None, kind: str) -> bool:
    """LSP's `only` filter: a kind is asked for when it or a parent kind is listed."""
    return not only or any(kind == wanted or kind.startswith(f"{wanted}.") for wanted in only)


def _has_safe_fix(linted: Linted) -> bool:
    return any(
        finding.fix is not None and finding.fix.applicability == "safe"
        for part in linted.parts.values()
        for finding in part.findings
    )


def _noqa_edit(part: Part, finding: Finding) -> types.TextEdit | None:
    row = finding.noqa_row
    new_text, added, _skipped = with_noqa(part.text, {row: {finding.code}})
    if not added:
        return None
    old_line = part.lines.lines[row - 1]
    new_line = split_lines(new_text)[row - 1]
    return types.TextEdit(
        range=types.Range(
            start=types.Position(line=row - 1, character=0),
            end=types.Position(line=row - 1, character=part.lines.units(old_line)),
        ),
        new_text=new_line,
    )


def _edit(changes: dict[str, list[types.TextEdit]]) -> types.WorkspaceEdit:
    return types.WorkspaceEdit(changes=changes)
