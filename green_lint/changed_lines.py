"""Changed-lines mode: which files and lines changed since the merge base with a ref.

Python files report only findings whose range touches an added or modified line (from
`git diff --unified=0`); new and untracked files report everything; for a notebook, the
findings in cells whose source changed.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from green_lint.errors import UsageProblem
from green_lint.findings import Finding

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(?P<start>\d+)(?:,(?P<count>\d+))? @@")


@dataclass
class ChangedFiles:
    top: Path
    base: str
    # repo-relative path -> added/modified rows; None means the whole file is new.
    lines: dict[str, set[int] | None] = field(default_factory=dict)

    def paths(self) -> list[Path]:
        return [self.top / relative for relative in sorted(self.lines) if (self.top / relative).exists()]

    def keeps(self, finding: Finding, path: Path) -> bool:
        relative = self._relative(path)
        if relative not in self.lines:
            return False
        rows = self.lines[relative]
        if rows is None:
            return True
        if path.suffix == ".ipynb":
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
        cache = self.__dict__.setdefault("_cells", {})
        if relative not in cache:
            old = _code_cell_sources(_git(self.top, "show", f"{self.base}:{relative}", check=False) or "")
            new = _code_cell_sources((self.top / relative).read_text(encoding="utf-8", errors="replace"))
            unchanged = Counter(old.values())
            changed = set()
            for number, source in new.items():
                if unchanged[source] > 0:
                    unchanged[source] -= 1
                else:
                    changed.add(number)
            cache[relative] = changed
        return cache[relative]


def changed_since(ref: str, cwd: Path) -> ChangedFiles:
    top_text = _git(cwd, "rev-parse", "--show-toplevel", check=False)
    if not top_text:
        raise UsageProblem(f"--diff-base needs a git repository, and {str(cwd)!r} is not in one")
    top = Path(top_text.strip()).resolve()
    if _git(top, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False) is None:
        raise UsageProblem(f"--diff-base: unknown git ref {ref!r}")
    base = (_git(top, "merge-base", ref, "HEAD", check=False) or "").strip()
    if not base:
        raise UsageProblem(f"--diff-base: {ref!r} has no common ancestor with HEAD")
    changed = ChangedFiles(top=top, base=base)
    diff = _git(top, "diff", "--unified=0", "--no-color", "--no-ext-diff", "-M", base, "--") or ""
    _parse_diff(diff, changed.lines)
    untracked = _git(top, "ls-files", "--others", "--exclude-standard") or ""
    for relative in untracked.splitlines():
        changed.lines[relative] = None
    return changed


def _parse_diff(diff: str, lines: dict[str, set[int] | None]) -> None:
    current: str | None = None
    new_file = False
    for line in diff.splitlines():
        if line.startswith("diff --git "):
            current, new_file = None, False
        elif line.startswith("new file mode"):
            new_file = True
        elif line.startswith("+++ "):
            target = line[4:]
            current = None if target == "/dev/null" else _unquote(target)[2:]
            if current is not None:
                lines[current] = None if new_file else lines.get(current) or set()
        elif current is not None and not new_file:
            match = _HUNK.match(line)
            if match:
                start = int(match.group("start"))
                count = int(match.group("count") or 1)
                lines[current].update(range(start, start + count))


def _unquote(path: str) -> str:
    if path.startswith('"') and path.endswith('"'):
        return path[1:-1].encode("latin-1").decode("unicode_escape").encode("latin-1").decode("utf-8")
    return path


def _code_cell_sources(text: str) -> dict[int, str]:
    try:
        cells = json.loads(text).get("cells", [])
    except (ValueError, AttributeError):
        return {}
    sources = {}
    for number, cell in enumerate(cells, start=1):
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            sources[number] = "".join(source) if isinstance(source, list) else str(source)
    return sources


def _git(cwd: Path, *args: str, check: bool = True) -> str | None:
    try:
        completed = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    except FileNotFoundError:
        raise UsageProblem("--diff-base needs git, which is not installed") from None
    if completed.returncode != 0:
        if check:
            raise UsageProblem(f"git {' '.join(args)} failed: {completed.stderr.strip()}")
        return None
    return completed.stdout
