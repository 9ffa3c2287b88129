"""The fixtures under fixtures/<CODE>/: what each expects and how to lint and fix it.

A fixture is a runnable Python file. A line that must be flagged ends with a comment
`# expect: GL103` (several codes: `# expect: GL103, GL201`). `NAME.fixed.py` beside it is
the expected result of `--fix --unsafe-fixes` with the folder's rule selected. A fixture
whose first lines contain `# fixture: same-result` must print the same `RESULT` line
before and after the fix; one marked `# fixture: no-fix` must be left unchanged by the fix,
and runs all the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from green_lint.engine import LintSettings, lint_source
from green_lint.fix import fix_source
from green_lint.registry import select_rules
from green_lint.source import load_source

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
EXPECT = re.compile(r"#\s*expect:\s*(?P<codes>GL\d+(?:\s*,\s*GL\d+)*)")
SIDE_FILES = (".fixed.py", ".suggested.py")
# Requirements fixtures (requirements*.txt, pyproject.toml, setup.cfg) use `# expect:` comments too.
FIXTURE_SUFFIXES = (".py", ".txt", ".toml", ".cfg")


@dataclass(frozen=True)
class FixtureCase:
    path: Path

    @property
    def code(self) -> str:
        return self.path.parent.name

    @property
    def id(self) -> str:
        return f"{self.code}/{self.path.name}"

    @property
    def fixed_path(self) -> Path:
        return self.path.with_name(f"{self.path.stem}.fixed{self.path.suffix}")

    @property
    def runnable(self) -> bool:
        return self.path.suffix == ".py"

    @property
    def same_result(self) -> bool:
        return self._marked("# fixture: same-result")

    @property
    def no_fix(self) -> bool:
        """Marked `# fixture: no-fix`: `--fix` must leave it as it is, and it still runs."""
        return self._marked("# fixture: no-fix")

    def _marked(self, marker: str) -> bool:
        head = self.path.read_text(encoding="utf-8").splitlines()[:5]
        return any(marker in line for line in head)

    def expected(self) -> set[tuple[int, str]]:
        found = set()
        for row, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), start=1):
            match = EXPECT.search(line)
            if match:
                found.update((row, code.strip()) for code in match.group("codes").split(","))
        return found

    def settings(self) -> LintSettings:
        return LintSettings(rules=select_rules([self.code]))

    def actual(self) -> set[tuple[int, str]]:
        source = load_source(self.path, self.path.name, self.path.read_bytes())
        return {(f.location.row, f.code) for f in lint_source(source, self.settings())}

    def fixed_text(self, text: str | None = None) -> str:
        data = self.path.read_bytes() if text is None else text.encode("utf-8")
        source = load_source(self.path, self.path.name, data)
        return fix_source(source, self.settings(), unsafe=True).text


def fixture_cases() -> list[FixtureCase]:
    return [
        FixtureCase(path)
        for path in sorted(FIXTURES.glob("GL*/*"))
        if path.suffix in FIXTURE_SUFFIXES
        and ".fixed." not in path.name
        and not path.name.endswith(SIDE_FILES)
    ]


def cases_with_fix() -> list[FixtureCase]:
    return [case for case in fixture_cases() if case.fixed_path.exists()]


def cases_without_fix() -> list[FixtureCase]:
    return [case for case in fixture_cases() if case.no_fix]
