"""The `[tool.green-lint]` settings: find the config file, read it, validate every key.

A mistake in the config must never be silently ignored: an unknown key, rule code or
option, or a value of the wrong type raises `ConfigError` naming the file, the key and,
where one is close, the valid spelling.
"""

from __future__ import annotations

import difflib
import functools
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from green_lint import registry
from green_lint.discovery import DEFAULT_EXCLUDE, DiscoverySettings
from green_lint.gitignore import parse_pattern
from green_lint.output import FORMATS as OUTPUT_FORMATS
from green_lint.verify.choices import METERS, TRACKING_MODES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# In the order of preference within one folder (as ruff's .ruff.toml, ruff.toml, pyproject).
STANDALONE_NAMES = (".green-lint.toml", "green-lint.toml")
PYPROJECT = "pyproject.toml"
DEFAULT_CACHE_DIR = ".green-lint-cache"


class ConfigError(ValueError):
    """An unreadable or invalid config file; the message names the file and the key."""


@dataclass
class Config:
    root: Path = field(default_factory=Path.cwd)
    path: Path | None = None
    select: list[str] | None = None
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    exclude: list[str] | None = None  # None: DEFAULT_EXCLUDE
    extend_exclude: list[str] = field(default_factory=list)
    respect_gitignore: bool = True
    preview: bool = False
    cache_dir: Path | None = None  # None: DEFAULT_CACHE_DIR under root (set on creation)
    output_format: str = "full"
    baseline: str | None = None
    # Rule code -> option name (as the rule class spells it) -> value.
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Keys in snake_case: country, repeat, warmup, timeout, tracking_mode, max_time, meter.
    verify: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.cache_dir is None:
            self.cache_dir = self.root / DEFAULT_CACHE_DIR

    def selection(self) -> registry.Selection:
        """The file's rule selectors: the layer the command line's or an editor's go over."""
        return registry.Selection(self.select, tuple(self.extend_select), tuple(self.ignore))

    def discovery_settings(self, *, force_exclude: bool = False) -> DiscoverySettings:
        exclude = list(DEFAULT_EXCLUDE) if self.exclude is None else list(self.exclude)
        return DiscoverySettings(
            root=self.root,
            exclude=exclude,
            extend_exclude=list(self.extend_exclude),
            respect_gitignore=self.respect_gitignore,
            force_exclude=force_exclude,
        )


# -- finding and reading -------------------------------------------------------------


def find_config(start: Path) -> Path | None:
    """The config file nearest above `start` (a file or a folder), or None.

    In each folder a standalone `.green-lint.toml` / `green-lint.toml` wins over a
    `pyproject.toml`, which counts only when it has a `[tool.green-lint]` table.
    """
    folder = Path(os.path.abspath(start))
    if not folder.is_dir():
        folder = folder.parent
    for candidate in (folder, *folder.parents):
        for name in STANDALONE_NAMES:
            if (candidate / name).is_file():
                return candidate / name
        pyproject = candidate / PYPROJECT
        if pyproject.is_file() and _tool_table(_read_toml(pyproject)) is not None:
            return pyproject
    return None


def load_config(path: Path | None) -> Config:
    """The settings of the config file `path` (either kind); the defaults for None."""
    if path is None:
        return Config()
    path = Path(os.path.abspath(path))
    data = _read_toml(path)
    if path.name == PYPROJECT:
        where = _Where(path, ("tool", "green-lint"))
        table = _tool_table(data)
        if table is None:
            table = {}
        elif not isinstance(table, dict):
            raise ConfigError(f"'tool.green-lint' in {path} must be a table, not {_type_name(table)}")
    else:
        where = _Where(path, ())
        table = data
        if _tool_table(data) is not None:  # a pyproject's table, copied as it was
            raise ConfigError(
                f"{path} takes the settings as top-level keys: drop the [tool.green-lint] header "
                "(it belongs in a pyproject.toml)"
            )
    return _parse(table, where)


def _tool_table(pyproject: Mapping[str, Any]) -> Any:
    """The `[tool.green-lint]` value of a pyproject, None when there is none."""
    tool = pyproject.get("tool")
    return tool.get("green-lint") if isinstance(tool, dict) else None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"invalid TOML in {path}: {error}") from None
    except UnicodeDecodeError as error:
        raise ConfigError(f"invalid TOML in {path}: not UTF-8 ({error.reason})") from None
    except OSError as error:
        raise ConfigError(f"cannot read config file {path}: {error.strerror}") from None


