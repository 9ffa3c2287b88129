"""Apply fixes: non-overlapping edits per round, re-lint, until nothing changes (bounded).

Every round's result must parse again and must no longer hold the findings it fixed; if
it does not, the round is dropped and the text stays as it was before it, with an error
that names the rules whose fixes failed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from green_lint.engine import LintSettings, lint_source
from green_lint.findings import Edit, Finding
from green_lint.lines import line_starts, offset_of
from green_lint.source import SourceFile

MAX_ROUNDS = 10


@dataclass
class FixOutcome:
    text: str
    applied: int
    remaining: list[Finding]
    errors: list[str] = field(default_factory=list)

    def changed(self, original: str) -> bool:
        return self.text != original


def fixable(finding: Finding, unsafe: bool) -> bool:
    fix = finding.source_fix
    return fix is not None and (fix.applicability == "safe" or unsafe)


def fix_source(source: SourceFile, settings: LintSettings, unsafe: bool) -> FixOutcome:
    """Fix `source` until no applicable fix remains; returns the final text and findings."""
    applied = 0
    errors: list[str] = []
    current = source
    findings = lint_source(current, settings)
    broken: set[tuple] = set()
    for _ in range(MAX_ROUNDS):
        candidates = [f for f in findings if fixable(f, unsafe) and _fix_key(f) not in broken]
        chosen = _non_overlapping(candidates)
        if not chosen:
            break
        new_text = apply_edits(current.text, [edit for f in chosen for edit in f.source_fix.edits])
        if _parse_problem(current, new_text) is not None:
            # Find the fixes that break the code on their own; keep applying the others.
            for finding in chosen:
                problem = _parse_problem(current, apply_edits(current.text, list(finding.source_fix.edits)))
                if problem is not None:
                    broken.add(_fix_key(finding))
                    errors.append(
                        f"the fix of {finding.code} at line {finding.location.row} produced code that "
                        f"does not parse ({problem}); not applied"
                    )
            if not any(_fix_key(f) in broken for f in chosen):
                errors.append("fixes applied together produced code that does not parse; stopped")
                break
            continue
        fixed = current.with_text(new_text)
        new_findings = lint_source(fixed, settings)
        # A fix after which its finding is still there did not do its job (e.g. its edits
        # landed elsewhere): drop the round and that fix, and say so.
        stuck = _still_found(chosen, findings, new_findings)
        if stuck:
            for finding in stuck:
                broken.add(_fix_key(finding))
                errors.append(
                    f"the fix of {finding.code} at line {finding.location.row} left its finding in "
                    "place; not applied"
                )
            continue
        applied += len(chosen)
        current, findings = fixed, new_findings
    return FixOutcome(text=current.text, applied=applied, remaining=findings, errors=errors)


def _still_found(fixed: list[Finding], before: list[Finding], after: list[Finding]) -> list[Finding]:
    """The `fixed` findings that the fixed text still holds: as many findings with their
    code and message as before the round, less those fixed. Counted, not placed: a fix
    whose edits landed on the wrong line moved nothing."""

    def tally(findings: list[Finding]) -> Counter:
        return Counter((finding.code, finding.message) for finding in findings)

    removed = tally(fixed)
    left_before, left_after = tally(before), tally(after)
    return [
        finding
        for finding in fixed
        if left_after[(finding.code, finding.message)]
        > left_before[(finding.code, finding.message)] - removed[(finding.code, finding.message)]
    ]


def _fix_key(finding: Finding) -> tuple:
    return (finding.code, finding.source_fix.edits)


def _non_overlapping(findings: list[Finding]) -> list[Finding]:
    """Fixes whose edits touch no edit of an earlier chosen fix (identical edits may repeat)."""
    chosen: list[Finding] = []
    taken: list[Edit] = []
    for finding in sorted(findings, key=lambda f: min(e.location for e in f.source_fix.edits)):
        edits = [e for e in finding.source_fix.edits if e not in taken]
        if any(_overlaps(edit, other) for edit in edits for other in taken):
            continue
        chosen.append(finding)
        taken.extend(edits)
    return chosen


def _overlaps(a: Edit, b: Edit) -> bool:
    # Two insertions at one point conflict too: their order would be arbitrary.
    if a.location == a.end_location and b.location == b.end_location:
        return a.location == b.location
    return a.location < b.end_location and b.location < a.end_location


def apply_edits(text: str, edits: list[Edit]) -> str:
    """Apply non-overlapping edits (positions 1-based, end exclusive); duplicates once."""
    starts = line_starts(text)
    result = text
    for edit in sorted(set(edits), key=lambda e: (e.location, e.end_location), reverse=True):
        start, end = offset_of(edit.location, starts, text), offset_of(edit.end_location, starts, text)
        result = result[:start] + edit.content + result[end:]
    return result


def _parse_problem(source: SourceFile, text: str) -> str | None:
    if source.kind == "requirements":
        return None
    import libcst as cst

    try:
        cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        return f"line {error.raw_line}: {error.message.strip().splitlines()[0]}"
    return None
