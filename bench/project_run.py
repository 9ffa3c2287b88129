"""Benchmark: the project index on a generated project of N files.

    python bench/project_run.py [--files 500] [--runs 15]

Writes a package of N modules (a config module, an evaluation helper, training scripts
that import them and call it, and plain modules), then times, against `ruff check` on the
same file in the same run:
- the pre-commit case with a warm cache: one changed file, the module whose `evaluate()`
  GL301 judges by its callers in the other N - 1 files (median of `--runs` runs);
- the same for a training script that reads its budget from the config module;
- the whole project cold (`--no-cache`) and warm, with the peak memory of the cold run.
Not a test: timings depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONFIG = "EPOCHS = 120\nLEARNING_RATE = 0.01\nDEVICE = 'cpu'\n"
UTILS = '''"""Evaluation helpers."""

import torch


def evaluate(model, batches):
    model.eval()
    correct = 0
    for x, y in batches:
        correct += int((model(x).argmax(1) == y).sum())
    model.train()
    return correct
'''
TRAIN = '''"""Training script {index}."""

import torch
from torch import nn

from proj.config import EPOCHS, LEARNING_RATE
from proj.utils import evaluate


def run(batches):
    model = nn.Linear(4, 3)
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    for epoch in range(EPOCHS):
        for x, y in batches:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
        {call}
    return model
'''
PLAIN = '''"""A module of the kind most of a project is: helpers, data plumbing."""

import json
import os


def read_settings(path):
    with open(path) as handle:
        return json.load(handle)


def output_folder(name, root="runs"):
    folder = os.path.join(root, name)
    os.makedirs(folder, exist_ok=True)
    return folder


class Record:
    def __init__(self, name, value):
        self.name = name
        self.value = value

    def as_dict(self):
        return {{"name": self.name, "value": self.value, "index": {index}}}
'''


def write_project(root: Path, count: int) -> None:
    package = root / "proj"
    package.mkdir(parents=True)
    (root / "pyproject.toml").write_text("[tool.green-lint]\n")
    (package / "__init__.py").write_text("")
    (package / "config.py").write_text(CONFIG)
    (package / "utils.py").write_text(UTILS)
    scripts = max(1, count // 10)
    for index in range(scripts):
        call = (
            "print(evaluate(model, batches))"
            if index % 2
            else "with torch.no_grad():\n            evaluate(model, batches)"
        )
        (package / f"train_{index}.py").write_text(TRAIN.format(index=index, call=call))
    for index in range(count - scripts - 3):
        (package / f"helpers_{index}.py").write_text(PLAIN.format(index=index))


def timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, capture_output=True, check=False, timeout=600)
    return time.perf_counter() - start


def median_of(runs: int, command: list[str], cwd: Path, before=None) -> float:
    times = []
    for _ in range(runs):
        if before is not None:
            before()
        times.append(timed(command, cwd))
    return statistics.median(times)


def cold_with_memory(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall time and peak resident memory (MB) of one run in a fresh child process."""
    code = (
        "import resource, subprocess, sys, time\n"
        "start = time.perf_counter()\n"
        "subprocess.run(sys.argv[1:], capture_output=True)\n"
        "print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, *command], cwd=cwd, capture_output=True, text=True)
    seconds, peak_kb = out.stdout.split()
    return float(seconds), int(peak_kb) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--green-lint", default=shutil.which("green-lint") or "green-lint")
    args = parser.parse_args()
    ruff = shutil.which("ruff")
    green_lint = [args.green_lint]
    with tempfile.TemporaryDirectory(prefix="green-lint-project-") as folder:
        root = Path(folder)
        write_project(root, args.files)
        env_home = root / "home"
        os.environ["XDG_CACHE_HOME"] = str(env_home)  # a key of its own, not the user's
        cold, peak = cold_with_memory([*green_lint, "--no-cache", "proj"], root)
        timed([*green_lint, "proj"], root)  # fills the lint cache and the summary store
        warm = median_of(3, [*green_lint, "proj"], root)
        utils = root / "proj" / "utils.py"
        edits = iter(range(10**6))

        def touch_utils() -> None:
            utils.write_text(UTILS + f"\n# edit {next(edits)}\n")

        one_caller_judged = median_of(args.runs, [*green_lint, "proj/utils.py"], root, touch_utils)
        script = root / "proj" / "train_1.py"

        def touch_script() -> None:
            script.write_text(TRAIN.format(index=1, call="pass") + f"\n# edit {next(edits)}\n")

        one_budget = median_of(args.runs, [*green_lint, "proj/train_1.py"], root, touch_script)
        ruff_one = (
            median_of(args.runs, [ruff, "check", "--no-cache", "proj/utils.py"], root) if ruff else None
        )
        ruff_all = median_of(3, [ruff, "check", "--no-cache", "proj"], root) if ruff else None
    print(f"project of {args.files} files")
    print(f"whole project, cold: {cold:.2f} s (peak memory {peak:.0f} MB); warm: {warm:.2f} s")
    if ruff_all:
        print(
            f"  ruff check, whole project: {ruff_all:.3f} s; green-lint cold is {cold / ruff_all:.1f}x its time"
        )
    print(f"pre-commit, one changed file whose callers are in the other files: {one_caller_judged:.3f} s")
    print(f"pre-commit, one changed script reading its budget from config.py: {one_budget:.3f} s")
    if ruff_one:
        print(f"  ruff check on one file: {ruff_one:.3f} s ({one_caller_judged / ruff_one:.1f}x)")


if __name__ == "__main__":
    main()