# -- validation ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Where:
    """A table of a config file, to name it in messages."""

    file: Path
    table: tuple[str, ...]

    def child(self, *keys: str) -> _Where:
        return _Where(self.file, (*self.table, *keys))

    def __str__(self) -> str:
        return f"[{'.'.join(self.table)}] of {self.file}" if self.table else str(self.file)


# A checker validates (and may convert) the value of one key.
_Checker = Callable[[Any, str, _Where], Any]


def _parse(table: Mapping[str, Any], where: _Where) -> Config:
    values = _check_table(table, _TOP_LEVEL, where)
    config = Config(root=where.file.parent, path=where.file)
    for key, value in values.items():
        setattr(config, key.replace("-", "_"), value)
    if isinstance(config.cache_dir, str):
        config.cache_dir = config.root / Path(config.cache_dir).expanduser()
    return config


def _check_table(table: Mapping[str, Any], schema: Mapping[str, _Checker], where: _Where) -> dict[str, Any]:
    for key in table:
        if key not in schema:
            raise ConfigError(f"unknown key {key!r} in {where}{_suggestion(key, schema)}")
    return {key: schema[key](value, key, where) for key, value in table.items()}


def _suggestion(wrong: str, valid: Iterable[str]) -> str:
    valid = list(valid)
    close = difflib.get_close_matches(wrong, valid, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; valid keys are {', '.join(valid)}" if valid else ""


def _type_error(key: str, where: _Where, expected: str, value: Any) -> ConfigError:
    return ConfigError(f"{key!r} in {where} must be {expected}, not {_type_name(value)} ({value!r})")


def _type_name(value: Any) -> str:
    names = {str: "a string", bool: "a boolean", int: "an integer", float: "a float", list: "a list"}
    return names.get(type(value), "a table" if isinstance(value, dict) else type(value).__name__)


def _bool(value: Any, key: str, where: _Where) -> bool:
    if not isinstance(value, bool):
        raise _type_error(key, where, "true or false", value)
    return value


def _string(value: Any, key: str, where: _Where) -> str:
    if not isinstance(value, str):
        raise _type_error(key, where, "a string", value)
    return value


def _string_list(value: Any, key: str, where: _Where) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _type_error(key, where, "a list of strings", value)
    return value


def _codes(value: Any, key: str, where: _Where) -> list[str]:
    codes = _string_list(value, key, where)
    for code in codes:
        try:
            registry.check_codes([code])
        except registry.SelectionError:
            known = [rule.code for rule in registry.all_rules()]
            raise ConfigError(
                f"unknown rule code {code!r} in {key!r} of {where}{_code_suggestion(code, known)}"
            ) from None
    return codes


def _code_suggestion(code: str, known: list[str]) -> str:
    close = difflib.get_close_matches(code.upper(), known, n=1, cutoff=0.5)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; valid codes are {', '.join(known)}" if known else ""


def _one_of(choices: tuple[str, ...]) -> _Checker:
    def check(value: Any, key: str, where: _Where) -> str:
        _string(value, key, where)
        if value not in choices:
            raise ConfigError(
                f"{key!r} in {where} must be one of {', '.join(choices)}, not {value!r}"
                f"{_choice_suggestion(value, choices)}"
            )
        return value

    return check


def _choice_suggestion(value: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _per_file_ignores(value: Any, key: str, where: _Where) -> dict[str, list[str]]:
    if not isinstance(value, dict):
        raise _type_error(key, where, "a table of glob = [codes]", value)
    for glob in value:
        check_glob(glob.removeprefix("!"), key, str(where), glob_regex)
    return {glob: _codes(codes, f'{key}."{glob}"', where) for glob, codes in value.items()}


def _exclude_globs(value: Any, key: str, where: _Where) -> list[str]:
    globs = _string_list(value, key, where)
    for glob in globs:
        check_glob(glob, key, str(where), _gitignore_regex)
    return globs


def check_glob(glob: str, key: str, where: str, compile_: Callable[[str], Any]) -> None:
    """Raise a ConfigError naming the key when `glob` cannot be compiled (e.g. `[z-a]`)."""
    try:
        compile_(glob)
    except re.error as error:
        raise ConfigError(f"bad glob {glob!r} in {key!r} of {where}: {error.msg}") from None


def _gitignore_regex(glob: str) -> re.Pattern[str] | None:
    pattern = parse_pattern(glob)
    return re.compile(pattern.regex, re.DOTALL) if pattern is not None else None


def _rules(value: Any, key: str, where: _Where) -> dict[str, dict[str, Any]]:
    if not isinstance(value, dict):
        raise _type_error(key, where, "a table of rule tables", value)
    rule_classes = {rule.code: rule for rule in registry.all_rules()}
    options = {}
    for code, table in value.items():
        if code not in rule_classes:
            raise ConfigError(
                f"unknown rule code {code!r} in {where.child(key)}{_code_suggestion(code, list(rule_classes))}"
            )
        if not isinstance(table, dict):
            raise _type_error(code, where.child(key), "a table of options", table)
        options[code] = _rule_options(table, rule_classes[code].options, where.child(key, code))
    return options


def _rule_options(table: Mapping[str, Any], defaults: Mapping[str, Any], where: _Where) -> dict[str, Any]:
    options = {}
    for key, value in table.items():
        name = _option_name(key, defaults)
        if name is None:
            raise ConfigError(f"unknown option {key!r} in {where}{_option_suggestion(key, defaults)}")
        options[name] = _option_value(value, defaults[name], key, where)
    return options


def _option_name(key: str, defaults: Mapping[str, Any]) -> str | None:
    """The rule's own spelling of `key`: TOML users write kebab-case, rules may use snake."""
    for spelling in (key, key.replace("-", "_"), key.replace("_", "-")):
        if spelling in defaults:
            return spelling
    return None


def _option_suggestion(key: str, defaults: Mapping[str, Any]) -> str:
    if not defaults:
        return "; this rule has no options"
    close = difflib.get_close_matches(key.replace("_", "-"), [k.replace("_", "-") for k in defaults], n=1)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; valid options are {', '.join(defaults)}"


def _option_value(value: Any, default: Any, key: str, where: _Where) -> Any:
    """`value` converted to the type of the option's default; raises ConfigError."""
    if default is None:
        return value
    if isinstance(default, (list, tuple, set, frozenset)):
        if not isinstance(value, list):
            raise _type_error(key, where, "a list", value)
        if default:
            element = next(iter(default))
            items = [
                _option_value(item, element, f"{key}[{index}]", where) for index, item in enumerate(value)
            ]
        else:
            items = value
        return type(default)(items)
    if not _same_kind(value, default):
        raise _type_error(key, where, _type_name(default), value)
    # Every number a rule takes is a count, a size or a budget: below zero it means nothing.
    if isinstance(default, int | float) and not isinstance(default, bool) and value < 0:
        raise _type_error(key, where, f"{_type_name(default)} >= 0", value)
    return float(value) if isinstance(default, float) else value


def _same_kind(value: Any, default: Any) -> bool:
    # bool is a subclass of int: `true` is no epoch count, and 1 is no flag.
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    if isinstance(default, dict):
        return isinstance(value, dict)
    return isinstance(value, type(default))


def _country(value: Any, key: str, where: _Where) -> str:
    _string(value, key, where)
    if len(value) != 3 or not value.isalpha():
        raise ConfigError(
            f"{key!r} in {where} must be an ISO 3166 alpha-3 country code such as 'FRA', not {value!r}"
        )
    return value.upper()


def _integer_at_least(minimum: int) -> _Checker:
    def check(value: Any, key: str, where: _Where) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise _type_error(key, where, f"an integer >= {minimum}", value)
        return value

    return check


def _positive_seconds(value: Any, key: str, where: _Where) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise _type_error(key, where, "a positive number of seconds", value)
    return float(value)


_VERIFY: dict[str, _Checker] = {
    "country": _country,
    "repeat": _integer_at_least(1),
    "warmup": _integer_at_least(0),
    "timeout": _positive_seconds,
    "tracking-mode": _one_of(TRACKING_MODES),
    "max-time": _positive_seconds,
    "meter": _one_of(METERS),
}


def _verify(value: Any, key: str, where: _Where) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _type_error(key, where, "a table", value)
    checked = _check_table(value, _VERIFY, where.child(key))
    return {name.replace("-", "_"): setting for name, setting in checked.items()}


_TOP_LEVEL: dict[str, _Checker] = {
    "select": _codes,
    "extend-select": _codes,
    "ignore": _codes,
    "per-file-ignores": _per_file_ignores,
    "exclude": _exclude_globs,
    "extend-exclude": _exclude_globs,
    "respect-gitignore": _bool,
    "preview": _bool,
    "cache-dir": _string,
    "output-format": _one_of(OUTPUT_FORMATS),
    "baseline": _string,
    "rules": _rules,
    "verify": _verify,
}


# -- per-file ignores ----------------------------------------------------------------


def per_file_ignored_codes(config: Config, relative_path: str) -> set[str]:
    """The rule codes that `per-file-ignores` turns off for the file at `relative_path`
    (relative to `config.root`); see `ignored_codes_for`."""
    return _ignored_codes(config.per_file_ignores, relative_path)


def ignored_codes_for(per_file_ignores: Mapping[str, Iterable[str]], root: Path, path: Path) -> set[str]:
    """The rule codes that the `per_file_ignores` table turns off for `path` (as given).

    Globs are matched against the path relative to `root`. A glob matches the path or one
    of its folders (so "tests" or "src/legacy" covers the files inside); a glob without
    "/" matches a file or folder name at any depth; `*` matches across folders as in
    fnmatch, and `**/` matches zero or more folders. A leading "!" applies the codes to
    the files that do not match.
    """
    return _ignored_codes(per_file_ignores, _relative_path(path, root))


def _relative_path(path: Path, root: Path) -> str:
    absolute, absolute_root = os.path.abspath(path), os.path.abspath(root)
    if not _is_under(absolute, absolute_root):
        # One of the two may be spelt through a symlink.
        absolute, absolute_root = os.path.realpath(path), os.path.realpath(root)
    return os.path.relpath(absolute, absolute_root)


def _is_under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(os.path.join(folder, ""))


def _ignored_codes(per_file_ignores: Mapping[str, Iterable[str]], relative_path: str) -> set[str]:
    path = relative_path.replace(os.sep, "/").removeprefix("./")
    selectors: set[str] = set()
    for glob, codes in per_file_ignores.items():
        negated = glob.startswith("!")
        if _glob_matches(glob[1:] if negated else glob, path) != negated:
            selectors.update(codes)
    return _expand_selectors(selectors)


def _expand_selectors(selectors: set[str]) -> set[str]:
    return {
        rule.code
        for rule in registry.all_rules()
        if any(selector == "ALL" or rule.code.startswith(selector) for selector in selectors)
    }


def _glob_matches(glob: str, path: str) -> bool:
    glob = glob.removeprefix("./").lstrip("/").rstrip("/")
    parts = path.split("/")
    # A glob with "/" is a path from the root (of the file or of a folder above it); one
    # without "/" is a name.
    prefixes = ["/".join(parts[: depth + 1]) for depth in range(len(parts))]
    candidates = prefixes if "/" in glob else parts
    regex = glob_regex(glob)
    return any(regex.fullmatch(candidate) for candidate in candidates)


@functools.lru_cache(maxsize=512)
def glob_regex(glob: str) -> re.Pattern[str]:
    regex = []
    index = 0
    while index < len(glob):
        if glob.startswith("**/", index):
            regex.append("(?:.*/)?")
            index += 3
        elif glob[index] == "*":
            regex.append(".*")
            index = len(glob) - len(glob[index:].lstrip("*"))
        elif glob[index] == "?":
            regex.append(".")
            index += 1
        elif glob[index] == "[" and (end := glob.find("]", index + 2)) != -1:
            body = glob[index + 1 : end]
            regex.append("[" + ("^" + body[1:] if body.startswith("!") else body).replace("\\", "\\\\") + "]")
            index = end + 1
        else:
            regex.append(re.escape(glob[index]))
            index += 1
    return re.compile("".join(regex), re.DOTALL)
