"""Lint or fix many files: a process pool when there are many, a content-hash cache."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from green_lint.cache import CachedFile, CacheLocation, LintCache, Warn, entry_key, settings_key
from green_lint.engine import LintSettings, lint_source, not_checked_findings, source_error_findings
from green_lint.findings import Finding
from green_lint.source import SourceError, SourceFile, load_source
from green_lint.write_back import Refused, write_fixed

# Below this many files a pool costs more to start than it saves (the pre-commit case).
POOL_THRESHOLD = 24


@dataclass(frozen=True)
class Job:
    path: Path
    display_path: str
    # Codes this file ignores (per-file-ignores), removed before linting.
    ignored_codes: frozenset[str] = frozenset()


@dataclass
class RunOptions:
    mode: str = "check"  # "check" | "fix" | "diff"
    unsafe_fixes: bool = False
    jobs: int | None = None
    cache: CacheLocation | None = None  # None: no cache
    # The folders and files being linted: --fix follows no symlink out of them.
    roots: tuple[Path, ...] = ()


@dataclass
class FileResult:
    display_path: str
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # Problems the user should hear of that are not failures (a file fixes were not written to).
    warnings: list[str] = field(default_factory=list)
    fixed: int = 0
    diff: str = ""
    # Source texts for code frames: display path (or "path:cellN") -> text.
    frames: dict[str, str] = field(default_factory=dict)
    cache_entry: CachedFile | None = None
    # Module summaries made while linting it (for the project's summary store).
    summaries: dict = field(default_factory=dict)


def run(
    jobs: Sequence[Job], settings: LintSettings, options: RunOptions, warn: Warn = lambda message: None
) -> list[FileResult]:
    """Lint (or fix) every job; `warn` hears of problems that do not stop the run."""
    cache = None
    if options.mode == "check" and options.cache is not None:
        name = settings_key([rule.code for rule in settings.rules], settings.rule_options)
        cache = LintCache.load(options.cache, name, warn)
    work = [
        (job, settings, options, cache.get(job.path, job.ignored_codes) if cache else None) for job in jobs
    ]
    worker_count = options.jobs or os.cpu_count() or 1
    if len(jobs) >= POOL_THRESHOLD and worker_count > 1:
        results = _run_in_pool(work, worker_count)
    else:
        results = [_process_packed(item) for item in work]
    if cache is not None:
        cache.save(
            [
                (entry_key(job.path, job.ignored_codes), r.cache_entry)
                for job, r in zip(jobs, results, strict=True)
            ]
        )
        if settings.project is not None:
            settings.project.save_summaries([r.summaries for r in results])
    return results


def _process_packed(item) -> FileResult:
    return process_file(*item)


def _run_in_pool(work: list, worker_count: int) -> list[FileResult]:
    # Imported here: the pre-commit case (a handful of files) never needs a pool.
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    # Largest files first, in small chunks: the slowest files start at once and the workers
    # finish together instead of one waiting on a chunk of large files at the end.
    order = sorted(range(len(work)), key=lambda index: _size(work[index][0].path), reverse=True)
    chunk = max(1, len(work) // (worker_count * 32))
    try:
        with ProcessPoolExecutor(max_workers=worker_count, initializer=_start_worker) as pool:
            done = pool.map(_process_packed, [work[index] for index in order], chunksize=chunk)
            results: list = [None] * len(work)
            for index, result in zip(order, done, strict=True):
                results[index] = result
            return results
    except BrokenProcessPool:
        pass
    # A worker died (a crash in a native parser, or killed for its memory): check the files
    # again one at a time, so that only the file that kills its process is lost.
    results = []
    pool = ProcessPoolExecutor(max_workers=1, initializer=_start_worker)
    try:
        for item in work:
            try:
                results.append(pool.submit(_process_packed, item).result())
            except BrokenProcessPool:
                results.append(_crashed(item))
                pool.shutdown(wait=False)
                pool = ProcessPoolExecutor(max_workers=1, initializer=_start_worker)
    finally:
        pool.shutdown(wait=False)
    return results


def _size(path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def _crashed(item) -> FileResult:
    job, settings = item[0], item[1]
    result = FileResult(display_path=job.display_path)
    reason = "the process checking it died (a crash in a native parser, or out of memory)"
    result.findings = not_checked_findings(job.display_path, reason, settings)
    return result


def _start_worker() -> None:
    from green_lint.project.modules import share_between_jobs

    _die_with_parent()
    share_between_jobs()  # a worker serves this run only


def _die_with_parent() -> None:
    """In a pool worker (Linux): die when the process that started the pool dies, even by
    SIGKILL, instead of living on as an orphan."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() == 1:  # the parent died before the request was made
        os._exit(1)


