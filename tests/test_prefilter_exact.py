"""The prefilter never drops a finding (issue #16): every fixture and the sources of
scikit-learn, pandas and torch give the same findings with the rules' triggers and tree
prefilters as with every rule run on every file."""

from __future__ import annotations

import importlib.util
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from green_lint.engine import LintSettings, lint_source
from green_lint.project import ProjectModules
from green_lint.registry import all_rules
from green_lint.source import SourceError, load_source

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PROJECTS = FIXTURES / "project"


def _findings(path: Path, project_root: Path | None, prefilter: bool) -> list[tuple]:
    try:
        source = load_source(path, str(path), path.read_bytes())
    except SourceError:
        return []
    project = ProjectModules([project_root]) if project_root is not None else None
    settings = LintSettings(rules=all_rules(), project=project, prefilter=prefilter)
    return [
        (finding.code, finding.location.row, finding.location.column, finding.message)
        for finding in lint_source(source, settings)
    ]


def _differences(job: tuple[Path, Path | None]) -> list[str]:
    path, project_root = job
    with_prefilter = _findings(path, project_root, prefilter=True)
    without = _findings(path, project_root, prefilter=False)
    return [
        f"{path}: {'dropped' if item in without else 'extra'} {item}"
        for item in set(with_prefilter) ^ set(without)
    ]


def _compare(jobs: list[tuple[Path, Path | None]]) -> list[str]:
    # Largest first: the slowest files start early and the workers end together.
    jobs = sorted(jobs, key=lambda job: job[0].stat().st_size, reverse=True)
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return [line for lines in pool.map(_differences, jobs, chunksize=4) for line in lines]


def _project_of(path: Path) -> Path | None:
    if PROJECTS not in path.parents:
        return None
    return PROJECTS / path.relative_to(PROJECTS).parts[0]


def test_fixtures_give_the_same_findings_without_the_prefilter():
    jobs = [(path, _project_of(path)) for path in sorted(FIXTURES.rglob("*")) if path.is_file()]
    assert len(jobs) > 250
    assert _compare(jobs) == []


@pytest.mark.parametrize("package", ["sklearn", "pandas", "torch"])
def test_installed_sources_give_the_same_findings_without_the_prefilter(package):
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations, f"{package} is an extra of the tests"
    root = Path(next(iter(spec.submodule_search_locations)))
    jobs = [(path, None) for path in sorted(root.rglob("*.py"))]
    assert len(jobs) > 500
    assert _compare(jobs) == []
