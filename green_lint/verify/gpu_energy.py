"""GPU energy of one measured run, read in the probe (the child process).

Two meters, both reading NVIDIA's NVML:
- "codecarbon" (the default): codecarbon's own GPU tracking. It reads each GPU's energy
  counter (`nvmlDeviceGetTotalEnergyConsumption`, Volta and newer) at every interval and
  falls back to averaging power readings on older GPUs.
- "zeus" (`--meter zeus`, the `gpu` extra): Zeus's `ZeusMonitor` opens a window on the
  energy counters right before the script and closes it right after, with no sampling
  interval in between, so short runs are measured too.

Either way the GPU figures stay apart from codecarbon's CPU and RAM figures: a GPU
counter is a measurement, the CPU side may be a model (see summary.py).
"""

from __future__ import annotations

import sys
from typing import Any

from green_lint.verify.checks import JOULES_PER_KWH

COUNTER = "NVML energy counter"
POWER_READINGS = "NVML power readings"


def codecarbon_figures(tracker: Any, data: Any) -> dict[str, Any]:
    """The GPU figures of a stopped codecarbon tracker; empty when it found no GPU."""
    count = getattr(data, "gpu_count", 0) or 0
    devices = _codecarbon_devices(tracker)
    if not count or not devices:
        return {}
    methods = {
        POWER_READINGS if getattr(device, "_use_power_fallback", False) else COUNTER for device in devices
    }
    return {
        "gpu_meter": "codecarbon",
        "gpu_count": int(count),
        "gpu_model": getattr(data, "gpu_model", None),
        "gpu_method": " and ".join(sorted(methods)),
        "gpu_energy_j": float(data.gpu_energy or 0.0) * JOULES_PER_KWH,
    }


def _codecarbon_devices(tracker: Any) -> list[Any]:
    for item in getattr(tracker, "_hardware", []):
        if type(item).__name__ == "GPU":
            return list(getattr(getattr(item, "devices", None), "devices", []) or [])
    return []


class ZeusWindow:
    """One Zeus measurement window around the script's runs."""

    KEY = "green-lint-verify"

    def __init__(self) -> None:
        from zeus.monitor import ZeusMonitor

        # GPUs only (CPU energy stays codecarbon's); a window shorter than the counter's
        # update period is estimated from instant power rather than reported as zero.
        self.monitor = ZeusMonitor(cpu_indices=[], approx_instant_energy=True)
        self.names = [_zeus_gpu_name(self.monitor, index) for index in self.monitor.gpu_indices]

    def start(self) -> None:
        if self.monitor.gpu_indices:
            self.monitor.begin_window(self.KEY, sync_execution=False)

    def stop(self) -> dict[str, Any]:
        if not self.monitor.gpu_indices:
            return {"gpu_meter": "zeus", "gpu_count": 0}
        _wait_for_queued_gpu_work()
        measurement = self.monitor.end_window(self.KEY, sync_execution=False)
        by_device = {str(index): float(joules) for index, joules in measurement.gpu_energy.items()}
        return {
            "gpu_meter": "zeus",
            "gpu_count": len(by_device),
            "gpu_model": ", ".join(self.names) or None,
            "gpu_method": COUNTER,
            "gpu_energy_j": sum(by_device.values()),
            "gpu_energy_by_device_j": by_device,
        }


def _zeus_gpu_name(monitor: Any, index: int) -> str:
    try:
        name = monitor.gpus.get_name(index)
    except Exception:  # a name is for the report only
        return f"GPU {index}"
    return name.decode() if isinstance(name, bytes) else str(name)


def _wait_for_queued_gpu_work() -> None:
    """Kernels the script queued may still run when it returns: wait for them, but only
    when the script itself brought up CUDA (importing torch here would cost seconds)."""
    torch = sys.modules.get("torch")
    if torch is None:
        return
    try:
        if torch.cuda.is_initialized():
            torch.cuda.synchronize()
    except Exception:  # a broken CUDA context is the script's, not the measurement's
        pass
