from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from green_lint import registry
from green_lint.config import (
    DEFAULT_CACHE_DIR,
    Config,
    ConfigError,
    find_config,
    ignored_codes_for,
    load_config,
    per_file_ignored_codes,
)
from green_lint.discovery import DEFAULT_EXCLUDE
from green_lint.rule import Rule


class FakeSyntaxError(Rule):
    code = "GL001"
    name = "syntax-error"
    summary = "..."


class FakeNoEarlyStopping(Rule):
    code = "GL102"
    name = "no-early-stopping"
    summary = "..."
    options = {"min_epochs": 10, "min_rounds": 100, "strict": False, "frameworks": ["keras"], "ratio": 0.5}


class FakeGridSearch(Rule):
    code = "GL103"
    name = "exhaustive-grid-search"
    summary = "..."
    options = {"max-candidates": 8, "estimators": ("sklearn",), "label": "grid", "anything": None}


class FakeRowLoop(Rule):
    code = "GL201"
    name = "dataframe-row-loop"
    summary = "..."


@pytest.fixture(autouse=True)
def fake_rules(monkeypatch):
    """The tests do not depend on which rules the rule pack holds."""
    rules = (FakeSyntaxError, FakeNoEarlyStopping, FakeGridSearch, FakeRowLoop)
    monkeypatch.setattr(registry, "all_rules", lambda: rules)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def pyproject(folder: Path, body: str) -> Path:
    return write(folder / "pyproject.toml", "[tool.green-lint]\n" + body)


def config_error(folder: Path, body: str) -> str:
    path = pyproject(folder, body)
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    return str(raised.value)


# -- finding the file ----------------------------------------------------------------


def test_find_config_searches_upward_from_a_folder_or_a_file(tmp_path):
    config = pyproject(tmp_path / "project", "")
    write(tmp_path / "project" / "src" / "pkg" / "a.py", "")
    assert find_config(tmp_path / "project" / "src" / "pkg") == config
    assert find_config(tmp_path / "project" / "src" / "pkg" / "a.py") == config
    assert find_config(tmp_path / "project") == config


def test_find_config_skips_a_pyproject_without_the_table(tmp_path):
    config = pyproject(tmp_path, "")
    write(tmp_path / "sub" / "pyproject.toml", "[tool.ruff]\nline-length = 100\n")
    assert find_config(tmp_path / "sub") == config


def test_find_config_prefers_a_standalone_file_in_the_same_folder(tmp_path):
    pyproject(tmp_path, "")
    standalone = write(tmp_path / "green-lint.toml", "")
    assert find_config(tmp_path) == standalone
    hidden = write(tmp_path / ".green-lint.toml", "")
    assert find_config(tmp_path) == hidden


def test_find_config_nearest_folder_wins(tmp_path):
    write(tmp_path / "green-lint.toml", "")
    nearer = pyproject(tmp_path / "sub", "")
    assert find_config(tmp_path / "sub") == nearer


def test_find_config_returns_none_at_the_filesystem_root(tmp_path):
    write(tmp_path / "pyproject.toml", "[project]\nname = 'x'\n")
    assert find_config(tmp_path) is None
    write(tmp_path / "pyproject.toml", "tool = 'green-lint'\n")
    assert find_config(tmp_path) is None


def test_find_config_of_a_path_that_does_not_exist_yet(tmp_path):
    config = pyproject(tmp_path, "")
    assert find_config(tmp_path / "new_file.py") == config


def test_find_config_reports_a_broken_pyproject(tmp_path):
    write(tmp_path / "pyproject.toml", "[tool.green-lint\n")
    with pytest.raises(ConfigError, match=r"invalid TOML in .*pyproject.toml"):
        find_config(tmp_path)


# -- reading -------------------------------------------------------------------------


def test_defaults_without_a_config_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = load_config(None)
    assert config == Config(root=tmp_path, cache_dir=tmp_path / DEFAULT_CACHE_DIR)
    assert config.path is None
    assert config.select is None
    assert config.respect_gitignore is True
    assert config.preview is False
    assert config.output_format == "full"
    assert config.cache_dir == tmp_path / DEFAULT_CACHE_DIR


