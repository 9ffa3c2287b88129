"""GL001 syntax-error."""

from __future__ import annotations

import re

from green_lint.rule import Rule

# CPython's own messages for Python 2 statements, and what they stand for.
PYTHON2_MESSAGES = (
    ("Missing parentheses in call to 'print'", "a print statement"),
    ("Missing parentheses in call to 'exec'", "an exec statement"),
    ("multiple exception types must be parenthesized", "`except X, e:`"),
    ("leading zeros in decimal integer literals", "an octal literal such as `0777`"),
)
# Python 2 spellings that CPython reports as a bare "invalid syntax" (or "invalid decimal
# literal"), matched on the reported line just before the column CPython points at (or at it).
UR_PREFIX = re.compile(r"(?<![\w])[uU][rR]$")
RAISE_WITH_VALUE = re.compile(r"^\s*raise\s+[\w.]+\s*$")
LONG_LITERAL = re.compile(r"(?<![\w.])\d+[lL](?!\w)")


class SyntaxErrorRule(Rule):
    """
    ## What it does
    Reports a file that cannot be parsed: a syntax error, bytes that are not valid in the
    file's encoding, NUL bytes (a binary file with a Python suffix), or a notebook that is
    not valid JSON.

    A file written in Python 2 gets its own message, "Python 2 syntax: file not checked",
    naming what gave it away: a print or exec statement (`print "x"`), `except X, e:`,
    backticks, an octal literal such as `0777`, a `ur""` string, `raise E, "message"`,
    the `<>` operator or a long literal such as `10L`.

    ## Why it wastes energy
    green-lint cannot check what it cannot parse, and neither can Python run it. The rest
    of the run goes on with the other files.

    ## Example
    ```python
    def train(:
        ...
    ```

    ## Use instead
    Fix the syntax error, or save the file as UTF-8 (or declare its encoding with a PEP 263
    `# -*- coding: latin-1 -*-` line). Port a Python 2 file to Python 3 (the `2to3` tool
    does most of it) to have it checked.

    ## Fix safety
    No fix.

    ## Evidence
    Not an energy rule: it tells you which files were not checked.
    """

    code = "GL001"
    name = "syntax-error"
    summary = "The file cannot be parsed, so it was not checked"
    # The engine reports parse and decode failures through the rule that declares this.
    handles_parse_errors = True

    @classmethod
    def parse_error_message(cls, text: str, message: str, row: int, column: int) -> str:
        what = python2_construct(text, message, row, column)
        if what is None:
            return message
        return (
            f"Python 2 syntax: file not checked ({what}). green-lint checks Python 3 code: port "
            "the file to Python 3 (the `2to3` tool does most of it) to have it checked."
        )


def python2_construct(text: str, message: str, row: int, column: int) -> str | None:
    """What marks the line CPython failed on (1-based `row` and `column`) as Python 2, or
    None. Only the failing line is read: this runs once per file that does not parse."""
    for start, what in PYTHON2_MESSAGES:
        if message.startswith(start):
            return what
    lines = text.splitlines()
    if not 0 < row <= len(lines):
        return None
    line = lines[row - 1]
    before, at = line[: column - 1], line[column - 1 : column + 1]
    if message == "invalid syntax":
        if at.startswith("`"):
            return "a backtick repr"
        if at == "<>":
            return "the `<>` operator"
        if UR_PREFIX.search(before) and at[:1] in ("'", '"'):
            return 'a `ur""` string'
        if at.startswith(",") and RAISE_WITH_VALUE.match(before):
            return '`raise E, "message"`'
    elif message == "invalid decimal literal" and LONG_LITERAL.search(line):
        return "a long literal such as `10L`"
    return None