def process_file(
    job: Job, settings: LintSettings, options: RunOptions, cached: CachedFile | None = None
) -> FileResult:
    result = FileResult(display_path=job.display_path)
    if job.ignored_codes:
        settings = LintSettings(
            rules=[rule for rule in settings.rules if not ignored_by(rule.code, job.ignored_codes)],
            rule_options=settings.rule_options,
            project=settings.project,
        )
    try:
        data = job.path.read_bytes()
    except OSError as error:
        problem = SourceError(f"cannot read the file: {error.strerror or error}")
        result.findings = source_error_findings(job.display_path, problem, settings)
        return result
    digest = hashlib.blake2b(data, digest_size=16).hexdigest()
    project = settings.project
    if cached is not None and cached[0] == digest and _still_holds(project, cached[2]):
        # The same file may have been linted from another folder, under another name.
        result.findings = [
            finding if finding.filename == job.display_path else replace(finding, filename=job.display_path)
            for finding in cached[1]
        ]
        result.cache_entry = cached
        if result.findings:
            _add_frames(result, job, data)
        return result
    try:
        source = load_source(job.path, job.display_path, data)
    except SourceError as error:
        result.findings = source_error_findings(job.display_path, error, settings)
        result.cache_entry = (digest, result.findings, {})
        return result
    try:
        if options.mode == "check":
            if project is not None:
                project.start_recording()
            result.findings = lint_source(source, settings)
            depends = project.stop_recording() if project is not None else {}
            result.cache_entry = (digest, result.findings, depends)
            if project is not None:
                result.summaries = project.take_fresh()
        else:
            _fix_file(job, source, data, settings, options, result)
    except Exception as error:  # a rule crashed: report it, keep linting the other files
        if os.environ.get("GREEN_LINT_DEBUG"):
            raise
        result.errors.append(internal_error(job.display_path, error))
        return result
    if result.findings and not result.frames:  # a fix sets the frames of the fixed text
        result.frames = code_frames(source)
    return result


def _still_holds(project, depends) -> bool:
    """Whether the other files a cached lint read are unchanged (findings that depend on
    other files cannot be trusted when the project is not followed)."""
    return project.still_holds(depends) if project is not None else not depends


def ignored_by(code: str, ignored: Iterable[str]) -> bool:
    """Whether per-file-ignores (codes or prefixes) turn off the rule `code`."""
    return any(code.startswith(prefix) for prefix in ignored)


def _fix_file(
    job, source: SourceFile, data: bytes, settings, options: RunOptions, result: FileResult
) -> None:
    from green_lint.fix import fix_source

    outcome = fix_source(source, settings, unsafe=options.unsafe_fixes)
    result.errors.extend(f"{job.display_path}: {error}" for error in outcome.errors)
    if not outcome.changed(source.text):
        result.findings = outcome.remaining
        return
    new_data = source.render(outcome.text)
    if options.mode == "diff":
        result.diff = unified_diff(job.display_path, data, new_data, source.encoding)
        result.findings = outcome.remaining
        result.fixed = outcome.applied
        return
    try:
        write_fixed(job.path, data, new_data, options.roots)
    except Refused as reason:
        result.warnings.append(f"{job.display_path}: {reason}")
        result.findings = lint_source(source, settings)
        return
    except OSError as error:  # a read-only folder, a full disk: the file is as it was
        result.errors.append(f"{job.display_path}: cannot write the fixes: {error.strerror or error}")
        result.findings = lint_source(source, settings)
        return
    result.fixed = outcome.applied
    result.findings = outcome.remaining
    if result.findings:
        # Frames from the written bytes: a notebook's cells then hold their fixed text.
        _add_frames(result, job, new_data)


def internal_error(display_path: str, error: Exception) -> str:
    """One line for a rule that crashed on a file."""
    lines = str(error).strip().splitlines() or [""]
    return (
        f"{display_path}: internal error: {type(error).__name__}: {lines[0]} "
        "(set GREEN_LINT_DEBUG=1 for the traceback, and please report it)"
    )


def unified_diff(display_path: str, old: bytes, new: bytes, encoding: str = "utf-8") -> str:
    import difflib  # only --diff needs it

    # Decoded as the file is (a latin-1 file's accents are no replacement characters).
    old_text = old.decode(encoding, errors="replace").splitlines(keepends=True)
    new_text = new.decode(encoding, errors="replace").splitlines(keepends=True)
    lines = difflib.unified_diff(old_text, new_text, f"a/{display_path}", f"b/{display_path}")
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )


def code_frames(source: SourceFile) -> dict[str, str]:
    cells = getattr(source, "cell_texts", None)
    if callable(cells):
        return {f"{source.display_path}:cell{number}": text for number, text in cells().items()}
    return {source.display_path: source.text}


def _add_frames(result: FileResult, job: Job, data: bytes) -> None:
    with contextlib.suppress(SourceError):
        result.frames = code_frames(load_source(job.path, job.display_path, data))
