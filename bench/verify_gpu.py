"""Measure the GPU gallery (fixtures/verify_gpu/) with `green-lint verify`, on a CUDA GPU.

    python bench/verify_gpu.py [--meter codecarbon|zeus] [--scale 1.0] [--report out.html]
    python bench/verify_gpu.py --fake-nvml --scale 0.02 --repeat 1   # a dry run on a CPU

The gallery's GPU programs (mixed precision, DataLoader workers, no_grad) run before and
after their fix, with GPU energy read from NVML by codecarbon or by Zeus (`--meter zeus`,
`pip install 'green-lint[gpu]'`), and the table printed here gives, for each, the GPU
energy and time before and after with the saving's 95% interval, and whether the result
stayed the same. This project has no GPU yet: without one the script says so and exits 1.
`--fake-nvml` runs the whole path on a CPU against tests/fakes/nvml, whose "GPU" draws a
fixed power per second of CPU time: its joules are the fake's, not a measurement, and the
script says so.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GALLERY = ROOT / "fixtures" / "verify_gpu"
FAKE_NVML = ROOT / "tests" / "fakes" / "nvml"
# Half precision may move the last digit of an accuracy.
TOLERANCES = ("accuracy=0.02", "loss=0.02")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--meter", choices=("codecarbon", "zeus"), default="codecarbon")
    parser.add_argument("--scale", type=float, default=1.0, help="the programs' amount of work (default 1)")
    parser.add_argument(
        "--repeat", type=int, help="exactly this many pairs (default: verify's adaptive runs)"
    )
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--report", type=Path, help="also write verify's report (.json, .md or .html)")
    parser.add_argument("--fake-nvml", action="store_true", help="a dry run on a CPU against a fake NVML")
    options = parser.parse_args(argv)
    environment = {**os.environ, "GREEN_LINT_VERIFY_SCALE": str(options.scale)}
    if options.fake_nvml:
        environment["PATH"] = f"{FAKE_NVML}{os.pathsep}{environment.get('PATH', '')}"
        environment["PYTHONPATH"] = os.pathsep.join(
            [str(FAKE_NVML), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
        )
        print("fake NVML: the GPU joules below are the fake's power model, not a measurement.")
    elif not _cuda_available():
        print(
            "No CUDA GPU here: nothing to measure. The GPU programs are in fixtures/verify_gpu/; "
            "GPU energy is tested against a fake NVML (tests/test_verify_gpu.py); --fake-nvml "
            "runs this script on a CPU.",
            file=sys.stderr,
        )
        return 1
    report = _verify(options, environment)
    print(_table(report))
    return 0


def _cuda_available() -> bool:
    probe = "import torch; print(torch.cuda.is_available())"
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    return completed.stdout.strip() == "True"


def _verify(options: argparse.Namespace, environment: dict[str, str]) -> dict:
    command = [sys.executable, "-m", "green_lint", "verify", str(GALLERY), "--meter", options.meter]
    command += ["--warmup", str(options.warmup), "--output-format", "json"]
    command += [part for tolerance in TOLERANCES for part in ("--tolerance", tolerance)]
    if options.repeat is not None:
        command += ["--repeat", str(options.repeat)]
    if options.report is not None:
        command += ["--report", str(options.report.resolve())]
    completed = subprocess.run(
        command, env=environment, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False
    )
    if completed.returncode not in (0, 1):
        raise SystemExit(f"green-lint verify failed with exit status {completed.returncode}")
    return json.loads(completed.stdout)


def _table(report: dict) -> str:
    lines = [
        "| program | verdict | GPU energy J before -> after | GPU saving (95% CI) | time saving (95% CI) | same result |",
        "|---|---|---|---|---|---|",
    ]
    for entry in report["scripts"]:
        gpu, time = entry.get("gpu_energy"), entry.get("time")
        energy = "-" if not gpu else f"{gpu['before_j_median']:.1f} -> {gpu['after_j_median']:.1f}"
        lines.append(
            f"| {Path(entry['path']).name} | {entry['verdict_text'] or entry['message']} | {energy} "
            f"| {_saving(gpu)} | {_saving(time)} | {entry.get('same_result')} |"
        )
    gpu_method = report["method"].get("gpu") or {}
    lines.append(
        f"\nGPU meter: {gpu_method.get('meter')}, {gpu_method.get('source')}, devices: {gpu_method.get('devices')}"
        + (f"; error: {gpu_method['error']}" if gpu_method.get("error") else "")
    )
    return "\n".join(lines)


def _saving(figure: dict | None) -> str:
    if not figure or figure.get("saving_percent") is None:
        return "-"
    interval = figure.get("ci95_percent")
    bounds = f" ({interval[0]:.0f} to {interval[1]:.0f}%)" if interval else ""
    return f"{figure['saving_percent']:.0f}%{bounds}"


if __name__ == "__main__":
    sys.exit(main())
