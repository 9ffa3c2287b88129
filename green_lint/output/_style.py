"""ANSI colours for the formats people read; plain text when colour is off."""

from __future__ import annotations

BOLD = "1"
RED = "31"
GREEN = "32"
BLUE = "34"
CYAN = "36"


def paint(text: str, *styles: str, color: bool) -> str:
    if not color or not styles or not text:
        return text
    return f"\x1b[{';'.join(styles)}m{text}\x1b[0m"
