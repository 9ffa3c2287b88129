"""The Python files (and notebooks) of a project, and those that mention a name: where the calls of a
function of one module may be. Listed once per process; a file is read only to look for
the name, and never run."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

from green_lint.discovery import DEFAULT_EXCLUDE

# A project larger than this is not searched further (a monorepo named by mistake).
MAX_PROJECT_FILES = 20_000
MAX_FILE_BYTES = 8_000_000
_SKIPPED_FOLDERS = frozenset(DEFAULT_EXCLUDE) | {"env", ".eggs", ".git", ".idea", ".vscode"}


class ProjectFiles:
    def __init__(self) -> None:
        self._listings: dict[str, tuple[str, ...]] = {}
        self._mentions: dict[tuple[tuple[str, ...], bytes], list[Path]] = {}
        self._fingerprints: dict[tuple[str, ...], str] = {}

    def mentioning(self, name: str, folders: Iterable[Path]) -> list[Path]:
        """The `.py` files and notebooks under `folders` whose text contains `name`."""
        roots = _outermost(os.path.realpath(folder) for folder in folders)
        key = (roots, name.encode())
        if key not in self._mentions:
            self._mentions[key] = [Path(path) for path in self.listing(roots) if _contains(path, key[1])]
        return self._mentions[key]

    def fingerprint(self, folders: Iterable[Path]) -> str:
        """A digest of the names, sizes and modification times of the files under
        `folders`: unchanged, no file there was added, removed or edited (stat only)."""
        roots = _outermost(os.path.realpath(folder) for folder in folders)
        if roots not in self._fingerprints:
            described = hashlib.blake2b(digest_size=16)
            for path in self.listing(roots):
                try:
                    info = os.stat(path)
                except OSError:
                    continue
                # A name that is not valid UTF-8 holds surrogates (PEP 383): encoded back as it was.
                described.update(
                    f"{path}\0{info.st_size}\0{info.st_mtime_ns}\n".encode("utf-8", "surrogateescape")
                )
            self._fingerprints[roots] = described.hexdigest()
        return self._fingerprints[roots]

    def listing(self, roots: tuple[str, ...]) -> tuple[str, ...]:
        files: list[str] = []
        for root in roots:
            if root not in self._listings:
                self._listings[root] = tuple(_python_files(root))
            files.extend(self._listings[root])
        return tuple(files[:MAX_PROJECT_FILES])


def _outermost(folders: Iterable[str]) -> tuple[str, ...]:
    """The folders, without those inside another of them (each file is listed once)."""
    kept: list[str] = []
    for folder in sorted(set(folders), key=len):
        if not any(folder == other or folder.startswith(other.rstrip(os.sep) + os.sep) for other in kept):
            kept.append(folder)
    return tuple(kept)


def _python_files(root: str) -> list[str]:
    found: list[str] = []
    pending = [root]
    while pending and len(found) < MAX_PROJECT_FILES:
        folder = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in sorted(entries, key=lambda entry: entry.name):
            try:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in _SKIPPED_FOLDERS and not entry.name.startswith("."):
                        pending.append(entry.path)
                elif entry.name.endswith((".py", ".ipynb")) and entry.is_file(follow_symlinks=False):
                    found.append(entry.path)
            except OSError:
                continue
    return found


def _contains(path: str, word: bytes) -> bool:
    try:
        with open(path, "rb") as handle:
            return word in handle.read(MAX_FILE_BYTES + 1)
    except OSError:
        return False
