"""Adopting green-lint on a codebase with findings, through the command line against real
git repositories: changed-lines mode (`--diff-base`), baselines (`--baseline`,
`--write-baseline`) and suppression hygiene (`--add-noqa`, GL002 unused-noqa).

The command line runs in this process (`cli`); git runs for real. The inputs trigger only
GL001, GL002 and GL103.
"""

from __future__ import annotations

import json
import os

import pytest

from tests.git_repos import IMPORTS, commit, git, grid, isolate_git, make_repo, write


@pytest.fixture(autouse=True)
def _plain_git(monkeypatch, tmp_path):
    isolate_git(monkeypatch, tmp_path)


def found(result) -> list[tuple[str, int, str]]:
    """(path with forward slashes, row, code) of each finding of a JSON run."""
    return [
        (finding["filename"].replace(os.sep, "/"), finding["location"]["row"], finding["code"])
        for finding in json.loads(result.stdout)
    ]


def cells_notebook(*cells: str) -> str:
    notebook = {
        "cells": [
            {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}
            for source in cells
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(notebook, indent=1) + "\n"


def one_error_line(result, *needles: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert result.stderr.startswith("green-lint: error: ") and result.stderr.count("\n") == 1, result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr


# Changed-lines mode


def test_only_findings_touching_changed_lines_are_reported(cli, tmp_path):
    multi = 'multi = GridSearchCV(\n    SVC(),\n    {"C": [1, 10]},\n    cv=3,\n)\n'
    base = IMPORTS + "\n" + grid("old") + multi + "x = 1\n"
    repo = make_repo(tmp_path / "repo", {"a.py": base, "untouched.py": IMPORTS + grid("other")})
    # A removed line shifts `old` up without changing it; `cv=3` inside the multi-line
    # call changes; a new flagged line is committed, another one is left uncommitted.
    commit(repo, {"a.py": (IMPORTS + grid("old") + multi.replace("cv=3", "cv=5") + "x = 1\n" + grid("new"))})
    (repo / "a.py").write_text((repo / "a.py").read_text() + grid("wip"), encoding="utf-8")

    result = cli("--no-cache", "--output-format", "json", "--diff-base", "main", cwd=repo)

    assert result.returncode == 1, result.stderr
    # old (row 3) and untouched.py are not reported; multi spans rows 4-8 and row 7 changed.
    assert found(result) == [("a.py", 4, "GL103"), ("a.py", 10, "GL103"), ("a.py", 11, "GL103")]
    assert found(cli("--no-cache", "--output-format", "json", cwd=repo)) == [
        ("a.py", 3, "GL103"),
        ("a.py", 4, "GL103"),
        ("a.py", 10, "GL103"),
        ("a.py", 11, "GL103"),
        ("untouched.py", 3, "GL103"),
    ]


def test_the_alias_changed_since_and_the_merge_base(cli, tmp_path):
    repo = make_repo(tmp_path / "repo", {"a.py": IMPORTS + grid("old")})
    commit(repo, {"a.py": IMPORTS + grid("old") + grid("mine")})
    # main moves on after the branch point: its new finding is not the branch's business.
    git(repo, "checkout", "-q", "main")
    commit(repo, {"b.py": IMPORTS + grid("theirs")})
    git(repo, "checkout", "-q", "feature")

    result = cli("--no-cache", "--output-format", "json", "--changed-since", "main", cwd=repo)

    assert found(result) == [("a.py", 4, "GL103")]


def test_new_and_untracked_files_report_everything(cli, tmp_path):
    repo = make_repo(tmp_path / "repo", {"a.py": IMPORTS + grid("old"), ".gitignore": "ignored.py\n"})
    commit(repo, {"added.py": IMPORTS + grid("one") + grid("two")})
    write(repo, {"untracked.py": IMPORTS + grid("three"), "ignored.py": IMPORTS + grid("four")})
    git(repo, "add", "-N", "untracked.py")  # intent to add: a new file in `git diff`
    write(repo, {"pkg/loose.py": IMPORTS + grid("five")})

    result = cli("--no-cache", "--output-format", "json", "--diff-base", "main", cwd=repo)

    assert found(result) == [
        ("added.py", 3, "GL103"),
        ("added.py", 4, "GL103"),
        ("pkg/loose.py", 3, "GL103"),
        ("untracked.py", 3, "GL103"),
    ]


def test_from_a_subfolder(cli, tmp_path):
    repo = make_repo(
        tmp_path / "repo",
        {"pkg/a.py": IMPORTS + grid("old"), "top.py": IMPORTS + grid("top")},
    )
    commit(repo, {"pkg/a.py": IMPORTS + grid("old") + grid("new"), "top.py": IMPORTS + grid("top", 5)})

    here = cli("--no-cache", "--output-format", "json", "--diff-base", "main", cwd=repo / "pkg")
    above = cli("--no-cache", "--output-format", "json", "--diff-base", "main", "..", cwd=repo / "pkg")

    assert found(here) == [("a.py", 4, "GL103")]
    assert sorted(found(above)) == [("../top.py", 3, "GL103"), ("a.py", 4, "GL103")]


def test_a_renamed_file_reports_only_its_edited_lines(cli, tmp_path):
    body = IMPORTS + "".join(grid(f"s{n}", n) for n in range(1, 6))
    repo = make_repo(tmp_path / "repo", {"old_name.py": body})
    git(repo, "mv", "old_name.py", "new_name.py")
    edited = body.replace(grid("s3", 3), grid("s3", 33)) + grid("added")
    commit(repo, {"new_name.py": edited}, "rename and edit")

    result = cli("--no-cache", "--output-format", "json", "--diff-base", "main", cwd=repo)

    assert found(result) == [("new_name.py", 5, "GL103"), ("new_name.py", 8, "GL103")]


def test_a_pure_rename_reports_nothing(cli, tmp_path):
    repo = make_repo(tmp_path / "repo", {"old_name.py": IMPORTS + grid("a")})
    git(repo, "mv", "old_name.py", "new_name.py")
    git(repo, "commit", "-q", "-m", "rename")

    result = cli("--no-cache", "--output-format", "json", "--diff-base", "main", cwd=repo)

    assert result.returncode == 0
    assert found(result) == []


def test_notebooks_report_the_findings_of_changed_cells(cli, tmp_path):
    imports = IMPORTS.rstrip("\n")
    before = cells_notebook(imports, grid("kept").rstrip("\n"), "x = 1")
    after = cells_notebook(imports, grid("kept").rstrip("\n"), "x = 2\n" + grid("edited").rstrip("\n"))
    repo = make_repo(tmp_path / "repo", {"nb.ipynb": before, "moved.ipynb": before})
    git(repo, "mv", "moved.ipynb", "renamed.ipynb")
    fresh = cells_notebook(imports, "y = 1", grid("fresh").rstrip("\n"))
    commit(repo, {"nb.ipynb": after, "renamed.ipynb": after, "fresh.ipynb": fresh})

    result = cli("--no-cache", "--output-format", "json", "--diff-base", "main", cwd=repo)

    cells = [(f["filename"], f["cell"], f["location"]["row"]) for f in json.loads(result.stdout)]
    assert cells == [
        ("fresh.ipynb", 3, 1),  # a new notebook: every cell
        ("nb.ipynb", 3, 2),  # cell 2 is unchanged: only cell 3
        ("renamed.ipynb", 3, 2),  # compared with the notebook it was renamed from
    ]


def test_paths_with_spaces_and_accents_whatever_the_diff_configuration(cli, tmp_path):
    repo = make_repo(tmp_path / "repo", {"my file.py": "x = 1\n", "é.py": "x = 1\n"})
    git(repo, "config", "diff.noprefix", "true")
    git(repo, "config", "core.quotePath", "true")
    commit(repo, {"my file.py": IMPORTS + grid("a"), "é.py": IMPORTS + grid("b")})
    write(repo, {"new é.py": IMPORTS + grid("c")})

    result = cli("--no-cache", "--output-format", "json", "--diff-base", "main", cwd=repo)

    assert sorted(found(result)) == [
        ("my file.py", 3, "GL103"),
        ("new é.py", 3, "GL103"),
        ("é.py", 3, "GL103"),
    ]


def test_a_file_that_is_not_utf8(cli, tmp_path):
    header = "# -*- coding: latin-1 -*-\n"
    repo = make_repo(tmp_path / "repo", {"a.py": header + IMPORTS + "s = 'caf'\n"})
    (repo / "a.py").write_bytes((header + IMPORTS + "s = 'café'\n" + grid("new")).encode("latin-1"))

    result = cli("--no-cache", "--output-format", "json", "--diff-base", "main", cwd=repo)

    assert found(result) == [("a.py", 5, "GL103")]


def test_a_line_added_that_starts_with_two_plus_signs(cli, tmp_path):
    # In the diff it reads `+++ 1)`, like the header of the next file.
    repo = make_repo(tmp_path / "repo", {"a.py": IMPORTS + "a = 1\nb = 2\n"})
    commit(repo, {"a.py": IMPORTS + "a = (\n++ 1)\nb = 2\n" + grid("last")})

    result = cli("--no-cache", "--output-format", "json", "--diff-base", "main", cwd=repo)

    assert found(result) == [("a.py", 6, "GL103")]


def test_nothing_changed(cli, tmp_path):
    repo = make_repo(tmp_path / "repo", {"a.py": IMPORTS + grid("old")})

    text = cli("--no-cache", "--diff-base", "main", cwd=repo)
    machine = cli("--no-cache", "--diff-base", "main", "--output-format", "json", cwd=repo)

    assert (text.returncode, text.stdout) == (0, "")
    assert text.stderr == "green-lint: warning: no changed Python files found\n"
    assert (machine.returncode, json.loads(machine.stdout)) == (0, [])


def test_a_shallow_clone_compares_with_the_ref_itself(cli, tmp_path):
    upstream = make_repo(tmp_path / "upstream", {"a.py": IMPORTS + grid("old")})
    commit(upstream, {"a.py": IMPORTS + grid("old") + grid("new")})
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth=1", "--branch", "feature", upstream.as_uri(), str(clone))
    git(clone, "fetch", "-q", "--depth=1", "origin", "+refs/heads/main:refs/remotes/origin/main")

    result = cli("--no-cache", "--output-format", "json", "--diff-base", "origin/main", cwd=clone)

    assert found(result) == [("a.py", 4, "GL103")]
    assert "too shallow" in result.stderr


def test_outside_a_git_repository(cli, tmp_path):
    write(tmp_path / "plain", {"a.py": IMPORTS + grid("a")})

    result = cli("--no-cache", "--diff-base", "main", cwd=tmp_path / "plain")

    one_error_line(result, "--diff-base needs a git repository", "is not in one")


@pytest.mark.parametrize("ref", ["no-such-branch", "--output"])
def test_an_unknown_ref(cli, tmp_path, ref):
    repo = make_repo(tmp_path / "repo", {"a.py": IMPORTS + grid("a")})

    result = cli("--no-cache", f"--diff-base={ref}", cwd=repo)

    one_error_line(result, f"unknown git ref {ref!r}")


def test_unknown_ref_through_a_real_process(run_cli, tmp_path):
    repo = make_repo(tmp_path / "repo", {"a.py": IMPORTS + grid("a")})

    result = run_cli("--no-cache", "--diff-base", "nope", cwd=repo)

    one_error_line(result, "--diff-base: unknown git ref 'nope'")


# Baselines


def test_a_baseline_hides_what_it_recorded(cli, tmp_path):
    write(tmp_path, {"a.py": IMPORTS + grid("search"), "pkg/b.py": IMPORTS + grid("other")})

    written = cli("--no-cache", "--write-baseline", "baseline.json", cwd=tmp_path)
    assert written.returncode == 0
    assert written.stdout == ""
    assert written.stderr == "Wrote 2 findings to the baseline baseline.json.\n"
    document = json.loads((tmp_path / "baseline.json").read_text())
    assert document["tool"] == "green-lint" and document["version"] == 1
    assert [(e["code"], e["path"]) for e in document["findings"]] == [
        ("GL103", "a.py"),
        ("GL103", "pkg/b.py"),
    ]

    result = cli("--no-cache", "--baseline", "baseline.json", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout == "All checks passed!\n"
    assert result.stderr == "2 findings hidden by the baseline.\n"
    # From a subfolder, with the baseline's path from there.
    below = cli("--no-cache", "--baseline", "../baseline.json", ".", cwd=tmp_path / "pkg")
    assert below.returncode == 0 and below.stderr == "1 finding hidden by the baseline.\n"
    assert cli("--no-cache", "-q", "--baseline", "baseline.json", cwd=tmp_path).stderr == ""


def test_lines_added_above_keep_a_baselined_finding_hidden(cli, tmp_path):
    write(tmp_path, {"a.py": IMPORTS + grid("search")})
    cli("--no-cache", "--write-baseline", "baseline.json", cwd=tmp_path)
    write(tmp_path, {"a.py": '"""Docs."""\n\nimport os\n' + IMPORTS + "\n\n" + grid("search")})

    result = cli("--no-cache", "--baseline", "baseline.json", cwd=tmp_path)

    assert result.returncode == 0, result.stdout
    assert result.stderr == "1 finding hidden by the baseline.\n"


def test_editing_the_flagged_statement_shows_it(cli, tmp_path):
    write(tmp_path, {"a.py": IMPORTS + grid("search")})
    cli("--no-cache", "--write-baseline", "baseline.json", cwd=tmp_path)
    write(tmp_path, {"a.py": IMPORTS + grid("search", 100)})

    result = cli("--no-cache", "--output-format", "json", "--baseline", "baseline.json", cwd=tmp_path)

    assert result.returncode == 1
    assert found(result) == [("a.py", 3, "GL103")]
    assert result.stderr == (
        "0 findings hidden by the baseline; 1 baseline entry no longer matches anything "
        "(prune with --write-baseline).\n"
    )


def test_a_second_occurrence_of_a_baselined_statement_is_new(cli, tmp_path):
    write(tmp_path, {"a.py": IMPORTS + grid("search")})
    cli("--no-cache", "--write-baseline", "baseline.json", cwd=tmp_path)
    write(tmp_path, {"a.py": IMPORTS + grid("search") + "if True:\n    " + grid("search")})

    result = cli("--no-cache", "--output-format", "json", "--baseline", "baseline.json", cwd=tmp_path)

    assert result.returncode == 1
    assert len(found(result)) == 1
    assert result.stderr == "1 finding hidden by the baseline.\n"


def test_stale_entries_count_only_files_this_run_answers_for(cli, tmp_path):
    write(
        tmp_path,
        {
            "a.py": IMPORTS + grid("a"),
            "b.py": IMPORTS + grid("b"),
            "gone.py": IMPORTS + grid("gone"),
        },
    )
    cli("--no-cache", "--write-baseline", "baseline.json", cwd=tmp_path)
    write(tmp_path, {"a.py": IMPORTS})  # fixed
    (tmp_path / "gone.py").unlink()  # deleted

    only_b = cli("--no-cache", "--baseline", "baseline.json", "b.py", cwd=tmp_path)
    everything = cli("--no-cache", "--baseline", "baseline.json", cwd=tmp_path)

    # a.py was not checked: its entry says nothing; gone.py's file no longer exists.
    assert only_b.stderr == (
        "1 finding hidden by the baseline; 1 baseline entry no longer matches anything "
        "(prune with --write-baseline).\n"
    )
    assert everything.returncode == 0
    assert everything.stderr == (
        "1 finding hidden by the baseline; 2 baseline entries no longer match anything "
        "(prune with --write-baseline).\n"
    )


def test_write_baseline_prunes_and_keeps_the_files_it_did_not_check(cli, tmp_path):
    write(tmp_path, {"a.py": IMPORTS + grid("a") + grid("a2"), "other/b.py": IMPORTS + grid("b")})
    cli("--no-cache", "--write-baseline", "baseline.json", cwd=tmp_path)
    write(tmp_path, {"a.py": IMPORTS + grid("a")})  # one of a.py's findings is fixed

    pruned = cli("--no-cache", "--write-baseline", "baseline.json", "a.py", cwd=tmp_path)

    assert pruned.stderr == (
        "Wrote 2 findings to the baseline baseline.json (1 of them from files not checked in this run).\n"
    )
    entries = json.loads((tmp_path / "baseline.json").read_text())["findings"]
    assert [e["path"] for e in entries] == ["a.py", "other/b.py"]
    assert cli("--no-cache", "--baseline", "baseline.json", cwd=tmp_path).stderr == (
        "2 findings hidden by the baseline.\n"
    )


def test_baseline_in_the_configuration(cli, tmp_path):
    write(
        tmp_path,
        {
            "pyproject.toml": '[tool.green-lint]\nbaseline = "ci/green-lint-baseline.json"\n',
            "src/a.py": IMPORTS + grid("a"),
        },
    )
    (tmp_path / "ci").mkdir()
    cli("--no-cache", "--write-baseline", "ci/green-lint-baseline.json", cwd=tmp_path)
    assert json.loads((tmp_path / "ci/green-lint-baseline.json").read_text())["findings"][0]["path"] == (
        "../src/a.py"
    )

    from_root = cli("--no-cache", cwd=tmp_path)
    from_src = cli("--no-cache", ".", cwd=tmp_path / "src")
    write(tmp_path, {"src/a.py": IMPORTS + grid("a") + grid("new")})
    with_new = cli("--no-cache", "--output-format", "json", cwd=tmp_path)

    assert (from_root.returncode, from_root.stderr) == (0, "1 finding hidden by the baseline.\n")
    assert (from_src.returncode, from_src.stderr) == (0, "1 finding hidden by the baseline.\n")
    assert found(with_new) == [("src/a.py", 4, "GL103")]


def test_baseline_with_changed_lines(cli, tmp_path):
    repo = make_repo(
        tmp_path / "repo", {"a.py": IMPORTS + grid("a") + grid("b"), "c.py": IMPORTS + grid("c")}
    )
    cli("--no-cache", "--write-baseline", "baseline.json", cwd=repo)
    commit(repo, {"a.py": IMPORTS + grid("a") + grid("b", 5) + grid("new")})

    result = cli(
        "--no-cache",
        "--output-format",
        "json",
        "--diff-base",
        "main",
        "--baseline",
        "baseline.json",
        cwd=repo,
    )

    # b's edit makes it new; a stays hidden; c.py was not checked (unchanged).
    assert found(result) == [("a.py", 4, "GL103"), ("a.py", 5, "GL103")]
    assert result.stderr == (
        "1 finding hidden by the baseline; 1 baseline entry no longer matches anything "
        "(prune with --write-baseline).\n"
    )


@pytest.mark.parametrize(
    ("content", "needles"),
    [
        (None, ("'baseline.json' does not exist", "--write-baseline")),
        ("{not json", ("'baseline.json' is not valid JSON",)),
        ("[]", ("'baseline.json' is not a green-lint baseline", '"findings" list')),
        ('{"version": 1, "findings": [{"code": "GL103"}]}', ("finding 1 lacks",)),
        ('{"version": 99, "findings": []}', ("unsupported format version 99",)),
    ],
)
def test_a_missing_or_corrupt_baseline(cli, tmp_path, content, needles):
    write(tmp_path, {"a.py": IMPORTS + grid("a")})
    if content is not None:
        write(tmp_path, {"baseline.json": content})

    one_error_line(cli("--no-cache", "--baseline", "baseline.json", cwd=tmp_path), *needles)


def test_a_missing_baseline_in_the_configuration(run_cli, tmp_path):
    write(tmp_path, {"pyproject.toml": '[tool.green-lint]\nbaseline = "nope.json"\n', "a.py": "x = 1\n"})

    one_error_line(run_cli("--no-cache", cwd=tmp_path), "nope.json", "does not exist")


def test_a_baseline_that_cannot_be_written(cli, tmp_path):
    write(tmp_path, {"a.py": IMPORTS + grid("a")})

    one_error_line(
        cli("--no-cache", "--write-baseline", "missing/baseline.json", cwd=tmp_path),
        "cannot write the baseline 'missing/baseline.json'",
    )


# Suppression hygiene: --add-noqa


def test_add_noqa_then_the_run_is_clean_and_a_second_pass_changes_nothing(cli, tmp_path):
    source = (
        IMPORTS
        + grid("plain")
        + grid("merged").replace("\n", "  # noqa: E501\n")
        + 'multi = GridSearchCV(\n    SVC(),\n    {"C": [1, 10]},\n)\n'
        + grid("other").replace("\n", "  # type: ignore\n")
    )
    write(tmp_path, {"a.py": source})

    added = cli("--no-cache", "--add-noqa", cwd=tmp_path)

    assert added.returncode == 0, added.stdout
    assert added.stderr == "Added 4 noqa directives.\n"
    assert added.stdout == ""  # not "All checks passed!": the findings are hidden, not gone
    assert (tmp_path / "a.py").read_text() == (
        IMPORTS
        + grid("plain").replace("\n", "  # noqa: GL103\n")
        + grid("merged").replace("\n", "  # noqa: E501, GL103\n")
        + 'multi = GridSearchCV(  # noqa: GL103\n    SVC(),\n    {"C": [1, 10]},\n)\n'
        + grid("other").replace("\n", "  # type: ignore  # noqa: GL103\n")
    )
    clean = cli("--no-cache", cwd=tmp_path)
    assert (clean.returncode, clean.stdout) == (0, "All checks passed!\n")
    before = (tmp_path / "a.py").read_bytes()
    again = cli("--no-cache", "--add-noqa", cwd=tmp_path)
    assert (again.returncode, again.stderr) == (0, "Added 0 noqa directives.\n")
    assert (tmp_path / "a.py").read_bytes() == before


def test_add_noqa_in_a_notebook_and_with_crlf(cli, tmp_path):
    notebook = cells_notebook(IMPORTS.rstrip("\n"), "x = 1\n" + grid("s").rstrip("\n"))
    write(tmp_path, {"nb.ipynb": notebook})
    (tmp_path / "crlf.py").write_bytes((IMPORTS + grid("s")).replace("\n", "\r\n").encode())

    added = cli("--no-cache", "--add-noqa", cwd=tmp_path)

    assert added.stderr == "Added 2 noqa directives.\n"
    cell = json.loads((tmp_path / "nb.ipynb").read_text())["cells"][1]["source"]
    assert cell == "x = 1\n" + grid("s").rstrip("\n") + "  # noqa: GL103"
    assert (tmp_path / "crlf.py").read_bytes() == (
        (IMPORTS + grid("s").replace("\n", "  # noqa: GL103\n")).replace("\n", "\r\n").encode()
    )
    assert cli("--no-cache", cwd=tmp_path).returncode == 0


def test_add_noqa_leaves_lines_where_no_comment_can_go(cli, tmp_path):
    source = IMPORTS + "search = GridSearchCV(SVC(), {'C': [1, 10]}, cv=3) + \\\n    0\n"
    write(tmp_path, {"a.py": source, "broken.py": "def f(:\n"})

    result = cli("--no-cache", "--add-noqa", "--output-format", "concise", cwd=tmp_path)

    assert (tmp_path / "a.py").read_text() == source
    assert (tmp_path / "broken.py").read_text() == "def f(:\n"
    assert result.returncode == 1
    assert [line.split(" ")[:2] for line in result.stdout.splitlines()[:2]] == [
        ["a.py:3:10:", "GL103"],
        ["broken.py:1:7:", "GL001"],
    ]
    assert "green-lint: warning: a.py:3: the line ends inside a string or with a backslash" in result.stderr


def test_add_noqa_ignores_the_baseline_to_burn_it_down(cli, tmp_path):
    write(
        tmp_path,
        {"pyproject.toml": '[tool.green-lint]\nbaseline = "baseline.json"\n', "a.py": IMPORTS + grid("a")},
    )
    cli("--no-cache", "--write-baseline", "baseline.json", cwd=tmp_path)

    added = cli("--no-cache", "--add-noqa", cwd=tmp_path)
    pruned = cli("--no-cache", "--write-baseline", "baseline.json", cwd=tmp_path)

    assert "--add-noqa ignores the baseline" in added.stderr
    assert (tmp_path / "a.py").read_text() == IMPORTS + grid("a").replace("\n", "  # noqa: GL103\n")
    assert pruned.stderr == "Wrote 0 findings to the baseline baseline.json.\n"
    assert cli("--no-cache", cwd=tmp_path).stderr == ""


def test_add_noqa_only_on_changed_lines(cli, tmp_path):
    repo = make_repo(tmp_path / "repo", {"a.py": IMPORTS + grid("old")})
    commit(repo, {"a.py": IMPORTS + grid("old") + grid("new")})

    cli("--no-cache", "--add-noqa", "--diff-base", "main", cwd=repo)

    assert (repo / "a.py").read_text() == IMPORTS + grid("old") + grid("new").replace(
        "\n", "  # noqa: GL103\n"
    )


# Suppression hygiene: GL002 unused-noqa


def test_unused_noqa_is_off_by_default(cli, tmp_path):
    write(tmp_path, {"a.py": IMPORTS + "x = 1  # noqa: GL103\n"})

    default = cli("--no-cache", cwd=tmp_path)
    selected = cli("--no-cache", "--extend-select", "GL002", "--output-format", "json", cwd=tmp_path)
    rules = json.loads(cli("rules", "--output-format", "json", cwd=tmp_path).stdout)

    assert (default.returncode, default.stdout) == (0, "All checks passed!\n")
    assert found(selected) == [("a.py", 3, "GL002")]
    assert [rule["status"] for rule in rules if rule["code"] == "GL002"] == ["off by default"]


def test_unused_noqa_is_reported_when_selected_and_fixed_safely(cli, tmp_path):
    source = (
        IMPORTS
        + "x = 1  # noqa: GL103\n"
        + "y = 2  # noqa: GL103, E501\n"
        + "z = 3  # noqa: E501, GL103  # why\n"
        + "w = 4  # noqa: GL103 kept for the old API\n"
        + grid("used").replace("\n", "  # noqa: GL103\n")
        + 's = "# noqa: GL103"\n'
        + 'doc = """\n# noqa: GL103\n"""\n'
        + "v = 5  # noqa\n"
        + "u = 6  # noqa: F401\n"
    )
    write(tmp_path, {"a.py": source})

    reported = cli("--no-cache", "--extend-select", "GL002", "--output-format", "json", cwd=tmp_path)
    fixed = cli("--no-cache", "--extend-select", "GL002", "--fix", cwd=tmp_path)

    assert reported.returncode == 1
    assert found(reported) == [
        ("a.py", 3, "GL002"),
        ("a.py", 4, "GL002"),
        ("a.py", 5, "GL002"),
        ("a.py", 6, "GL002"),
    ]
    first = json.loads(reported.stdout)[0]
    assert first["fix"]["applicability"] == "safe"
    assert "GL103" in first["message"]
    assert fixed.returncode == 0, fixed.stdout
    assert (tmp_path / "a.py").read_text() == source.replace("x = 1  # noqa: GL103\n", "x = 1\n").replace(
        "# noqa: GL103, E501", "# noqa: E501"
    ).replace("# noqa: E501, GL103  # why", "# noqa: E501  # why").replace(
        "w = 4  # noqa: GL103 kept for the old API", "w = 4  # kept for the old API"
    )
    assert cli("--no-cache", "--extend-select", "GL002", cwd=tmp_path).returncode == 0


def test_unused_noqa_by_selection_and_for_unknown_codes(cli, tmp_path):
    write(tmp_path, {"a.py": "x = 1  # noqa: GL103\ny = 2  # noqa: GL999\n"})

    only = cli("--no-cache", "--select", "GL002", "--output-format", "json", cwd=tmp_path)
    ignored = cli("--no-cache", "--extend-select", "GL002", "--ignore", "GL002", cwd=tmp_path)

    # GL103 did not run, so its noqa cannot be judged; GL999 is no rule at all.
    assert found(only) == [("a.py", 2, "GL002")]
    assert ignored.returncode == 0


def test_a_file_with_form_feeds_keeps_its_rows(cli, tmp_path):
    # str.splitlines splits at a form feed; the parser does not.
    source = IMPORTS + "\x0c\n" + "x = 1\x0c  # noqa: GL103\n" + grid("s").replace("\n", "  # noqa: GL103\n")
    write(tmp_path, {"a.py": source})

    reported = cli("--no-cache", "--extend-select", "GL002", "--output-format", "json", cwd=tmp_path)

    assert found(reported) == [("a.py", 4, "GL002")]


def test_add_noqa_never_adds_gl002(cli, tmp_path):
    write(tmp_path, {"a.py": IMPORTS + "x = 1  # noqa: GL103\n" + grid("s")})

    result = cli(
        "--no-cache", "--extend-select", "GL002", "--add-noqa", "--output-format", "json", cwd=tmp_path
    )

    assert (tmp_path / "a.py").read_text() == (
        IMPORTS + "x = 1  # noqa: GL103\n" + grid("s").replace("\n", "  # noqa: GL103\n")
    )
    assert found(result) == [("a.py", 3, "GL002")]


def test_a_noqa_inside_a_string_hides_nothing(cli, tmp_path):
    line = 'search = GridSearchCV(SVC(), {"C": [1, 10]}, cv=3, error_score="# noqa")\n'
    write(tmp_path, {"a.py": IMPORTS + line})

    reported = cli("--no-cache", "--output-format", "json", cwd=tmp_path)
    added = cli("--no-cache", "--add-noqa", cwd=tmp_path)

    assert found(reported) == [("a.py", 3, "GL103")]
    assert added.stderr == "Added 1 noqa directive.\n"
    assert (tmp_path / "a.py").read_text() == IMPORTS + line.replace("\n", "  # noqa: GL103\n")
    assert cli("--no-cache", cwd=tmp_path).returncode == 0


def test_a_file_level_directive_inside_a_docstring_is_no_directive(cli, tmp_path):
    line = grid("search")
    write(
        tmp_path,
        {
            "doc.py": '"""How to silence a file:\n\n    # green-lint: noqa\n"""\n' + IMPORTS + line,
            "off.py": "# green-lint: noqa: GL103\n" + IMPORTS + line,
            "end.py": IMPORTS + line + "    # green-lint: noqa\n",
        },
    )

    result = cli("--no-cache", "--output-format", "json", cwd=tmp_path)

    assert found(result) == [("doc.py", 7, "GL103")]
