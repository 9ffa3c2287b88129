"""`--fix` changes a file's text and nothing else about it (#13, section 3)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import green_lint.fix
from green_lint import write_back

CALL = 'GridSearchCV(SVC(), {"C": [0.1, 1, 10], "gamma": [0.1, 1, 10], "kernel": ["rbf", "linear"]}, cv=3)'
GRID = f"from sklearn.model_selection import GridSearchCV\nfrom sklearn.svm import SVC\n\nsearch = {CALL}\n"
FIXED_LINE = f"search = Halving{CALL}\n"


def _fix(cli, folder: Path, *paths: str):
    return cli("--fix", "--unsafe-fixes", "--output-format", "concise", *paths, cwd=folder)


def test_a_read_only_file_is_left_alone_with_a_warning(cli, tmp_path):
    path = tmp_path / "a.py"
    path.write_text(GRID)
    path.chmod(0o444)
    result = _fix(cli, tmp_path, "a.py")
    assert path.read_text() == GRID
    assert "green-lint: warning: a.py: the file is read-only; fixes not written" in result.stderr
    assert result.returncode == 1  # the finding remains: not an internal error
    assert "a.py:4:10: GL103" in result.stdout


def test_a_hard_linked_file_is_fixed_through_every_link(cli, tmp_path):
    path = tmp_path / "a.py"
    path.write_text(GRID)
    other = tmp_path / "elsewhere"
    other.mkdir()
    os.link(path, other / "same.py")
    _fix(cli, tmp_path, "a.py")
    assert FIXED_LINE in (other / "same.py").read_text()
    assert path.stat().st_ino == (other / "same.py").stat().st_ino


def test_a_symlink_out_of_the_linted_folder_is_not_followed(cli, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "target.py").write_text(GRID)
    project = tmp_path / "project"
    project.mkdir()
    (project / "link.py").symlink_to(outside / "target.py")
    result = _fix(cli, project, ".")
    assert (outside / "target.py").read_text() == GRID
    assert (project / "link.py").is_symlink()
    assert "link.py: it is a link to" in result.stderr and "outside the linted folders" in result.stderr


def test_a_symlink_inside_the_linted_folder_is_fixed_in_its_target_and_stays_a_link(cli, tmp_path):
    (tmp_path / "real.py").write_text(GRID)
    (tmp_path / "link.py").symlink_to(tmp_path / "real.py")
    _fix(cli, tmp_path, "link.py", "real.py")
    assert (tmp_path / "link.py").is_symlink()
    assert FIXED_LINE in (tmp_path / "real.py").read_text()


def test_an_edit_saved_during_the_run_is_kept_and_the_fix_skipped(cli, tmp_path, monkeypatch):
    path = tmp_path / "a.py"
    path.write_text(GRID)
    original = green_lint.fix.fix_source

    def user_saves_meanwhile(*args, **kwargs):
        outcome = original(*args, **kwargs)
        with path.open("a") as handle:
            handle.write("print('saved by the user')\n")
        return outcome

    monkeypatch.setattr(green_lint.fix, "fix_source", user_saves_meanwhile)
    result = _fix(cli, tmp_path, "a.py")
    assert path.read_text() == GRID + "print('saved by the user')\n"
    assert "a.py: the file changed while green-lint was running; fixes not written" in result.stderr


def test_mode_is_kept(cli, tmp_path):
    path = tmp_path / "a.py"
    path.write_text(GRID)
    path.chmod(0o750)
    _fix(cli, tmp_path, "a.py")
    assert stat.S_IMODE(path.stat().st_mode) == 0o750
    assert FIXED_LINE in path.read_text()


def test_a_file_owned_by_another_group_is_written_in_place(tmp_path, monkeypatch):
    """A rename would hand the file to the user running green-lint: write the same inode."""
    path = tmp_path / "a.py"
    path.write_text(GRID)
    inode = path.stat().st_ino
    monkeypatch.setattr(write_back, "_groups", lambda: set())
    write_back.write_fixed(path, GRID.encode(), b"fixed\n")
    assert path.read_bytes() == b"fixed\n"
    assert path.stat().st_ino == inode


def test_a_file_we_own_is_replaced_atomically(tmp_path):
    path = tmp_path / "a.py"
    path.write_text(GRID)
    inode = path.stat().st_ino
    write_back.write_fixed(path, GRID.encode(), b"fixed\n")
    assert path.read_bytes() == b"fixed\n"
    assert path.stat().st_ino != inode
    assert sorted(os.listdir(tmp_path)) == ["a.py"]


def test_add_noqa_leaves_a_read_only_file_alone(cli, tmp_path):
    path = tmp_path / "a.py"
    path.write_text(GRID)
    path.chmod(0o444)
    result = cli("--add-noqa", "a.py", cwd=tmp_path)
    assert path.read_text() == GRID
    assert "a.py: the file is read-only" in result.stderr
