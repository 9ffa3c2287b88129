"""`green-lint check`: settings from config and flags, discovery, the run, the report."""

from __future__ import annotations

import difflib
import os
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

import typer

from green_lint import __version__
from green_lint.engine import LintSettings
from green_lint.errors import UsageProblem
from green_lint.output import FORMATS as OUTPUT_FORMATS
from green_lint.output import STATISTICS_FORMATS
from green_lint.project import ProjectModules
from green_lint.project.store import SummaryFile
from green_lint.registry import Selection, SelectionError, all_rules, check_codes, select_layered
from green_lint.runner import Job, RunOptions, run


@dataclass
class CheckRequest:
    paths: list[Path]
    select: list[str] | None = None
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    per_file_ignores: list[str] = field(default_factory=list)
    fix: bool = False
    unsafe_fixes: bool = False
    diff: bool = False
    output_format: str | None = None
    output_file: Path | None = None
    statistics: bool = False
    exit_zero: bool = False
    no_cache: bool = False
    cache_dir: Path | None = None  # --cache-dir; else GREEN_LINT_CACHE_DIR; else the config's
    jobs: int | None = None
    quiet: bool = False
    preview: bool | None = None
    config: Path | None = None
    # pre-commit names files explicitly: let `exclude` apply to them as well.
    force_exclude: bool = False
    # Adoption: report only lines changed since this git ref; baselines; bulk noqa.
    diff_base: str | None = None
    baseline: Path | None = None
    write_baseline: Path | None = None
    add_noqa: bool = False
    # With the path `-`: the file that standard input stands for (see stdin.py).
    stdin_filename: str | None = None


def run_check(request: CheckRequest) -> int:
    from green_lint.config import ConfigError, find_config, load_config

    if request.config is not None and not request.config.is_file():
        raise UsageProblem(f"config file {str(request.config)!r} {_not_a_file(request.config)}")
    stdin = _reads_stdin(request)
    if stdin:
        # The config, per-file-ignores and project are those of the file stdin stands for.
        request = replace(request, paths=[Path(request.stdin_filename or ".")])
    missing = [] if stdin else [path for path in request.paths if not os.path.lexists(path)]
    if missing:
        raise UsageProblem(f"path {str(missing[0])!r} does not exist")
    start = request.paths[0] if request.paths[0].is_dir() else request.paths[0].parent
    try:
        config = load_config(request.config or find_config(start.resolve()))
    except ConfigError as error:
        raise UsageProblem(str(error)) from None
    output_format = _output_format(request.output_format or config.output_format or "full")
    _check_combinations(request, output_format)
    cache = None if request.no_cache or stdin else _cache_location(request, config)
    settings = _lint_settings(request, config, cache)
    if stdin:
        return _check_stdin(request, output_format, settings, config)
    changed = None
    if request.diff_base is not None:
        from green_lint.changed_lines import changed_since

        changed = changed_since(request.diff_base, start.resolve())
    jobs = _jobs(request, config)
    if changed is not None:
        wanted = {path.resolve() for path in changed.paths()}
        jobs = [job for job in jobs if job.path.resolve() in wanted]
    if not jobs:
        what = "changed Python files" if changed is not None else "Python files"
        typer.echo(f"green-lint: warning: no {what} found", err=True)
        if output_format in ("json", "sarif", "gitlab") or request.output_file is not None:
            # An empty document rather than nothing: CI parses the output or uploads the file.
            return _report(request, output_format, settings, [], config, [])
        return 0
    mode = "diff" if request.diff else "fix" if request.fix else "check"
    roots = tuple(path.resolve() for path in request.paths)
    results = run(jobs, settings, RunOptions(mode, request.unsafe_fixes, request.jobs, cache, roots), _warn)
    for warning in (warning for result in results for warning in result.warnings):
        _warn(warning)
    internal_errors = [error for result in results for error in result.errors]
    for error in internal_errors:
        typer.echo(f"green-lint: error: {error}", err=True)
    if mode == "diff":
        return _print_diffs(results, internal_errors)
    return _adopt_and_report(
        request, output_format, settings, jobs, results, config, changed, internal_errors
    )


