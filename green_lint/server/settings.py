"""What the language server lints a document with: the workspace's config file (the one
nearest above the document, re-read when it changes on disk) and the client's
`initializationOptions` (select, extendSelect, ignore, preview, unsafeFixes)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from green_lint.config import Config, ConfigError, find_config, ignored_codes_for, load_config
from green_lint.engine import LintSettings
from green_lint.project import ProjectModules
from green_lint.registry import Selection, SelectionError, select_layered
from green_lint.runner import ignored_by


class SettingsProblem(Exception):
    """A config file or an option the server cannot use: shown to the user, who keeps
    the diagnostics of the defaults meanwhile."""


@dataclass(frozen=True)
class ClientOptions:
    """The editor's own settings, from `initializationOptions`; they win over the config."""

    select: list[str] | None = None
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    preview: bool | None = None
    unsafe_fixes: bool = False

    @classmethod
    def parse(cls, options: Any) -> ClientOptions:
        """Raises SettingsProblem for a value of the wrong type."""
        if options is None:
            return cls()
        if not isinstance(options, dict):
            raise SettingsProblem("initializationOptions must be an object")
        return cls(
            select=_codes(options, "select") if options.get("select") is not None else None,
            extend_select=_codes(options, "extendSelect") or [],
            ignore=_codes(options, "ignore") or [],
            preview=_flag(options, "preview"),
            unsafe_fixes=bool(_flag(options, "unsafeFixes")),
        )


def _codes(options: dict, key: str) -> list[str] | None:
    value = options.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
        raise SettingsProblem(f"initializationOptions.{key} must be a list of rule codes, not {value!r}")
    return [code.strip().upper() for code in value if code.strip()]


def _flag(options: dict, key: str) -> bool | None:
    value = options.get(key)
    if value is not None and not isinstance(value, bool):
        raise SettingsProblem(f"initializationOptions.{key} must be true or false, not {value!r}")
    return value


class DocumentSettings:
    """Lint settings per document path; each config file is read once and again only
    when its modification time changes."""

    def __init__(self, options: ClientOptions | None = None) -> None:
        self.options = options or ClientOptions()
        self._configs: dict[Path, tuple[int, Config]] = {}

    def for_path(self, path: Path) -> LintSettings:
        """Raises SettingsProblem for a broken config file or selection."""
        config = self.config_for(path)
        options = self.options
        try:
            # The editor's options over the file, as the command line's flags.
            chosen = Selection(options.select, tuple(options.extend_select), tuple(options.ignore))
            preview = config.preview if options.preview is None else options.preview
            rules = select_layered([config.selection(), chosen], preview)
        except SelectionError as error:
            raise SettingsProblem(str(error)) from None
        ignored = ignored_codes_for(config.per_file_ignores, config.root, path)
        rules = [rule for rule in rules if not ignored_by(rule.code, ignored)]
        # The project's modules are looked for from the document's folder and the config's
        # root, as the command line does from its paths.
        project = ProjectModules([path.parent.resolve(), Path(config.root).resolve()])
        return LintSettings(rules=rules, rule_options=config.rules, project=project)

    def config_for(self, path: Path) -> Config:
        found = find_config(path.parent)
        if found is None:
            return Config(root=path.parent)
        try:
            modified = os.stat(found).st_mtime_ns
        except OSError:
            return Config(root=path.parent)
        cached = self._configs.get(found)
        if cached is not None and cached[0] == modified:
            return cached[1]
        try:
            config = load_config(found)
        except ConfigError as error:
            raise SettingsProblem(str(error)) from None
        self._configs[found] = (modified, config)
        return config

    def forget(self) -> None:
        """Read every config file again (a watched config file changed)."""
        self._configs.clear()
