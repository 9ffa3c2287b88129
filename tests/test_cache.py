"""The lint cache cannot run, hide or write anything a repository puts in it.

A cloned repository controls every file under its root, including the cache folder and
its config: these tests play the attacker with each of them.
"""

from __future__ import annotations

import json
import os
import pickle
import stat
from pathlib import Path

import pytest

from green_lint import cache, runner
from green_lint.build import build_id
from green_lint.cache import CacheLocation, LintCache
from green_lint.engine import LintSettings
from green_lint.registry import rule_by_code

GRID = (
    "from sklearn.model_selection import GridSearchCV\nfrom sklearn.svm import SVC\n\n"
    'search = GridSearchCV(SVC(), {"C": [1, 10]}, cv=3)\n'
)
CLEAN = "import os\n\nprint(os.getcwd())\n"


def _cache_files(root: Path) -> list[Path]:
    return sorted((root / ".green-lint-cache" / build_id()).glob("*.json"))


def test_the_cache_is_authenticated_json(cli, tmp_path):
    (tmp_path / "a.py").write_text(GRID)
    assert cli("a.py", cwd=tmp_path).returncode == 1
    [written] = _cache_files(tmp_path)
    mac, _, payload = written.read_bytes().partition(b"\n")
    assert len(mac) == 64
    entries = json.loads(payload)["files"]
    [entry] = entries.values()
    assert [finding["code"] for finding in entry["findings"]] == ["GL103"]
    assert (tmp_path / ".green-lint-cache" / ".gitignore").read_text().endswith("*\n")
    key_file = Path(os.environ["XDG_CACHE_HOME"]) / "green-lint" / "cache-key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


class _Exploit:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def test_a_pickled_cache_in_the_repository_runs_nothing(run_cli, tmp_path):
    """The reported attack: a committed cache file whose unpickling runs a command."""
    (tmp_path / "a.py").write_text(GRID)
    assert run_cli("a.py", cwd=tmp_path).returncode == 1
    [written] = _cache_files(tmp_path)
    planted = pickle.dumps({"x": _Exploit()})
    written.write_bytes(planted)
    (written.parent / (written.stem + ".pickle")).write_bytes(planted)
    result = run_cli("a.py", cwd=tmp_path)
    assert result.returncode == 1
    assert not (tmp_path / "PWNED").exists()
    assert "GL103" in result.stdout


def test_a_cache_that_hides_findings_is_not_believed(cli, tmp_path):
    """A tampered entry with the right content hash and no findings must not make the run pass."""
    (tmp_path / "a.py").write_text(GRID)
    assert cli("a.py", cwd=tmp_path).returncode == 1
    [written] = _cache_files(tmp_path)
    mac, _, payload = written.read_bytes().partition(b"\n")
    data = json.loads(payload)
    for entry in data["files"].values():
        entry["findings"] = []
    written.write_bytes(mac + b"\n" + json.dumps(data, separators=(",", ":")).encode())
    result = cli("a.py", cwd=tmp_path)
    assert result.returncode == 1
    assert "GL103" in result.stdout


