"""A scratch copy of a script's folder for each measured run: the script reads its
neighbours (modules, configs, small data) as it would at home, and whatever it writes
(`model.pt`, `results.csv`) lands in the copy, never in the user's folder, and never in
the other version's run.

The copy follows the folder's `.gitignore` files (and leaves out `.git`, virtual
environments and caches); a folder larger than the cap is refused with the way out:
`--data PATH` for large read-only inputs, which are linked into the copy, not copied."""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from green_lint.gitignore import GitignoreMatcher

# The most a copy may hold; larger inputs go through --data.
SIZE_CAP_BYTES = 200 * 1024 * 1024
SKIPPED_FOLDERS = frozenset(
    {".git", ".hg", ".venv", "venv", "env", "__pycache__", "node_modules", ".green-lint-cache", ".mypy_cache"}
)


class SandboxProblem(Exception):
    """The folder cannot be copied for the runs (too large, unreadable)."""


@dataclass
class Sandbox:
    """The copy of one run: where it is, and what it held before the run."""

    root: Path
    before: dict[str, tuple[int, int]] = field(default_factory=dict)  # relative path -> (size, mtime)
    # The --data inputs: the user's own files, linked, not copied (or read where they are).
    data: tuple[Path, ...] = ()
    data_before: dict[str, tuple[int, int]] = field(default_factory=dict)  # absolute path -> stamp

    def mark(self) -> None:
        """What the copy holds now is what the run found."""
        self.before = _stamps(self.root)
        self.data_before = _data_stamps(self.data)

    def written_to_data(self) -> list[str]:
        """The files of the --data inputs the run created, changed or deleted: in the
        user's folder, since those inputs are linked. Nothing can stop a script from
        writing there; verify can only find out, and say so."""
        after = _data_stamps(self.data)
        return sorted(
            path
            for path in after.keys() | self.data_before.keys()
            if after.get(path) != self.data_before.get(path)
        )

    def written(self) -> list[str]:
        """The files the run created or changed, relative to the folder, sorted."""
        return sorted(
            relative for relative, stamp in _stamps(self.root).items() if self.before.get(relative) != stamp
        )


def plan_copy(folder: Path, data: tuple[Path, ...] = (), cap: int = SIZE_CAP_BYTES) -> list[str]:
    """The files of `folder` to copy (relative paths, sorted); raises SandboxProblem over the cap.
    Files under a `--data` path are linked instead and do not count."""
    folder = folder.resolve()
    linked = [path.resolve() for path in data]
    chosen, total = [], 0
    for path in _files(folder, _gitignore_of(folder)):
        if any(path == target or target in path.parents for target in linked):
            continue
        total += path.stat().st_size
        if total > cap:
            raise SandboxProblem(
                f"{folder} holds more than {cap // (1024 * 1024)} MB besides the script: verify copies the "
                "folder for every run so that nothing is written in it; pass large read-only inputs with "
                "--data PATH (linked, not copied), or add the files the script does not read to .gitignore "
                "(ignored files are left out of the copy)"
            )
        chosen.append(path.relative_to(folder).as_posix())
    return sorted(chosen)


def make(folder: Path, files: list[str], dest: Path, data: tuple[Path, ...] = ()) -> Sandbox:
    """Copy `files` of `folder` into `dest` and link the `--data` paths inside it."""
    folder = folder.resolve()
    dest.mkdir(parents=True, exist_ok=True)
    for relative in files:
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(folder / relative, target)
    for path in data:
        path = path.resolve()
        if folder in path.parents:  # outside the folder, the script reaches it where it is
            link = dest / path.relative_to(folder)
            link.parent.mkdir(parents=True, exist_ok=True)
            if not link.exists():
                link.symlink_to(path, target_is_directory=path.is_dir())
    sandbox = Sandbox(dest, data=tuple(path.resolve() for path in data))
    sandbox.mark()
    return sandbox


def _files(folder: Path, gitignore: GitignoreMatcher):
    matchers = {str(folder): gitignore}  # each folder's own and its parents' .gitignore
    for current, folders, names in os.walk(folder):
        here = Path(current)
        matcher = matchers.pop(current)
        if (here / ".gitignore").is_file():
            with contextlib.suppress(OSError):
                matcher = matcher.with_file(here / ".gitignore", here)
        folders[:] = [
            name
            for name in sorted(folders)
            if name not in SKIPPED_FOLDERS
            and not name.endswith(".egg-info")
            and not matcher.is_ignored(str(here / name), True)
        ]
        matchers.update((os.path.join(current, name), matcher) for name in folders)
        for name in sorted(names):
            path = here / name
            if path.is_file() and not path.is_symlink() and not matcher.is_ignored(str(path), False):
                yield path


def _gitignore_of(folder: Path) -> GitignoreMatcher:
    """The .gitignore files above `folder`, up to its repository's top."""
    above = []
    for parent in (folder, *folder.parents):
        if parent != folder and (parent / ".gitignore").is_file():
            above.append(parent)
        if (parent / ".git").exists():
            break
    matcher = GitignoreMatcher()
    for parent in reversed(above):
        try:
            matcher = matcher.with_file(parent / ".gitignore", parent)
        except OSError:
            continue
    return matcher


def _stamps(root: Path) -> dict[str, tuple[int, int]]:
    stamps = {}
    for current, _folders, names in os.walk(root):
        for name in names:
            path = Path(current) / name
            if path.is_symlink():
                continue
            stat = path.stat()
            stamps[path.relative_to(root).as_posix()] = (stat.st_size, stat.st_mtime_ns)
    return stamps


def _data_stamps(paths: tuple[Path, ...]) -> dict[str, tuple[int, int]]:
    stamps = {}
    for path in paths:
        if path.is_dir():
            found = [Path(folder) / name for folder, _, names in os.walk(path) for name in names]
        else:
            found = [path]
        for file in found:
            with contextlib.suppress(OSError):
                stat = file.stat()
                stamps[str(file)] = (stat.st_size, stat.st_mtime_ns)
    return stamps
