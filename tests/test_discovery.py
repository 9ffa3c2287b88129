from __future__ import annotations

import os
from pathlib import Path

import pytest

from green_lint.discovery import (
    DEFAULT_EXCLUDE,
    DiscoverySettings,
    discover,
    display_path,
    is_requirements_file,
)


@pytest.fixture
def project(tmp_path, monkeypatch):
    """An empty project folder that is also the current folder."""
    root = tmp_path / "project"
    root.mkdir()
    monkeypatch.chdir(root)
    return root


def make(root: Path, *files: str) -> None:
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("", encoding="utf-8")


def found(paths=(".",), **settings) -> list[str]:
    settings.setdefault("root", Path.cwd())
    result = discover([Path(p) for p in paths], DiscoverySettings(**settings))
    assert not result.missing
    return [path.as_posix() for path in result.files]


def test_lints_python_stubs_and_notebooks_in_folders(project):
    make(project, "a.py", "b.pyi", "c.ipynb", "d.txt", "e.pyc", "f.md", "pkg/g.py")
    assert found() == ["a.py", "b.pyi", "c.ipynb", "pkg/g.py"]


def test_requirements_files_are_included_unless_disabled(project):
    make(
        project,
        "requirements.txt",
        "requirements-dev.txt",
        "pyproject.toml",
        "notes.txt",
        "sub/pyproject.toml",
        "sub/setup.cfg",
        "tox.cfg",
    )
    assert found() == [
        "pyproject.toml",
        "requirements-dev.txt",
        "requirements.txt",
        "sub/pyproject.toml",
        "sub/setup.cfg",
    ]
    assert found(include_requirements=False) == []
    assert is_requirements_file(Path("x/requirements-gpu.txt"))
    assert not is_requirements_file(Path("x/a.py"))


def test_files_are_sorted_and_in_the_form_given(project):
    make(project, "src/b.py", "src/a/z.py", "src/a.py")
    # Sorted as paths: a folder's files together, before the next name.
    assert found(["src"]) == ["src/a/z.py", "src/a.py", "src/b.py"]
    assert found([str(project / "src")]) == [
        (project / "src" / name).as_posix() for name in ("a/z.py", "a.py", "b.py")
    ]


def test_a_file_is_listed_once_even_when_named_twice(project):
    make(project, "src/a.py")
    assert found(["src", "src/a.py", "./src/a.py", str(project / "src/a.py")]) == ["src/a.py"]


def test_missing_paths_are_reported(project):
    make(project, "a.py")
    result = discover([Path("a.py"), Path("nope.py"), Path("gone")], DiscoverySettings(root=project))
    assert result.missing == [Path("nope.py"), Path("gone")]
    assert result.files == [Path("a.py")]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX's")
def test_an_explicit_pipe_is_skipped_with_a_warning_not_read(project):
    """Reading a named pipe that no one writes to would wait for ever."""
    make(project, "a.py")
    os.mkfifo(project / "pipe.py")
    result = discover([Path("pipe.py"), Path("a.py")], DiscoverySettings(root=project))
    assert result.files == [Path("a.py")]
    assert result.warnings == [
        "pipe.py is not a regular file (a pipe, socket or device); skipped (pass `-` to lint standard input)"
    ]


def test_explicit_file_is_linted_whatever_its_suffix(project):
    make(project, "script", "notes.txt", "build/gen.py")
    assert found(["script", "notes.txt", "build/gen.py"]) == ["build/gen.py", "notes.txt", "script"]


def test_explicit_folder_is_walked_even_if_excluded(project):
    make(project, "build/gen.py")
    assert found() == []
    assert found(["build"]) == ["build/gen.py"]


def test_force_exclude_applies_exclude_to_explicit_paths(project):
    make(project, "build/gen.py", "build/sub/x.py", "legacy.py", "src/a.py")
    paths = ["build/gen.py", "build/sub/x.py", "build", "legacy.py", "src/a.py"]
    settings = {"force_exclude": True, "extend_exclude": ["legacy.py"]}
    assert found(paths, **settings) == ["src/a.py"]


def test_default_excludes_are_not_entered(project):
    make(project, *(f"{name}/x.py" for name in DEFAULT_EXCLUDE), "src/__pycache__/y.py", "src/ok.py")
    assert found(respect_gitignore=False) == ["src/ok.py"]


def test_excluded_folder_is_not_entered(project, monkeypatch):
    make(project, "vendored/a.py", "src/vendored/b.py", "src/c.py")
    entered = []
    real_scandir = os.scandir

    def spying_scandir(path):
        entered.append(Path(path).as_posix())
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", spying_scandir)
    assert found(extend_exclude=["vendored"]) == ["src/c.py"]
    assert not any("vendored" in path for path in entered)