def _reads_stdin(request: CheckRequest) -> bool:
    """Whether the path is `-` (the source comes on standard input); bad combinations are
    usage errors."""
    if not any(str(path) == "-" for path in request.paths):
        if request.stdin_filename is not None:
            raise UsageProblem(
                "--stdin-filename names the file that standard input stands for: give `-` as the path"
            )
        return False
    if len(request.paths) > 1:
        raise UsageProblem("`-` (standard input) cannot be combined with other paths")
    if request.stdin_filename == "":
        raise UsageProblem("--stdin-filename needs a file name")
    for option, given in (
        ("--diff-base", request.diff_base is not None),
        ("--baseline", request.baseline is not None),
        ("--write-baseline", request.write_baseline is not None),
        ("--add-noqa", request.add_noqa),
    ):
        if given:
            raise UsageProblem(
                f"{option} works on files on disk; it cannot be used with `-` (standard input)"
            )
    return True


def _check_stdin(request: CheckRequest, output_format: str, settings, config) -> int:
    """Lint, fix or diff standard input. With --fix stdout holds the whole source, fixed or
    not, and the report of the findings left goes to stderr, as ruff does."""
    from green_lint.config import ignored_codes_for
    from green_lint.stdin import process_buffer

    filename = request.stdin_filename
    ignores = _per_file_ignores(request, config)
    ignored = frozenset(ignored_codes_for(ignores, config.root, Path(filename))) if filename else frozenset()
    mode = "diff" if request.diff else "fix" if request.fix else "check"
    data = sys.stdin.buffer.read()
    fixed, result = process_buffer(data, filename, settings, mode, request.unsafe_fixes, ignored)
    for error in result.errors:
        typer.echo(f"green-lint: error: {error}", err=True)
    if mode == "diff":
        return _print_diffs([result], result.errors)
    if mode == "check":
        return _report(request, output_format, settings, [result], config, result.errors)
    sys.stdout.flush()
    sys.stdout.buffer.write(fixed)
    sys.stdout.buffer.flush()
    return _report(request, output_format, settings, [result], config, result.errors, sys.stderr)


def _adopt_and_report(
    request, output_format, settings, jobs, results, config, changed, internal_errors
) -> int:
    # A baseline records, and is matched against, every finding of the files checked:
    # changed-lines mode narrows only what is reported.
    baseline = request.baseline or (config.root / config.baseline if config.baseline else None)
    if request.write_baseline is None and baseline is None and changed is None and not request.add_noqa:
        return _report(request, output_format, settings, results, config, internal_errors)
    from green_lint import adoption

    if request.write_baseline is not None:
        adoption.record_baseline(request.write_baseline, jobs, results)
        return 2 if internal_errors else 0
    if baseline is not None and request.add_noqa:
        # --add-noqa is how a baseline is burnt down: it suppresses the baselined findings too.
        typer.echo(
            "green-lint: warning: --add-noqa ignores the baseline; prune it afterwards with --write-baseline",
            err=True,
        )
    elif baseline is not None:
        adoption.hide_baselined(baseline, jobs, results, request.quiet)
    if changed is not None:
        adoption.keep_changed_lines(changed, jobs, results)
    if request.add_noqa:
        adoption.add_noqa(jobs, results)  # says how many it added, on standard error
        if not any(result.findings for result in results):
            # No "All checks passed!": the findings are hidden, not gone.
            return 2 if internal_errors else 0
    return _report(request, output_format, settings, results, config, internal_errors)


def _warn(message: str) -> None:
    typer.echo(f"green-lint: warning: {message}", err=True)


def _cache_location(request: CheckRequest, config):
    from green_lint.cache import location_for

    user_choice = request.cache_dir or (
        Path(os.environ["GREEN_LINT_CACHE_DIR"]) if os.environ.get("GREEN_LINT_CACHE_DIR") else None
    )
    return location_for(Path(config.root), Path(config.cache_dir), user_choice, _warn)


def _output_format(name: str) -> str:
    if name in OUTPUT_FORMATS:
        return name
    close = difflib.get_close_matches(name, OUTPUT_FORMATS, n=1)
    hint = f"; did you mean {close[0]}?" if close else f"; choose from {', '.join(OUTPUT_FORMATS)}"
    raise UsageProblem(f"unknown output format {name!r}{hint}")


def _lint_settings(request: CheckRequest, config, cache=None) -> LintSettings:
    preview = config.preview if request.preview is None else request.preview
    try:
        # The flags over the file: as in ruff, `--select` starts afresh.
        flags = Selection(request.select, tuple(request.extend_select), tuple(request.ignore))
        rules = select_layered([config.selection(), flags], preview)
    except SelectionError as error:
        raise UsageProblem(str(error)) from None
    # The project's own modules are looked for from each file, from the given paths and
    # from the configuration's root (a pre-commit run names one file of a whole project).
    # Their summaries are kept in the cache folder between runs.
    roots = [path.resolve() for path in request.paths] + [Path(config.root).resolve()]
    store = SummaryFile(cache) if cache is not None else None
    return LintSettings(rules=rules, rule_options=config.rules, project=ProjectModules(roots, store))


