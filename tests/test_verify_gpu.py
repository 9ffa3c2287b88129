"""verify measures GPU energy through NVML, apart from CPU and RAM (issue #15, section 4).

This machine has no GPU: `tests/fakes/nvml` holds a fake of NVIDIA's NVML bindings
(`pynvml`) and of `nvidia-smi`, put first on the runs' PYTHONPATH and PATH, so that
codecarbon and Zeus, unchanged, find a GPU whose energy counter grows with the work done.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from green_lint.cli import app
from green_lint.verify import probe
from green_lint.verify.report_markdown import render_markdown
from green_lint.verify.report_text import render_text
from green_lint.verify.runs import Run
from green_lint.verify.summary import gpu_energy_summary

FAKE_NVML = Path(__file__).parent / "fakes" / "nvml"


def _busy(turns: int) -> str:
    return f"total = 0\nfor i in range({turns}):\n    total += i % 7\nprint(f'RESULT total={{total % 7}}')\n"


@pytest.fixture
def pair(tmp_path) -> Path:
    (tmp_path / "before.py").write_text(_busy(2_000_000))
    (tmp_path / "after.py").write_text(_busy(1_000_000))
    return tmp_path


def _verify(folder: Path, *options: str, **fake: str) -> dict:
    environment = {
        **os.environ,
        "PATH": f"{FAKE_NVML}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": os.pathsep.join([str(FAKE_NVML), str(Path(__file__).parents[1])]),
        **fake,
    }
    command = [sys.executable, "-m", "green_lint", "verify", "before.py", "--after", "after.py"]
    completed = subprocess.run(
        [*command, "--output-format", "json", *options],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def test_codecarbon_reads_the_gpu_counter_and_the_verdict_rests_on_it(pair):
    # The warm-up calibrates loops long enough for codecarbon's 1-second intervals. Two
    # pairs bound a change only when their ratios agree (t = 12.7): the GPU's idle draw,
    # which grows with wall time, would let another process's load on the machine decide.
    report = _verify(pair, "--repeat", "2", "--warmup", "1", FAKE_NVML_IDLE_W="0")
    (entry,) = report["scripts"]
    gpu = entry["gpu_energy"]
    assert gpu["method"] == "measured" and gpu["meter"] == "codecarbon"
    assert gpu["source"] == "NVML energy counter" and gpu["devices"] == "1 x Fake GPU 0"
    assert gpu["measurable"] and gpu["after_j_median"] < 0.7 * gpu["before_j_median"]
    assert gpu["share_percent"] > 50  # the fake GPU draws far more than the modelled CPU
    assert entry["verdict"] == "saving" and entry["decision"]["figure"] == "GPU energy"
    assert "GPU energy" in entry["verdict_text"] and "measured, NVML energy counter" in entry["verdict_text"]
    # CPU and RAM stay codecarbon's model, reported apart from the measured GPU.
    parts = entry["energy"]["parts"]
    assert parts["cpu"]["method"] == "modelled" and parts["ram"]["method"] == "modelled"
    assert parts["gpu"]["method"] == "measured"
    assert report["method"]["gpu"] == {
        "meter": "codecarbon",
        "devices": "1 x Fake GPU 0",
        "source": "NVML energy counter",
        "error": None,
    }
    text = render_text(report)
    assert "GPU energy (measured with NVML energy counter via codecarbon, 1 x Fake GPU 0)" in text
    assert "GPU energy (measured with NVML energy counter via codecarbon" in render_markdown(report)


def test_zeus_windows_the_gpu_counters_around_the_script(pair):
    (entry,) = _verify(pair, "--repeat", "1", "--warmup", "0", "--meter", "zeus")["scripts"]
    gpu = entry["gpu_energy"]
    assert gpu["meter"] == "zeus" and gpu["source"] == "NVML energy counter"
    assert gpu["devices"] == "Fake GPU 0" and gpu["count"] == 1
    assert gpu["measurable"] and gpu["after_j_median"] < 0.7 * gpu["before_j_median"]
    assert all(run["gpu_meter"] == "zeus" and run["gpu_energy_j"] > 0 for run in entry["runs"])


def test_a_gpu_without_energy_counter_is_measured_from_power_readings(pair):
    (entry,) = _verify(pair, "--repeat", "1", "--warmup", "0", FAKE_NVML_NO_COUNTER="1")["scripts"]
    assert entry["gpu_energy"]["source"] == "NVML power readings"
    assert all(run["gpu_energy_j"] > 0 for run in entry["runs"])


def test_without_a_working_nvml_there_is_no_gpu_figure(pair):
    report = _verify(pair, "--repeat", "1", "--warmup", "0", FAKE_NVML_FAIL_INIT="1")
    (entry,) = report["scripts"]
    assert entry["verdict"] != "failed" and entry["gpu_energy"] is None
    assert "gpu" not in entry["energy"]["parts"] and report["method"]["gpu"] is None
    assert "GPU energy" not in render_text(report)


def test_zeus_without_gpus_reports_none(pair):
    report = _verify(pair, "--repeat", "1", "--warmup", "0", "--meter", "zeus", FAKE_NVML_GPUS="0")
    (entry,) = report["scripts"]
    assert entry["gpu_energy"] is None and entry["verdict"] != "failed"


def test_meter_zeus_without_zeus_installed_is_a_usage_error(pair, monkeypatch):
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "zeus" else find_spec(name, *a)
    )
    monkeypatch.chdir(pair)
    result = CliRunner().invoke(app, ["verify", "before.py", "--after", "after.py", "--meter", "zeus"])
    assert result.exit_code == 2
    assert "pip install 'green-lint[gpu]'" in result.output
    bogus = CliRunner().invoke(app, ["verify", "before.py", "--after", "after.py", "--meter", "rapl"])
    assert bogus.exit_code == 2 and "--meter must be codecarbon or zeus, not 'rapl'" in bogus.output


def test_a_zeus_failure_after_the_run_keeps_the_run(monkeypatch):
    class Broken:
        def stop(self):
            raise RuntimeError("GPU lost")

    figures, error = probe._stop_gpu_window(Broken(), None)
    assert figures == {} and error == "Zeus could not read the GPUs' energy: RuntimeError: GPU lost"
    assert probe._stop_gpu_window(None, "no zeus") == ({}, "no zeus")


def _run(version: str, gpu_j: float, cpu_kwh: float = 1e-6, wall: float = 3.0) -> Run:
    figures = {
        "wall_s": wall,
        "cpu_s": wall,
        "gpu_energy_j": gpu_j,
        "cpu_energy_kwh": cpu_kwh,
        "ram_energy_kwh": 0.0,
        "gpu_meter": "codecarbon",
        "gpu_method": "NVML energy counter",
        "codecarbon_duration_s": wall,
        "measure_power_secs": 1.0,
    }
    return Run(version, False, figures, exit_code=0)


def test_the_gpu_share_decides_whether_the_gpu_carries_the_verdict():
    before = [_run("before", 100.0), _run("before", 101.0), _run("before", 99.0)]
    after = [_run("after", 80.0), _run("after", 81.0), _run("after", 79.0)]
    gpu, comparison = gpu_energy_summary(before, after)
    assert gpu["share_percent"] == pytest.approx(100 * 100 / (100 + 3.6), rel=1e-6)
    assert comparison is not None and comparison.verdict == "saving"
    # A GPU that idles beside a CPU-bound script is a small share: the CPU side decides.
    idle = [_run("before", 1.0, cpu_kwh=1e-4) for _ in range(3)]
    gpu, _ = gpu_energy_summary(idle, [_run("after", 1.0, cpu_kwh=1e-4) for _ in range(3)])
    assert gpu["share_percent"] < 1
    # A run whose counter did not move cannot be compared.
    gpu, comparison = gpu_energy_summary(before, [*after[:2], _run("after", 0.0)])
    assert not gpu["measurable"] and comparison is None and gpu["saving_percent"] is None
    assert gpu_energy_summary([_run("before", 1.0)], [Run("after", False, {"wall_s": 1.0})]) == (None, None)


def test_the_parent_never_imports_codecarbon():
    """codecarbon loads GPU libraries on import (amdsmi prints to stdout without ROCm):
    only the child probe may import it, not the report's carbon intensities."""
    code = (
        "import sys\n"
        "from green_lint.verify.footprint import carbon_intensities\n"
        "assert carbon_intensities()['FRA'][1] > 0\n"
        "print('codecarbon' in sys.modules)\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == "False"


def test_the_gpu_gallery_bench_runs_on_a_fake_nvml_and_the_fixes_keep_the_results():
    """bench/verify_gpu.py, kept working for the day a GPU is there: each GPU program of
    fixtures/verify_gpu/ and its fix run on the CPU and print the same RESULT."""
    bench = Path(__file__).parents[1] / "bench" / "verify_gpu.py"
    command = [sys.executable, str(bench), "--fake-nvml", "--scale", "0.02", "--repeat", "1", "--warmup", "0"]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("fake NVML: the GPU joules below are the fake's power model")
    rows = [line for line in completed.stdout.splitlines() if line.startswith("| gl")]
    assert [row.split(" | ")[0] for row in rows] == [
        "| gl105_full_precision.py",
        "| gl106_dataloader_workers.py",
        "| gl301_inference_autograd_gpu.py",
    ]
    assert all(row.endswith("| True |") for row in rows)
    assert "GPU meter: codecarbon, NVML energy counter, devices: 1 x Fake GPU 0" in completed.stdout


def test_the_gpu_bench_says_when_there_is_no_gpu():
    bench = Path(__file__).parents[1] / "bench" / "verify_gpu.py"
    environment = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    completed = subprocess.run(
        [sys.executable, str(bench)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 1 and "No CUDA GPU here: nothing to measure" in completed.stderr
