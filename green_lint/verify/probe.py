"""The child process of one measured run: run a script under a fresh codecarbon tracker.

    python -m green_lint.verify.probe --result R.json --stdout-file S.txt --work-dir W \
        --code-path CODE.py --shown-path ORIGINAL.py [--country FRA] [--tracking-mode process] \
        [--measure-power-secs 1] [--meter codecarbon|zeus] -- ARGS...

The script's own stdout goes to `--stdout-file` (so that nothing of the probe mixes with
it); the figures go to `--result` as one JSON object. This is the only module of
green-lint that imports codecarbon, and only when it runs as a child.

codecarbon itself imports numpy and pandas before the measurement starts, so a script's
own imports of them cost nothing in the measured window (in both versions alike).
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import ipaddress
import json
import os
import resource
import runpy
import sys
import time
import traceback
from pathlib import Path

from green_lint.verify import gpu_energy
from green_lint.verify.choices import METERS, TRACKING_MODES

RESULT_PREFIX = "RESULT"
# A RESULT line longer than this is cut (it is compared, never shown whole).
MAX_RESULT_LINE = 64 * 1024
MAX_RESULT_LINES = 100
# The last lines of stdout, compared when the script prints no RESULT line.
TAIL_LINES = 20
MAX_TAIL_LINE = 500


class NetworkBlocked(ConnectionRefusedError):
    """A measured script tried to reach another machine."""


def main(argv: list[str] | None = None) -> None:
    options = _parse_arguments(sys.argv[1:] if argv is None else argv)
    # Before the import: codecarbon logs its first lines before any level we set applies.
    os.environ["CODECARBON_LOG_LEVEL"] = "error"
    import logging

    from codecarbon import OfflineEmissionsTracker
    from codecarbon import __version__ as codecarbon_version

    logging.getLogger("codecarbon").setLevel(logging.ERROR)

    def new_tracker():
        return OfflineEmissionsTracker(
            project_name="green-lint-verify",
            country_iso_code=options.country,
            tracking_mode=options.tracking_mode,
            measure_power_secs=options.measure_power_secs,
            output_dir=options.work_dir,
            save_to_file=False,
            save_to_api=False,
            save_to_logger=False,
            save_to_prometheus=False,
            save_to_logfire=False,
            allow_multiple_runs=True,
            log_level="error",
        )

    # The first tracker of a process spends 1.3-2 s detecting the hardware; a throw-away
    # one takes that cost outside the measurement (the next one reuses the detection).
    warm_up = new_tracker()
    warm_up.start()
    warm_up.stop()

    gpu_window, gpu_error = _gpu_window(options.meter)
    sys.dont_write_bytecode = True  # no __pycache__ in the user's folder
    _block_remote_network()
    tracker = new_tracker()
    tracker.start()
    if gpu_window is not None:
        gpu_window.start()
    usage_before = _cpu_seconds()
    started = time.perf_counter()
    # A program shorter than the tracker's resolution runs `loops` times in one tracked
    # window; the figures are the window's, and the report divides them by `loops`.
    for _ in range(options.loops):
        exit_code = _run_with_stdout_to(
            options.stdout_file, options.code_path, options.shown_path, options.args
        )
        if exit_code != 0:
            break
    wall_s = time.perf_counter() - started
    cpu_s = _cpu_seconds() - usage_before
    zeus_figures, gpu_error = _stop_gpu_window(gpu_window, gpu_error)
    tracker.stop()

    figures = _figures(tracker, options)
    figures.update(zeus_figures)
    if gpu_error:
        figures["gpu_error"] = gpu_error
    figures.update(
        codecarbon_version=codecarbon_version,
        wall_s=wall_s,
        cpu_s=cpu_s,
        peak_rss_mb=_peak_rss_mb(),
        exit_code=exit_code,
        loops=options.loops,
        **_stdout_summary(Path(options.stdout_file)),
    )
    Path(options.result).write_text(json.dumps(figures), encoding="utf-8")
    sys.stdout.flush()
    sys.stderr.flush()
    # The measurement is complete: threads or handlers the script left behind must not
    # keep the child alive (it would then count as timed out).
    os._exit(0)


def _parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m green_lint.verify.probe")
    parser.add_argument("--result", required=True)
    parser.add_argument("--stdout-file", required=True)
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("--code-path", required=True)
    parser.add_argument("--shown-path", required=True)
    parser.add_argument("--country", default="FRA")
    parser.add_argument("--tracking-mode", choices=TRACKING_MODES, default="process")
    parser.add_argument("--measure-power-secs", type=float, default=1.0)
    parser.add_argument("--loops", type=int, default=1)
    parser.add_argument("--meter", choices=METERS, default="codecarbon")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    options = parser.parse_args(argv)
    if options.args[:1] == ["--"]:
        options.args = options.args[1:]
    return options


def _gpu_window(meter: str) -> tuple[gpu_energy.ZeusWindow | None, str | None]:
    """Zeus's window when asked for (set up before the measurement: it finds the GPUs)."""
    if meter != "zeus":
        return None, None
    try:
        return gpu_energy.ZeusWindow(), None
    except Exception as error:  # no zeus, no NVML: the run goes on without GPU figures
        return None, f"Zeus could not measure the GPUs: {type(error).__name__}: {error}"


