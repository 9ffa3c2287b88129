"""Machine formats, option combinations and configuration mistakes (#13, section 6)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

GRID = (
    "from sklearn.model_selection import GridSearchCV\n"
    'GridSearchCV(None, {"C": [1, 2, 3], "gamma": [1, 2, 3]})\n'
)


def _write(folder: Path, name: str | bytes, text: str) -> None:
    path = os.path.join(os.fsencode(folder), name if isinstance(name, bytes) else name.encode())
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


@pytest.mark.parametrize("fmt", ["sarif", "gitlab", "github", "json", "json-lines", "concise", "full"])
def test_a_file_name_that_is_not_utf8_is_reported_in_every_format(tmp_path, fmt):
    _write(tmp_path, b"bad\xff.py", GRID)
    # Bytes: text formats print the name as it is on disk, which is not UTF-8.
    result = subprocess.run(
        [sys.executable, "-m", "green_lint", "--no-cache", "--output-format", fmt, "."],
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert b"internal error" not in result.stderr
    assert any(
        name in result.stdout for name in (b"bad\xff.py", b"bad%FF.py", b"bad\\udcff.py", b"bad\\ufffd.py")
    )
    if fmt == "sarif":
        uri = json.loads(result.stdout)["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
        assert uri["artifactLocation"]["uri"] == "bad%FF.py"
    if fmt == "gitlab":
        assert json.loads(result.stdout)[0]["location"]["path"] == "bad\ufffd.py"


def test_machine_paths_are_relative_to_the_repository_root_in_a_monorepo(run_cli, tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    package = tmp_path / "packages" / "ml"
    _write(package, "pyproject.toml", "[tool.green-lint]\n")
    _write(package, "src/a.py", GRID)
    github = run_cli("--no-cache", "--output-format", "github", "src", cwd=package)
    assert "file=packages/ml/src/a.py," in github.stdout
    gitlab = run_cli("--no-cache", "--output-format", "gitlab", "src", cwd=package)
    assert json.loads(gitlab.stdout)[0]["location"]["path"] == "packages/ml/src/a.py"
    sarif = json.loads(run_cli("--no-cache", "--output-format", "sarif", "src", cwd=package).stdout)
    location = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location["uri"] == "packages/ml/src/a.py"
    assert sarif["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.resolve().as_uri() + "/"


def test_outside_git_machine_paths_are_relative_to_the_working_directory(run_cli, tmp_path):
    _write(tmp_path / "proj", "pyproject.toml", "[tool.green-lint]\n")
    _write(tmp_path / "proj", "src/a.py", GRID)
    result = run_cli("--no-cache", "--output-format", "github", "proj/src", cwd=tmp_path)
    assert "file=proj/src/a.py," in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--statistics", "--output-format", "sarif"), "--statistics prints counts per rule as text or JSON"),
        (("--statistics", "--output-format", "github"), "cannot be combined with --output-format github"),
        (("--diff", "--output-format", "json"), "--diff prints a unified diff on stdout"),
        (("--diff", "-o", "out.txt"), "it takes no --output-format or -o"),
        (("--select", ""), "--select needs at least one rule code or prefix"),
        (("--ignore", " , "), "--ignore needs at least one rule code or prefix"),
        (("--per-file-ignores", "[z-a]:GL103"), "bad glob '[z-a]' in '--per-file-ignores'"),
        (("--config", "/dev/null"), "config file '/dev/null' is not a regular file"),
        (("--config", "."), "config file '.' is a folder, not a TOML file"),
        (("--write-baseline", "pyproject.toml"), "'pyproject.toml' exists and is not a green-lint baseline"),
    ],
)
def test_conflicting_or_empty_options_are_usage_errors(run_cli, tmp_path, args, message):
    _write(tmp_path, "a.py", GRID)
    _write(tmp_path, "pyproject.toml", "[project]\nname = 'mine'\n")
    result = run_cli("--no-cache", *args, "a.py", cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert (tmp_path / "pyproject.toml").read_text() == "[project]\nname = 'mine'\n"
    assert not (tmp_path / "out.txt").exists()


def test_statistics_combine_with_json(run_cli, tmp_path):
    _write(tmp_path, "a.py", GRID)
    result = run_cli("--no-cache", "--statistics", "--output-format", "json", "a.py", cwd=tmp_path)
    assert json.loads(result.stdout)[0]["code"] == "GL103"


def test_a_baseline_can_be_written_again(run_cli, tmp_path):
    _write(tmp_path, "a.py", GRID)
    first = run_cli("--no-cache", "--write-baseline", "baseline.json", "a.py", cwd=tmp_path)
    again = run_cli("--no-cache", "--write-baseline", "baseline.json", "a.py", cwd=tmp_path)
    assert (first.returncode, again.returncode) == (0, 0)


@pytest.mark.parametrize("key", ["exclude", "extend-exclude", "per-file-ignores"])
def test_a_bad_glob_in_the_config_is_a_config_error_naming_the_key(run_cli, tmp_path, key):
    value = '{"[z-a]" = ["GL103"]}' if key == "per-file-ignores" else '["[z-a]"]'
    _write(tmp_path, "pyproject.toml", f"[tool.green-lint]\n{key} = {value}\n")
    _write(tmp_path, "a.py", GRID)
    result = run_cli("--no-cache", ".", cwd=tmp_path)
    assert result.returncode == 2
    assert f"bad glob '[z-a]' in '{key}'" in result.stderr
    assert "internal error" not in result.stderr
