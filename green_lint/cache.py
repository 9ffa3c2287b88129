"""The lint cache: each file's findings, keyed by its content hash, stored as data only.

A cache can arrive with a cloned repository, so nothing in it is trusted:
- it is JSON, never pickle, and every field is checked on reading; anything unexpected is
  a cache miss for that entry, never an error;
- each cache file carries an HMAC made with a key kept in the user's cache home (created
  on first use, never inside a project), so a cache written on another machine, or edited
  to hide findings, is a miss;
- folders below the project root are opened without following symbolic links, and files
  are created exclusively and renamed into place, so a link committed to the repository
  cannot make green-lint read a FIFO or write outside the cache folder.
A cache that cannot be read or written costs a warning and a miss: the run goes on.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import stat
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, BinaryIO

from green_lint.build import build_id
from green_lint.discovery import display_path
from green_lint.findings import Edit, Finding, Position, RelatedLocation, TextFix, fix_to_json

FORMAT = 1
KEY_FILE = "cache-key"
# A larger cache file is not read (a 671-file tree with findings writes about 1 MB).
MAX_CACHE_BYTES = 256 * 1024 * 1024
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_BINARY = getattr(os, "O_BINARY", 0)

Warn = Callable[[str], None]
# (content digest, findings, what they depend on in other files: `ProjectModules.still_holds`)
CachedFile = tuple[str, list[Finding], dict[str, Any]]


@dataclass(frozen=True)
class CacheLocation:
    """Where the cache lives: `trusted` is a folder the user chose (or the project root),
    `below` the folders under it that are created if missing and must not be links."""

    trusted: Path
    below: tuple[str, ...] = ()

    @property
    def path(self) -> Path:
        return self.trusted.joinpath(*self.below)


def location_for(root: Path, configured: Path, user_choice: Path | None, warn: Warn) -> CacheLocation:
    """The user's own choice (`--cache-dir`, GREEN_LINT_CACHE_DIR) is taken as it is; a
    `cache-dir` from the project's config must stay inside the project."""
    if user_choice is not None:
        return CacheLocation(user_choice.expanduser().absolute())
    root = Path(os.path.normpath(root.absolute()))
    target = Path(os.path.normpath(root / configured))
    try:
        below = target.relative_to(root).parts
    except ValueError:
        below = ()
    if not below:
        warn(
            f"cache-dir {str(configured)!r} is not a folder inside the project ({root}); "
            "using .green-lint-cache (set GREEN_LINT_CACHE_DIR or --cache-dir to keep it elsewhere)"
        )
        below = (".green-lint-cache",)
    return CacheLocation(root, tuple(below))


def user_cache_home() -> Path:
    """The per-user cache folder: XDG_CACHE_HOME, or the platform's usual place."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if os.path.isabs(xdg):
        return Path(xdg) / "green-lint"
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "green-lint"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "green-lint"
    return Path.home() / ".cache" / "green-lint"


def secret_key() -> bytes:
    """This user's cache key, created on first use; raises OSError when it cannot be kept."""
    try:
        folder = user_cache_home()
    except RuntimeError as error:  # no home folder to keep it in
        raise OSError(str(error)) from None
    path = folder / KEY_FILE
    key = _read_key(path)
    if key is not None:
        return key
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Written under a temporary name and linked into place: a second process never reads
    # a half-written key, and a key another process made first wins.
    temporary = folder / f".{KEY_FILE}.{secrets.token_hex(8)}"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _BINARY, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(secrets.token_hex(32).encode())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links
            os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    key = _read_key(path)
    if key is None:
        raise OSError(f"{path} does not hold a valid key; delete it and run again")
    return key


def _read_key(path: Path) -> bytes | None:
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        return None
    if len(text) != 64 or not all(c in b"0123456789abcdef" for c in text):
        return None
    return text


