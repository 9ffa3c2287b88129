"""The `green-lint` command line: check (the default), rule, rules, verify, server.

No `from __future__ import annotations` here: typer reads the signatures at every start,
and real annotation objects spare it evaluating each one from a string."""

import contextlib
import errno
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from green_lint import __version__
from green_lint.errors import UsageProblem

app = typer.Typer(
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Find, fix and measure the energy that machine-learning code wastes.",
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
SUBCOMMANDS = ("check", "rule", "rules", "verify", "server")


def _codes(values: list[str] | None, option: str) -> list[str] | None:
    """`--select GL1,GL2 --select GL3` -> ["GL1", "GL2", "GL3"]; an empty one is refused
    (`--select ""` would otherwise select nothing and pass silently)."""
    if values is None:
        return None
    codes = [code.strip().upper() for value in values for code in value.split(",") if code.strip()]
    if not codes:
        raise UsageProblem(f"{option} needs at least one rule code or prefix (e.g. GL1 or GL103)")
    return codes


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"green-lint {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", "-V", callback=_version_callback, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """green-lint: find, fix and measure the energy that machine-learning code wastes."""


@app.command()
def check(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Files or folders (default: .); `-` reads standard input.")
    ] = None,
    select: Annotated[list[str] | None, typer.Option(help="Rule codes or prefixes to enable.")] = None,
    extend_select: Annotated[
        list[str] | None,
        typer.Option("--extend-select", help="Codes or prefixes to enable on top of the selection."),
    ] = None,
    ignore: Annotated[list[str] | None, typer.Option(help="Codes or prefixes to disable.")] = None,
    per_file_ignores: Annotated[
        list[str] | None,
        typer.Option("--per-file-ignores", help="GLOB:CODES, e.g. 'tests/*:GL1'."),
    ] = None,
    fix: Annotated[bool, typer.Option("--fix", help="Apply safe fixes.")] = False,
    unsafe_fixes: Annotated[bool, typer.Option("--unsafe-fixes", help="Also apply unsafe fixes.")] = False,
    diff: Annotated[bool, typer.Option("--diff", help="Print the fixes as a diff; write nothing.")] = False,
    output_format: Annotated[
        str | None,
        typer.Option("--output-format", help="full, concise, json, json-lines, github, sarif or gitlab."),
    ] = None,
    output_file: Annotated[Path | None, typer.Option("--output-file", "-o")] = None,
    statistics: Annotated[bool, typer.Option("--statistics", help="Count findings per rule.")] = False,
    exit_zero: Annotated[bool, typer.Option("--exit-zero", help="Exit 0 even with findings.")] = False,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not read or write the cache.")] = False,
    cache_dir: Annotated[
        Path | None,
        typer.Option("--cache-dir", help="Keep the cache here (default: .green-lint-cache in the project)."),
    ] = None,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="Worker processes.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print findings only, no summary.")] = False,
    preview: Annotated[bool | None, typer.Option("--preview/--no-preview")] = None,
    force_exclude: Annotated[
        bool,
        typer.Option(
            "--force-exclude", help="Apply exclude patterns to files named on the command line too."
        ),
    ] = False,
    diff_base: Annotated[
        str | None,
        typer.Option(
            "--diff-base",
            "--changed-since",
            help="Report only findings on lines changed since the merge base with this git ref.",
        ),
    ] = None,
    baseline: Annotated[
        Path | None, typer.Option("--baseline", help="Hide the findings recorded in this baseline file.")
    ] = None,
    write_baseline: Annotated[
        Path | None, typer.Option("--write-baseline", help="Record the current findings in this file.")
    ] = None,
    add_noqa: Annotated[
        bool, typer.Option("--add-noqa", help="Add `# noqa: CODE` comments on every line with a finding.")
    ] = False,
    config: Annotated[
        Path | None, typer.Option("--config", help="A pyproject.toml or green-lint.toml.")
    ] = None,
    stdin_filename: Annotated[
        str | None,
        typer.Option(
            "--stdin-filename",
            help="With the path `-`: the file standard input stands for (its name, config and kind).",
        ),
    ] = None,
) -> None:
    """Lint files and folders (the default command)."""
    from green_lint.check import CheckRequest, run_check

    # Built inside the guard: a bad option value is a usage error, not a traceback.
    def request() -> CheckRequest:
        return CheckRequest(
            paths=paths or [Path(".")],
            select=_codes(select, "--select"),
            extend_select=_codes(extend_select, "--extend-select") or [],
            ignore=_codes(ignore, "--ignore") or [],
            per_file_ignores=per_file_ignores or [],
            fix=fix,
            unsafe_fixes=unsafe_fixes,
            diff=diff,
            output_format=output_format,
            output_file=output_file,
            statistics=statistics,
            exit_zero=exit_zero,
            no_cache=no_cache,
            cache_dir=cache_dir,
            jobs=jobs,
            quiet=quiet,
            preview=preview,
            config=config,
            force_exclude=force_exclude,
            diff_base=diff_base,
            baseline=baseline,
            write_baseline=write_baseline,
            add_noqa=add_noqa,
            stdin_filename=stdin_filename,
        )

    raise typer.Exit(_guarded(lambda: run_check(request())))


@app.command("rule")
def rule_command(code: Annotated[str, typer.Argument(help="A rule code, e.g. GL103.")]) -> None:
    """Explain one rule: what it does, why it wastes energy, what to write instead."""
    from green_lint.explain import explain_rule

    raise typer.Exit(_guarded(explain_rule, code))


@app.command("rules")
def rules_command(
    output_format: Annotated[str, typer.Option("--output-format", help="full or json.")] = "full",
) -> None:
    """List every rule with its code, name, fix safety and status."""
    from green_lint.explain import list_rules

    raise typer.Exit(_guarded(list_rules, output_format))


