"""verify runs both versions alike and leaves nothing behind (#13, section 7)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from green_lint.verify.probe import _is_remote_name, _stdout_summary
from green_lint.verify.runs import _tail
from tests.processes import alive

GRID_LATIN1 = (
    "# -*- coding: latin-1 -*-\n"
    "from sklearn.model_selection import GridSearchCV\n"
    "from sklearn.svm import SVC\n"
    "import numpy as np\n"
    # 400 samples: the fix's HalvingGridSearchCV starts from 400 // 9 of them, drawn at
    # random; from 40 it would start from 4, and a fold of one class fails now and then.
    "X = np.random.default_rng(0).random((400, 2)); y = np.arange(400) % 2\n"
    'label = "r\xe9sultat"\n'
    'search = GridSearchCV(SVC(), {"C": [1, 2, 3], "gamma": [1, 2, 3]}, cv=2).fit(X, y)\n'
    "print('RESULT', label, sorted(search.best_params_))\n"
)


def verify(*args: str, cwd: Path, timeout: float = 400, **popen) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "green_lint", "verify", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        **popen,
    )


def test_identical_programs_run_the_same_way(tmp_path, monkeypatch):
    """Both versions start through one code path: an identical copy is not a saving."""
    import green_lint.verify.probe as probe

    script = tmp_path / "busy.py"
    script.write_text("import sys\nprint('RESULT', sys.argv[0].endswith('busy.py'), __file__)\n")
    copy = tmp_path / "copy" / "busy.py"
    copy.parent.mkdir()
    copy.write_text(script.read_text())
    started: list[str] = []
    real = probe.runpy._run_module_code
    monkeypatch.setattr(
        probe.runpy, "_run_module_code", lambda *a, **k: (started.append("code"), real(*a, **k))
    )
    monkeypatch.setattr(probe.runpy, "run_path", lambda *a, **k: started.append("path"))
    assert probe.run_as_main(str(script), str(script), []) == 0
    assert probe.run_as_main(str(copy), str(script), []) == 0
    assert started == ["code", "code"]


def test_the_fixed_copy_keeps_the_scripts_encoding(tmp_path):
    script = tmp_path / "grid.py"
    script.write_bytes(GRID_LATIN1.encode("latin-1"))
    report = tmp_path / "report.json"
    completed = verify("grid.py", "--repeat", "1", "--warmup", "0", "--report", str(report), cwd=tmp_path)
    entry = json.loads(report.read_text(encoding="utf-8"))["scripts"][0]
    assert entry["same_result"] is True, completed.stdout + completed.stderr
    assert "résultat" in entry["result_after"]
    assert script.read_bytes() == GRID_LATIN1.encode("latin-1")


def test_a_grandchild_that_leaves_the_session_is_killed(tmp_path):
    pid_file = tmp_path / "pid.txt"
    (tmp_path / "escape.py").write_text(
        "import os, subprocess, sys\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'], start_new_session=True)\n"
        "open(os.environ['PID_FILE'], 'w').write(str(child.pid))\n"
        "print('RESULT started')\n"
    )
    (tmp_path / "escape.suggested.py").write_text("print('RESULT started')\n")
    completed = verify(
        "escape.py",
        "--repeat",
        "1",
        "--warmup",
        "0",
        cwd=tmp_path,
        env={**os.environ, "PID_FILE": str(pid_file)},
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    pid = int(pid_file.read_text())
    assert not alive(pid), "a process the script started in its own session survived verify"


def test_sighup_removes_the_scratch_folder_and_the_runs(tmp_path):
    pid_file = tmp_path / "pid.txt"
    scratch_parent = tmp_path / "tmp"
    scratch_parent.mkdir()
    (tmp_path / "hang.py").write_text(
        "import os, time\nopen(os.environ['PID_FILE'], 'w').write(str(os.getpid()))\ntime.sleep(300)\n"
    )
    (tmp_path / "hang.suggested.py").write_text("print('RESULT done')\n")
    environment = {**os.environ, "PID_FILE": str(pid_file), "TMPDIR": str(scratch_parent)}
    process = subprocess.Popen(
        [sys.executable, "-m", "green_lint", "verify", "hang.py", "--repeat", "1", "--warmup", "0"],
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert pid_file.exists()
    process.send_signal(signal.SIGHUP)
    assert process.wait(timeout=60) != 0
    assert not alive(int(pid_file.read_text()))
    assert list(scratch_parent.iterdir()) == []


def test_a_bad_report_path_is_refused_before_any_run(tmp_path):
    (tmp_path / "plain.py").write_text("print('RESULT 1')\n")
    started = time.monotonic()
    completed = verify("plain.py", "--report", "missing/folder/out.json", cwd=tmp_path)
    assert completed.returncode == 2
    assert "the folder 'missing/folder' does not exist" in completed.stderr
    assert time.monotonic() - started < 30


def test_stdout_is_summarised_in_bounded_memory(tmp_path):
    path = tmp_path / "stdout.txt"
    with path.open("wb") as handle:
        handle.write(b"RESULT early\n")
        for _ in range(40):
            handle.write(b"x" * (1 << 20))  # 40 MB on one line
        handle.write(b"\nRESULT last one\nnoise")
    summary = _stdout_summary(path)
    assert summary["result_line"] == "RESULT last one"
    assert summary["stdout_bytes"] == path.stat().st_size


def test_the_stderr_tail_reads_only_the_end(tmp_path):
    path = tmp_path / "stderr.txt"
    path.write_bytes(b"y" * (5 << 20) + b"\nTraceback\nValueError: boom\n")
    assert _tail(path, lines=2) == "Traceback\nValueError: boom"


def test_dns_lookups_of_other_machines_are_blocked():
    code = (
        "from green_lint.verify.probe import _block_remote_network, NetworkBlocked\n"
        "import socket\n"
        "_block_remote_network()\n"
        "socket.getaddrinfo('localhost', 80)\n"
        "try:\n"
        "    socket.getaddrinfo('example.com', 80)\n"
        "except NetworkBlocked as error:\n"
        "    print('blocked', error)\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "blocked green-lint verify: looking up 'example.com' (DNS)" in completed.stdout
    # What counts as a lookup that goes to DNS: names of other machines, not IP literals
    # (their connection is what the guard checks) nor this machine's names.
    assert _is_remote_name("example.com") and _is_remote_name(b"pypi.org")
    assert not any(_is_remote_name(host) for host in ("localhost", "127.0.0.1", "192.0.2.1", "::1", None))
