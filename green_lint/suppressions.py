"""`# noqa` comments: which findings they hide, which codes they no longer need, and
adding them in bulk (`--add-noqa`). The syntax is ruff's, so one comment serves both."""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterable
from dataclasses import dataclass

from green_lint.findings import Finding

NOQA = re.compile(r"#\s*(?i:noqa)(?::\s?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?")
FILE_NOQA = re.compile(
    r"^[ \t]*#\s*green-lint:\s*(?i:noqa)(?::\s?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?",
    re.MULTILINE,
)
CODE = re.compile(r"[A-Z]+[0-9]+")
OWN_PREFIX = "GL"


@dataclass(frozen=True)
class Noqa:
    row: int
    start: int  # 0-based column of the `#`
    end: int  # 0-based column after the directive
    codes: tuple[str, ...] | None  # None for a bare noqa comment, which hides everything


def noqa_on(line: str, row: int) -> Noqa | None:
    match = NOQA.search(line)
    if match is None:
        return None
    codes = tuple(CODE.findall(match.group("codes"))) if match.group("codes") else None
    return Noqa(row, match.start(), match.end(), codes)


def file_level_codes(text: str) -> set[str] | None:
    """Codes a `# green-lint: noqa[: codes]` line turns off for the file; None means all."""
    codes: set[str] = set()
    for match in FILE_NOQA.finditer(text):
        if match.group("codes") is None:
            return None
        codes.update(CODE.findall(match.group("codes")))
    return codes


def apply_noqa(text: str, findings: list[Finding]) -> tuple[list[Finding], dict[int, set[str]]]:
    """The findings not hidden by a `# noqa` on their row, and the codes used per row."""
    used: dict[int, set[str]] = {}
    if "noqa" not in text.lower() or not findings:
        return findings, used
    lines = text.splitlines()
    kept = []
    for finding in findings:
        row = (finding.source_location or finding.location).row
        noqa = noqa_on(lines[row - 1], row) if 0 < row <= len(lines) else None
        if noqa is None or (noqa.codes is not None and finding.code not in noqa.codes):
            kept.append(finding)
        else:
            used.setdefault(row, set()).add(finding.code)
    return kept, used


def unused_noqa_codes(
    text: str, used: dict[int, set[str]], checked: set[str]
) -> Iterable[tuple[Noqa, list[str]]]:
    """Each noqa comment with the green-lint codes it lists that hid nothing on its row.

    Only codes of rules that ran (`checked`), and unknown GL codes, can be unused; other
    tools' codes are left alone."""
    if "noqa" not in text.lower():
        return
    for row, line in enumerate(text.splitlines(), start=1):
        noqa = noqa_on(line, row)
        if noqa is None or noqa.codes is None or not _is_comment(text, row, noqa.start):
            continue
        unused = [
            code
            for code in noqa.codes
            if code.startswith(OWN_PREFIX)
            and (code in checked or not _known(code))
            and code not in used.get(row, ())
        ]
        if unused:
            yield noqa, unused


def _known(code: str) -> bool:
    from green_lint.registry import all_rules

    return any(rule.code == code for rule in all_rules())


def _is_comment(text: str, row: int, column: int) -> bool:
    return (row, column) in _comment_starts(text)


_comment_cache: dict[int, set[tuple[int, int]]] = {}


def _comment_starts(text: str) -> set[tuple[int, int]]:
    key = hash(text)
    if key not in _comment_cache:
        starts = set()
        try:
            for token in tokenize.generate_tokens(io.StringIO(text).readline):
                if token.type == tokenize.COMMENT:
                    starts.add(token.start)
        except (tokenize.TokenError, SyntaxError, IndentationError):
            pass
        _comment_cache.clear()
        _comment_cache[key] = starts
    return _comment_cache[key]


def without_codes(line: str, noqa: Noqa, removed: Iterable[str]) -> str:
    """The line with `removed` taken out of its noqa comment (the comment goes when empty)."""
    kept = [code for code in noqa.codes or () if code not in set(removed)]
    before, after = line[: noqa.start], line[noqa.end :]
    if kept:
        return f"{before}# noqa: {', '.join(kept)}{after}"
    if after.strip():
        return f"{before}{after.lstrip()}" if after.lstrip().startswith("#") else f"{before.rstrip()}{after}"
    return before.rstrip()


def with_noqa(text: str, codes_by_row: dict[int, set[str]]) -> tuple[str, int, list[int]]:
    """`--add-noqa`: add `# noqa: CODES` at the end of each row (merging with an existing
    noqa comment). Rows that end inside a multi-line string are skipped and returned."""
    lines = text.splitlines(keepends=True)
    inside_strings = _rows_ending_inside_strings(text)
    added = 0
    skipped = []
    for row, codes in sorted(codes_by_row.items()):
        if not 0 < row <= len(lines):
            continue
        if row in inside_strings:
            skipped.append(row)
            continue
        line = lines[row - 1]
        body = line.rstrip("\r\n")
        ending = line[len(body) :]
        noqa = noqa_on(body, row)
        if noqa is not None and noqa.codes is None:
            continue  # a bare noqa already hides everything
        if noqa is not None:
            merged = list(noqa.codes) + sorted(set(codes) - set(noqa.codes))
            new_body = f"{body[: noqa.start]}# noqa: {', '.join(merged)}{body[noqa.end :]}"
        else:
            new_body = f"{body}  # noqa: {', '.join(sorted(codes))}"
        if new_body != body:
            lines[row - 1] = new_body + ending
            added += 1
    return "".join(lines), added, skipped


def _rows_ending_inside_strings(text: str) -> set[int]:
    rows = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.STRING and token.end[0] > token.start[0]:
                rows.update(range(token.start[0], token.end[0]))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass
    return rows
