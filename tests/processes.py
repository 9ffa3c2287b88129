"""Helpers for tests that check what happens to processes."""

from __future__ import annotations

import time
from pathlib import Path


def alive(pid: int, wait: float = 5.0) -> bool:
    """Whether `pid` still runs after up to `wait` seconds (a zombie waiting for its
    parent to reap it counts as dead)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return False
        if state in ("Z", "X"):
            return False
        if time.monotonic() >= deadline:
            return True
        time.sleep(0.1)
