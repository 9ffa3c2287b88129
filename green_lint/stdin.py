"""Lint or fix one buffer that is not read from disk: what an editor hands over on standard
input (`green-lint check - --stdin-filename PATH`), or later a language server.

The buffer is linted as if it were the file `filename`: that name is its display path in
the findings and decides how the bytes are read, as for a file on disk (`.ipynb`: notebook
JSON; `requirements*.txt`: a dependency list; else Python). Without a name it is Python
shown as `-`. The file itself is never read or written, and no cache is involved.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from green_lint.engine import LintSettings, lint_source, source_error_findings
from green_lint.findings import Finding
from green_lint.runner import FileResult, code_frames, ignored_by, internal_error, unified_diff
from green_lint.source import SourceError, load_source

STDIN_NAME = "-"


def lint_buffer(
    data: bytes, filename: str | None, settings: LintSettings, ignored_codes: frozenset[str] = frozenset()
) -> list[Finding]:
    """The findings of `data` read as the file `filename`; `ignored_codes` are the codes
    its per-file-ignores turn off."""
    return process_buffer(data, filename, settings, "check", ignored_codes=ignored_codes)[1].findings


def fix_buffer(
    data: bytes,
    filename: str | None,
    settings: LintSettings,
    unsafe: bool = False,
    ignored_codes: frozenset[str] = frozenset(),
) -> tuple[bytes, list[Finding]]:
    """(`data` with its fixes applied, the findings left in it). The bytes are `data`
    itself when nothing was fixed or it cannot be read as source."""
    fixed, result = process_buffer(data, filename, settings, "fix", unsafe, ignored_codes)
    return fixed, result.findings


def process_buffer(
    data: bytes,
    filename: str | None,
    settings: LintSettings,
    mode: str = "check",
    unsafe: bool = False,
    ignored_codes: frozenset[str] = frozenset(),
) -> tuple[bytes, FileResult]:
    """Lint (`mode` "check"), fix ("fix") or diff the fixes ("diff") of one buffer, as
    `runner.process_file` does a file: returns the buffer after fixes (`data` unless "fix"
    changed it) and the result the reports take. A rule that crashes is an error of the
    result, not an exception."""
    display = filename or STDIN_NAME
    result = FileResult(display_path=display)
    if ignored_codes:
        kept = [rule for rule in settings.rules if not ignored_by(rule.code, ignored_codes)]
        settings = replace(settings, rules=kept)
    # Without a name the buffer is Python: "-" has no suffix, so load_source reads it so.
    path = Path(filename or STDIN_NAME)
    try:
        source = load_source(path, display, data)
    except SourceError as error:
        result.findings = source_error_findings(display, error, settings)
        return data, result
    fixed = data
    try:
        if mode == "check":
            result.findings = lint_source(source, settings)
        else:
            from green_lint.fix import fix_source

            outcome = fix_source(source, settings, unsafe=unsafe)
            result.errors.extend(f"{display}: {error}" for error in outcome.errors)
            result.findings = outcome.remaining
            if outcome.changed(source.text):
                new_data = source.render(outcome.text)
                if mode == "diff":
                    result.diff = unified_diff(display, data, new_data, source.encoding)
                else:
                    # Frames of the fixed text: a notebook's cells then show their new code.
                    source, fixed = load_source(path, display, new_data), new_data
                result.fixed = outcome.applied
    except Exception as error:  # a rule crashed: an error to report, the buffer as it was
        if os.environ.get("GREEN_LINT_DEBUG"):
            raise
        result.errors.append(internal_error(display, error))
        return data, result
    if result.findings:
        result.frames = code_frames(source)
    return fixed, result