class LintCache:
    """Findings per file for one build of green-lint (`build.build_id`) and one set of settings."""

    def __init__(self, location: CacheLocation, name: str, key: bytes, warn: Warn) -> None:
        self.location = location
        self.name = name
        self._key = key
        self._warn = warn
        self.entries: dict[str, CachedFile] = {}

    @classmethod
    def load(cls, location: CacheLocation, settings_key: str, warn: Warn) -> LintCache | None:
        try:
            key = secret_key()
        except OSError as error:
            where = error.filename or "the user's cache folder"
            warn(f"cannot keep the cache key in {where}: {_reason(error)}; running without a cache")
            return None
        cache = cls(location, f"{settings_key}.json", key, warn)
        data = cache._read()
        if data is not None:
            cache.entries = _entries_from_data(data)
        return cache

    def get(self, path: Path, ignored_codes: Iterable[str]) -> CachedFile | None:
        return self.entries.get(entry_key(path, ignored_codes))

    def save(self, fresh: Sequence[tuple[str, CachedFile | None]]) -> None:
        """Store the entries this run produced (key, entry) and prune deleted files."""
        changed = False
        for key, entry in fresh:
            known = self.entries.get(key)
            # By value, not identity: entries come back from pool workers as copies. The
            # same digest may come with new findings when a file it depends on changed.
            if entry is not None and (known is None or known[0] != entry[0] or known[2:] != entry[2:]):
                self.entries[key] = entry
                changed = True
        for key in [key for key in self.entries if not os.path.exists(key.rpartition("|")[0])]:
            del self.entries[key]
            changed = True
        if changed:
            self._write()

    def _read(self) -> Any:
        return read_signed(self.location, self.name, self._key, self._warn)

    def _write(self) -> None:
        write_signed(self.location, self.name, self._key, _entries_to_data(self.entries), self._warn)


# -- signed JSON files -------------------------------------------------------------------


def _mac(key: bytes, name: str, payload: bytes) -> str:
    label = f"green-lint-cache/{FORMAT}/{build_id()}/{name}\0".encode()
    return hmac.new(key, label + payload, hashlib.sha256).hexdigest()


def read_signed(location: CacheLocation, name: str, key: bytes, warn: Warn) -> Any:
    """The JSON data of the cache file `name`, or None when it is missing, unsafe, or not
    signed with `key` (written on another machine, by another user, or edited)."""
    folders = (*location.below, build_id())
    try:
        with _open_regular(location.trusted, folders, name) as (handle, path):
            mac, _, payload = handle.read().partition(b"\n")
            if not hmac.compare_digest(mac, _mac(key, name, payload).encode()):
                return None
            _mark_used(handle.fileno(), path)  # one of ours: a file signed with our key
    except FileNotFoundError:
        return None
    except _Unsafe as problem:
        warn(f"cache not used: {problem}")
        return None
    except OSError as error:
        warn(f"cannot read the cache in {location.path}: {_reason(error)}")
        return None
    try:
        return json.loads(payload)
    except ValueError:
        return None


def mark_used(location: CacheLocation, name: str) -> None:
    """Date the cache file `name` as used now without reading it: a run that needed none
    of its entries (a warm run needs no module summary) still used it. A file that is
    missing, unsafe or cannot be touched is left as it is."""
    folders = (*location.below, build_id())
    with (
        contextlib.suppress(OSError, _Unsafe),
        _open_regular(location.trusted, folders, name) as (handle, path),
    ):
        _mark_used(handle.fileno(), path)


def write_signed(location: CacheLocation, name: str, key: bytes, data: Any, warn: Warn) -> None:
    payload = json.dumps(data, separators=(",", ":")).encode()
    try:
        _write_file(location, name, _mac(key, name, payload).encode() + b"\n" + payload)
    except _Unsafe as problem:
        warn(f"cache not written: {problem}")
    except OSError as error:
        warn(f"cannot write the cache in {location.path}: {_reason(error)}")


