"""Turn the paths of the command line into the files to lint.

Folders are walked with `os.scandir` (no stat per file beyond what it gives), skipping
excluded and git-ignored entries without entering ignored folders. A file named on the
command line is always linted, whatever its suffix, unless `force_exclude` excludes it.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from green_lint.gitignore import GitignoreMatcher, PatternList, parse_pattern

LINTABLE_SUFFIXES = (".py", ".pyi", ".ipynb")

DEFAULT_EXCLUDE = (
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    "__pypackages__",
    "build",
    "dist",
    "node_modules",
    "site-packages",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".green-lint-cache",
    "__pycache__",
    ".ipynb_checkpoints",
)


@dataclass
class DiscoverySettings:
    root: Path
    # None: DEFAULT_EXCLUDE (as Config.exclude when the config file does not set it).
    exclude: list[str] | None = field(default_factory=lambda: list(DEFAULT_EXCLUDE))
    extend_exclude: list[str] = field(default_factory=list)
    respect_gitignore: bool = True
    # Also yield requirements*.txt, pyproject.toml and setup.cfg files found in folders.
    include_requirements: bool = True
    force_exclude: bool = False


@dataclass
class DiscoveryResult:
    files: list[Path] = field(default_factory=list)
    missing: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def display_path(self, path: Path) -> str:
        return display_path(path)


def discover(paths: list[Path], settings: DiscoverySettings) -> DiscoveryResult:
    """The files to lint under `paths`: sorted, each once, in the form the user gave."""
    return _Discovery(settings).run(paths)


def display_path(path: Path) -> str:
    """`path` relative to the current folder when it lies under it, else as given."""
    absolute = os.path.abspath(path)
    cwd = os.getcwd()
    if absolute == cwd:
        return "."
    if absolute.startswith(os.path.join(cwd, "")):
        return os.path.relpath(absolute, cwd)
    return str(path)


def is_requirements_file(path: Path) -> bool:
    """A dependency list that the requirements rules read (not Python source)."""
    return _is_requirements_name(path.name)


def _is_requirements_name(name: str) -> bool:
    return name in ("pyproject.toml", "setup.cfg") or (
        name.startswith("requirements") and name.endswith(".txt")
    )


@dataclass(frozen=True)
class _Folder:
    """A folder to walk, with the paths of it that each check needs."""

    absolute: str  # through symlinks, as the user sees it: what gitignore bases use
    real: str  # symlinks resolved: what loop detection uses
    display: str
    relative_to_root: str | None  # with "/", None outside the project root
    gitignore: GitignoreMatcher
    through_link: bool = False  # reached through a symlinked folder


class _Discovery:
    def __init__(self, settings: DiscoverySettings) -> None:
        self.settings = settings
        self.root = os.path.abspath(settings.root)
        self.real_root = os.path.realpath(settings.root)
        self.exclude = PatternList(
            [
                pattern
                for text in [*_exclude_or_default(settings.exclude), *settings.extend_exclude]
                if (pattern := parse_pattern(self._exclude_relative_to_root(text))) is not None
            ]
        )
        self.result = DiscoveryResult()
        # Real path -> (display path, whether reached through a symlink).
        self.found: dict[str, tuple[str, bool]] = {}
        self.visited_folders: set[str] = set()

    def run(self, paths: list[Path]) -> DiscoveryResult:
        for path in paths:
            self._add_explicit(path)
        files = {Path(display) for display, _ in self.found.values()}
        # Path's own ordering, without its slow __lt__.
        self.result.files = sorted(files, key=lambda path: path.parts)
        return self.result

    def _exclude_relative_to_root(self, pattern: str) -> str:
        # Users write "./src/legacy" or an absolute path as often as "src/legacy".
        if pattern.startswith("./"):
            return "/" + pattern[2:]
        if os.path.isabs(pattern):
            absolute = os.path.abspath(pattern)
            if absolute.startswith(os.path.join(self.root, "")):
                return "/" + os.path.relpath(absolute, self.root).replace(os.sep, "/")
        return pattern

    # -- paths named on the command line --------------------------------------------

    def _add_explicit(self, path: Path) -> None:
        given = os.fspath(path)
        if not os.path.exists(given):
            self.result.missing.append(path)
            if os.path.islink(given):
                self._warn_unusable_link(given)
            return
        absolute = os.path.abspath(given)
        is_dir = os.path.isdir(given)
        if self.settings.force_exclude and self._excluded_with_parents(absolute, is_dir):
            return
        if not is_dir:
            if not os.path.isfile(given):  # reading a pipe with no writer would wait for ever
                self.result.warnings.append(
                    f"{given} is not a regular file (a pipe, socket or device); skipped "
                    "(pass `-` to lint standard input)"
                )
                return
            self._add_file(os.path.realpath(given), given, through_link=False)
            return
        folder = _Folder(
            absolute=absolute,
            real=os.path.realpath(given),
            display=given,
            relative_to_root=self._relative_to_root(absolute),
            gitignore=self._gitignore_above(absolute),
        )
        self.visited_folders.add(folder.real)
        self._walk(folder)

    def _relative_to_root(self, absolute: str) -> str | None:
        relative = _relative_to(absolute, self.root)
        if relative is None:
            # The root may be spelt through a symlink (or resolved) while the path is not.
            relative = _relative_to(os.path.realpath(absolute), self.real_root)
        return relative

    def _excluded_with_parents(self, absolute: str, is_dir: bool) -> bool:
        """Whether `absolute` or one of its folders up to the root matches `exclude`."""
        relative = self._relative_to_root(absolute)
        if relative is None:
            return self._is_excluded(None, os.path.basename(absolute), is_dir)
        parts = relative.split("/") if relative else []
        for depth in range(1, len(parts) + 1):
            if self._is_excluded("/".join(parts[:depth]), parts[depth - 1], depth < len(parts) or is_dir):
                return True
        return False

    def _gitignore_above(self, folder: str) -> GitignoreMatcher:
        """The gitignore files that apply in `folder` from above it: `.git/info/exclude` and
        each `.gitignore` from the repository's top (or the project root) down to its parent.
        The walk reads `folder`'s own `.gitignore`."""
        matcher = GitignoreMatcher()
        if not self.settings.respect_gitignore:
            return matcher
        top = _git_top(folder)
        if top is not None:
            matcher = self._read_gitignore(matcher, os.path.join(top, ".git", "info", "exclude"), top)
        elif _relative_to(folder, self.root) is not None:
            top = self.root
        else:
            top = folder
        for ancestor in _folders_from_to_parent(top, folder):
            matcher = self._read_gitignore(matcher, os.path.join(ancestor, ".gitignore"), ancestor)
        return matcher

    def _read_gitignore(self, matcher: GitignoreMatcher, path: str, base: str) -> GitignoreMatcher:
        try:
            return matcher.with_file(path, base)
        except (FileNotFoundError, NotADirectoryError):
            return matcher
        except OSError as error:
            self.result.warnings.append(f"cannot read {path}: {error.strerror}; its patterns are not applied")
            return matcher

    # -- the walk ---------------------------------------------------------------------

    def _walk(self, start: _Folder) -> None:
        # Folders reached through a symlink wait until the others are done, so that a file
        # seen both ways is shown by its own path rather than through the link.
        regular = [start]
        linked: list[_Folder] = []
        while regular or linked:
            folder = regular.pop() if regular else linked.pop()
            if folder.through_link:
                if folder.real in self.visited_folders:
                    continue  # its files are found already
                self.visited_folders.add(folder.real)
            entries = self._entries(folder)
            if entries is None:
                continue
            gitignore = folder.gitignore
            if self.settings.respect_gitignore and any(e.name == ".gitignore" for e in entries):
                gitignore = self._read_gitignore(
                    gitignore, os.path.join(folder.absolute, ".gitignore"), folder.absolute
                )
            # Reversed so that the stacks pop subfolders in name order.
            for entry in reversed(entries):
                subfolder = self._visit(folder, gitignore, entry)
                if subfolder is not None:
                    (linked if subfolder.through_link else regular).append(subfolder)

    def _entries(self, folder: _Folder) -> list[os.DirEntry[str]] | None:
        try:
            with os.scandir(folder.display) as iterator:
                return sorted(iterator, key=lambda entry: entry.name)
        except OSError as error:
            self.result.warnings.append(f"cannot read folder {folder.display}: {error.strerror}; skipped")
            return None

    def _visit(self, folder: _Folder, gitignore: GitignoreMatcher, entry: os.DirEntry[str]) -> _Folder | None:
        """Record `entry` if it is a file to lint; return it if it is a folder to enter."""
        name = entry.name
        is_dir = _is_dir(entry)
        is_file = not is_dir and _is_file(entry)
        if is_file and not self._is_lintable_name(name):
            return None
        is_link = entry.is_symlink()
        if not (is_dir or is_file or is_link):
            return None  # a socket, a fifo, a device
        relative = None if folder.relative_to_root is None else _join(folder.relative_to_root, name)
        absolute = os.path.join(folder.absolute, name)
        if self._is_excluded(relative, name, is_dir) or self._is_ignored(gitignore, absolute, name, is_dir):
            return None
        display = os.path.join(folder.display, name)
        if not (is_dir or is_file):
            self._warn_unusable_link(display)
            return None
        real = os.path.realpath(display) if is_link else os.path.join(folder.real, name)
        through_link = folder.through_link or is_link
        if is_file:
            self._add_file(real, display, through_link)
            return None
        if is_link and self._is_loop(folder, display, real):
            return None
        if not through_link:
            self.visited_folders.add(real)
        return _Folder(absolute, real, display, relative, gitignore, through_link)

    def _add_file(self, real: str, display: str, through_link: bool) -> None:
        known = self.found.get(real)
        if known is None or (known[1] and not through_link):
            self.found[real] = (display, through_link)

    def _is_lintable_name(self, name: str) -> bool:
        if name.endswith(LINTABLE_SUFFIXES):
            return True
        return self.settings.include_requirements and _is_requirements_name(name)

    def _is_excluded(self, relative: str | None, name: str, is_dir: bool) -> bool:
        return bool(self.exclude.match(relative, name, is_dir))

    def _is_ignored(self, gitignore: GitignoreMatcher, absolute: str, name: str, is_dir: bool) -> bool:
        if not self.settings.respect_gitignore:
            return False
        # git never tracks its own folder, whatever `exclude` says.
        return (is_dir and name == ".git") or gitignore.is_ignored(absolute, is_dir)

    def _is_loop(self, parent: _Folder, display: str, real: str) -> bool:
        if real == parent.real or parent.real.startswith(os.path.join(real, "")):
            self.result.warnings.append(
                f"symlink loop: {display} points to {real}, which contains it; not followed"
            )
            return True
        return False

    def _warn_unusable_link(self, display: str) -> None:
        try:
            target = os.readlink(display)
        except OSError:
            target = "?"
        try:
            os.stat(display)
            return
        except OSError as error:
            reason = "symlink loop" if error.errno == errno.ELOOP else "broken symlink"
        self.result.warnings.append(f"{reason}: {display} -> {target}; skipped")


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:  # a symlink loop: reported as an unusable link
        return False


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False


def _exclude_or_default(exclude: list[str] | None) -> list[str] | tuple[str, ...]:
    return DEFAULT_EXCLUDE if exclude is None else exclude


def _relative_to(path: str, folder: str) -> str | None:
    """`path` relative to `folder` with "/" separators ("" for the folder itself), or None."""
    if path == folder:
        return ""
    prefix = os.path.join(folder, "")
    if not path.startswith(prefix):
        return None
    return path[len(prefix) :].replace(os.sep, "/")


def _join(relative: str, name: str) -> str:
    return f"{relative}/{name}" if relative else name


def _git_top(folder: str) -> str | None:
    """The nearest folder at or above `folder` that holds a `.git` (folder or file)."""
    current = folder
    while True:
        if os.path.lexists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def _folders_from_to_parent(top: str, folder: str) -> Iterator[str]:
    """`top`, then each folder down to the parent of `folder` (which lies under `top`)."""
    relative = _relative_to(folder, top)
    parts = relative.split("/")[:-1] if relative else None
    if parts is None:
        return
    current = top
    yield current
    for part in parts:
        current = os.path.join(current, part)
        yield current
