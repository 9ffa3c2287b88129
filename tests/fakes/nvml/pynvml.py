"""A fake of NVIDIA's NVML bindings (`nvidia-ml-py`, imported as `pynvml`) for CPU machines.

Put this folder first on PYTHONPATH (with the `nvidia-smi` beside it first on PATH) and
codecarbon and Zeus find GPUs that are not there. Each fake GPU draws IDLE_W all the time
and BUSY_W for every second of CPU time of the process that reads it, so a program that
does less work uses less (fake) GPU energy, and the energy counter
(`nvmlDeviceGetTotalEnergyConsumption`, millijoules since "driver load") grows with it.

Environment:
    FAKE_NVML_GPUS=N          how many GPUs (default 1; 0 = NVML works but finds none)
    FAKE_NVML_NO_COUNTER=1    no energy counter (a pre-Volta GPU): power readings only
    FAKE_NVML_FAIL_INIT=1     nvmlInit fails, as with no driver
    FAKE_NVML_IDLE_W=W        the idle draw (default 30): 0 ties the energy to CPU time
                              alone, which other load on the machine hardly changes
"""

from __future__ import annotations

import os
import time
from collections import namedtuple

IDLE_W = float(os.environ.get("FAKE_NVML_IDLE_W", "30"))
BUSY_W = 200.0
_START = time.monotonic()

NVML_SUCCESS = 0
NVML_ERROR_UNINITIALIZED = 1
NVML_ERROR_INVALID_ARGUMENT = 2
NVML_ERROR_NOT_SUPPORTED = 3
NVML_ERROR_NO_PERMISSION = 4
NVML_ERROR_ALREADY_INITIALIZED = 5
NVML_ERROR_NOT_FOUND = 6
NVML_ERROR_INSUFFICIENT_SIZE = 7
NVML_ERROR_INSUFFICIENT_POWER = 8
NVML_ERROR_DRIVER_NOT_LOADED = 9
NVML_ERROR_TIMEOUT = 10
NVML_ERROR_IRQ_ISSUE = 11
NVML_ERROR_LIBRARY_NOT_FOUND = 12
NVML_ERROR_FUNCTION_NOT_FOUND = 13
NVML_ERROR_CORRUPTED_INFOROM = 14
NVML_ERROR_GPU_IS_LOST = 15
NVML_ERROR_RESET_REQUIRED = 16
NVML_ERROR_OPERATING_SYSTEM = 17
NVML_ERROR_LIB_RM_VERSION_MISMATCH = 18
NVML_ERROR_MEMORY = 20
NVML_ERROR_UNKNOWN = 999
NVML_TEMPERATURE_GPU = 0
NVML_DEVICE_ARCH_KEPLER = 2
NVML_DEVICE_ARCH_VOLTA = 5
NVML_DEVICE_ARCH_AMPERE = 7
NVML_FEATURE_DISABLED = 0
NVML_FEATURE_ENABLED = 1
NVML_FI_DEV_POWER_AVERAGE = 185
NVML_FI_DEV_POWER_INSTANT = 186
NVML_POWER_SCOPE_GPU = 0
NVML_POWER_SCOPE_MODULE = 1
NVML_POWER_SCOPE_MEMORY = 2


class NVMLError(Exception):
    def __init__(self, value: int) -> None:
        super().__init__(f"fake NVML error {value}")
        self.value = value


class NVMLError_NotSupported(NVMLError):
    def __init__(self, value: int = NVML_ERROR_NOT_SUPPORTED) -> None:
        super().__init__(value)


c_nvmlMemory_t = namedtuple("c_nvmlMemory_t", "total free used")
_Utilization = namedtuple("_Utilization", "gpu memory")
_C2cMode = namedtuple("_C2cMode", "isC2cEnabled")
_FieldValue = namedtuple("_FieldValue", "nvmlReturn value")
_Value = namedtuple("_Value", "uiVal")


def _nvmlGetFunctionPointer(name: str) -> None:
    """Zeus refuses a `pynvml` without it (the unofficial package of that name)."""
    return None


