"""One file never stops the run, and CPython's verdict decides what a syntax error is
(#13, sections 4 and 5)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from green_lint import runner
from green_lint.engine import LintSettings
from green_lint.registry import select_rules
from green_lint.runner import Job, RunOptions
from tests.processes import alive

GRID = (
    "from sklearn.model_selection import GridSearchCV\n"
    'GridSearchCV(None, {"C": [1, 2, 3], "gamma": [1, 2, 3]})\n'
)
HEADER = "import torch\nimport numpy as np\n"


def _check(run_cli, folder: Path, *args: str):
    result = run_cli("--no-cache", "--output-format", "json", *args, ".", cwd=folder)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    return result, {finding["filename"]: finding for finding in json.loads(result.stdout)}


@pytest.mark.parametrize(
    ("name", "body", "code", "words"),
    [
        ("deep_sum.py", "x = " + "+".join(["1"] * 10_000) + "\n", "GL001", "too deeply nested"),
        ("deep_calls.py", "x = " + "f(" * 5_000 + ")" * 5_000 + "\n", "GL001", "too many nested parentheses"),
        (
            "deep_lists.py",
            "x = " + "[" * 10_000 + "]" * 10_000 + "\n",
            "GL001",
            "too many nested parentheses",
        ),
        ("long_line.py", "W = [" + ", ".join(["0.1"] * 100_000) + "]\n", "GL003", "over max-line-bytes"),
    ],
)
def test_extreme_input_costs_its_file_one_finding_and_the_run_goes_on(
    run_cli, tmp_path, name, body, code, words
):
    (tmp_path / name).write_text(HEADER + body)
    (tmp_path / "grid.py").write_text(GRID)
    result, findings = _check(run_cli, tmp_path)
    assert result.returncode == 1
    assert findings[name]["code"] == code
    assert words in findings[name]["message"]
    assert findings["grid.py"]["code"] == "GL103"


def test_the_size_caps_are_options_of_gl003(run_cli, tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.green-lint.rules.GL003]\nmax-file-bytes = 1000\n")
    (tmp_path / "big.py").write_text(HEADER + "x = 1\n" * 500)
    _, findings = _check(run_cli, tmp_path)
    assert findings["big.py"]["code"] == "GL003"
    assert "3,032 bytes, over max-file-bytes (1,000)" in findings["big.py"]["message"]


def test_a_file_python_accepts_but_libcst_does_not_is_not_a_syntax_error(run_cli, tmp_path):
    (tmp_path / "joined.py").write_text(GRID + "def f():\n\\\n    return 1\n")
    compile((tmp_path / "joined.py").read_text(), "joined.py", "exec")  # Python accepts it
    _, findings = _check(run_cli, tmp_path)
    assert findings["joined.py"]["code"] == "GL003"
    assert findings["joined.py"]["message"].startswith(
        "File not checked: libcst cannot parse it, although Python can"
    )


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("dedent.py", HEADER + "class A:\n    x = 1\n\\\n y = 2\n"),
        ("two_boms.py", "\ufeff\ufeff" + HEADER),
        ("except_comma.py", HEADER + "try:\n    import x\nexcept ImportError, e:\n    pass\n"),
    ],
)
def test_what_python_rejects_is_a_syntax_error_even_when_libcst_parses_it(run_cli, tmp_path, name, text):
    (tmp_path / name).write_bytes(text.encode("utf-8"))
    with pytest.raises(SyntaxError):
        compile(text.encode("utf-8"), name, "exec")
    _, findings = _check(run_cli, tmp_path)
    assert findings[name]["code"] == "GL001"


def test_a_worker_that_dies_costs_only_its_file(tmp_path, monkeypatch):
    paths = []
    for number in range(30):
        path = tmp_path / f"f{number:02}.py"
        path.write_text(GRID)
        paths.append(path)
    real = runner.process_file

    def crash_on_one(job, *args, **kwargs):
        if job.path.name == "f13.py":
            os.kill(os.getpid(), signal.SIGSEGV)
        return real(job, *args, **kwargs)

    # Pool workers are forked: they run the patched function.
    monkeypatch.setattr(runner, "process_file", crash_on_one)
    settings = LintSettings(rules=select_rules(["GL103"]))
    jobs = [Job(path, path.name) for path in paths]
    results = runner.run(jobs, settings, RunOptions(jobs=2))
    codes = {result.display_path: [f.code for f in result.findings] for result in results}
    assert codes["f13.py"] == ["GL003"]
    assert "the process checking it died" in results[13].findings[0].message
    assert all(codes[path.name] == ["GL103"] for path in paths if path.name != "f13.py")


def test_pool_workers_die_with_the_main_process(tmp_path):
    pid_file = tmp_path / "worker.txt"
    code = (
        "import os, signal, time\n"
        "from concurrent.futures import ProcessPoolExecutor\n"
        "from green_lint.runner import _die_with_parent\n"
        "def work(path):\n"
        "    open(path, 'w').write(str(os.getpid()))\n"
        "    time.sleep(300)\n"
        "pool = ProcessPoolExecutor(1, initializer=_die_with_parent)\n"
        f"pool.submit(work, {str(pid_file)!r})\n"
        f"while not os.path.exists({str(pid_file)!r}): time.sleep(0.05)\n"
        "time.sleep(0.2)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    subprocess.run([sys.executable, "-c", code], timeout=120, check=False)
    worker = int(pid_file.read_text())
    assert not alive(worker, wait=10), "a pool worker outlived the killed main process"