def entry_key(path: Path, ignored_codes: Iterable[str]) -> str:
    return f"{os.path.abspath(path)}|{','.join(sorted(ignored_codes))}"


def settings_key(rule_codes: Sequence[str], rule_options: dict[str, dict[str, Any]]) -> str:
    described = repr(
        (build_id(), list(rule_codes), sorted((code, sorted(o.items())) for code, o in rule_options.items()))
    )
    return hashlib.blake2b(described.encode(), digest_size=12).hexdigest()


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


# -- folders that are not links ----------------------------------------------------------


class _Unsafe(Exception):
    """A cache folder or file that is a link or not of the expected type."""


def _check_folder(path: Path, *, create: bool) -> bool:
    """True when this call created the folder. Raises _Unsafe for a link or a non-folder."""
    created = False
    if create:
        try:
            os.mkdir(path, 0o755)
            created = True
        except FileExistsError:
            pass
    info = os.lstat(path)  # FileNotFoundError when reading a cache that is not there
    if stat.S_ISLNK(info.st_mode):
        raise _Unsafe(f"{path} is a symbolic link")
    if not stat.S_ISDIR(info.st_mode):
        raise _Unsafe(f"{path} is not a folder")
    return created


@contextlib.contextmanager
def _open_regular(trusted: Path, folders: Sequence[str], name: str) -> Iterator[tuple[BinaryIO, Path]]:
    """The cache file `name`, open for reading, and its path: never through a link, and
    only a regular file of at most MAX_CACHE_BYTES (else _Unsafe)."""
    path = trusted
    for folder in folders:
        path = path / folder
        _check_folder(path, create=False)
    path = path / name
    if os.path.islink(path):
        raise _Unsafe(f"{path} is a symbolic link")
    # No link followed, and a FIFO does not block the open: its type is checked next.
    descriptor = os.open(path, os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _BINARY)
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise _Unsafe(f"{path} is not a regular file")
        if info.st_size > MAX_CACHE_BYTES:
            raise _Unsafe(f"{path} is larger than {MAX_CACHE_BYTES // 2**20} MiB")
        yield handle, path


def _mark_used(descriptor: int, path: Path) -> None:
    """Set a cache file's modification time to now: its time of last use, by which the
    GitHub Action prunes the files no run has used for a week (those of another build of
    green-lint, or of settings no longer used). Through the open file where the system allows
    it (not Windows), else by its path, just checked not to be a link. A file that cannot
    be touched is read all the same."""
    with contextlib.suppress(OSError):
        if os.utime in os.supports_fd:
            os.utime(descriptor)
        else:
            os.utime(path)


def _write_file(location: CacheLocation, name: str, data: bytes) -> None:
    folder = location.trusted
    if location.below:
        created = False
        for part in location.below:
            folder = folder / part
            created = _check_folder(folder, create=True)
    else:
        created = not folder.exists()
        folder.mkdir(parents=True, exist_ok=True)
    if created:
        _create_new(folder / ".gitignore", b"# Created by green-lint.\n*\n")
    folder = folder / build_id()
    _check_folder(folder, create=True)
    temporary = folder / f".{name}.{secrets.token_hex(8)}.tmp"
    _create_new(temporary, data, sync=True)
    try:
        # A rename replaces a link at the target; it never writes through it.
        os.replace(temporary, folder / name)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _create_new(path: Path, data: bytes, *, sync: bool = False) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _BINARY, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            if sync:
                handle.flush()
                os.fsync(handle.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise


# -- entries as JSON, checked field by field ---------------------------------------------


class _Invalid(Exception):
    pass


def _entries_to_data(entries: dict[str, CachedFile]) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "files": {
            key: {"digest": digest, "findings": [_finding_to_data(f) for f in findings], "depends": depends}
            for key, (digest, findings, depends) in entries.items()
        },
    }


