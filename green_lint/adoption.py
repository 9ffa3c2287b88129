"""Adopting green-lint on a repository with many findings: changed-lines mode, baselines
and `--add-noqa`. Each step narrows or records the findings of a finished run."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import typer

from green_lint.baseline import apply_baseline, covered, portable_path, read_baseline, write_baseline
from green_lint.changed_lines import ChangedFiles
from green_lint.errors import UsageProblem
from green_lint.registry import all_rules
from green_lint.runner import FileResult, Job
from green_lint.source import SourceError, SourceFile, load_source
from green_lint.write_back import Refused, write_fixed


def _source_of(job: Job) -> SourceFile | None:
    read = _read(job)
    return read[0] if read is not None else None


def _read(job: Job) -> tuple[SourceFile, bytes] | None:
    try:
        data = job.path.read_bytes()
        return load_source(job.path, job.display_path, data), data
    except (OSError, SourceError):
        return None


def _texts(jobs: Sequence[Job], results: Sequence[FileResult]) -> dict[str, str]:
    """The linted text of every file that has findings (notebooks: the joined cells)."""
    texts = {}
    for job, result in zip(jobs, results, strict=True):
        if result.findings:
            source = _source_of(job)
            if source is not None:
                texts[job.display_path] = source.text
    return texts


def keep_changed_lines(changed: ChangedFiles, jobs: Sequence[Job], results: list[FileResult]) -> None:
    """Drop the findings that touch no line changed since the merge base."""
    for job, result in zip(jobs, results, strict=True):
        result.findings = [finding for finding in result.findings if changed.keeps(finding, job.path)]


def record_baseline(path: Path, jobs: Sequence[Job], results: Sequence[FileResult]) -> int:
    """Write the findings to the baseline. Entries of an existing baseline for files this
    run did not lint (and that still exist) are kept: writing a baseline for one folder
    does not forget the others."""
    # Paths in a baseline are relative to its own folder, so it works from any folder.
    root = path.resolve().parent
    checked = _checked_paths(jobs, root)
    kept: list[dict] = []
    if path.is_file():
        try:
            kept = [e for e in read_baseline(path).entries if not covered(e["path"], checked, root)]
        except UsageProblem:
            kept = []  # not a baseline (yet): overwrite it
    findings = [finding for result in results for finding in result.findings]
    count = write_baseline(path, findings, _texts(jobs, results), root, kept)
    others = f" ({len(kept)} of them from files not checked in this run)" if kept else ""
    typer.echo(f"Wrote {count} finding{'s' if count != 1 else ''} to the baseline {path}{others}.", err=True)
    return count


def hide_baselined(path: Path, jobs: Sequence[Job], results: list[FileResult], quiet: bool) -> None:
    baseline = read_baseline(path)
    root = path.resolve().parent
    texts = _texts(jobs, results)
    findings = [finding for result in results for finding in result.findings]
    outcome = apply_baseline(baseline, findings, texts, root, _checked_paths(jobs, root))
    kept = {id(finding) for finding in outcome.kept}
    for result in results:
        result.findings = [finding for finding in result.findings if id(finding) in kept]
    if not quiet and (outcome.hidden or outcome.stale_entries):
        stale = ""
        if outcome.stale_entries:
            one = outcome.stale_entries == 1
            stale = (
                f"; {outcome.stale_entries} baseline entr{'y' if one else 'ies'} "
                f"no longer match{'es' if one else ''} anything (prune with --write-baseline)"
            )
        typer.echo(
            f"{outcome.hidden} finding{'s' if outcome.hidden != 1 else ''} hidden by the baseline{stale}.",
            err=True,
        )


def _checked_paths(jobs: Sequence[Job], root: Path) -> set[str]:
    return {portable_path(job.display_path, root) for job in jobs}


def add_noqa(jobs: Sequence[Job], results: list[FileResult]) -> int:
    """Add `# noqa: CODES` on every line with a finding; returns how many lines changed."""
    from green_lint.suppressions import with_noqa

    # A file that does not parse, and a noqa that hides nothing, are no business for a noqa.
    unsuppressible = {
        rule.code for rule in all_rules() if rule.handles_parse_errors or rule.reports_unused_suppressions
    }
    total = 0
    for job, result in zip(jobs, results, strict=True):
        suppressible = [f for f in result.findings if f.code not in unsuppressible]
        read = _read(job) if suppressible else None
        if read is None:
            continue
        source, data = read
        rows: dict[int, set[str]] = {}
        for finding in suppressible:
            rows.setdefault(_row(finding), set()).add(finding.code)
        text, added, skipped = with_noqa(source.text, rows)
        for row in skipped:
            where = next(_where(f) for f in suppressible if _row(f) == row)
            typer.echo(
                f"green-lint: warning: {job.display_path}:{where}: the line ends inside a string or with "
                "a backslash: no noqa added",
                err=True,
            )
        if added:
            try:
                write_fixed(job.path, data, source.render(text))
            except Refused as reason:
                typer.echo(f"green-lint: warning: {job.display_path}: {reason}", err=True)
                continue
            except OSError as error:
                typer.echo(
                    f"green-lint: error: cannot add noqa to {job.display_path}: {error.strerror or error}",
                    err=True,
                )
                continue
            total += added
        # What remains: findings that no comment can hide.
        hidden = {id(f) for f in suppressible if _row(f) not in skipped}
        result.findings = [f for f in result.findings if id(f) not in hidden]
    typer.echo(f"Added {total} noqa directive{'s' if total != 1 else ''}.", err=True)
    return total


def _row(finding) -> int:
    return (finding.source_location or finding.location).row


def _where(finding) -> str:
    row = finding.location.row
    return f"cell {finding.cell}:{row}" if finding.cell is not None else str(row)
