from __future__ import annotations

import pytest

from green_lint.gitignore import GitignoreMatcher, PatternList, parse_lines, parse_pattern

BASE = "/repo"


def ignored(lines: list[str], path: str, is_dir: bool = False) -> bool:
    """Whether `path` (relative to the .gitignore's folder) is ignored by `lines`."""
    matcher = GitignoreMatcher().with_patterns(parse_lines(lines), BASE)
    return matcher.is_ignored(f"{BASE}/{path}", is_dir)


@pytest.mark.parametrize("line", ["", "   ", "# a comment", "#*.py", "/", "!"])
def test_blank_lines_comments_and_empty_patterns_are_no_patterns(line):
    assert parse_pattern(line) is None


def test_escaped_hash_and_bang_are_literal():
    assert ignored(["\\#notes.py"], "#notes.py")
    assert not ignored(["\\#notes.py"], "notes.py")
    assert ignored(["\\!important.py"], "!important.py")
    assert not parse_pattern("\\!important.py").negated


def test_trailing_spaces_are_stripped_unless_escaped():
    assert ignored(["a.py   "], "a.py")
    assert ignored(["a\\ "], "a ")
    assert not ignored(["a\\ "], "a")


def test_crlf_line_endings():
    assert ignored(["a.py\r\n"], "a.py")


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("*.py", "a.py", True),
        ("*.py", "deep/down/a.py", True),
        ("*.py", "a.pyc", False),
        ("a?.py", "ab.py", True),
        ("a?.py", "abc.py", False),
        ("[abc].py", "b.py", True),
        ("[abc].py", "d.py", False),
        ("[!abc].py", "d.py", True),
        ("[^abc].py", "a.py", False),
        ("[a-c]x", "bx", True),
        ("[a-c]x", "dx", False),
        ("[]]x", "]x", True),
        ("[a\\-z]x", "-x", True),
        ("[a\\-z]x", "bx", False),
        ("[[:digit:]]x", "7x", True),
        ("[[:digit:]]x", "ax", False),
        ("a[b", "a[b", True),
        ("\\*.py", "*.py", True),
        ("\\*.py", "a.py", False),
    ],
)
def test_wildcards(pattern, path, expected):
    assert ignored([pattern], path) is expected


def test_wildcards_never_match_a_separator():
    assert not ignored(["src/*.py"], "src/sub/a.py")
    assert not ignored(["src?a.py"], "src/a.py")
    assert not ignored(["src[/]a.py"], "src/a.py")
    assert not ignored(["src[!x]a.py"], "src/a.py")


def test_pattern_without_slash_matches_at_any_depth():
    assert ignored(["build"], "build", is_dir=True)
    assert ignored(["build"], "a/b/build", is_dir=True)
    assert ignored(["build"], "a/build")  # a file too


def test_leading_slash_anchors_to_the_gitignore_folder():
    assert ignored(["/build"], "build", is_dir=True)
    assert not ignored(["/build"], "src/build", is_dir=True)


def test_middle_slash_anchors_to_the_gitignore_folder():
    assert ignored(["doc/frotz"], "doc/frotz")
    assert not ignored(["doc/frotz"], "a/doc/frotz")


def test_trailing_slash_matches_folders_only():
    assert ignored(["out/"], "out", is_dir=True)
    assert ignored(["out/"], "a/out", is_dir=True)
    assert not ignored(["out/"], "out")
    assert ignored(["a/out/"], "a/out", is_dir=True)
    assert not ignored(["a/out/"], "a/out")


def test_leading_double_star_matches_in_every_folder():
    assert ignored(["**/foo"], "foo")
    assert ignored(["**/foo"], "x/y/foo")
    assert ignored(["**/foo/bar"], "foo/bar")
    assert ignored(["**/foo/bar"], "x/foo/bar")
    assert not ignored(["**/foo/bar"], "x/foo/baz")


def test_trailing_double_star_matches_everything_inside():
    assert ignored(["abc/**"], "abc/x")
    assert ignored(["abc/**"], "abc/x/y.py")
    assert not ignored(["abc/**"], "abc", is_dir=True)
    assert not ignored(["abc/**"], "x/abc/y")


def test_middle_double_star_matches_zero_or_more_folders():
    assert ignored(["a/**/b"], "a/b")
    assert ignored(["a/**/b"], "a/x/b")
    assert ignored(["a/**/b"], "a/x/y/b")
    assert not ignored(["a/**/b"], "a/x/c")


def test_other_consecutive_stars_are_ordinary_stars():
    assert ignored(["a**b"], "axxb")
    assert not ignored(["a**b"], "ax/xb")


def test_negation_re_includes_and_the_last_match_wins():
    lines = ["*.log", "!keep.log"]
    assert ignored(lines, "a.log")
    assert not ignored(lines, "keep.log")
    assert ignored([*lines, "keep.log"], "keep.log")


def test_negation_with_a_run_of_patterns():
    lines = ["*.py", "*.pyi", "!api.py", "!api.pyi", "secret*"]
    assert ignored(lines, "a.py")
    assert not ignored(lines, "api.pyi")
    assert ignored(lines, "secret_api.py")


def test_deeper_gitignore_wins_over_a_higher_one():
    matcher = (
        GitignoreMatcher()
        .with_patterns(parse_lines(["*.py"]), "/repo")
        .with_patterns(parse_lines(["!keep.py"]), "/repo/sub")
    )
    assert matcher.is_ignored("/repo/a.py", False)
    assert matcher.is_ignored("/repo/other/keep.py", False)
    assert not matcher.is_ignored("/repo/sub/keep.py", False)
    assert not matcher.is_ignored("/repo/sub/deeper/keep.py", False)


def test_patterns_are_relative_to_their_own_folder():
    matcher = GitignoreMatcher().with_patterns(parse_lines(["/data", "gen/*.py"]), "/repo/sub")
    assert matcher.is_ignored("/repo/sub/data", True)
    assert not matcher.is_ignored("/repo/data", True)
    assert matcher.is_ignored("/repo/sub/gen/a.py", False)
    assert not matcher.is_ignored("/repo/gen/a.py", False)
    # A sibling folder whose name merely starts like the base is not under it.
    assert not matcher.is_ignored("/repo/subway/data", True)


def test_with_file_reads_a_gitignore(tmp_path):
    gitignore = tmp_path / ".gitignore"
    gitignore.write_text("# generated\n*.py\n\n!main.py\n", encoding="utf-8")
    matcher = GitignoreMatcher().with_file(gitignore, tmp_path)
    assert matcher.is_ignored(tmp_path / "a.py", False)
    assert not matcher.is_ignored(tmp_path / "main.py", False)


def test_with_file_of_a_missing_file_raises():
    with pytest.raises(FileNotFoundError):
        GitignoreMatcher().with_file("/nonexistent/.gitignore", "/nonexistent")


def test_matchers_are_immutable():
    parent = GitignoreMatcher().with_patterns(parse_lines(["*.py"]), "/repo")
    parent.with_patterns(parse_lines(["!a.py"]), "/repo")
    assert parent.is_ignored("/repo/a.py", False)


def test_pattern_list_outside_its_base_matches_names_only():
    patterns = PatternList(parse_lines(["build", "/src/gen"]))
    assert patterns.match(None, "build", True) is True
    assert patterns.match(None, "gen", True) is None
    assert patterns.match("src/gen", "gen", True) is True
    assert not PatternList([])