def _gpus() -> int:
    return int(os.environ.get("FAKE_NVML_GPUS", "1"))


def _handle(handle: object) -> int:
    if not isinstance(handle, int) or not 0 <= handle < _gpus():
        raise NVMLError(NVML_ERROR_INVALID_ARGUMENT)
    return handle


def _energy_mj() -> int:
    return int(1000 * (IDLE_W * (time.monotonic() - _START) + BUSY_W * time.process_time()))


def nvmlInit() -> None:
    if os.environ.get("FAKE_NVML_FAIL_INIT"):
        raise NVMLError(NVML_ERROR_DRIVER_NOT_LOADED)


def nvmlShutdown() -> None:
    return None


def nvmlDeviceGetCount() -> int:
    return _gpus()


def nvmlDeviceGetHandleByIndex(index: int) -> int:
    return _handle(index)


def nvmlDeviceGetName(handle: int) -> str:
    return f"Fake GPU {_handle(handle)}"


def nvmlDeviceGetUUID(handle: int) -> str:
    return f"GPU-00000000-0000-0000-0000-00000000000{_handle(handle)}"


def nvmlDeviceGetArchitecture(handle: int) -> int:
    _handle(handle)
    return NVML_DEVICE_ARCH_KEPLER if os.environ.get("FAKE_NVML_NO_COUNTER") else NVML_DEVICE_ARCH_AMPERE


def nvmlDeviceGetTotalEnergyConsumption(handle: int) -> int:
    _handle(handle)
    if os.environ.get("FAKE_NVML_NO_COUNTER"):
        raise NVMLError_NotSupported()
    return _energy_mj()


def nvmlDeviceGetPowerUsage(handle: int) -> int:
    """Milliwatts: the average power of this process's life so far."""
    _handle(handle)
    elapsed = max(time.monotonic() - _START, 1e-3)
    return int(_energy_mj() / elapsed)


def nvmlDeviceGetEnforcedPowerLimit(handle: int) -> int:
    _handle(handle)
    return 300_000


nvmlDeviceGetPowerManagementLimit = nvmlDeviceGetEnforcedPowerLimit
nvmlDeviceGetPowerManagementDefaultLimit = nvmlDeviceGetEnforcedPowerLimit


def nvmlDeviceGetMemoryInfo(handle: int) -> c_nvmlMemory_t:
    _handle(handle)
    return c_nvmlMemory_t(16 << 30, 15 << 30, 1 << 30)


def nvmlDeviceGetTemperature(handle: int, sensor: int) -> int:
    _handle(handle)
    return 40


nvmlDeviceGetTemperatureV = nvmlDeviceGetTemperature


def nvmlDeviceGetUtilizationRates(handle: int) -> _Utilization:
    _handle(handle)
    return _Utilization(50, 10)


def nvmlDeviceGetComputeMode(handle: int) -> int:
    _handle(handle)
    return 0


def nvmlDeviceGetComputeRunningProcesses(handle: int) -> list:
    _handle(handle)
    return []


nvmlDeviceGetGraphicsRunningProcesses = nvmlDeviceGetComputeRunningProcesses


def nvmlDeviceGetC2cModeInfoV(handle: int) -> _C2cMode:
    _handle(handle)
    raise NVMLError(NVML_ERROR_NOT_SUPPORTED)


def nvmlDeviceGetPersistenceMode(handle: int) -> int:
    _handle(handle)
    return NVML_FEATURE_ENABLED


def nvmlDeviceGetFieldValues(handle: int, fields: list) -> list:
    """Power fields (instant, average) read as nvmlDeviceGetPowerUsage; others unsupported."""
    _handle(handle)
    values = []
    for field_id, _scope in fields:
        if field_id in (NVML_FI_DEV_POWER_INSTANT, NVML_FI_DEV_POWER_AVERAGE):
            values.append(_FieldValue(NVML_SUCCESS, _Value(nvmlDeviceGetPowerUsage(handle))))
        else:
            values.append(_FieldValue(NVML_ERROR_NOT_SUPPORTED, _Value(0)))
    return values