def _stop_gpu_window(window: gpu_energy.ZeusWindow | None, error: str | None) -> tuple[dict, str | None]:
    if window is None:
        return {}, error
    try:
        return window.stop(), error
    except Exception as failure:  # the script's run is complete: keep its other figures
        return {}, f"Zeus could not read the GPUs' energy: {type(failure).__name__}: {failure}"


def _run_with_stdout_to(stdout_file: str, code_path: str, shown_path: str, args: list[str]) -> int:
    """Run the script with file descriptor 1 (also of its children) sent to `stdout_file`."""
    sys.stdout.flush()
    saved_stdout = os.dup(1)
    capture = os.open(stdout_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(capture, 1)
    os.close(capture)
    try:
        return run_as_main(code_path, shown_path, args)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved_stdout, 1)
        os.close(saved_stdout)


def run_as_main(code_path: str, shown_path: str, args: list[str]) -> int:
    """Run `code_path` as `python shown_path ARGS` would; returns its exit status.

    The fixed copy of a script lives in a temporary folder, but it must believe it is the
    original (`__file__` and `sys.argv[0]`), so that paths computed from them still work.
    """
    sys.argv = [shown_path, *args]
    folder = os.path.dirname(os.path.abspath(shown_path))
    if sys.path[:1] != [folder]:
        sys.path.insert(0, folder)
    try:
        # Both versions take this one path (the original too): a different way of starting
        # would be measured as a difference between them.
        code = compile(Path(code_path).read_bytes(), code_path, "exec", dont_inherit=True)
        # What runpy.run_path does after reading the file, with the shown name.
        runpy._run_module_code(code, mod_name="__main__", pkg_name="", script_name=shown_path)
    except SystemExit as exit_request:
        return _exit_status(exit_request.code)
    except KeyboardInterrupt:
        traceback.print_exc()
        return 130
    except BaseException:
        traceback.print_exc()
        return 1
    return 0