def test_exclude_replaces_the_defaults(project):
    make(project, "build/a.py", "legacy/b.py")
    assert found(exclude=["legacy"]) == ["build/a.py"]
    assert found(exclude=None) == ["legacy/b.py"]


def test_exclude_patterns_match_names_at_any_depth_and_anchored_paths(project):
    make(
        project,
        "tests/fixtures/a.py",
        "tests/fixtures/data/b.py",
        "tests/test_a.py",
        "src/tests/fixtures/c.py",
        "src/gen_x.py",
        "src/keep.py",
    )
    settings = {"extend_exclude": ["tests/fixtures/*.py", "gen_*.py"]}
    assert found(**settings) == [
        "src/keep.py",
        "src/tests/fixtures/c.py",
        "tests/fixtures/data/b.py",
        "tests/test_a.py",
    ]


def test_exclude_anchored_folder_and_leading_dot_slash(project):
    make(project, "src/legacy/a.py", "other/src/legacy/b.py", "src/new.py")
    assert found(extend_exclude=["./src/legacy"]) == ["other/src/legacy/b.py", "src/new.py"]
    assert found(extend_exclude=[str(project / "src/legacy")]) == ["other/src/legacy/b.py", "src/new.py"]


def test_exclude_is_relative_to_the_root_not_the_given_folder(project):
    make(project, "src/legacy/a.py", "src/b.py")
    assert found(["src"], extend_exclude=["src/legacy"]) == ["src/b.py"]
    assert found(["src"], extend_exclude=["legacy"]) == ["src/b.py"]


def test_name_patterns_apply_outside_the_root(project, tmp_path):
    make(tmp_path, "elsewhere/build/a.py", "elsewhere/sub/legacy/b.py", "elsewhere/c.py")
    settings = {"extend_exclude": ["sub/legacy"]}
    assert found([str(tmp_path / "elsewhere")], **settings) == [
        (tmp_path / "elsewhere" / name).as_posix() for name in ("c.py", "sub/legacy/b.py")
    ]


def test_gitignore_at_the_root(project):
    make(project, "a.py", "gen/b.py", "c_pb2.py")
    (project / ".gitignore").write_text("gen/\n*_pb2.py\n", encoding="utf-8")
    assert found() == ["a.py"]
    assert found(respect_gitignore=False) == ["a.py", "c_pb2.py", "gen/b.py"]


def test_nested_gitignore_with_negation(project):
    make(project, "a.py", "keep.py", "sub/a.py", "sub/keep.py", "sub/deep/keep.py", "sub/deep/x.py")
    (project / ".gitignore").write_text("*.py\n", encoding="utf-8")
    (project / "sub" / ".gitignore").write_text("!keep.py\n", encoding="utf-8")
    assert found() == ["sub/deep/keep.py", "sub/keep.py"]


def test_nested_gitignore_patterns_are_relative_to_their_folder(project):
    make(project, "data/a.py", "sub/data/b.py", "sub/c.py")
    (project / "sub" / ".gitignore").write_text("/data\n", encoding="utf-8")
    assert found() == ["data/a.py", "sub/c.py"]


def test_gitignored_folder_is_not_entered(project, monkeypatch):
    make(project, "out/keep.py", "a.py")
    (project / ".gitignore").write_text("out/\n!out/keep.py\n", encoding="utf-8")
    entered = []
    real_scandir = os.scandir
    monkeypatch.setattr(os, "scandir", lambda path: entered.append(os.fspath(path)) or real_scandir(path))
    # As git: a file in an ignored folder cannot be re-included.
    assert found() == ["a.py"]
    assert entered == ["."]


def test_gitignore_of_the_folders_above_a_given_folder_applies(project):
    make(project, "src/pkg/a.py", "src/pkg/gen.py")
    (project / ".git").mkdir()
    (project / ".gitignore").write_text("gen.py\n", encoding="utf-8")
    assert found(["src/pkg"]) == ["src/pkg/a.py"]


def test_git_info_exclude(project):
    make(project, "a.py", "local.py")
    (project / ".git" / "info").mkdir(parents=True)
    (project / ".git" / "info" / "exclude").write_text("local.py\n", encoding="utf-8")
    assert found() == ["a.py"]


def test_the_git_folder_is_never_walked_when_gitignore_is_respected(project):
    make(project, ".git/hooks/pre-commit.py", "a.py")
    assert found(exclude=[]) == ["a.py"]


def test_explicit_file_is_linted_even_if_gitignored(project):
    make(project, "gen.py")
    (project / ".gitignore").write_text("gen.py\n", encoding="utf-8")
    assert found() == []
    assert found(["gen.py"]) == ["gen.py"]


def test_hidden_files_are_linted(project):
    make(project, ".hidden/a.py", ".b.py")
    assert found() == [".b.py", ".hidden/a.py"]