@app.command("verify")
def verify_command(
    path: Annotated[Path, typer.Argument(help="A script, or a folder of scripts.")],
    rule: Annotated[
        list[str] | None, typer.Option("--rule", help="Only the fixes of these rule codes (repeatable).")
    ] = None,
    safe_only: Annotated[bool, typer.Option("--safe-only", help="Only safe fixes.")] = False,
    repeat: Annotated[
        int | None,
        typer.Option(
            "--repeat", help="Exactly this many measured pairs of runs (default: adaptive, from 5 pairs)."
        ),
    ] = None,
    max_time: Annotated[
        float | None,
        typer.Option(
            "--max-time",
            help="Adaptive runs: seconds of measuring per script before it stops adding pairs (default 600).",
        ),
    ] = None,
    warmup: Annotated[
        int | None, typer.Option("--warmup", help="Warm-up runs per version, not measured (default 1).")
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            help="Seconds one run of the program may take before it is killed (default 600); "
            "a window that repeats a short program allows that much per run.",
        ),
    ] = None,
    data: Annotated[
        list[Path] | None,
        typer.Option(
            "--data",
            help="A large read-only input inside the script's folder: linked into each run's copy, not copied "
            "(repeatable).",
        ),
    ] = None,
    tolerance: Annotated[
        list[str] | None,
        typer.Option(
            "--tolerance", help="NAME=VALUE: a RESULT value that may move by this much and stay the same."
        ),
    ] = None,
    after: Annotated[
        Path | None, typer.Option("--after", help="Compare the script with this program instead of its fix.")
    ] = None,
    against: Annotated[
        str | None,
        typer.Option(
            "--against", help="Compare the script at this git revision (before) with the working tree."
        ),
    ] = None,
    fail_over: Annotated[
        float | None,
        typer.Option(
            "--fail-over",
            help="With --against/--after: exit 1 when a regression is surely larger than this percent.",
        ),
    ] = None,
    runs_per_day: Annotated[
        float | None,
        typer.Option(
            "--runs-per-day", help="How often the script runs, for the yearly projection (default 1)."
        ),
    ] = None,
    args: Annotated[
        str | None, typer.Option("--args", help="Arguments for the script, as one string.")
    ] = None,
    country: Annotated[
        str | None, typer.Option("--country", help="ISO 3166 alpha-3 code for the carbon intensity (FRA).")
    ] = None,
    tracking_mode: Annotated[
        str | None, typer.Option("--tracking-mode", help="codecarbon's tracking mode: process or machine.")
    ] = None,
    meter: Annotated[
        str | None,
        typer.Option(
            "--meter",
            help="GPU energy meter: codecarbon (default) or zeus (windowed NVML counters; "
            "pip install 'green-lint[gpu]').",
        ),
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Also write a report: FILE.json, FILE.md or FILE.html.")
    ] = None,
    output_format: Annotated[
        str | None, typer.Option("--output-format", help="full, json or markdown (on stdout).")
    ] = None,
) -> None:
    """Run scripts before and after their fixes under codecarbon and report the measured saving."""
    from green_lint.verify.command import VerifyRequest, run_verify

    # Built inside the guard: a bad option value is a usage error, not a traceback.
    def request() -> VerifyRequest:
        return VerifyRequest(
            path=path,
            rules=_codes(rule, "--rule"),
            safe_only=safe_only,
            repeat=repeat,
            warmup=warmup,
            timeout=timeout,
            max_time=max_time,
            data=data,
            tolerance=tolerance,
            runs_per_day=runs_per_day,
            after=after,
            against=against,
            fail_over=fail_over,
            args=args,
            country=country,
            tracking_mode=tracking_mode,
            meter=meter,
            report=report,
            output_format=output_format,
        )

    raise typer.Exit(_guarded(lambda: run_verify(request())))


@app.command("server")
def server_command() -> None:
    """Run the language server on stdin/stdout, for editors (needs the `lsp` extra)."""
    from green_lint.server import run_server

    raise typer.Exit(_guarded(run_server))


def _guarded(function, *args) -> int:
    """Run a command; usage errors and crashes become one line on stderr and exit 2."""
    try:
        status = function(*args)
        sys.stdout.flush()  # an output that cannot be written fails here, not at exit
        return status
    except UsageProblem as problem:
        typer.echo(f"green-lint: error: {problem}", err=True)
        return EXIT_ERROR
    except KeyboardInterrupt:
        typer.echo("green-lint: interrupted", err=True)
        return EXIT_ERROR
    except BrokenPipeError:
        # The reader has gone (`green-lint rules | head -1`): stop quietly, as Python's docs
        # advise, with stdout pointed at nothing so that the flush at exit cannot fail too.
        _discard_stdout()
        return 1
    except Exception as error:  # never a traceback for the user
        if isinstance(error, OSError) and error.errno in _FULL:  # the files' own are handled
            _discard_stdout()
            typer.echo(f"green-lint: error: cannot write the output: {error.strerror}", err=True)
            return EXIT_ERROR
        if os.environ.get("GREEN_LINT_DEBUG"):
            raise
        lines = str(error).strip().splitlines() or [""]  # one line, whatever the message
        typer.echo(
            f"green-lint: internal error: {type(error).__name__}: {lines[0]} "
            "(set GREEN_LINT_DEBUG=1 for the traceback, and please report it)",
            err=True,
        )
        return EXIT_ERROR


_FULL = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))


def _discard_stdout() -> None:
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def main(argv: list[str] | None = None) -> None:
    """Entry point: `green-lint PATH...` means `green-lint check PATH...`."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in (*SUBCOMMANDS, "--help", "-h", "--version", "-V"):
        args.insert(0, "check")
    app(args=args, prog_name="green-lint")
