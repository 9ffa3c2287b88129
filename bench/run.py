"""Benchmark: green-lint against ruff and Fixit on the same large real tree.

    python bench/run.py [TREE] [--repeat N] [--skip-fixit]

TREE defaults to the installed scikit-learn package's sources. Prints the wall time of
each tool (best of N) and the ratios. Needs ruff on PATH, and Fixit: its own venv is best,
since it pins an older click than green-lint's typer
(`python -m venv /tmp/fixit && /tmp/fixit/bin/pip install fixit`, then `--fixit
/tmp/fixit/bin/fixit`). Not a test: timings depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("tree", nargs="?", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-fixit", action="store_true")
    parser.add_argument("--fixit", default=shutil.which("fixit"), help="the fixit executable")
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()
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
    timed(green_lint, workdir, args.timeout)  # fill the cache
    results["green-lint warm"] = best_of(args.repeat, green_lint, workdir, args.timeout)
    clear_cache()
    ruff = shutil.which("ruff") or shutil.which("ruff", path=str(Path(sys.executable).parent))
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
    fixit = args.fixit
    if fixit and not args.skip_fixit:
        # Fixit is slow on a large tree: one run is enough to compare orders of magnitude.
        results["fixit lint"] = best_of(1, [fixit, "lint", str(tree)], workdir, args.timeout)
    shutil.rmtree(workdir, ignore_errors=True)

    for name, seconds in results.items():
        print(f"{name:<20} {'timeout' if seconds is None else f'{seconds:8.2f} s'}")
    cold, warm = results.get("green-lint cold"), results.get("green-lint warm")
    for baseline in ("ruff --select ALL", "fixit lint"):
        reference = results.get(baseline)
        if reference and cold and warm:
            print(
                f"{baseline}: green-lint cold is {reference / cold:.2f}x its speed, "
                f"warm {reference / warm:.2f}x (above 1 = green-lint faster)"
            )


if __name__ == "__main__":
    main()
