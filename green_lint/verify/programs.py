"""The scripts to verify and their "after" versions: green-lint's own fix, or a suggested file.

A rule without a mechanical fix (a raw training loop without early stopping, a DataFrame
grown in a loop, eager inference that ONNX Runtime would serve) can still be measured:
the user writes the improved program as `NAME.suggested.py` beside `NAME.py`.
"""

from __future__ import annotations

import difflib
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from green_lint.engine import LintSettings, lint_source
from green_lint.errors import UsageProblem
from green_lint.fix import fix_source, fixable
from green_lint.registry import SelectionError, all_rules, select_rules
from green_lint.source import SourceError, load_source

SUGGESTED_SUFFIX = ".suggested.py"
# Expected outputs of fixers in green-lint's own fixture layout, not programs.
FIXED_SUFFIX = ".fixed.py"
NOT_SCRIPTS = ("__init__.py", "__main__.py", "setup.py", "conftest.py")
SKIPPED_FOLDERS = ("__pycache__", "node_modules", "site-packages", "venv")


# The rule that reports a file Python cannot parse: such a script runs neither way.
_PARSE_ERROR_CODES = frozenset(rule.code for rule in all_rules() if rule.handles_parse_errors)


@dataclass(frozen=True)
class RuleSelection:
    codes: tuple[str, ...] = ()  # empty: every rule, preview and off-by-default ones too
    safe_only: bool = False

    def settings(self) -> LintSettings:
        try:
            if self.codes:
                rules = select_rules(select=list(self.codes), preview=True)
            else:
                # Not the rule about unused `noqa` comments: removing a comment changes no
                # run, so measuring it would credit a saving to a rule that made none.
                every = [rule.code for rule in all_rules() if not rule.reports_unused_suppressions]
                rules = select_rules(select=every, preview=True)
        except SelectionError as error:
            raise UsageProblem(str(error)) from None
        return LintSettings(rules=rules)


@dataclass
class Program:
    """A script and, when there is one, the program to compare it with."""

    path: Path  # absolute
    display_path: str
    before_text: str
    after_text: str | None = None
    # The after version as bytes in the script's own encoding (a fix keeps the encoding).
    after_data: bytes | None = None
    after_source: str | None = None  # "fix" | "suggested" | "given" (--after, --against)
    suggested_path: Path | None = None
    # Where the after version lives when that is not the script's own place (--after FILE,
    # --against REF): it runs in a copy of its own folder, under its own name.
    after_home: Path | None = None
    rules: list[str] = field(default_factory=list)
    problem: str | None = None  # why there is no after version although there are findings
    # With --safe-only: the rules whose fixes were left out as unsafe.
    unsafe_only: list[str] = field(default_factory=list)

    @property
    def has_after(self) -> bool:
        return self.after_text is not None

    def diff(self) -> str:
        if self.after_text is None:
            return ""
        label = {"suggested": " (suggested)", "given": " (after)"}.get(self.after_source or "", " (fixed)")
        after_name = self.display_path + label
        return "".join(
            difflib.unified_diff(
                self.before_text.splitlines(keepends=True),
                self.after_text.splitlines(keepends=True),
                fromfile=self.display_path,
                tofile=after_name,
            )
        )


def find_scripts(path: Path) -> list[Path]:
    """`path` itself, or every Python script under the folder `path` (sorted)."""
    if not path.exists():
        raise UsageProblem(f"path {str(path)!r} does not exist")
    if path.is_file():
        if path.name.endswith(SUGGESTED_SUFFIX):
            raise UsageProblem(f"{str(path)!r} is a suggested version; verify the script it improves")
        if path.suffix != ".py":
            raise UsageProblem(f"{str(path)!r} is not a Python script (.py)")
        return [path]
    scripts = []
    for folder, subfolders, files in os.walk(path):
        subfolders[:] = sorted(name for name in subfolders if not _skipped_folder(name))
        scripts += [Path(folder) / name for name in sorted(files) if _is_script_name(name)]
    return scripts