def test_every_setting_is_read(tmp_path):
    path = pyproject(
        tmp_path,
        """
select = ["GL1"]
extend-select = ["GL201"]
ignore = ["GL103"]
exclude = ["legacy"]
extend-exclude = ["gen/*.py"]
respect-gitignore = false
preview = true
cache-dir = "cache/gl"
output-format = "json"
baseline = "baseline.json"

[tool.green-lint.per-file-ignores]
"tests/*" = ["GL1"]

[tool.green-lint.rules.GL102]
min-epochs = 20
frameworks = ["keras", "lightning"]

[tool.green-lint.verify]
country = "deu"
repeat = 7
warmup = 1
timeout = 60
tracking-mode = "process"
""",
    )
    config = load_config(path)
    assert config.path == path
    assert config.root == tmp_path
    assert config.select == ["GL1"]
    assert config.extend_select == ["GL201"]
    assert config.ignore == ["GL103"]
    assert config.exclude == ["legacy"]
    assert config.extend_exclude == ["gen/*.py"]
    assert config.respect_gitignore is False
    assert config.preview is True
    assert config.cache_dir == tmp_path / "cache" / "gl"
    assert config.output_format == "json"
    assert config.baseline == "baseline.json"
    assert config.per_file_ignores == {"tests/*": ["GL1"]}
    assert config.rules == {"GL102": {"min_epochs": 20, "frameworks": ["keras", "lightning"]}}
    assert config.verify == {
        "country": "DEU",
        "repeat": 7,
        "warmup": 1,
        "timeout": 60.0,
        "tracking_mode": "process",
    }


def test_standalone_file_has_top_level_keys(tmp_path):
    path = write(tmp_path / "green-lint.toml", 'select = ["GL103"]\n[rules.GL103]\nmax-candidates = 4\n')
    config = load_config(path)
    assert config.select == ["GL103"]
    assert config.rules == {"GL103": {"max-candidates": 4}}
    assert config.root == tmp_path


def test_pyproject_without_the_table_gives_the_defaults(tmp_path):
    path = write(tmp_path / "pyproject.toml", "[project]\nname = 'x'\n")
    config = load_config(path)
    assert config.select is None
    assert config.root == tmp_path


def test_absolute_cache_dir_is_kept(tmp_path):
    config = load_config(pyproject(tmp_path, f"cache-dir = '{tmp_path / 'elsewhere'}'\n"))
    assert config.cache_dir == tmp_path / "elsewhere"


def test_discovery_settings(tmp_path):
    config = load_config(pyproject(tmp_path, "extend-exclude = ['gen']\nrespect-gitignore = false\n"))
    settings = config.discovery_settings(force_exclude=True)
    assert settings.root == tmp_path
    assert settings.exclude == list(DEFAULT_EXCLUDE)
    assert settings.extend_exclude == ["gen"]
    assert settings.respect_gitignore is False
    assert settings.force_exclude is True
    replaced = load_config(pyproject(tmp_path, "exclude = ['only']\n")).discovery_settings()
    assert replaced.exclude == ["only"]


def test_rule_options_convert_to_the_type_of_the_default(tmp_path):
    path = pyproject(
        tmp_path,
        """
[tool.green-lint.rules.GL102]
ratio = 1
[tool.green-lint.rules.GL103]
estimators = ["sklearn", "xgboost"]
anything = {a = 1}
""",
    )
    config = load_config(path)
    assert config.rules["GL102"] == {"ratio": 1.0}
    assert isinstance(config.rules["GL102"]["ratio"], float)
    assert config.rules["GL103"] == {"estimators": ("sklearn", "xgboost"), "anything": {"a": 1}}


# -- errors --------------------------------------------------------------------------


def test_config_file_that_does_not_exist(tmp_path):
    with pytest.raises(ConfigError, match=r"cannot read config file .*missing.toml"):
        load_config(tmp_path / "missing.toml")