def _exit_status(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _block_remote_network() -> None:
    """Make any connection to another machine, and any name lookup of one, fail as an
    error of the script. This guards the measured script's own Python process (an audit
    hook): a program it starts (`subprocess`, `os.system`) is not guarded."""

    def guard(event: str, args: tuple) -> None:
        if event in ("socket.connect", "socket.sendto") and not _is_local(args[1]):
            raise NetworkBlocked(
                f"green-lint verify: network access to {args[1]!r} is not allowed in a measured run"
            )
        if event in ("socket.getaddrinfo", "socket.gethostbyname") and _is_remote_name(args[0]):
            raise NetworkBlocked(
                f"green-lint verify: looking up {args[0]!r} (DNS) is not allowed in a measured run"
            )

    sys.addaudithook(guard)


def _is_remote_name(host: object) -> bool:
    """A host name whose lookup goes to DNS: not an IP address (its connection is what the
    guard checks) and not a name of this machine."""
    if isinstance(host, bytes):
        host = host.decode("ascii", errors="replace")
    if host is None or str(host) in ("localhost", "", "ip6-localhost"):
        return False
    try:
        ipaddress.ip_address(str(host).split("%")[0])
    except ValueError:
        return True
    return False


def _is_local(address: object) -> bool:
    if not isinstance(address, tuple):  # AF_UNIX paths and abstract sockets
        return True
    host = str(address[0])
    if host in ("localhost", "", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False  # a host name would be resolved and reached over the network


def _cpu_seconds() -> float:
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def _peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    scale = 1 / 1024 if sys.platform != "darwin" else 1 / (1024 * 1024)
    peak = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return peak * scale


def _stdout_summary(path: Path) -> dict:
    """The RESULT lines, last lines, hash and size of the script's stdout, read in chunks:
    a script that prints hundreds of megabytes (even on one line) costs one chunk of
    memory."""
    digest, size = hashlib.sha256(), 0
    prefix = RESULT_PREFIX.encode()
    results: list[str] = []
    tail: collections.deque[bytes] = collections.deque(maxlen=TAIL_LINES)
    line = b""  # the start of the line being read: enough to keep a RESULT line

    def finish(piece: bytes) -> None:
        tail.append(piece[:MAX_TAIL_LINE])
        if piece.startswith(prefix) and len(results) < MAX_RESULT_LINES:
            results.append(piece.decode("utf-8", errors="replace").rstrip())

    if path.exists():
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
                *complete, rest = chunk.split(b"\n")
                for piece in complete:
                    finish((line + piece)[:MAX_RESULT_LINE])
                    line = b""
                line = (line + rest)[:MAX_RESULT_LINE]
    if line:
        finish(line)
    return {
        "result_line": results[-1] if results else None,
        "result_lines": results,
        "stdout_tail": b"\n".join(tail).decode("utf-8", errors="replace"),
        "stdout_sha256": digest.hexdigest(),
        "stdout_bytes": size,
    }


def _figures(tracker, options: argparse.Namespace) -> dict:
    data = getattr(tracker, "final_emissions_data", None)
    cpu, ram = _hardware(tracker)
    figures = {
        "tracking_mode": options.tracking_mode,
        "measure_power_secs": options.measure_power_secs,
        "country": options.country,
        "cpu_power_method": _cpu_power_method() or getattr(cpu, "_mode", None),
        "cpu_power_w": _number(getattr(cpu, "_tdp", None)),
        "ram_power_w": _ram_power_w(ram),
        "measured": data is not None,
    }
    if data is None:  # codecarbon swallows its own errors and returns nothing
        return figures
    figures.update(
        energy_kwh=data.energy_consumed,
        cpu_energy_kwh=data.cpu_energy,
        ram_energy_kwh=data.ram_energy,
        gpu_energy_kwh=data.gpu_energy,
        emissions_kg=data.emissions,
        codecarbon_duration_s=data.duration,
        cpu_model=data.cpu_model,
        cpu_count=data.cpu_count,
        tracking_mode=data.tracking_mode or options.tracking_mode,
    )
    if options.meter == "codecarbon":
        figures.update(gpu_energy.codecarbon_figures(tracker, data))
    return figures


def _hardware(tracker) -> tuple[object | None, object | None]:
    cpu = ram = None
    for item in getattr(tracker, "_hardware", []):
        kind = type(item).__name__
        if kind == "CPU":
            cpu = item
        elif kind == "RAM":
            ram = item
    return cpu, ram


def _cpu_power_method() -> str | None:
    """How codecarbon gets CPU power ("RAPL", "cpu_load", "TDP constant", ...)."""
    try:
        from codecarbon.core import hardware_cache

        plans = list(hardware_cache._plans.values())
    except (ImportError, AttributeError):
        return None
    return plans[0].cpu_tracker if plans else None


def _ram_power_w(ram) -> float | None:
    try:
        return float(ram.total_power().W)
    except Exception:
        return None


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None


if __name__ == "__main__":
    main()