def _skipped_folder(name: str) -> bool:
    return name.startswith((".", "_")) or name in SKIPPED_FOLDERS


def _is_script_name(name: str) -> bool:
    # A leading underscore marks a helper module, imported by the scripts beside it.
    return (
        name.endswith(".py")
        and not name.endswith((SUGGESTED_SUFFIX, FIXED_SUFFIX))
        and not name.startswith("_")
        and name not in NOT_SCRIPTS
    )


def prepare(path: Path, display_path: str, selection: RuleSelection) -> Program:
    """The script and its after version: its suggested file if there is one, else the fix.

    A hand-written suggested file is what its author wants compared, so it wins over the
    mechanical fix; `--rule` and `--safe-only` shape the fix only.
    """
    absolute = Path(os.path.abspath(path))
    data = absolute.read_bytes()
    try:
        source = load_source(absolute, display_path, data)
    except SourceError as error:
        return Program(absolute, display_path, data.decode("utf-8", "replace"), problem=error.message)
    program = Program(absolute, display_path, source.text)
    settings = selection.settings()
    findings = lint_source(source, settings)
    unparsed = next((f for f in findings if f.code in _PARSE_ERROR_CODES), None)
    if unparsed is not None:  # nothing runs, before or after
        program.problem = f"the script does not parse (line {unparsed.location.row}: {unparsed.message})"
        return program
    suggested = absolute.with_name(absolute.stem + SUGGESTED_SUFFIX)
    if suggested.is_file():
        program.after_text = suggested.read_text(encoding="utf-8")
        program.after_source = "suggested"
        program.suggested_path = suggested
        program.rules = _resolved(findings, suggested, display_path, settings)
        return program
    unsafe = not selection.safe_only
    outcome = fix_source(source, settings, unsafe=unsafe)
    if outcome.text != source.text:
        program.after_text = outcome.text
        program.after_data = source.render(outcome.text)
        program.after_source = "fix"
        program.rules = _codes([finding for finding in findings if fixable(finding, unsafe)])
    else:
        # Nothing to run after; the findings say what could be measured by hand.
        program.rules = _codes(findings)
        if outcome.errors:
            program.problem = "no after version could be made: " + "; ".join(outcome.errors)
        if selection.safe_only:
            program.unsafe_only = _codes([f for f in findings if fixable(f, True) and not fixable(f, False)])
    return program


def given_pair(before: Path, after: Path, display_path: str) -> Program:
    """Two programs the user names (`--after FILE`, or a script at another revision with
    `--against REF`): `after` is credited with the rules whose findings it removes."""
    before, after = Path(os.path.abspath(before)), Path(os.path.abspath(after))
    data = before.read_bytes()
    try:
        source = load_source(before, display_path, data)
    except SourceError as error:
        return Program(before, display_path, data.decode("utf-8", "replace"), problem=error.message)
    program = Program(
        before, display_path, source.text, after_source="given", suggested_path=after, after_home=after
    )
    try:
        program.after_text = after.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        program.problem = f"cannot read {after}: {error}"
        return program
    settings = RuleSelection().settings()
    program.rules = _resolved(lint_source(source, settings), after, display_path, settings)
    return program


def _resolved(findings: Sequence, suggested: Path, display_path: str, settings: LintSettings) -> list[str]:
    """The rules a suggested file answers: those with fewer findings in it than in the
    script (a rule that fires on both alike had nothing to do with the change)."""
    try:
        after = lint_source(load_source(suggested, display_path, suggested.read_bytes()), settings)
    except (SourceError, OSError):
        return _codes(findings)
    left = Counter(finding.code for finding in after)
    return sorted(
        code for code, count in Counter(finding.code for finding in findings).items() if left[code] < count
    )


def _codes(findings: Sequence) -> list[str]:
    return sorted({finding.code for finding in findings})
