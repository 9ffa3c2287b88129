"""Module summaries kept between runs, by file path and content digest, in the cache folder
beside the lint cache: a warm run summarises only the files that changed.

The file is the lint cache's kind of file (JSON with an HMAC made with the user's own
key: a store that arrives with a cloned repository is not read). Every field is checked
when an entry is read; an entry that does not read back is a miss, never an error.
Constants are kept as their `repr` and read back with `ast.literal_eval`, which evaluates
literals only.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from green_lint.cache import CacheLocation, mark_used, read_signed, secret_key, write_signed
from green_lint.project.functions import Call, Function
from green_lint.project.summary import Constant, ModuleSummary
from green_lint.project.uses import Use

# Bump when what a summary holds, or how it is read, changes: older entries are then misses.
FORMAT = 6
STORE_NAME = "project-summaries.json"


@dataclass(frozen=True)
class SummaryFile:
    """Where the store lives: the lint cache's folder. Problems reading or writing it are
    the lint cache's to report (same folder); here they only cost a miss."""

    location: CacheLocation

    def load(self) -> SummaryStore:
        key = _key()
        if key is None:
            return SummaryStore()
        return SummaryStore.from_data(read_signed(self.location, STORE_NAME, key, _quiet))

    def save(self, fresh: dict[str, Any]) -> None:
        """Add `fresh` entries to the stored ones (read again: other runs may have added some)."""
        key = _key()
        if key is None:
            return
        store = SummaryStore.from_data(read_signed(self.location, STORE_NAME, key, _quiet))
        store.entries.update(fresh)
        write_signed(self.location, STORE_NAME, key, store.to_data(), _quiet)

    def mark_used(self) -> None:
        """A run that made no summary still used the store (a warm run reads none):
        dated, so that the GitHub Action does not prune it as unused."""
        mark_used(self.location, STORE_NAME)


def _key() -> bytes | None:
    try:
        return secret_key()
    except OSError:
        return None


def _quiet(message: str) -> None:
    pass


class SummaryStore:
    def __init__(self, entries: dict[str, Any] | None = None) -> None:
        # path -> {"digest": ..., "summary": ...}: as read, turned into summaries on use.
        self.entries: dict[str, Any] = entries or {}
        self.fresh: dict[str, Any] = {}  # the entries this process made

    def get(self, path: Path, digest: str) -> ModuleSummary | None:
        entry = self.entries.get(str(path))
        if not isinstance(entry, dict) or entry.get("digest") != digest:
            return None
        try:
            return summary_from_data(entry["summary"], path)
        except (KeyError, TypeError, ValueError, SyntaxError, AttributeError, RecursionError, MemoryError):
            return None

    def put(self, path: Path, digest: str, summary: ModuleSummary) -> None:
        entry = {"digest": digest, "summary": summary_to_data(summary)}
        self.entries[str(path)] = self.fresh[str(path)] = entry

    def take_fresh(self) -> dict[str, Any]:
        fresh, self.fresh = self.fresh, {}
        return fresh

    def to_data(self) -> dict[str, Any]:
        files = {path: entry for path, entry in self.entries.items() if os.path.exists(path)}
        return {"format": FORMAT, "files": files}

    @classmethod
    def from_data(cls, data: Any) -> SummaryStore:
        if (
            not isinstance(data, dict)
            or data.get("format") != FORMAT
            or not isinstance(data.get("files"), dict)
        ):
            return cls()
        return cls(dict(data["files"]))


def summary_to_data(summary: ModuleSummary) -> dict[str, Any]:
    return {
        "constants": {name: [repr(c.value), c.line] for name, c in summary.constants.items()},
        "imports": summary.imports,
        "functions": {
            name: [
                f.line,
                list(f.parameters),
                list(f.decorators),
                [[call.callee, sorted(call.reads), call.line] for call in f.calls],
                f.declares_global,
                f.trains,
            ]
            for name, f in summary.functions.items()
        },
        "classes": summary.classes,
        "training_methods": {cls: sorted(methods) for cls, methods in summary.training_methods.items()},
        "uses": [
            [
                u.callee,
                u.line,
                u.grad_off,
                u.trained,
                u.loaded,
                u.backward,
                list(u.parsed_arguments),
                [list(pair) for pair in u.literals],
                list(u.arguments),
                u.starred,
            ]
            for u in summary.uses
        ],
        "argument_defaults": {name: [repr(c.value), c.line] for name, c in summary.argument_defaults.items()},
        "mode_dependent_classes": sorted(summary.mode_dependent_classes),
        "star_imports": list(summary.star_imports),
    }


def summary_from_data(data: dict[str, Any], path: Path) -> ModuleSummary:
    def constants(table: dict) -> dict[str, Constant]:
        return {
            _text(name): Constant(ast.literal_eval(_text(value)), path, _int(line))
            for name, (value, line) in table.items()
        }

    functions = {}
    for name, (line, parameters, decorators, calls, declares_global, trains) in data["functions"].items():
        functions[_text(name)] = Function(
            _text(name),
            path,
            _int(line),
            tuple(map(_text, parameters)),
            tuple(map(_text, decorators)),
            tuple(Call(_text(c), frozenset(map(_text, reads)), _int(at)) for c, reads, at in calls),
            _flag(declares_global),
            _flag(trains),
        )
    uses = tuple(
        Use(
            _text(callee),
            _int(line),
            _flag(off),
            _flag(trained),
            _flag(loaded),
            _flag(back),
            tuple(map(_text, parsed)),
            tuple((_text(key), _text(literal)) for key, literal in literals),
            tuple(map(_text, arguments)),
            _flag(starred),
        )
        for callee, line, off, trained, loaded, back, parsed, literals, arguments, starred in data["uses"]
    )
    return ModuleSummary(
        constants(data["constants"]),
        {_text(k): _text(v) for k, v in data["imports"].items()},
        functions,
        {_text(k): _int(v) for k, v in data["classes"].items()},
        {_text(k): frozenset(map(_text, v)) for k, v in data["training_methods"].items()},
        uses,
        constants(data["argument_defaults"]),
        frozenset(map(_text, data["mode_dependent_classes"])),
        tuple(map(_text, data["star_imports"])),
    )


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError
    return value


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError
    return value


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError
    return value
