"""Changed-lines mode: which files and lines changed since the merge base with a ref.

Python files report only findings whose range touches an added or modified line (from
`git diff --unified=0`); new and untracked files report everything; for a notebook, the
findings in cells whose source changed. A renamed file reports only its edited lines.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import typer

from green_lint.errors import UsageProblem
from green_lint.findings import Finding

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(?P<start>\d+)(?:,(?P<count>\d+))? @@")
# git quotes a path with special characters as a C string: \t, \", \\ and octal bytes.
_ESCAPE = re.compile(rb"\\([0-7]{1,3}|.)")
_C_ESCAPES = {b"a": 7, b"b": 8, b"t": 9, b"n": 10, b"v": 11, b"f": 12, b"r": 13}
# Options that make the diff's format independent of the user's git configuration
# (diff.noprefix, diff.mnemonicPrefix, diff.external, textconv drivers, colours, quoting).
_DIFF_OPTIONS = (
    "--unified=0",
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--src-prefix=a/",
    "--dst-prefix=b/",
    "-M",
)


@dataclass
class ChangedFiles:
    top: Path
    base: str
    # repo-relative path -> added/modified rows; None means the whole file is new.
    lines: dict[str, set[int] | None] = field(default_factory=dict)
    # repo-relative path of a renamed file -> its path at the base.
    renamed_from: dict[str, str] = field(default_factory=dict)
    _cells: dict[str, set[int]] = field(default_factory=dict, repr=False)

    def paths(self) -> list[Path]:
        return [self.top / relative for relative in sorted(self.lines) if (self.top / relative).exists()]

    def keeps(self, finding: Finding, path: Path) -> bool:
        relative = self._relative(path)
        if relative not in self.lines:
            return False
        rows = self.lines[relative]
        if rows is None:
            return True
        if path.suffix.lower() == ".ipynb":
            return finding.cell in self._changed_cells(relative)
        start = (finding.source_location or finding.location).row
        end = (finding.source_end_location or finding.end_location).row
        return any(row in rows for row in range(start, end + 1))

    def _relative(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.top).as_posix()
        except ValueError:
            return path.as_posix()

    def _changed_cells(self, relative: str) -> set[int]:
        """The code cells whose source is not the source of a code cell at the base."""
        if relative not in self._cells:
            old_path = self.renamed_from.get(relative, relative)
            old = _code_cell_sources(_git(self.top, "show", f"{self.base}:{old_path}", check=False) or "")
            new = _code_cell_sources((self.top / relative).read_text(encoding="utf-8", errors="replace"))
            unchanged = Counter(old.values())
            changed = set()
            for number, source in new.items():
                if unchanged[source] > 0:
                    unchanged[source] -= 1
                else:
                    changed.add(number)
            self._cells[relative] = changed
        return self._cells[relative]


def changed_since(ref: str, cwd: Path) -> ChangedFiles:
    top_text = _git(cwd, "rev-parse", "--show-toplevel", check=False)
    if not top_text or not top_text.strip():
        raise UsageProblem(f"--diff-base needs a git repository, and {str(cwd)!r} is not in one")
    top = Path(top_text.strip()).resolve()
    if (
        ref.startswith("-")
        or _git(top, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False) is None
    ):
        raise UsageProblem(f"--diff-base: unknown git ref {ref!r}")
    base = (_git(top, "merge-base", ref, "HEAD", check=False) or "").strip()
    if not base:
        shallow = (_git(top, "rev-parse", "--is-shallow-repository", check=False) or "").strip() == "true"
        if not shallow:
            raise UsageProblem(f"--diff-base: {ref!r} has no common ancestor with HEAD")
        # A shallow clone (CI) often lacks the history that joins the two: compare with
        # the ref itself, which is exact when HEAD is a merge of the branch into it.
        typer.echo(
            f"green-lint: warning: --diff-base: the clone is too shallow to find the merge base of "
            f"{ref!r} and HEAD; comparing with {ref!r} itself (fetch more history for an exact answer)",
            err=True,
        )
        base = (_git(top, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}") or "").strip()
    changed = ChangedFiles(top=top, base=base)
    diff = _git(top, "-c", "core.quotePath=false", "diff", *_DIFF_OPTIONS, base, "--") or ""
    _parse_diff(diff, changed)
    untracked = _git(top, "ls-files", "-z", "--others", "--exclude-standard") or ""
    for relative in untracked.split("\0"):
        if relative:
            changed.lines[relative] = None
    return changed


def _parse_diff(diff: str, changed: ChangedFiles) -> None:
    lines = changed.lines
    current: str | None = None
    new_file = False
    rename_from: str | None = None
    for line in diff.splitlines():
        if line.startswith("diff --git "):
            current, new_file, rename_from = None, False, None
        elif current is None and line.startswith("new file mode"):
            new_file = True
        elif current is None and line.startswith("rename from "):
            rename_from = _path(line[len("rename from ") :])
        elif current is None and line.startswith("+++ "):
            target = _path(line[4:])
            current = None if target == "/dev/null" else target[2:]
            if current is not None:
                lines[current] = None if new_file else lines.get(current) or set()
                if rename_from is not None:
                    changed.renamed_from[current] = rename_from
        elif current is not None and not new_file:
            match = _HUNK.match(line)
            if match:
                start = int(match.group("start"))
                count = int(match.group("count") or 1)
                lines[current].update(range(start, start + count))


def _path(text: str) -> str:
    """A path as git prints it in a diff header: maybe C-quoted, maybe followed by a tab
    (git adds one after a name that contains a space)."""
    if text.startswith('"'):
        end = text.rfind('"')
        if end > 0:
            return _unquote(text[1:end])
    return text[:-1] if text.endswith("\t") else text


def _unquote(quoted: str) -> str:
    def replace(match: re.Match) -> bytes:
        escape = match.group(1)
        if escape[:1].isdigit():
            return bytes([int(escape, 8) & 0xFF])
        return bytes([_C_ESCAPES[escape]]) if escape in _C_ESCAPES else escape

    raw = _ESCAPE.sub(replace, quoted.encode("utf-8", errors="surrogateescape"))
    return raw.decode("utf-8", errors="surrogateescape")


def _code_cell_sources(text: str) -> dict[int, str]:
    try:
        cells = json.loads(text).get("cells", [])
    except (ValueError, AttributeError):
        return {}
    if not isinstance(cells, list):
        return {}
    sources = {}
    for number, cell in enumerate(cells, start=1):
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            sources[number] = "".join(source) if isinstance(source, list) else str(source)
    return sources


def _git(cwd: Path, *args: str, check: bool = True) -> str | None:
    try:
        completed = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            # The diff holds the files' text, which need not be UTF-8: never fail on it.
            encoding="utf-8",
            errors="surrogateescape",
        )
    except FileNotFoundError:
        raise UsageProblem("--diff-base needs git, which is not installed") from None
    except NotADirectoryError:
        raise UsageProblem(f"--diff-base: {str(cwd)!r} is not a folder") from None
    if completed.returncode != 0:
        if check:
            raise UsageProblem(f"git {' '.join(args)} failed: {completed.stderr.strip()}")
        return None
    return completed.stdout
