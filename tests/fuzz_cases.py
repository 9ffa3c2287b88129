"""Mutated programs and the invariants green-lint must keep on them (#13, "Done when").

A program (from hypothesmith, or a fixture) is mutated the ways the trust audit found
bugs with: salt characters that `str.splitlines` treats as line ends, CR and CRLF line
ends, one or two byte-order marks, deep nesting, a cut at a random point, NUL bytes.
The invariants: no internal error; a `GL001` exactly when CPython rejects the file (and
then no other finding); a fix of a salted program equals the fix of its clean twin.
Used by tests/test_fuzz.py (a few hundred programs in CI) and bench/fuzz.py (more).
"""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

from green_lint.engine import LintSettings, lint_source
from green_lint.registry import select_rules
from green_lint.source import SourceError, load_source

SALTS = ["\x0c", "\x0b", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
MUTATIONS = ("salt", "cr", "crlf", "bom", "two-boms", "deep", "cut", "nul")
ALL_RULES = LintSettings(rules=select_rules(["GL"]))


def mutate(program: str, kind: str, seed: int) -> bytes:
    """`program` mutated the `kind` way; `seed` picks where."""
    lines = program.split("\n")
    where = seed % max(len(lines), 1)
    if kind == "salt":
        salt = SALTS[seed % len(SALTS)]
        lines.insert(where, f"# {salt} salted")
        return "\n".join(lines).encode("utf-8")
    if kind == "cr":
        return program.replace("\n", "\r").encode("utf-8")
    if kind == "crlf":
        return program.replace("\n", "\r\n").encode("utf-8")
    if kind == "bom":
        return b"\xef\xbb\xbf" + program.encode("utf-8")
    if kind == "two-boms":
        return b"\xef\xbb\xbf" * 2 + program.encode("utf-8")
    if kind == "deep":
        depth = 100 + seed % 2_000
        lines.insert(where, "x = " + "(" * depth + "1" + ")" * depth)
        return "\n".join(lines).encode("utf-8")
    if kind == "cut":
        return program[: seed % (len(program) + 1)].encode("utf-8")
    if kind == "nul":
        return (program[: seed % (len(program) + 1)] + "\0" + program[seed % (len(program) + 1) :]).encode(
            "utf-8"
        )
    raise ValueError(kind)


def cpython_accepts(data: bytes) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # generated code warns (`1()`: int is not callable)
            ast.parse(data)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def check_invariants(data: bytes) -> list[str]:
    """What is wrong with green-lint's findings on `data` (an empty list: nothing)."""
    try:
        source = load_source(Path("fuzz.py"), "fuzz.py", data)
    except SourceError:
        return []  # reported as GL001 by the runner (not a decodable text)
    try:
        findings = lint_source(source, ALL_RULES)
    except Exception as error:  # the invariant this module exists for
        return [f"internal error: {type(error).__name__}: {error}"]
    codes = [finding.code for finding in findings]
    problems = []
    accepted = cpython_accepts(data)
    if accepted and "GL001" in codes:
        problems.append("GL001 although CPython accepts the file")
    if not accepted and codes != ["GL001"]:
        problems.append(f"CPython rejects the file, findings were {codes}")
    return problems