def test_a_cache_written_with_another_key_is_a_miss(cli, tmp_path, monkeypatch):
    (tmp_path / "a.py").write_text(GRID)
    assert cli("a.py", cwd=tmp_path).returncode == 1
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "another-machine"))
    linted = []
    original = runner.lint_source
    monkeypatch.setattr(runner, "lint_source", lambda *a: linted.append(1) or original(*a))
    result = cli("a.py", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (1, "")
    assert linted == [1]
    assert (tmp_path / "another-machine" / "green-lint" / "cache-key").is_file()


def _settings():
    return LintSettings(rules=[rule_by_code("GL001"), rule_by_code("GL103")])


def _run(tmp_path: Path, location: CacheLocation, names=("a.py",)) -> tuple[list, list[str]]:
    warnings: list[str] = []
    jobs = [runner.Job(tmp_path / name, name) for name in names]
    results = runner.run(jobs, _settings(), runner.RunOptions(cache=location), warnings.append)
    return results, warnings


def test_entries_are_checked_field_by_field(tmp_path, monkeypatch):
    """A well-signed file with a malformed entry costs that entry only (a miss, no error)."""
    for name in ("a.py", "b.py"):
        (tmp_path / name).write_text(GRID)
    location = CacheLocation(tmp_path / "cache")
    _run(tmp_path, location, ("a.py", "b.py"))
    key = cache.secret_key()
    store = LintCache(location, "", key, lambda message: None)
    [path] = (tmp_path / "cache" / build_id()).glob("*.json")
    store.name = path.name
    data = json.loads(path.read_bytes().partition(b"\n")[2])
    a_key = cache.entry_key(tmp_path / "a.py", ())
    data["files"][a_key]["findings"][0]["location"] = {"row": "4", "column": 10}
    payload = json.dumps(data).encode()
    path.write_bytes(cache._mac(key, path.name, payload).encode() + b"\n" + payload)
    linted = []
    original = runner.lint_source
    monkeypatch.setattr(
        runner,
        "lint_source",
        lambda source, settings: linted.append(source.display_path) or original(source, settings),
    )
    results, warnings = _run(tmp_path, location, ("a.py", "b.py"))
    assert (linted, warnings) == (["a.py"], [])
    assert [[f.code for f in result.findings] for result in results] == [["GL103"], ["GL103"]]


@pytest.mark.parametrize("garbage", [b"", b"\n", b"not json at all", b"\xff\xfe" * 100, b"x" * 64 + b"\n{}"])
def test_a_corrupt_cache_file_is_a_silent_miss(tmp_path, garbage):
    (tmp_path / "a.py").write_text(GRID)
    location = CacheLocation(tmp_path / "cache")
    _run(tmp_path, location)
    [path] = (tmp_path / "cache" / build_id()).glob("*.json")
    path.write_bytes(garbage)
    results, warnings = _run(tmp_path, location)
    assert warnings == []
    assert [f.code for f in results[0].findings] == ["GL103"]
    assert path.read_bytes() != garbage  # rewritten whole


def test_a_linked_cache_file_is_replaced_not_written_through(tmp_path):
    (tmp_path / "a.py").write_text(GRID)
    location = CacheLocation(tmp_path, (".green-lint-cache",))
    _run(tmp_path, location)
    [path] = (tmp_path / ".green-lint-cache" / build_id()).glob("*.json")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    path.unlink()
    path.symlink_to(victim)
    (tmp_path / "a.py").write_text(GRID + "# changed\n")
    results, warnings = _run(tmp_path, location)
    assert warnings == [f"cache not used: {path} is a symbolic link"]
    assert victim.read_text() == "precious\n"
    assert [f.code for f in results[0].findings] == ["GL103"]
    assert not path.is_symlink()


def test_a_fifo_in_place_of_the_cache_file_does_not_hang(tmp_path):
    (tmp_path / "a.py").write_text(GRID)
    location = CacheLocation(tmp_path, (".green-lint-cache",))
    folder = tmp_path / ".green-lint-cache" / build_id()
    folder.mkdir(parents=True)
    name = cache.settings_key(["GL001", "GL103"], {}) + ".json"
    os.mkfifo(folder / name)
    results, warnings = _run(tmp_path, location)
    assert [f.code for f in results[0].findings] == ["GL103"]
    assert any("not a regular file" in warning for warning in warnings)


def test_a_cache_dir_in_the_project_config_cannot_leave_the_project(cli, tmp_path):
    project, outside = tmp_path / "project", tmp_path / "outside"
    project.mkdir()
    (project / "a.py").write_text(GRID)
    (project / "pyproject.toml").write_text(f'[tool.green-lint]\ncache-dir = "{outside}"\n')
    result = cli("a.py", cwd=project)
    assert result.returncode == 1
    assert "is not a folder inside the project" in result.stderr
    assert not outside.exists()
    assert _cache_files(project)
    (project / "pyproject.toml").write_text('[tool.green-lint]\ncache-dir = "../outside"\n')
    assert cli("a.py", cwd=project).returncode == 1
    assert not outside.exists()


@pytest.mark.parametrize(
    ("link", "config"),
    [
        (".green-lint-cache", None),  # the cache folder itself
        ("build", '[tool.green-lint]\ncache-dir = "build/cache"\n'),  # a folder on the way to it
    ],
)
def test_a_link_on_the_way_to_the_cache_is_neither_read_nor_written_through(cli, tmp_path, link, config):
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()
    (project / "a.py").write_text(GRID)
    (project / link).symlink_to(elsewhere)
    if config is not None:
        (project / "pyproject.toml").write_text(config)
    result = cli("a.py", cwd=project)
    assert result.returncode == 1
    assert "GL103" in result.stdout
    assert "is a symbolic link" in result.stderr
    assert list(elsewhere.iterdir()) == []


def test_the_user_may_keep_the_cache_anywhere(cli, tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "a.py").write_text(GRID)
    by_flag = tmp_path / "by-flag"
    assert cli("--cache-dir", by_flag, "a.py", cwd=project).returncode == 1
    assert list((by_flag / build_id()).glob("*.json"))
    by_env = tmp_path / "by-env"
    assert cli("a.py", cwd=project, env={"GREEN_LINT_CACHE_DIR": str(by_env)}).returncode == 1
    assert list((by_env / build_id()).glob("*.json"))
    assert not (project / ".green-lint-cache").exists()


def test_a_cache_that_cannot_be_written_costs_a_warning_not_the_run(cli, tmp_path):
    (tmp_path / "a.py").write_text(GRID)
    (tmp_path / ".green-lint-cache").write_text("a file where the folder should be\n")
    result = cli("a.py", cwd=tmp_path)
    assert result.returncode == 1
    assert "GL103" in result.stdout
    assert "green-lint: warning: cache not written:" in result.stderr
    assert "is not a folder" in result.stderr


def test_a_full_disk_costs_a_warning_not_the_run(tmp_path, monkeypatch):
    (tmp_path / "a.py").write_text(GRID)

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cache, "_create_new", full)
    results, warnings = _run(tmp_path, CacheLocation(tmp_path / "cache"))
    assert [f.code for f in results[0].findings] == ["GL103"]
    assert warnings == [f"cannot write the cache in {tmp_path / 'cache'}: No space left on device"]