def _entries_from_data(data: Any) -> dict[str, CachedFile]:
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("files"), dict):
        return {}
    entries: dict[str, CachedFile] = {}
    for key, value in data["files"].items():
        try:
            digest = _string(value, "digest")
            findings = value.get("findings")
            if not isinstance(findings, list):
                raise _Invalid
            depends = value.get("depends", {})
            if not isinstance(depends, dict):
                raise _Invalid
            entries[key] = (digest, [_finding_from_data(item) for item in findings], depends)
        except (_Invalid, AttributeError):
            continue  # this entry is a miss; the others still serve
    return entries


def _finding_to_data(finding: Finding) -> dict[str, Any]:
    # The JSON output's object, and the positions and fix in the linted source (they
    # differ from the cell-relative ones in notebooks).
    return {
        **finding.to_json(),
        "source_location": _position_to_data(finding.source_location),
        "source_end_location": _position_to_data(finding.source_end_location),
        "source_fix": fix_to_json(finding.source_fix),
        # Absolute, as the finding's own name is rewritten on a hit: the next run may
        # start in another folder.
        "related": [
            {
                "filename": os.path.abspath(related.filename),
                "location": asdict(related.location),
                "message": related.message,
            }
            for related in finding.related
        ],
    }


def _finding_from_data(data: Any) -> Finding:
    if not isinstance(data, dict):
        raise _Invalid
    severity = _string(data, "severity")
    if severity not in ("warning", "info", "error"):
        raise _Invalid
    cell = data.get("cell")
    if cell is not None and not _is_int(cell):
        raise _Invalid
    return Finding(
        code=_string(data, "code"),
        name=_string(data, "name"),
        message=_string(data, "message"),
        severity=severity,
        filename=_string(data, "filename"),
        location=_position(data.get("location")),
        end_location=_position(data.get("end_location")),
        noqa_row=_integer(data, "noqa_row"),
        url=_string(data, "url"),
        fix=_optional(_fix, data.get("fix")),
        cell=cell,
        source_location=_optional(_position, data.get("source_location")),
        source_end_location=_optional(_position, data.get("source_end_location")),
        source_fix=_optional(_fix, data.get("source_fix")),
        related=_related(data.get("related", [])),
    )


def _related(data: Any) -> tuple[RelatedLocation, ...]:
    if not isinstance(data, list):
        raise _Invalid
    related = []
    for item in data:
        if not isinstance(item, dict):
            raise _Invalid
        filename = _string(item, "filename")
        related.append(
            RelatedLocation(
                display_path(Path(filename)), _position(item.get("location")), _string(item, "message")
            )
        )
    return tuple(related)


def _position_to_data(position: Position | None) -> dict[str, int] | None:
    return None if position is None else asdict(position)


def _position(data: Any) -> Position:
    """A {"row": R, "column": C} object, as the JSON output writes positions."""
    if not isinstance(data, dict):
        raise _Invalid
    row, column = data.get("row"), data.get("column")
    if not (_is_int(row) and _is_int(column) and row >= 0 and column >= 0):
        raise _Invalid
    return Position(row, column)


def _fix(data: Any) -> TextFix:
    if not isinstance(data, dict) or data.get("applicability") not in ("safe", "unsafe"):
        raise _Invalid
    edits = data.get("edits")
    if not isinstance(edits, list):
        raise _Invalid
    parsed = []
    for edit in edits:
        if not isinstance(edit, dict) or not isinstance(edit.get("content"), str):
            raise _Invalid
        parsed.append(
            Edit(edit["content"], _position(edit.get("location")), _position(edit.get("end_location")))
        )
    return TextFix(data["applicability"], _string(data, "message"), tuple(parsed))


def _optional(parse: Callable[[Any], Any], data: Any) -> Any:
    return None if data is None else parse(data)


def _string(data: dict, key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise _Invalid
    return value


def _integer(data: dict, key: str) -> int:
    value = data.get(key)
    if not _is_int(value):
        raise _Invalid
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