def test_invalid_toml_names_the_file_and_the_parser_message(tmp_path):
    path = write(tmp_path / "pyproject.toml", "[tool.green-lint]\nselect = ]\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    message = str(raised.value)
    assert message.startswith(f"invalid TOML in {path}: ")
    assert "line 2" in message


def test_unknown_top_level_key(tmp_path):
    message = config_error(tmp_path, 'selct = ["GL1"]\n')
    path = tmp_path / "pyproject.toml"
    assert message == f"unknown key 'selct' in [tool.green-lint] of {path}; did you mean 'select'?"


def test_unknown_key_in_snake_case_suggests_kebab_case(tmp_path):
    message = config_error(tmp_path, 'extend_select = ["GL1"]\n')
    assert "unknown key 'extend_select'" in message
    assert message.endswith("did you mean 'extend-select'?")


def test_unknown_key_far_from_any_lists_the_valid_ones(tmp_path):
    message = config_error(tmp_path, "zzz = 1\n")
    assert "unknown key 'zzz'" in message
    assert "valid keys are select, extend-select" in message


def test_unknown_key_in_a_standalone_file(tmp_path):
    path = write(tmp_path / ".green-lint.toml", "prevue = true\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value) == f"unknown key 'prevue' in {path}; did you mean 'preview'?"


@pytest.mark.parametrize("key", ["select", "extend-select", "ignore"])
def test_unknown_code(tmp_path, key):
    message = config_error(tmp_path, f'{key} = ["GL1", "GL130"]\n')
    path = tmp_path / "pyproject.toml"
    assert (
        message
        == f"unknown rule code 'GL130' in '{key}' of [tool.green-lint] of {path}; did you mean 'GL103'?"
    )


def test_prefixes_and_all_are_valid_codes(tmp_path):
    config = load_config(pyproject(tmp_path, 'select = ["ALL", "GL", "GL1", "GL20"]\n'))
    assert config.select == ["ALL", "GL", "GL1", "GL20"]


def test_unknown_code_in_per_file_ignores(tmp_path):
    message = config_error(tmp_path, '[tool.green-lint.per-file-ignores]\n"tests/*" = ["GL999"]\n')
    assert message.startswith(
        "unknown rule code 'GL999' in 'per-file-ignores.\"tests/*\"' of [tool.green-lint]"
    )


def test_unknown_rule_table(tmp_path):
    message = config_error(tmp_path, "[tool.green-lint.rules.GL12]\nx = 1\n")
    path = tmp_path / "pyproject.toml"
    assert message == f"unknown rule code 'GL12' in [tool.green-lint.rules] of {path}; did you mean 'GL102'?"


def test_rule_table_needs_a_full_code_not_a_prefix(tmp_path):
    assert "unknown rule code 'GL1'" in config_error(tmp_path, "[tool.green-lint.rules.GL1]\n")


def test_unknown_rule_option(tmp_path):
    message = config_error(tmp_path, "[tool.green-lint.rules.GL102]\nmin-epoch = 5\n")
    path = tmp_path / "pyproject.toml"
    assert message == (
        f"unknown option 'min-epoch' in [tool.green-lint.rules.GL102] of {path}; did you mean 'min-epochs'?"
    )


def test_option_of_a_rule_without_options(tmp_path):
    message = config_error(tmp_path, "[tool.green-lint.rules.GL201]\nx = 5\n")
    assert message.endswith("this rule has no options")


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("min-epochs", '"20"', "an integer"),
        ("min-epochs", "true", "an integer"),
        ("min-epochs", "2.5", "an integer"),
        ("strict", "1", "a boolean"),
        ("strict", '"yes"', "a boolean"),
        ("frameworks", '"keras"', "a list"),
        ("ratio", '"half"', "a float"),
        ("min-epochs", "-5", "an integer >= 0"),
        ("ratio", "-0.5", "a float >= 0"),
    ],
)
def test_rule_option_of_the_wrong_type(tmp_path, option, value, expected):
    message = config_error(tmp_path, f"[tool.green-lint.rules.GL102]\n{option} = {value}\n")
    assert message.startswith(f"'{option}' in [tool.green-lint.rules.GL102] of ")
    assert f"must be {expected}, not " in message


