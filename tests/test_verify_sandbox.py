"""verify runs each version in a scratch copy of the script's folder: what a script writes
never lands in the user's folder (issue #15, section 6)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from green_lint.verify.sandbox import SandboxProblem, make, plan_copy


def _tree(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_the_copy_follows_gitignore_and_leaves_out_environments(tmp_path):
    _tree(
        tmp_path,
        {
            "train.py": "",
            "helpers/io.py": "",
            "config.yaml": "",
            ".gitignore": "outputs/\n*.ckpt\n",
            "outputs/run1.txt": "",
            "model.ckpt": "",
            ".git/HEAD": "",
            ".venv/lib/site.py": "",
            "helpers/__pycache__/io.cpython-311.pyc": "",
            "helpers/.gitignore": "scratch.txt\n",
            "helpers/scratch.txt": "",
            "scratch.txt": "",  # the deeper .gitignore does not reach up here
        },
    )
    assert plan_copy(tmp_path) == [
        ".gitignore",
        "config.yaml",
        "helpers/.gitignore",
        "helpers/io.py",
        "scratch.txt",
        "train.py",
    ]


def test_a_large_folder_is_refused_unless_its_data_is_passed_with_data(tmp_path):
    _tree(tmp_path, {"train.py": "", "data/big.bin": "x" * 5000})
    with pytest.raises(SandboxProblem, match="--data PATH"):
        plan_copy(tmp_path, cap=1000)
    assert plan_copy(tmp_path, data=(tmp_path / "data",), cap=1000) == ["train.py"]


def test_a_run_writes_in_its_copy_and_the_copy_says_what_it_wrote(tmp_path):
    folder, scratch = tmp_path / "project", tmp_path / "scratch"
    _tree(folder, {"train.py": "", "data/rows.csv": "1,2\n", "config.yaml": "lr: 1\n"})
    files = plan_copy(folder, data=(folder / "data",))
    copy = make(folder, files, scratch, data=(folder / "data",))
    assert (copy.root / "data" / "rows.csv").read_text() == "1,2\n"  # linked, readable
    assert (copy.root / "data").is_symlink()
    (copy.root / "model.pt").write_text("weights")
    (copy.root / "config.yaml").write_text("lr: 2\n")
    assert copy.written() == ["config.yaml", "model.pt"]
    assert sorted(p.name for p in folder.iterdir()) == ["config.yaml", "data", "train.py"]
    assert (folder / "config.yaml").read_text() == "lr: 1\n"


def test_a_write_into_a_data_input_is_found_and_named(tmp_path):
    """--data inputs are linked, not copied: a script that writes there writes in the
    user's folder. verify cannot stop it; it must find out and say which files."""
    folder, scratch = tmp_path / "project", tmp_path / "scratch"
    _tree(folder, {"train.py": "", "data/rows.csv": "1,2\n"})
    copy = make(folder, plan_copy(folder, data=(folder / "data",)), scratch, data=(folder / "data",))
    assert copy.written_to_data() == []
    (copy.root / "data" / "out.txt").write_text("written through the link")
    (copy.root / "data" / "rows.csv").write_text("3,4,5\n")
    assert copy.written_to_data() == [str(folder / "data" / "out.txt"), str(folder / "data" / "rows.csv")]
    assert copy.written() == []  # not in the copy: through the link, in the user's folder


def test_verify_stops_a_script_that_writes_into_its_data_input(tmp_path):
    _tree(
        tmp_path,
        {
            "writes.py": "from pathlib import Path\nPath('data/out.txt').write_text('x')\nprint('RESULT 1')\n",
            "writes.suggested.py": "from pathlib import Path\nPath('data/out.txt').write_text('x')\nprint('RESULT 1')\n",
            "data/rows.csv": "1\n",
        },
    )
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "green_lint",
            "verify",
            "writes.py",
            "--data",
            "data",
            "--repeat",
            "1",
            "--warmup",
            "0",
            "--output-format",
            "json",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    [entry] = json.loads(completed.stdout)["scripts"]
    assert entry["verdict"] == "failed"
    assert "wrote into a --data input, in your folder" in entry["message"]
    assert entry["runs"][0]["written_to_data"] == [str((tmp_path / "data" / "out.txt").resolve())]


SCRIPT = """
from pathlib import Path

from helper import total

values = [float(v) for v in Path("numbers.txt").read_text().split()]
Path("model.pt").write_text(str(total(values)))
print("RESULT total={:.1f}".format(total(values)))
"""


def test_verify_never_writes_in_the_scripts_folder(tmp_path):
    _tree(
        tmp_path,
        {
            "train.py": SCRIPT,
            "train.suggested.py": SCRIPT.replace("total(values)", "sum(values)"),
            "helper.py": "def total(values):\n    return sum(v for v in values)\n",
            "numbers.txt": "1 2 3.5\n",
        },
    )
    before = sorted(p.name for p in tmp_path.iterdir())
    report = tmp_path.parent / f"{tmp_path.name}-report.json"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "green_lint",
            "verify",
            "train.py",
            "--repeat",
            "1",
            "--warmup",
            "0",
            "--report",
            str(report),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no model.pt, no cache
    (entry,) = json.loads(report.read_text())["scripts"]
    assert entry["files_written"] == ["model.pt"]
    assert entry["same_result"] is True and entry["result_words"] == "total 6.5"
    assert all(run["written"] == ["model.pt"] for run in entry["runs"])


def test_a_run_that_fails_on_a_file_left_out_of_the_copy_says_how_to_pass_it(tmp_path):
    """ML projects often keep their data out of git: the copy leaves ignored files out, so
    the failure must name the file and the way to hand it over."""
    reads = "from pathlib import Path\nprint('RESULT', len(Path('data/rows.csv').read_text()))\n"
    _tree(
        tmp_path,
        {"reads.py": reads, "reads.suggested.py": reads, ".gitignore": "data/\n", "data/rows.csv": "1\n"},
    )
    completed = subprocess.run(
        [sys.executable, "-m", "green_lint", "verify", "reads.py", "--repeat", "1", "--warmup", "0",
         "--output-format", "json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    [entry] = json.loads(completed.stdout)["scripts"]
    assert entry["verdict"] == "failed"
    assert entry["message"].endswith(
        "(data/rows.csv is in the script's folder but not in the copy it runs in, which leaves out what "
        ".gitignore ignores and links: pass it with --data data/rows.csv)"
    )
