"""`# noqa` comments: which findings they hide, which codes they no longer need, and
adding them in bulk (`--add-noqa`). The syntax is ruff's, so one comment serves both."""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterable
from dataclasses import dataclass

from green_lint.findings import Finding
from green_lint.lines import count_line_breaks, split_lines

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


def noqa_on(line: str, row: int, comment_column: int | None = 0) -> Noqa | None:
    """The noqa directive of a line. `comment_column` is where the line's comment starts
    (None: the line has no comment); a `# noqa` before it is inside a string."""
    if comment_column is None:
        return None
    for match in NOQA.finditer(line):
        if match.start() >= comment_column:
            codes = tuple(CODE.findall(match.group("codes"))) if match.group("codes") else None
            return Noqa(row, match.start(), match.end(), codes)
    return None


def file_level_codes(text: str) -> set[str] | None:
    """Codes a `# green-lint: noqa[: codes]` line turns off for the file; None means all."""
    codes: set[str] = set()
    matches = list(FILE_NOQA.finditer(text))
    comments = _comment_columns(text) if matches else None
    for match in matches:
        row = count_line_breaks(text, 0, match.start()) + 1
        # A line of a string (a docstring that shows the directive) is not a comment.
        if comments is not None and comments.get(row) != match.group(0).index("#"):
            continue
        if match.group("codes") is None:
            return None
        codes.update(CODE.findall(match.group("codes")))
    return codes


def apply_noqa(text: str, findings: list[Finding]) -> tuple[list[Finding], dict[int, set[str]]]:
    """The findings not hidden by a `# noqa` on their row, and the codes used per row."""
    used: dict[int, set[str]] = {}
    if "noqa" not in text.lower() or not findings:
        return findings, used
    lines = split_lines(text)
    comments = _comment_columns(text)
    kept = []
    for finding in findings:
        row = (finding.source_location or finding.location).row
        noqa = _noqa_at(lines, row, comments)
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
    tools' codes are left alone. A text that cannot be tokenized reports nothing: its
    comments are not known for sure."""
    if "noqa" not in text.lower():
        return
    comments = _comment_columns(text)
    if comments is None:
        return
    for row, line in enumerate(split_lines(text), start=1):
        if row not in comments:
            continue
        noqa = noqa_on(line, row, comments[row])
        if noqa is None or noqa.codes is None:
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


def _noqa_at(lines: list[str], row: int, comments: dict[int, int] | None) -> Noqa | None:
    if not 0 < row <= len(lines):
        return None
    # Without tokens (a file that does not tokenize), any noqa directive on the line counts.
    column = 0 if comments is None else comments.get(row)
    return noqa_on(lines[row - 1], row, column)


def _known(code: str) -> bool:
    from green_lint.registry import all_rules

    return any(rule.code == code for rule in all_rules())


_comment_cache: dict[str, dict[int, int] | None] = {}


def _comment_columns(text: str) -> dict[int, int] | None:
    """Row -> 0-based column where the comment on that row starts; None when the text
    cannot be tokenized."""
    if text not in _comment_cache:
        columns: dict[int, int] | None = {}
        try:
            for token in tokenize.generate_tokens(io.StringIO(text, newline="").readline):
                if token.type == tokenize.COMMENT:
                    columns[token.start[0]] = token.start[1]
        except (tokenize.TokenError, SyntaxError):
            columns = None
        _comment_cache.clear()
        _comment_cache[text] = columns
    return _comment_cache[text]


def without_codes(line: str, noqa: Noqa, removed: Iterable[str]) -> str:
    """The line with `removed` taken out of its noqa comment (the comment goes when empty)."""
    removed = set(removed)
    kept = [code for code in noqa.codes or () if code not in removed]
    before, after = line[: noqa.start], line[noqa.end :]
    if kept:
        return f"{before}# noqa: {', '.join(kept)}{after}"
    if not after.strip():
        return before.rstrip()
    if after.lstrip().startswith("#"):
        return f"{before}{after.lstrip()}"
    # Words after the codes (a reason given for the suppression) stay a comment.
    return f"{before}# {after.strip()}"


def with_noqa(text: str, codes_by_row: dict[int, set[str]]) -> tuple[str, int, list[int]]:
    """`--add-noqa`: add `# noqa: CODES` at the end of each row (merging with an existing
    noqa comment). Rows where no comment can go (they end inside a multi-line string or
    with a backslash continuation) are skipped and returned."""
    lines = split_lines(text, keepends=True)
    inside_strings = _rows_ending_inside_strings(text)
    comments = _comment_columns(text)
    added = 0
    skipped = []
    for row, codes in sorted(codes_by_row.items()):
        if not 0 < row <= len(lines):
            continue
        line = lines[row - 1]
        body = line.rstrip("\r\n")
        ending = line[len(body) :]
        if row in inside_strings or body.endswith("\\"):
            skipped.append(row)
            continue
        noqa = _noqa_at(lines, row, comments)
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
        for token in tokenize.generate_tokens(io.StringIO(text, newline="").readline):
            if token.type == tokenize.STRING and token.end[0] > token.start[0]:
                rows.update(range(token.start[0], token.end[0]))
    except (tokenize.TokenError, SyntaxError):
        pass
    return rows
