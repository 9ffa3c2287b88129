"""What a lint run produces: findings with positions and text edits.

These objects are plain data: the output formats, the cache and the fixer all read them,
and none of them needs libcst.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, order=True)
class Position:
    """A 1-based row and 1-based column (in characters) inside a file or notebook cell."""

    row: int
    column: int


@dataclass(frozen=True)
class Edit:
    """Replace the text between two positions of the linted source with `content`."""

    content: str
    location: Position
    end_location: Position


@dataclass(frozen=True)
class TextFix:
    """A fix as text edits, ready to apply or to print."""

    applicability: str  # "safe" | "unsafe"
    message: str
    edits: tuple[Edit, ...]


@dataclass(frozen=True)
class RelatedLocation:
    """Another place the finding's message points to, often in another file (SARIF's
    relatedLocations): where a function flagged here is called from, say."""

    filename: str
    location: Position
    message: str


@dataclass
class Finding:
    code: str
    name: str
    message: str
    severity: str  # "warning" | "info" | "error"
    filename: str
    location: Position
    end_location: Position
    noqa_row: int
    url: str
    fix: TextFix | None = None
    # 1-based index in the notebook's list of cells; None for plain files.
    cell: int | None = None
    # Positions and edits in the linted source. They differ from `location` and `fix`
    # only in notebooks, where those are relative to the cell; the fixer works on these.
    source_location: Position | None = field(default=None, compare=False)
    source_end_location: Position | None = field(default=None, compare=False)
    source_fix: TextFix | None = field(default=None, compare=False)
    # Other places the message names (shown by the full and SARIF outputs, not in JSON).
    related: tuple[RelatedLocation, ...] = field(default=(), compare=False)

    def sort_key(self) -> tuple:
        return (self.filename, self.cell or 0, self.location, self.code)

    def to_json(self) -> dict[str, Any]:
        """The DESIGN.md JSON object (ruff-compatible field names)."""
        return {
            "code": self.code,
            "name": self.name,
            "message": self.message,
            "severity": self.severity,
            "filename": self.filename,
            "cell": self.cell,
            "location": asdict(self.location),
            "end_location": asdict(self.end_location),
            "noqa_row": self.noqa_row,
            "url": self.url,
            "fix": fix_to_json(self.fix),
        }


def fix_to_json(fix: TextFix | None) -> dict[str, Any] | None:
    if fix is None:
        return None
    return {
        "applicability": fix.applicability,
        "message": fix.message,
        "edits": [
            {
                "content": edit.content,
                "location": asdict(edit.location),
                "end_location": asdict(edit.end_location),
            }
            for edit in fix.edits
        ],
    }
