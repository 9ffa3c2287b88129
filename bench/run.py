"""Benchmark: green-lint against ruff and Fixit on the same large real tree.

    python bench/run.py [TREE] [--repeat N] [--skip-fixit] [--single-file-runs N]

TREE defaults to the installed scikit-learn package's sources. Prints the wall time of
each tool (best of N) and the ratios. Then the pre-commit case: one file per run, the
median of `--single-file-runs` runs of the `green-lint` console script, for a file with
no rule trigger (the usual file of a commit: no rule module and no libcst are loaded)
and for a flagged file (parsed with libcst), against ruff and Fixit on the same file. Last, the
share of files libcst parses and how many of those hold a finding (in one process;
`--skip-share` skips it). Needs ruff on PATH, and Fixit: its own venv is best,
since it pins an older click than green-lint's typer
(`python -m venv /tmp/fixit && /tmp/fixit/bin/pip install fixit`, then `--fixit
/tmp/fixit/bin/fixit`). Not a test: timings depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# A flagged file (GL103) and a file that holds no rule's trigger.
FLAGGED_FILE = ROOT / "fixtures" / "GL103" / "grid_search_from_import.py"
PLAIN_FILE_TEXT = (
    '"""A module of the kind most commits touch."""\n\n'
    "import os\n\n\n"
    "def config_path(name: str) -> str:\n"
    '    return os.path.join(os.path.expanduser("~"), ".config", name)\n'
)


def default_tree() -> Path:
    for package in ("sklearn", "torch"):
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.submodule_search_locations:
            return Path(next(iter(spec.submodule_search_locations)))
    sys.exit("no tree given and neither scikit-learn nor torch is installed")


def timed(command: list[str], cwd: Path, timeout: float) -> float | None:
    start = time.perf_counter()
    try:
        subprocess.run(
            command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return None
    return time.perf_counter() - start


def best_of(repeat: int, command: list[str], cwd: Path, timeout: float, before=None) -> float | None:
    times = []
    for _ in range(repeat):
        if before is not None:
            before()
        elapsed = timed(command, cwd, timeout)
        if elapsed is None:
            return None
        times.append(elapsed)
    return min(times)


def median_of(runs: int, command: list[str], cwd: Path) -> float | None:
    times = [timed(command, cwd, timeout=60) for _ in range(runs)]
    return None if None in times else statistics.median(times)


def single_file(runs: int, ruff: str | None, fixit: str | None) -> None:
    """The pre-commit case: start-up plus one file, as each hook run pays it."""
    workdir = Path(tempfile.mkdtemp(prefix="green-lint-bench-one-"))
    plain = workdir / "settings.py"
    plain.write_text(PLAIN_FILE_TEXT, encoding="utf-8")
    flagged = workdir / "search.py"
    shutil.copyfile(FLAGGED_FILE, flagged)
    script = Path(sys.executable).parent / "green-lint"
    green_lint = [str(script)] if script.exists() else [sys.executable, "-m", "green_lint"]
    print(f"\none file per run (the pre-commit case): median of {runs} runs")
    for label, path in (("no trigger", plain), ("flagged", flagged)):
        own = median_of(runs, [*green_lint, "--no-cache", "--exit-zero", "--quiet", str(path)], workdir)
        line = f"{label:<11} green-lint {own:.3f} s" if own else f"{label:<11} green-lint failed"
        if ruff:
            other = median_of(
                runs, [ruff, "check", "--no-cache", "--isolated", "--exit-zero", str(path)], workdir
            )
            line += f"; ruff {other:.3f} s" if other else ""
        if fixit:
            other = median_of(runs, [fixit, "lint", str(path)], workdir)
            line += f"; fixit {other:.3f} s ({other / own:.1f}x green-lint)" if other and own else ""
        print(line)
    shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("tree", nargs="?", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-fixit", action="store_true")
    parser.add_argument("--fixit", default=shutil.which("fixit"), help="the fixit executable")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--single-file-runs", type=int, default=10)
    parser.add_argument("--single-file-only", action="store_true", help="skip the large tree")
    parser.add_argument(
        "--skip-share", action="store_true", help="skip counting the files libcst parses (one process)"
    )
    parser.add_argument(
        "--baseline-python",
        help="the python of another green-lint install (e.g. an earlier commit's venv): its cold "
        "run is timed in the same run, interleaved with this one's, for a before/after ratio",
    )
    args = parser.parse_args()
    ruff = shutil.which("ruff") or shutil.which("ruff", path=str(Path(sys.executable).parent))
    fixit = None if args.skip_fixit else args.fixit
    if args.single_file_only:
        single_file(args.single_file_runs, ruff, fixit)
        return
    tree = (args.tree or default_tree()).resolve()
    files = [p for p in tree.rglob("*.py") if p.is_file()]
    lines = sum(p.read_bytes().count(b"\n") for p in files)
    print(
        f"tree: {tree} ({len(files)} .py files, {lines:,} lines); {os.cpu_count()} CPUs; best of {args.repeat}"
    )

    workdir = Path(tempfile.mkdtemp(prefix="green-lint-bench-"))
    cache = workdir / ".green-lint-cache"
    green_lint = [sys.executable, "-m", "green_lint", "check", "--exit-zero", "--quiet", str(tree)]

    def clear_cache() -> None:
        shutil.rmtree(cache, ignore_errors=True)

    results: dict[str, float | None] = {}
    results["green-lint cold"] = best_of(args.repeat, [*green_lint, "--no-cache"], workdir, args.timeout)
    if args.baseline_python:
        before = [args.baseline_python, *green_lint[1:], "--no-cache"]
        results["baseline cold"] = best_of(args.repeat, before, workdir, args.timeout)
        results["green-lint cold"] = min(
            filter(
                None,
                [
                    results["green-lint cold"],
                    best_of(args.repeat, [*green_lint, "--no-cache"], workdir, args.timeout),
                ],
            ),
            default=None,
        )
    timed(green_lint, workdir, args.timeout)  # fill the cache
    results["green-lint warm"] = best_of(args.repeat, green_lint, workdir, args.timeout)
    clear_cache()
    if ruff:
        command = [
            ruff,
            "check",
            "--no-cache",
            "--isolated",
            "--select",
            "ALL",
            "--exit-zero",
            "--quiet",
            str(tree),
        ]
        results["ruff --select ALL"] = best_of(args.repeat, command, workdir, args.timeout)
    if fixit:
        # Fixit is slow on a large tree: one run is enough to compare orders of magnitude.
        results["fixit lint"] = best_of(1, [fixit, "lint", str(tree)], workdir, args.timeout)
    shutil.rmtree(workdir, ignore_errors=True)

    for name, seconds in results.items():
        print(f"{name:<20} {'timeout' if seconds is None else f'{seconds:8.2f} s'}")
    cold, warm = results.get("green-lint cold"), results.get("green-lint warm")
    if results.get("baseline cold") and cold:
        print(f"cold, this install against the baseline: {cold / results['baseline cold']:.3f}x its time")
    for baseline in ("ruff --select ALL", "fixit lint"):
        reference = results.get(baseline)
        if reference and cold and warm:
            print(
                f"{baseline}: green-lint cold is {reference / cold:.2f}x its speed, "
                f"warm {reference / warm:.2f}x (above 1 = green-lint faster)"
            )
    if not args.skip_share:
        from prefilter_share import measure

        share = measure(tree)
        print(
            f"parsed by libcst: {share.parsed} of {share.files} files "
            f"({share.parsed / max(1, share.files):.0%}), {share.with_findings} of them with a finding "
            "(bench/prefilter_share.py ranks the rules that let files through)"
        )
    if args.single_file_runs > 0:
        single_file(args.single_file_runs, ruff, fixit)


if __name__ == "__main__":
    main()
