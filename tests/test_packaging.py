"""The package as users get it: the built wheel, the light lint path, the pre-commit hooks,
and the generated docs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from green_lint.registry import all_rules

ROOT = Path(__file__).resolve().parent.parent
HEAVY_MODULES = ("torch", "pandas", "codecarbon", "numpy", "sklearn", "polars", "numba", "onnxruntime")

FLAGGED = textwrap.dedent(
    """\
    from sklearn.model_selection import GridSearchCV
    from sklearn.svm import SVC

    search = GridSearchCV(SVC(), {"C": [1, 10]})
    """
)
CLEAN = FLAGGED.replace(
    "from sklearn.model_selection import GridSearchCV",
    "from sklearn.model_selection import (\n    HalvingGridSearchCV,\n)",
).replace("search = GridSearchCV", "search = HalvingGridSearchCV")


@pytest.fixture(scope="module")
def installed_wheel(tmp_path_factory) -> Path:
    """A non-editable install of the project into a folder of its own."""
    return _build_and_install(ROOT, tmp_path_factory.mktemp("wheel"))


def _build_and_install(source: Path, work: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(work / "dist"), str(source)],
        check=True,
        capture_output=True,
    )
    wheel = next((work / "dist").glob("green_lint-*.whl"))
    site = work / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
    )
    return site


def _run_installed(site: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True)


def test_wheel_has_no_top_level_rules_module(installed_wheel, tmp_path):
    assert not (installed_wheel / "rules").exists()
    assert (installed_wheel / "green_lint" / "rules").is_dir()
    result = _run_installed(installed_wheel, "-c", "import rules", cwd=tmp_path)
    assert result.returncode != 0
    assert "No module named 'rules'" in result.stderr


def test_wheel_ships_every_package_of_the_source_tree(installed_wheel, tmp_path):
    """A package missing from pyproject's list is missing from the wheel, although an
    editable install (the tests') still finds it: the language server once was."""
    sources = {"green_lint": ROOT / "green_lint", "green_lint.rules": ROOT / "rules"}
    packages = {
        ".".join((name, *init.parent.relative_to(folder).parts))
        for name, folder in sources.items()
        for init in folder.rglob("__init__.py")
    }
    assert {"green_lint.server", "green_lint.verify", "green_lint.rules"} <= packages
    for package in sorted(packages):
        assert (installed_wheel / package.replace(".", "/") / "__init__.py").is_file(), package
    # The editor's entry point, from the wheel (pygls comes from the test environment).
    server = _run_installed(installed_wheel, "-c", "import green_lint.server.app", cwd=tmp_path)
    assert server.returncode == 0, server.stderr


def test_two_builds_with_one_version_number_do_not_share_cached_findings(installed_wheel, tmp_path):
    """The GitHub Action's `@main` installs every commit as the same version: a build whose
    rules changed must lint the files again, not serve what another build cached."""
    source = tmp_path / "source"
    for folder in ("green_lint", "rules"):
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    rule_module = source / "green_lint" / "rule.py"
    code = rule_module.read_text(encoding="utf-8")
    assert "message=message," in code
    rule_module.write_text(
        code.replace("message=message,", 'message=message + " (other build)",', 1), "utf-8"
    )
    other_build = _build_and_install(source, tmp_path / "other")
    project = tmp_path / "project"
    project.mkdir()
    (project / "search.py").write_text(FLAGGED, encoding="utf-8")
    check = ("-m", "green_lint", "check", "--exit-zero", "--cache-dir", str(tmp_path / "cache"), "search.py")

    first = _run_installed(installed_wheel, *check, cwd=project)
    assert "GL103" in first.stdout and "(other build)" not in first.stdout, first.stderr
    second = _run_installed(other_build, *check, cwd=project)
    assert "GL103" in second.stdout and "(other build)" in second.stdout, second.stderr
    third = _run_installed(installed_wheel, *check, cwd=project)  # the first build, its own findings
    assert third.stdout == first.stdout


def test_wheel_lists_every_rule(installed_wheel, tmp_path):
    where = _run_installed(
        installed_wheel, "-c", "import green_lint; print(green_lint.__file__)", cwd=tmp_path
    )
    assert where.stdout.strip().startswith(str(installed_wheel))
    listing = _run_installed(installed_wheel, "-m", "green_lint", "rules", cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    for rule in all_rules():
        assert rule.code in listing.stdout


def test_lint_path_imports_no_heavy_package(tmp_path):
    probe = textwrap.dedent(
        f"""
        import sys
        from green_lint.cli import main
        try:
            main(["check", "--no-cache", "--exit-zero", "--quiet", {str(ROOT / "fixtures")!r}])
        except SystemExit:
            pass
        print("HEAVY:" + ",".join(m for m in {HEAVY_MODULES!r} if m in sys.modules))
        """
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "HEAVY:"


def _modules_loaded_by_linting(path: Path, cwd: Path, env: dict | None = None) -> set[str]:
    """The green_lint.rules modules, and libcst, that one CLI run over `path` imports."""
    probe = textwrap.dedent(
        f"""
        import sys
        from green_lint.cli import main
        try:
            main(["check", "--no-cache", "--exit-zero", "--quiet", {str(path)!r}])
        except SystemExit:
            pass
        print("LOADED:" + ",".join(sorted(
            m for m in sys.modules if m == "libcst" or m.startswith("green_lint.rules.")
        )))
        """
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=cwd, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return set(filter(None, result.stdout.strip().splitlines()[-1].removeprefix("LOADED:").split(",")))


def test_a_file_without_triggers_loads_no_rule_module_and_no_libcst(tmp_path):
    plain = tmp_path / "plain.py"
    plain.write_text("total = sum(range(10))\nprint(total)\n", encoding="utf-8")
    assert _modules_loaded_by_linting(plain, tmp_path) == {"green_lint.rules._index"}


def test_a_triggered_file_loads_only_the_rules_it_triggers(tmp_path):
    flagged = tmp_path / "search.py"
    flagged.write_text(FLAGGED, encoding="utf-8")
    loaded = _modules_loaded_by_linting(flagged, tmp_path)
    assert "libcst" in loaded
    rule_modules = {m for m in loaded if m != "libcst" and not m.rsplit(".", 1)[1].startswith("_")}
    assert rule_modules == {"green_lint.rules.exhaustive_grid_search"}


def test_the_wheel_ships_the_rule_index(installed_wheel, tmp_path):
    assert (installed_wheel / "green_lint" / "rules" / "_index.py").is_file()
    plain = tmp_path / "plain.py"
    plain.write_text("print(1)\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(installed_wheel)}
    assert "libcst" not in _modules_loaded_by_linting(plain, tmp_path, env)


def test_generated_docs_are_up_to_date():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "generate_docs.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def test_pre_commit_hook_fails_on_flagged_file_and_passes_once_fixed(tmp_path):
    pre_commit = shutil.which("pre-commit") or str(Path(sys.executable).with_name("pre-commit"))
    repo = tmp_path / "project"
    repo.mkdir()
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "ci@example.com")
    _git(repo, "config", "user.name", "CI")
    target = repo / "train.py"
    target.write_text(FLAGGED)
    _git(repo, "add", "train.py")
    _git(repo, "commit", "-qm", "flagged")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}

    def hook() -> subprocess.CompletedProcess:
        return subprocess.run(
            [pre_commit, "try-repo", str(ROOT), "green-lint", "--files", "train.py"],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    failed = hook()
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "GL103" in failed.stdout
    target.write_text(CLEAN)
    passed = hook()
    assert passed.returncode == 0, passed.stdout + passed.stderr