def test_rule_option_list_items_are_checked(tmp_path):
    message = config_error(tmp_path, '[tool.green-lint.rules.GL102]\nframeworks = ["keras", 3]\n')
    assert "'frameworks[1]'" in message
    assert "must be a string, not an integer (3)" in message


def test_rule_table_that_is_not_a_table(tmp_path):
    message = config_error(tmp_path, "[tool.green-lint.rules]\nGL102 = 3\n")
    assert "'GL102' in [tool.green-lint.rules] of" in message
    assert "must be a table of options" in message


def test_unknown_verify_key(tmp_path):
    message = config_error(tmp_path, "[tool.green-lint.verify]\nrepeats = 3\n")
    path = tmp_path / "pyproject.toml"
    assert message == f"unknown key 'repeats' in [tool.green-lint.verify] of {path}; did you mean 'repeat'?"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("repeat = 0", "'repeat' in [tool.green-lint.verify] of"),
        ("warmup = -1", "must be an integer >= 0"),
        ("timeout = 0", "must be a positive number of seconds"),
        ("country = 'France'", "ISO 3166 alpha-3"),
        ("tracking-mode = 'proces'", "did you mean 'process'?"),
    ],
)
def test_invalid_verify_values(tmp_path, body, fragment):
    assert fragment in config_error(tmp_path, f"[tool.green-lint.verify]\n{body}\n")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            'select = "GL1"',
            "'select' in [tool.green-lint] of {path} must be a list of strings, not a string ('GL1')",
        ),
        (
            'preview = "yes"',
            "'preview' in [tool.green-lint] of {path} must be true or false, not a string ('yes')",
        ),
        (
            "exclude = [1]",
            "'exclude' in [tool.green-lint] of {path} must be a list of strings, not a list ([1])",
        ),
        ("cache-dir = 3", "'cache-dir' in [tool.green-lint] of {path} must be a string, not an integer (3)"),
        ("per-file-ignores = []", "'per-file-ignores' in [tool.green-lint] of {path} must be a table"),
        ("rules = 1", "'rules' in [tool.green-lint] of {path} must be a table of rule tables"),
        ("verify = 1", "'verify' in [tool.green-lint] of {path} must be a table"),
    ],
)
def test_wrong_types(tmp_path, body, expected):
    message = config_error(tmp_path, body + "\n")
    assert message.startswith(expected.format(path=tmp_path / "pyproject.toml"))


def test_unknown_output_format(tmp_path):
    message = config_error(tmp_path, 'output-format = "jsonl"\n')
    assert re.search(r"'output-format' .* must be one of full, concise, json, .*not 'jsonl'", message)
    assert message.endswith("did you mean 'json'?")


def test_tool_green_lint_that_is_not_a_table(tmp_path):
    path = write(tmp_path / "pyproject.toml", '[tool]\ngreen-lint = "on"\n')
    with pytest.raises(ConfigError, match=r"'tool.green-lint' in .* must be a table"):
        load_config(path)


# -- per-file ignores ----------------------------------------------------------------


def ignores(table: dict[str, list[str]], path: str) -> set[str]:
    return per_file_ignored_codes(Config(per_file_ignores=table), path)


def test_per_file_ignores_expand_prefixes_to_codes():
    assert ignores({"tests/*": ["GL1"]}, "tests/test_a.py") == {"GL102", "GL103"}
    assert ignores({"tests/*": ["ALL"]}, "tests/test_a.py") == {"GL001", "GL102", "GL103", "GL201"}
    assert ignores({"tests/*": ["GL1"]}, "src/a.py") == set()