def test_no_place_for_the_key_means_no_cache_and_a_warning(tmp_path, monkeypatch):
    (tmp_path / "a.py").write_text(GRID)
    blocked = tmp_path / "blocked"
    blocked.write_text("a file, so no folder can be made below it\n")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    results, warnings = _run(tmp_path, CacheLocation(tmp_path / "cache"))
    assert [f.code for f in results[0].findings] == ["GL103"]
    assert len(warnings) == 1 and warnings[0].startswith("cannot keep the cache key in")
    assert not (tmp_path / "cache").exists()


def test_entries_of_deleted_files_are_pruned(tmp_path):
    for name in ("a.py", "b.py"):
        (tmp_path / name).write_text(GRID)
    location = CacheLocation(tmp_path / "cache")
    _run(tmp_path, location, ("a.py", "b.py"))
    (tmp_path / "b.py").unlink()
    _run(tmp_path, location, ("a.py",))
    store = LintCache.load(location, cache.settings_key(["GL001", "GL103"], {}), lambda message: None)
    assert list(store.entries) == [cache.entry_key(tmp_path / "a.py", ())]


def test_reading_a_cache_file_marks_its_last_use(cli, tmp_path):
    """The GitHub Action prunes cache files by their last use: a run that reads a cache
    and has nothing new to write still dates it."""
    (tmp_path / "a.py").write_text(GRID)
    assert cli("a.py", cwd=tmp_path).returncode == 1
    [written] = _cache_files(tmp_path)
    long_ago = written.stat().st_mtime - 30 * 24 * 3600
    os.utime(written, (long_ago, long_ago))
    content = written.read_bytes()

    assert cli("a.py", cwd=tmp_path).returncode == 1

    assert written.read_bytes() == content  # read, not written again
    assert written.stat().st_mtime > long_ago + 29 * 24 * 3600


@pytest.mark.parametrize("through_descriptor", [True, False])
def test_a_read_dates_the_file_with_or_without_utime_on_descriptors(
    tmp_path, monkeypatch, through_descriptor
):
    """Windows cannot set times through an open file: the file is then dated by its path."""
    location = CacheLocation(tmp_path / "cache")
    key = b"k" * 64
    cache.write_signed(location, "s.json", key, {"files": {}}, pytest.fail)
    written = location.path / build_id() / "s.json"
    long_ago = written.stat().st_mtime - 30 * 24 * 3600
    os.utime(written, (long_ago, long_ago))
    if not through_descriptor:
        monkeypatch.setattr(cache.os, "supports_fd", set())

    assert cache.read_signed(location, "s.json", key, pytest.fail) == {"files": {}}

    assert written.stat().st_mtime > long_ago + 29 * 24 * 3600


def test_a_file_signed_with_another_key_is_not_dated(tmp_path):
    """Only green-lint's own cache files are dated on reading (a cache that came with a
    cloned repository is neither believed nor touched)."""
    location = CacheLocation(tmp_path / "cache")
    cache.write_signed(location, "s.json", b"a" * 64, {"files": {}}, pytest.fail)
    written = location.path / build_id() / "s.json"
    long_ago = written.stat().st_mtime - 30 * 24 * 3600
    os.utime(written, (long_ago, long_ago))

    assert cache.read_signed(location, "s.json", b"b" * 64, pytest.fail) is None

    assert written.stat().st_mtime == long_ago


def test_cached_findings_round_trip_with_fixes_and_cells(tmp_path):
    notebook = {
        "cells": [
            {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": GRID}
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (tmp_path / "a.ipynb").write_text(json.dumps(notebook))
    location = CacheLocation(tmp_path / "cache")
    cold, _ = _run(tmp_path, location, ("a.ipynb",))
    warm, _ = _run(tmp_path, location, ("a.ipynb",))
    [finding] = cold[0].findings
    assert finding.cell == 1 and finding.fix is not None and finding.source_fix is not None
    assert warm[0].findings == cold[0].findings
    assert warm[0].findings[0].source_fix == finding.source_fix
    assert warm[0].findings[0].source_location == finding.source_location