def test_symlinked_file_and_folder_are_followed(project, tmp_path):
    make(tmp_path, "outside/lib/a.py", "outside/b.py")
    os.symlink(tmp_path / "outside" / "lib", project / "lib")
    os.symlink(tmp_path / "outside" / "b.py", project / "b.py")
    result = discover([Path(".")], DiscoverySettings(root=project))
    assert [p.as_posix() for p in result.files] == ["b.py", "lib/a.py"]
    assert result.warnings == []


def test_symlink_loop_is_reported_and_the_walk_goes_on(project):
    make(project, "pkg/a.py", "pkg/sub/b.py", "z.py")
    os.symlink("..", project / "pkg" / "sub" / "up")
    os.symlink(".", project / "pkg" / "self")
    result = discover([Path(".")], DiscoverySettings(root=project))
    assert [p.as_posix() for p in result.files] == ["pkg/a.py", "pkg/sub/b.py", "z.py"]
    assert len(result.warnings) == 2
    assert all("symlink loop" in warning for warning in result.warnings)
    assert any("pkg/sub/up" in warning for warning in result.warnings)


def test_a_file_seen_through_a_link_is_listed_once_by_its_own_path(project):
    make(project, "src/a.py", "src/b.py")
    os.symlink("src", project / "alias")
    os.symlink("src", project / "zalias")
    os.symlink("src/b.py", project / "b_link.py")
    result = discover([Path(".")], DiscoverySettings(root=project))
    assert [p.as_posix() for p in result.files] == ["src/a.py", "src/b.py"]
    assert result.warnings == []


def test_a_link_to_a_folder_outside_that_links_back_does_not_loop(project, tmp_path):
    make(project, "a.py")
    make(tmp_path, "outside/b.py")
    os.symlink(project, tmp_path / "outside" / "back")
    os.symlink(tmp_path / "outside", project / "ext")
    result = discover([Path(".")], DiscoverySettings(root=project))
    assert [p.as_posix() for p in result.files] == ["a.py", "ext/b.py"]
    assert result.warnings == []


def test_links_that_point_to_each_other_are_reported(project):
    make(project, "a.py")
    os.symlink("loop_b.py", project / "loop_a.py")
    os.symlink("loop_a.py", project / "loop_b.py")
    result = discover([Path(".")], DiscoverySettings(root=project))
    assert result.files == [Path("a.py")]
    assert sorted(result.warnings) == [
        "symlink loop: ./loop_a.py -> loop_b.py; skipped",
        "symlink loop: ./loop_b.py -> loop_a.py; skipped",
    ]


def test_dangling_symlink_is_reported_and_the_walk_goes_on(project):
    make(project, "a.py", "z/b.py")
    os.symlink("nowhere.py", project / "m.py")
    result = discover([Path(".")], DiscoverySettings(root=project))
    assert [p.as_posix() for p in result.files] == ["a.py", "z/b.py"]
    assert result.warnings == ["broken symlink: ./m.py -> nowhere.py; skipped"]


def test_dangling_symlink_that_is_excluded_is_silent(project):
    os.symlink("nowhere", project / "build")
    assert discover([Path(".")], DiscoverySettings(root=project)).warnings == []


def test_dangling_symlink_named_explicitly_is_missing(project):
    os.symlink("nowhere.py", project / "m.py")
    result = discover([Path("m.py")], DiscoverySettings(root=project))
    assert result.missing == [Path("m.py")]
    assert result.warnings == ["broken symlink: m.py -> nowhere.py; skipped"]


def test_unreadable_folder_is_a_warning(project, monkeypatch):
    make(project, "a.py", "locked/b.py")
    real_scandir = os.scandir

    def scandir(path):
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = discover([Path(".")], DiscoverySettings(root=project))
    assert result.files == [Path("a.py")]
    assert result.warnings == ["cannot read folder ./locked: Permission denied; skipped"]


def test_root_given_through_a_symlink(project, tmp_path):
    make(project, "legacy/a.py", "b.py")
    os.symlink(project, tmp_path / "link")
    assert found(root=tmp_path / "link", extend_exclude=["/legacy"]) == ["b.py"]


def test_display_path(project, tmp_path):
    assert display_path(project / "src" / "a.py") == os.path.join("src", "a.py")
    assert display_path(Path("src/../a.py")) == "a.py"
    assert display_path(project) == "."
    outside = tmp_path / "other" / "x.py"
    assert display_path(outside) == str(outside)
    assert display_path(Path("../other/x.py")) == "../other/x.py"
    result = discover([Path("src")], DiscoverySettings(root=project))
    assert result.display_path(project / "a.py") == "a.py"


def test_many_files(project):
    names = [f"pkg{p}/sub{s}/m{m}.py" for p in range(10) for s in range(10) for m in range(50)]
    make(project, *names)
    (project / ".gitignore").write_text("*.log\n/pkg0/\n!keep\n", encoding="utf-8")
    files = found()
    assert len(files) == 4500
    assert files == sorted(files)