def test_per_file_ignores_combine_every_matching_glob():
    table = {"tests/*": ["GL102"], "*.ipynb": ["GL201"], "src/*": ["GL001"]}
    assert ignores(table, "tests/explore.ipynb") == {"GL102", "GL201"}


def test_bare_filename_glob_matches_in_any_folder():
    assert ignores({"__init__.py": ["GL103"]}, "a/b/__init__.py") == {"GL103"}
    assert ignores({"conftest.py": ["GL103"]}, "conftest.py") == {"GL103"}
    assert ignores({"test_*.py": ["GL103"]}, "deep/tests/test_x.py") == {"GL103"}
    assert ignores({"test_*.py": ["GL103"]}, "deep/tests/x_test.py") == set()


def test_glob_with_a_slash_is_relative_to_the_root():
    assert ignores({"src/gen/*.py": ["GL103"]}, "src/gen/a.py") == {"GL103"}
    assert ignores({"src/gen/*.py": ["GL103"]}, "other/src/gen/a.py") == set()
    assert ignores({"./src/gen/*.py": ["GL103"]}, "./src/gen/a.py") == {"GL103"}


def test_double_star_matches_across_folders():
    table = {"tests/**/test_*.py": ["GL103"]}
    assert ignores(table, "tests/test_a.py") == {"GL103"}
    assert ignores(table, "tests/unit/deep/test_a.py") == {"GL103"}
    assert ignores({"**/legacy_*.py": ["GL103"]}, "a/b/legacy_x.py") == {"GL103"}
    assert ignores({"src/**": ["GL103"]}, "src/a/b.py") == {"GL103"}


def test_star_matches_across_folders_as_in_fnmatch():
    assert ignores({"tests/*": ["GL103"]}, "tests/unit/test_a.py") == {"GL103"}


def test_a_folder_glob_covers_the_files_inside():
    assert ignores({"src/legacy": ["GL103"]}, "src/legacy/a/b.py") == {"GL103"}
    assert ignores({"notebooks": ["GL201"]}, "x/notebooks/a.ipynb") == {"GL201"}
    assert ignores({"src/legacy": ["GL103"]}, "src/legacy_new/b.py") == set()


def test_question_mark_and_brackets():
    assert ignores({"exp?.py": ["GL103"]}, "exp1.py") == {"GL103"}
    assert ignores({"exp[0-3].py": ["GL103"]}, "exp2.py") == {"GL103"}
    assert ignores({"exp[!0-3].py": ["GL103"]}, "exp2.py") == set()


def test_negated_glob_applies_to_the_files_that_do_not_match():
    table = {"!src/**": ["GL103"]}
    assert ignores(table, "scripts/run.py") == {"GL103"}
    assert ignores(table, "src/model.py") == set()


def test_ignored_codes_for_a_path_as_discovered(tmp_path, monkeypatch):
    (tmp_path / "project" / "tests").mkdir(parents=True)
    os.symlink(tmp_path / "project", tmp_path / "link")
    monkeypatch.chdir(tmp_path / "project")
    table = {"tests/*": ["GL1"], "!tests/**": ["GL201"]}
    root = tmp_path / "project"
    expected = {"GL102", "GL103"}
    assert ignored_codes_for(table, root, Path("tests/test_a.py")) == expected
    assert ignored_codes_for(table, root, root / "tests" / "test_a.py") == expected
    assert ignored_codes_for(table, tmp_path / "link", Path("tests/test_a.py")) == expected
    assert ignored_codes_for(table, root, Path("src/a.py")) == {"GL201"}


def test_a_green_lint_toml_takes_top_level_keys_and_says_so_to_a_pyproject_table(tmp_path):
    path = tmp_path / "green-lint.toml"
    path.write_text('select = ["GL1"]\n\n[rules.GL102]\nmin-epochs = 20\n', encoding="utf-8")
    config = load_config(path)
    assert config.select == ["GL1"]
    assert list(config.rules["GL102"].values()) == [20]
    path.write_text('[tool.green-lint]\nselect = ["GL1"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"top-level keys: drop the \[tool.green-lint\] header"):
        load_config(path)
