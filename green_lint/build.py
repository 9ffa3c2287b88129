"""Which build of green-lint is running: its version and a digest of its code.

The cache keeps findings per build, not per version: two builds with one version number
(two commits of the GitHub Action's `@main`, or an editable install after an edit to a
rule) lint differently, and one must not be served the other's findings.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
from pathlib import Path

from green_lint import __version__


@functools.cache
def build_id() -> str:
    """`0.1.0+` and 16 hex digits: the same for every install of the same code."""
    package = Path(__file__).resolve().parent
    digest = installed_code_digest(package.parent, __version__) or source_digest(_code_folders(package))
    return f"{__version__}+{digest}"


def installed_code_digest(site: Path, version: str) -> str | None:
    """A digest of the Python files an installer recorded, with their hashes, in the
    distribution's RECORD: one small file to read, and the same wherever the same wheel is
    installed (the compiled files, which differ, are left out). None for an install
    without that record of its code, such as an editable one."""
    record = site / f"green_lint-{version}.dist-info" / "RECORD"
    try:
        lines = record.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    code = sorted(
        line for line in lines if line.startswith("green_lint/") and line.split(",", 1)[0].endswith(".py")
    )
    if not code:
        return None
    return hashlib.blake2b("\n".join(code).encode(), digest_size=8).hexdigest()


def _code_folders(package: Path) -> list[Path]:
    """The engine's folder and the rule pack's (`rules/` beside it in a source checkout)."""
    folders = [package]
    rules = importlib.util.find_spec("green_lint.rules")
    if rules is not None and rules.submodule_search_locations:
        folders += [Path(folder) for folder in rules.submodule_search_locations]
    return folders


def source_digest(folders: list[Path]) -> str:
    """For a source checkout or an editable install: the paths, sizes and modification
    times of the Python files in `folders` (a stat each, no reading: editing a file
    changes them)."""
    described = []
    for folder in folders:
        for path in sorted(folder.rglob("*.py")):
            try:
                status = path.stat()
            except OSError:  # gone since it was listed
                continue
            described.append(f"{path}|{status.st_size}|{status.st_mtime_ns}")
    return hashlib.blake2b("\n".join(described).encode(), digest_size=8).hexdigest()
