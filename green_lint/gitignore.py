"""Gitignore-style patterns: parse `.gitignore` lines and decide whether a path is ignored.

The same pattern syntax serves the `exclude` setting (see `PatternList`). Semantics follow
gitignore(5): last matching pattern wins within a file, a deeper `.gitignore` wins over a
higher one, `*`/`?`/`[...]` never match `/`, `**` does in `**/x`, `x/**` and `x/**/y`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

_POSIX_CLASSES = {
    "alnum": "a-zA-Z0-9",
    "alpha": "a-zA-Z",
    "blank": " \\t",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "\\x21-\\x7e",
    "lower": "a-z",
    "print": "\\x20-\\x7e",
    "punct": "!-/:-@\\[-`{-~",
    "space": " \\t\\n\\r\\f\\v",
    "upper": "A-Z",
    "xdigit": "0-9A-Fa-f",
}


@dataclass(frozen=True)
class Pattern:
    """One parsed pattern line."""

    text: str
    regex: str
    negated: bool
    dir_only: bool
    # Anchored patterns match the path relative to their base folder; the others match
    # the last component only, hence at any depth.
    anchored: bool


def parse_pattern(line: str) -> Pattern | None:
    """The pattern of one `.gitignore` line, or None for a blank line or a comment."""
    original = text = _strip_trailing_spaces(line.rstrip("\r\n"))
    if not text or text.startswith("#"):
        return None
    # "\!" and "\#" are escapes that _translate turns into the literal character.
    negated = text.startswith("!")
    if negated:
        text = text[1:]
    dir_only = text.endswith("/")
    body = text.rstrip("/") if dir_only else text
    # A separator at the start or in the middle anchors the pattern to its base folder.
    anchored = "/" in body
    body = body.removeprefix("/")
    if not body:
        return None
    return Pattern(original, _translate(body), negated, dir_only, anchored)


def parse_lines(lines: Iterable[str]) -> list[Pattern]:
    return [pattern for pattern in map(parse_pattern, lines) if pattern is not None]


def _strip_trailing_spaces(text: str) -> str:
    while text.endswith(" "):
        stripped = text[:-1]
        backslashes = len(stripped) - len(stripped.rstrip("\\"))
        if backslashes % 2:  # "\ " keeps its space
            return text
        text = stripped
    return text


def _translate(glob: str) -> str:
    """A regex (for fullmatch) of a glob whose `*`/`?`/`[...]` stay within one component."""
    segments = glob.split("/")
    regex = []
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == "**":
            # Trailing "/**" matches everything inside; a leading or middle one, zero or
            # more folders.
            regex.append(".*" if last else "(?:.*/)?")
        else:
            regex.append(_translate_segment(segment) + ("" if last else "/"))
    return "".join(regex)


def _translate_segment(segment: str) -> str:
    regex = []
    index = 0
    while index < len(segment):
        char = segment[index]
        index += 1
        if char == "\\" and index < len(segment):
            regex.append(re.escape(segment[index]))
            index += 1
        elif char == "*":
            while index < len(segment) and segment[index] == "*":
                index += 1
            regex.append("[^/]*")
        elif char == "?":
            regex.append("[^/]")
        elif char == "[":
            bracket, index = _translate_bracket(segment, index)
            regex.append(bracket)
        else:
            regex.append(re.escape(char))
    return "".join(regex)


def _translate_bracket(segment: str, index: int) -> tuple[str, int]:
    """The class that starts after the `[` at `index - 1`; an unclosed `[` is literal."""
    start = index
    negated = index < len(segment) and segment[index] in "!^"
    if negated:
        index += 1
    items = []
    first = True
    while index < len(segment):
        char = segment[index]
        if char == "]" and not first:
            body = "".join(items)
            return (f"[^/{body}]" if negated else f"(?!/)[{body}]"), index + 1
        first = False
        if char == "[" and segment.startswith("[:", index):
            end = segment.find(":]", index + 2)
            name = segment[index + 2 : end] if end != -1 else ""
            if name in _POSIX_CLASSES:
                items.append(_POSIX_CLASSES[name])
                index = end + 2
                continue
        escaped = char == "\\" and index + 1 < len(segment)
        if escaped:
            index += 1
            char = segment[index]
        is_range = char == "-" and not escaped and items and segment[index + 1 : index + 2] not in ("", "]")
        if is_range:
            items.append("-")
        else:
            items.append(_escape_in_class(char))
        index += 1
    return re.escape("["), start


def _escape_in_class(char: str) -> str:
    return "\\" + char if char in "\\]^-[" else char


class _SamePolarity:
    """Patterns of one polarity compiled together: one regex match instead of one per pattern."""

    def __init__(self, patterns: Sequence[Pattern]) -> None:
        def compile_(selected: list[Pattern]) -> re.Pattern[str] | None:
            if not selected:
                return None
            return re.compile("|".join(f"(?:{p.regex})" for p in selected), re.DOTALL)

        names = [p for p in patterns if not p.anchored]
        paths = [p for p in patterns if p.anchored]
        self._names_any = compile_(names)
        self._paths_any = compile_(paths)
        self._names_files = compile_([p for p in names if not p.dir_only])
        self._paths_files = compile_([p for p in paths if not p.dir_only])

    def matches(self, relative_path: str | None, name: str, is_dir: bool) -> bool:
        names, paths = (
            (self._names_any, self._paths_any) if is_dir else (self._names_files, self._paths_files)
        )
        if names is not None and names.fullmatch(name):
            return True
        return paths is not None and relative_path is not None and bool(paths.fullmatch(relative_path))


class PatternList:
    """An ordered list of patterns where the last one that matches decides."""

    def __init__(self, patterns: Sequence[Pattern]) -> None:
        # Consecutive patterns of the same polarity give the same answer, so each run of
        # them can be tried as one; runs are tried from the last.
        self._runs: list[tuple[bool, _SamePolarity]] = []
        run: list[Pattern] = []
        for pattern in patterns:
            if run and run[-1].negated != pattern.negated:
                self._runs.append((run[-1].negated, _SamePolarity(run)))
                run = []
            run.append(pattern)
        if run:
            self._runs.append((run[-1].negated, _SamePolarity(run)))
        self._runs.reverse()

    def __bool__(self) -> bool:
        return bool(self._runs)

    def match(self, relative_path: str | None, name: str, is_dir: bool) -> bool | None:
        """True: ignored, False: re-included by a `!` pattern, None: no pattern matches.

        `relative_path` is relative to the patterns' base folder with `/` separators, or
        None for a path outside it (then only unanchored patterns can match `name`).
        """
        for negated, patterns in self._runs:
            if patterns.matches(relative_path, name, is_dir):
                return not negated
        return None


@dataclass(frozen=True)
class _Level:
    base: str  # folder of the patterns, ending with a separator
    patterns: PatternList


class GitignoreMatcher:
    """The gitignore files that apply in one folder: its own and its parents'.

    Immutable: `with_file` returns a new matcher for a subfolder, so that a walk can keep
    one matcher per folder without copying. Paths given to `is_ignored` must have the same
    form (absolute, preferably) as the bases given to `with_file`/`with_patterns`.
    """

    def __init__(self, levels: tuple[_Level, ...] = ()) -> None:
        self._levels = levels

    def with_patterns(self, patterns: Sequence[Pattern], base: str | os.PathLike[str]) -> GitignoreMatcher:
        if not patterns:
            return self
        level = _Level(os.path.join(os.fspath(base), ""), PatternList(patterns))
        return GitignoreMatcher((*self._levels, level))

    def with_file(self, gitignore: str | os.PathLike[str], base: str | os.PathLike[str]) -> GitignoreMatcher:
        """Add the patterns of the file `gitignore`, relative to `base`; raises OSError."""
        text = Path(gitignore).read_text(encoding="utf-8", errors="surrogateescape")
        return self.with_patterns(parse_lines(text.splitlines()), base)

    def is_ignored(self, path: str | os.PathLike[str], is_dir: bool) -> bool:
        path = os.fspath(path)
        for level in reversed(self._levels):
            if not path.startswith(level.base):
                continue
            relative = path[len(level.base) :]
            if os.sep != "/":
                relative = relative.replace(os.sep, "/")
            decided = level.patterns.match(relative, relative.rpartition("/")[2], is_dir)
            if decided is not None:
                return decided
        return False