def _per_file_ignores(request: CheckRequest, config) -> dict[str, list[str]]:
    from green_lint.config import ConfigError, check_glob, glob_regex

    merged = {pattern: list(codes) for pattern, codes in config.per_file_ignores.items()}
    for entry in request.per_file_ignores:
        pattern, separator, codes = entry.rpartition(":")
        if not separator or not pattern:
            raise UsageProblem(f"--per-file-ignores expects GLOB:CODES, not {entry!r}")
        code_list = [code.strip().upper() for code in codes.split(",") if code.strip()]
        try:
            check_codes(code_list)
            check_glob(pattern.removeprefix("!"), "--per-file-ignores", "the command line", glob_regex)
        except SelectionError as error:
            raise UsageProblem(f"--per-file-ignores: {error}") from None
        except ConfigError as error:
            raise UsageProblem(str(error)) from None
        merged.setdefault(pattern, []).extend(code_list)
    return merged


def _jobs(request: CheckRequest, config) -> list[Job]:
    from green_lint.config import ignored_codes_for
    from green_lint.discovery import DiscoverySettings, discover

    discovery = discover(
        list(request.paths),
        DiscoverySettings(
            root=config.root,
            exclude=config.exclude,
            extend_exclude=config.extend_exclude,
            respect_gitignore=config.respect_gitignore,
            force_exclude=request.force_exclude,
        ),
    )
    for warning in discovery.warnings:
        typer.echo(f"green-lint: warning: {warning}", err=True)
    ignores = _per_file_ignores(request, config)
    return [
        Job(path, discovery.display_path(path), frozenset(ignored_codes_for(ignores, config.root, path)))
        for path in discovery.files
    ]


def _print_diffs(results, internal_errors) -> int:
    diffs = [result.diff for result in results if result.diff]
    sys.stdout.write("".join(diffs))
    fixes = sum(result.fixed for result in results)
    if diffs:
        typer.echo(f"Would fix {fixes} finding{'s' if fixes != 1 else ''}.", err=True)
    if internal_errors:
        return 2
    return 1 if diffs else 0


def _not_a_file(path: Path) -> str:
    if not os.path.lexists(path):
        return "does not exist"
    return "is a folder, not a TOML file" if path.is_dir() else "is not a regular file"


def _check_combinations(request: CheckRequest, output_format: str) -> None:
    """Options that would silently override one another are refused."""
    if request.diff and (request.output_format is not None or request.output_file is not None):
        raise UsageProblem("--diff prints a unified diff on stdout; it takes no --output-format or -o")
    if request.statistics and request.output_format is not None and output_format not in STATISTICS_FORMATS:
        raise UsageProblem(
            f"--statistics prints counts per rule as text or JSON; it cannot be combined with "
            f"--output-format {output_format}"
        )


def _repository_root(config_root: Path) -> Path:
    """What paths in machine formats (SARIF, GitLab, GitHub annotations) are relative to:
    the git repository holding the configuration (a monorepo's config may sit in a
    subfolder), or the working directory outside git."""
    for folder in (config_root.resolve(), *config_root.resolve().parents):
        if (folder / ".git").exists():
            return folder
    return Path.cwd()


def _report(request, output_format, settings, results, config, internal_errors, stream=None) -> int:
    from green_lint.output import render
    from green_lint.output.report import RunReport

    findings = sorted((f for result in results for f in result.findings), key=lambda f: f.sort_key())
    frames = {key: text for result in results for key, text in result.frames.items()}
    report = RunReport(
        findings=findings,
        rules={rule.code: rule for rule in all_rules()},
        sources=frames,
        root=_repository_root(Path(config.root)),
        files_checked=len(results),
        files_with_errors=sum(bool(result.errors) for result in results),
        fixed=sum(result.fixed for result in results),
        unsafe_fixes_enabled=request.unsafe_fixes,
        color=_use_color(request),
        statistics=request.statistics,
        quiet=request.quiet,
        version=__version__,
    )
    text = render(output_format, report)
    if request.output_file is not None:
        try:
            request.output_file.write_text(text, encoding="utf-8")
        except OSError as error:
            raise UsageProblem(f"cannot write {str(request.output_file)!r}: {error.strerror}") from None
    else:
        (stream or sys.stdout).write(text)
    if internal_errors:
        return 2
    return 1 if findings and not request.exit_zero else 0


def _use_color(request: CheckRequest) -> bool:
    if request.output_file is not None or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return sys.stdout.isatty()
