"""Write fixed text back to a user's file, changing nothing else about the file.

A fix owns the file's text, not the file: its mode, owner and hard links stay as they
were, a read-only file is left alone, a symlink is not followed out of the folders being
linted, and an edit saved while the run was going is never overwritten.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path


class Refused(Exception):
    """The file was left as it is, for a reason the user should hear (not an error)."""


def write_fixed(path: Path, read: bytes, fixed: bytes, roots: Sequence[Path] = ()) -> None:
    """Replace the content of `path`, which was `read`, by `fixed`.

    Raises Refused when the file must be left alone, OSError when writing failed (the file
    is then as it was)."""
    target = _target(path, roots)
    info = target.stat()
    if not info.st_mode & stat.S_IWUSR or not os.access(target, os.W_OK):
        raise Refused("the file is read-only; fixes not written")
    if target.read_bytes() != read:
        raise Refused("the file changed while green-lint was running; fixes not written (run it again)")
    if info.st_nlink > 1 or not _owned(info):
        # A rename would split a hard link or give the file to us: write the same inode.
        _write_in_place(target, fixed)
    else:
        write_atomically(target, fixed)


def _target(path: Path, roots: Sequence[Path]) -> Path:
    """The file to write: `path`, or where its link points if that is inside a root."""
    if not path.is_symlink():
        return path
    target = path.resolve()
    if roots and not any(target.is_relative_to(root.resolve()) for root in roots):
        raise Refused(f"it is a link to {target}, outside the linted folders; fixes not written")
    return target


def _owned(info: os.stat_result) -> bool:
    return not hasattr(os, "geteuid") or (info.st_uid == os.geteuid() and info.st_gid in _groups())


def _groups() -> set[int]:
    return {os.getegid(), *os.getgroups()}


def _write_in_place(target: Path, data: bytes) -> None:
    with open(target, "r+b") as handle:
        handle.write(data)
        handle.truncate()
        handle.flush()
        os.fsync(handle.fileno())


def write_atomically(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same folder and a rename, keeping the permissions
    of the file it replaces (a new file, such as the cache, is private: 0600)."""
    import tempfile  # here, not at the top: a check that writes nothing never needs it

    target = path.resolve()
    mode = target.stat().st_mode & 0o7777 if target.exists() else None
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
