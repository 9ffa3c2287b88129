"""The GitHub Action: action.yml's steps run as GitHub would run them (bash, the step's
environment, the variables of a pull_request event) in throw-away git repositories."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest
import yaml  # PyYAML comes with pre-commit, in the dev extra

from green_lint import __version__, action
from green_lint.build import build_id
from green_lint.cache_tag import cache_tag
from tests.git_repos import IMPORTS, commit, git, grid, isolate_git, make_repo

ROOT = Path(__file__).resolve().parent.parent
SARIF_SCHEMA = Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json"
EXPRESSION = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")
ANNOTATION = re.compile(r"^::warning title=green-lint \(GL103\),file=(?P<file>[^,]+),line=(?P<line>\d+),")


@pytest.fixture(autouse=True)
def _plain_git(monkeypatch, tmp_path):
    isolate_git(monkeypatch, tmp_path)


@pytest.fixture(scope="module")
def action_yml() -> dict:
    return yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))


def pull_request(tmp_path: Path, repo: Path, base_sha: str, base_ref: str = "main") -> dict[str, str]:
    """The variables GitHub sets for a pull_request event, with the payload file."""
    event = tmp_path / "event.json"
    payload = {"pull_request": {"base": {"ref": base_ref, "sha": base_sha}, "head": {"ref": "feature"}}}
    event.write_text(json.dumps(payload), encoding="utf-8")
    return {
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_BASE_REF": base_ref,
        "GITHUB_HEAD_REF": "feature",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_OUTPUT": str(tmp_path / "output.txt"),
        "GITHUB_WORKSPACE": str(repo),
        "RUNNER_TEMP": str(tmp_path / "runner-temp"),
    }


def substitute(text: str, values: dict[str, str]) -> str:
    """Evaluate the `${{ ... }}` expressions the action uses; any other one fails the test."""

    def value(match: re.Match) -> str:
        expression = match.group(1)
        assert expression in values, f"the test does not know the expression {expression!r}"
        return values[expression]

    return EXPRESSION.sub(value, text)


def run_action(
    action_yml: dict, tmp_path: Path, github: dict[str, str], **inputs: str
) -> subprocess.CompletedProcess:
    """The action's steps after the install step, in bash, as a runner runs them; the
    install step's output (the Python that has green-lint) is this interpreter."""
    values = {f"inputs.{name}": spec.get("default", "") for name, spec in action_yml["inputs"].items()}
    values.update({f"inputs.{name.replace('_', '-')}": value for name, value in inputs.items()})
    values.update(
        {
            "github.action_path": str(ROOT),
            "runner.temp": github["RUNNER_TEMP"],
            "steps.install.outputs.python": sys.executable,
        }
    )
    steps = action_yml["runs"]["steps"]
    install = next(index for index, step in enumerate(steps) if step.get("id") == "install")
    result = None
    for step in steps[install + 1 :]:
        if "uses" in step:
            # GitHub's cache actions: the runner's temporary folder stands for their store,
            # kept between the runs of one test.
            assert step["uses"].startswith(("actions/cache/restore@", "actions/cache/save@"))
            continue
        assert step["shell"] == "bash"
        env = {**os.environ, **github}
        if step.get("id") != "run":  # each step writes outputs of its own
            env["GITHUB_OUTPUT"] = str(tmp_path / f"output-{step.get('id')}.txt")
        env.update({name: substitute(str(text), values) for name, text in step.get("env", {}).items()})
        result = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", substitute(step["run"], values)],
            cwd=github["GITHUB_WORKSPACE"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            break
    assert result is not None
    return result


def annotated(stdout: str) -> list[tuple[str, int]]:
    """(file, line) of each GL103 warning annotation printed."""
    return [
        (match["file"], int(match["line"])) for match in map(ANNOTATION.match, stdout.splitlines()) if match
    ]


def outputs(github: dict[str, str]) -> dict[str, str]:
    text = Path(github["GITHUB_OUTPUT"]).read_text(encoding="utf-8")
    return dict(line.split("=", 1) for line in text.splitlines())


# action.yml


def test_action_yml_is_a_composite_action_with_the_inputs(action_yml):
    inputs = action_yml["inputs"]
    assert {name: spec.get("default") for name, spec in inputs.items()} == {
        "paths": ".",
        "args": "",
        "version": "",
        "sarif": "",
        "changed-only": "true",
        "cache": "true",
        "verify": "",
        "verify-fail-over": "5",
        "verify-args": "",
    }
    assert all(spec.get("description") for spec in inputs.values())
    runs = action_yml["runs"]
    assert runs["using"] == "composite"
    install, _tag, _restore, run, _save = runs["steps"]
    assert install["id"] == "install" and "pip install" in install["run"]
    assert install["env"]["GREEN_LINT_ACTION_PATH"] == "${{ github.action_path }}"
    assert install["env"]["GREEN_LINT_VERSION"] == "${{ inputs.version }}"
    assert "-m green_lint.action" in run["run"]
    assert run["shell"] == "bash"
    assert {name: value for name, value in run["env"].items() if name.startswith("INPUT_")} == {
        "INPUT_CACHE": "${{ inputs.cache }}",
        "INPUT_PATHS": "${{ inputs.paths }}",
        "INPUT_ARGS": "${{ inputs.args }}",
        "INPUT_SARIF": "${{ inputs.sarif }}",
        "INPUT_CHANGED_ONLY": "${{ inputs.changed-only }}",
        "INPUT_VERIFY": "${{ inputs.verify }}",
        "INPUT_VERIFY_FAIL_OVER": "${{ inputs.verify-fail-over }}",
        "INPUT_VERIFY_ARGS": "${{ inputs.verify-args }}",
    }


def test_the_cache_steps_keep_the_folder_the_run_uses(action_yml):
    _install, tag, restore, run, save = action_yml["runs"]["steps"]
    folder = "${{ runner.temp }}/green-lint-cache"
    assert run["env"]["GREEN_LINT_CACHE_ROOT"] == folder
    assert restore["uses"] == "actions/cache/restore@v4" and save["uses"] == "actions/cache/save@v4"
    assert restore["with"]["path"] == save["with"]["path"] == folder
    assert restore["with"]["key"] == save["with"]["key"]
    # One key per job and run (caches cannot be overwritten); any earlier run's cache will
    # do, this job's first: the restore keys are prefixes of the key, longest first.
    key = restore["with"]["key"]
    assert "${{ github.job }}" in key and "${{ github.run_id }}" in key
    # ... and per leg of a job matrix: the tag step's output.
    assert tag["id"] == "cache-key" and "${{ steps.cache-key.outputs.tag }}" in key
    restore_keys = restore["with"]["restore-keys"].splitlines()
    assert len(restore_keys) == 3 and all(key.startswith(prefix) for prefix in restore_keys)
    assert [len(prefix) for prefix in restore_keys] == sorted(map(len, restore_keys), reverse=True)
    assert restore["if"] == tag["if"] == "inputs.cache == 'true'"
    # Saved after a run with findings (the step fails), only by events that run the
    # repository's own code.
    assert save["if"] == (
        "!cancelled() && inputs.cache == 'true' "
        '&& contains(fromJSON(\'["push", "schedule", "workflow_dispatch"]\'), github.event_name)'
    )


def _cached_repo(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    repo = make_repo(tmp_path / "repo", {"a.py": IMPORTS + grid("old")})
    base_sha = git(repo, "rev-parse", "HEAD").strip()
    commit(repo, {"a.py": IMPORTS + grid("old") + grid("new")})
    return repo, pull_request(tmp_path, repo, base_sha)


def test_the_cache_and_its_key_live_in_the_folder_github_keeps(action_yml, tmp_path):
    repo, github = _cached_repo(tmp_path)
    kept = Path(github["RUNNER_TEMP"]) / "green-lint-cache"

    first = run_action(action_yml, tmp_path, github)
    key = (kept / "home" / "green-lint" / "cache-key").read_bytes()
    cached = sorted(path.name for path in (kept / "lint").rglob("*.json"))
    second = run_action(action_yml, tmp_path, github)

    assert first.returncode == second.returncode == 1, first.stderr
    assert annotated(first.stdout) == annotated(second.stdout) == [("a.py", 4)]
    assert cached, "no lint cache written where the action saves it"
    # The second run finds the first run's key, so the first run's entries are valid for it.
    assert (kept / "home" / "green-lint" / "cache-key").read_bytes() == key
    assert not (repo / ".green-lint-cache").exists()


def test_the_tag_step_tells_the_legs_of_a_matrix_apart(action_yml, tmp_path):
    _repo, github = _cached_repo(tmp_path)

    result = run_action(action_yml, tmp_path, github)

    assert result.returncode == 1, result.stderr
    tag = outputs({"GITHUB_OUTPUT": str(tmp_path / "output-cache-key.txt")})["tag"]
    python = f"py{sys.version_info[0]}.{sys.version_info[1]}"
    assert re.fullmatch(rf"{re.escape(python)}-{re.escape(__version__)}-[0-9a-f]{{8}}", tag)
    assert tag == cache_tag({"INPUT_PATHS": ".", "INPUT_ARGS": ""})


def test_the_tag_step_does_not_run_the_installed_green_lint(action_yml, tmp_path):
    """The version input may install a release older than the tag step: the step must not
    hand its work to that release's modules (an older `green_lint.action` lints)."""
    [step] = [step for step in action_yml["runs"]["steps"] if step.get("id") == "cache-key"]
    broken = tmp_path / "old" / "green_lint"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise SystemExit('the installed green-lint ran')\n")
    values = {
        "inputs.paths": "src",
        "inputs.args": "--select GL1",
        "steps.install.outputs.python": sys.executable,
        "github.action_path": str(ROOT),
    }
    env = {**os.environ, "PYTHONPATH": str(broken.parent), "GITHUB_OUTPUT": str(tmp_path / "out.txt")}
    env.update({name: substitute(str(text), values) for name, text in step["env"].items()})

    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", substitute(step["run"], values)],
        cwd=tmp_path / "old",
        env=env,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stderr
    expected = cache_tag({"INPUT_PATHS": "src", "INPUT_ARGS": "--select GL1"})
    assert (tmp_path / "out.txt").read_text() == f"tag={expected}\n"


def test_the_cache_tag_changes_with_the_inputs_not_their_spacing():
    tag = cache_tag({"INPUT_PATHS": "src tests", "INPUT_ARGS": "--select GL1"})
    assert tag == cache_tag({"INPUT_PATHS": "src\ntests\n", "INPUT_ARGS": " --select  GL1"})
    assert tag != cache_tag({"INPUT_PATHS": "src tests", "INPUT_ARGS": "--select GL2"})
    assert tag != cache_tag({"INPUT_PATHS": "src", "INPUT_ARGS": "--select GL1"})
    # An args input that does not split still gives a tag (the run reports the error).
    assert cache_tag({"INPUT_ARGS": "--select 'GL1"}) != cache_tag({"INPUT_ARGS": ""})


def test_cache_files_unused_for_a_week_are_deleted_after_the_run(action_yml, tmp_path):
    _repo, github = _cached_repo(tmp_path)
    lint = Path(github["RUNNER_TEMP"]) / "green-lint-cache" / "lint"
    assert run_action(action_yml, tmp_path, github).returncode == 1
    [used] = (lint / build_id()).glob("*.json")
    week = action.STALE_CACHE_SECONDS
    now = time.time()

    def dated(path: Path, age: float) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.write_text("{}")
        os.utime(path, (now - age, now - age), follow_symlinks=False)
        return path

    older_version = dated(lint / "0.0.1" / "aaaa.json", week + 3600)
    other_settings = dated(lint / build_id() / "bbbb.json", week + 3600)
    recent_settings = dated(lint / build_id() / "cccc.json", week - 3600)
    not_a_cache_file = dated(lint / "0.0.1" / "notes.txt", week + 3600)
    unfinished_write = dated(lint / build_id() / ".bbbb.json.0123abcd.tmp", week + 3600)
    outside = dated(tmp_path / "elsewhere" / "dddd.json", week + 3600)
    link = lint / build_id() / "link.json"
    link.symlink_to(outside)
    dated(used, week + 3600)  # this run reads it, and so dates it again

    second = run_action(action_yml, tmp_path, github)

    assert second.returncode == 1, second.stderr
    assert annotated(second.stdout) == [("a.py", 4)]
    assert "deleted 3 cache files unused for a week" in second.stderr
    assert not older_version.exists() and not other_settings.exists() and not unfinished_write.exists()
    assert used.exists() and recent_settings.exists() and not_a_cache_file.exists()
    assert link.is_symlink() and outside.exists()
    assert (lint / ".gitignore").exists()


def test_a_cache_folder_that_is_a_link_is_not_pruned(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    stale = elsewhere / "aaaa.json"
    stale.parent.mkdir()
    stale.write_text("{}")
    long_ago = time.time() - 2 * action.STALE_CACHE_SECONDS
    os.utime(stale, (long_ago, long_ago))
    (tmp_path / "lint").symlink_to(elsewhere, target_is_directory=True)

    assert action.prune_cache(tmp_path / "lint", time.time()) == 0
    assert stale.exists()


def test_no_pruning_of_a_cache_the_user_chose(action_yml, tmp_path):
    _repo, github = _cached_repo(tmp_path)
    mine = tmp_path / "my-cache"
    stale = mine / "0.0.1" / "aaaa.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")
    long_ago = time.time() - 2 * action.STALE_CACHE_SECONDS
    os.utime(stale, (long_ago, long_ago))

    result = run_action(action_yml, tmp_path, github, args=f"--cache-dir {mine}")

    assert result.returncode == 1, result.stderr
    assert stale.exists()


@pytest.mark.parametrize("inputs", [{"cache": "false"}, {"args": "--no-cache"}])
def test_without_the_cache_input_or_with_the_users_own_choice(action_yml, tmp_path, inputs):
    repo, github = _cached_repo(tmp_path)

    result = run_action(action_yml, tmp_path, github, **inputs)

    assert result.returncode == 1, result.stderr
    assert annotated(result.stdout) == [("a.py", 4)]
    assert not (Path(github["RUNNER_TEMP"]) / "green-lint-cache").exists()
    assert (repo / ".green-lint-cache").exists() == (inputs == {"cache": "false"})


def test_a_cache_input_that_is_not_true_or_false_stops_the_run(tmp_path, capsys):
    _, github = _cached_repo(tmp_path)

    code = action.main({**github, "INPUT_CACHE": "sometimes"})

    assert code == 2
    assert "::error title=green-lint::cache must be true or false, not 'sometimes'" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("version", "verify", "requirement"),
    [
        ("", "", "{action_path}"),
        ("1.2.3", "", "green-lint==1.2.3"),
        ("1.2.3", "train.py", "green-lint==1.2.3[verify]"),
        ("", "train.py", "{action_path}[verify]"),
    ],
)
def test_the_install_step(action_yml, tmp_path, version, verify, requirement):
    """With a stand-in `python3` that records what it is asked to do."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "log.txt"
    fake = bin_dir / "python3"
    fake.write_text(
        "#!/bin/sh\n"
        f'echo "$0 $*" >> "{log}"\n'
        'if [ "$1 $2" = "-m venv" ]; then mkdir -p "$3/bin" && cp "$0" "$3/bin/python"; fi\n',
        encoding="utf-8",
    )
    fake.chmod(0o755)
    [install] = [step for step in action_yml["runs"]["steps"] if step.get("id") == "install"]
    venv = tmp_path / "temp" / "green-lint-venv"
    values = {
        "inputs.version": version,
        "inputs.verify": verify,
        "github.action_path": str(ROOT),
        "runner.temp": str(tmp_path / "temp"),
    }
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    env["GITHUB_OUTPUT"] = str(tmp_path / "output.txt")
    env.update({name: substitute(str(text), values) for name, text in install["env"].items()})

    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", substitute(install["run"], values)],
        env=env,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stderr
    assert log.read_text().splitlines() == [
        f"{fake} -m venv {venv}",
        f"{venv}/bin/python -m pip install --quiet --disable-pip-version-check "
        + requirement.format(action_path=ROOT),
    ]
    assert (tmp_path / "output.txt").read_text() == f"python={venv}/bin/python\n"


# The action on a pull request


def test_a_pull_request_gets_annotations_a_summary_and_sarif(action_yml, tmp_path):
    repo = make_repo(tmp_path / "repo", {"a.py": IMPORTS + grid("old"), "README.md": "# Project\n"})
    base_sha = git(repo, "rev-parse", "HEAD").strip()
    new_lines = "".join(grid(f"s{n}", n) for n in range(1, 13))
    commit(repo, {"a.py": IMPORTS + grid("old") + new_lines})
    # The repository is its own remote; origin/main exists only once the action fetched it.
    git(repo, "remote", "add", "origin", str(repo))
    github = pull_request(tmp_path, repo, base_sha)

    result = run_action(action_yml, tmp_path, github, sarif="reports/green-lint.sarif")

    assert result.returncode == 1, result.stderr
    # Twelve new findings, each an annotation; the old finding on row 3 is not reported.
    assert annotated(result.stdout) == [("a.py", row) for row in range(4, 16)]
    assert all(line.startswith("::warning ") for line in result.stdout.splitlines()), result.stdout
    assert git(repo, "rev-parse", "origin/main").strip() == base_sha

    summary = Path(github["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert summary.startswith("## green-lint\n")
    assert "**12 findings** in 1 file on the lines changed since `origin/main`." in summary
    assert re.search(r"^\| \[GL103\]\(\S+\) \| exhaustive-grid-search \| 12 \|$", summary, re.MULTILINE)
    assert "**2 findings are hidden by this limit**" in summary
    assert "| `a.py:4` | GL103 | GridSearchCV fits all" in summary
    assert "| `a.py:14` *no annotation* | GL103 |" in summary and "| `a.py:13` |" in summary
    assert "`a.py:3`" not in summary
    assert "green-lint exited with code 1." in summary

    sarif = json.loads((repo / "reports" / "green-lint.sarif").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(json.loads(SARIF_SCHEMA.read_text())).validate(sarif)
    rows = [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in sarif["runs"][0]["results"]]
    assert rows == list(range(4, 16))
    assert outputs(github) == {"findings": "12", "exit-code": "1"}


def test_without_a_remote_the_base_commit_of_the_event_is_used(action_yml, tmp_path):
    repo = make_repo(tmp_path / "repo", {"a.py": IMPORTS + grid("old")})
    base_sha = git(repo, "rev-parse", "HEAD").strip()
    commit(repo, {"a.py": IMPORTS + grid("old") + "\n" + grid("new")})
    github = pull_request(tmp_path, repo, base_sha)

    result = run_action(action_yml, tmp_path, github)

    assert result.returncode == 1, result.stderr
    assert annotated(result.stdout) == [("a.py", 5)]
    summary = Path(github["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert f"**1 finding** in 1 file on the lines changed since `{base_sha}`." in summary
    assert "hidden by this limit" not in summary
    assert not list(repo.glob("*.sarif"))


def test_a_pull_request_that_changes_no_python_file(action_yml, tmp_path):
    repo = make_repo(tmp_path / "repo", {"a.py": IMPORTS + grid("old"), "README.md": "# Project\n"})
    base_sha = git(repo, "rev-parse", "HEAD").strip()
    commit(repo, {"README.md": "# Project\n\nMore.\n"})
    git(repo, "remote", "add", "origin", str(repo))
    github = pull_request(tmp_path, repo, base_sha)

    result = run_action(action_yml, tmp_path, github, sarif="green-lint.sarif")

    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    summary = Path(github["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert "No findings on the lines changed since `origin/main`." in summary
    # Code scanning needs the file even when there is nothing to report.
    assert json.loads((repo / "green-lint.sarif").read_text())["runs"][0]["results"] == []
    assert outputs(github) == {"findings": "0", "exit-code": "0"}


# The module behind the step, in this process


def test_other_events_and_changed_only_false_check_every_line(tmp_path, capsys):
    repo = make_repo(tmp_path / "repo", {"a.py": IMPORTS + grid("old")})
    base_sha = git(repo, "rev-parse", "HEAD").strip()
    commit(repo, {"a.py": IMPORTS + grid("old") + grid("new")})
    github = pull_request(tmp_path, repo, base_sha)

    push = action.main({**github, "GITHUB_EVENT_NAME": "push", "INPUT_ARGS": "--no-cache"})
    push_out = capsys.readouterr().out
    everything = action.main({**github, "INPUT_CHANGED_ONLY": "false", "INPUT_PATHS": "a.py"})
    everything_out = capsys.readouterr().out

    assert push == everything == 1
    assert annotated(push_out) == [("a.py", 3), ("a.py", 4)]
    assert annotated(everything_out) == [("a.py", 3), ("a.py", 4)]


def test_an_unknown_base_checks_every_line_with_a_warning(tmp_path, capsys):
    repo = make_repo(tmp_path / "repo", {"a.py": IMPORTS + grid("old")})
    commit(repo, {"a.py": IMPORTS + grid("old") + grid("new")})
    github = pull_request(tmp_path, repo, "0" * 40)

    code = action.main(github)

    out = capsys.readouterr().out
    assert code == 1
    assert out.splitlines()[0].startswith(
        "::warning title=green-lint::cannot find the base of the pull request"
    )
    assert annotated(out) == [("a.py", 3), ("a.py", 4)]


def test_an_error_of_green_lint_fails_the_step_with_its_message(tmp_path, capsys):
    repo = make_repo(tmp_path / "repo", {"a.py": IMPORTS + grid("old")})
    github = {**pull_request(tmp_path, repo, "0" * 40), "GITHUB_EVENT_NAME": "push"}

    code = action.main({**github, "INPUT_ARGS": "--select GL999"})

    captured = capsys.readouterr()
    assert code == 2
    assert "green-lint: error: unknown rule code 'GL999'" in captured.err
    assert captured.out == ""
    summary = Path(github["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert "green-lint failed (exit code 2): green-lint: error: unknown rule code 'GL999'" in summary


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"INPUT_ARGS": "--output-format json"}, "the action sets --output-format itself"),
        ({"INPUT_ARGS": "--output-file=x.json"}, "the action sets --output-file itself"),
        ({"INPUT_ARGS": "--select 'GL1"}, "cannot split the paths or args input"),
        ({"INPUT_CHANGED_ONLY": "maybe"}, "changed-only must be true or false, not 'maybe'"),
    ],
)
def test_bad_inputs(tmp_path, capsys, inputs, message):
    github = {"GITHUB_WORKSPACE": str(tmp_path), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")}

    code = action.main({**github, **inputs})

    assert code == 2
    out = capsys.readouterr().out
    assert out.startswith("::error title=green-lint::") and out.count("\n") == 1
    assert message in out
    assert message in (tmp_path / "summary.md").read_text()


def test_annotation_limit_counts_each_type():
    from green_lint.findings import Finding, Position

    def finding(severity: str) -> Finding:
        return Finding("GL103", "n", "m", severity, "a.py", Position(1, 1), Position(1, 2), 1, "")

    findings = [finding("warning")] * 12 + [finding("error")] * 10 + [finding("info")] * 11
    assert action.hidden_annotations(findings) == 3
    assert action.hidden_annotations(findings[:10]) == 0


# The verify input: an energy and time budget on pull requests


def _busy(turns: int) -> str:
    return (
        f"total = 0\nfor i in range({turns}):\n    total += i % 7\nprint(f'RESULT total={{total % 1000}}')\n"
    )


def test_the_verify_input_fails_a_pull_request_that_regresses(action_yml, tmp_path):
    repo = make_repo(tmp_path / "repo", {"train.py": _busy(2_000_000)})
    base_sha = git(repo, "rev-parse", "HEAD").strip()
    commit(repo, {"train.py": _busy(6_000_000)})  # the pull request triples the work
    git(repo, "remote", "add", "origin", str(repo))
    github = pull_request(tmp_path, repo, base_sha)

    result = run_action(
        action_yml,
        tmp_path,
        github,
        verify="train.py",
        verify_fail_over="5",
        verify_args="--repeat 3 --warmup 0",
    )

    assert result.returncode == 1, result.stderr
    assert "regressed by at least" in result.stderr
    summary = Path(github["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert summary.startswith("## green-lint\n")  # the lint's summary first
    assert "## green-lint verify" in summary and "costs" in summary


def test_a_script_the_pull_request_adds_is_noted_not_an_error(action_yml, tmp_path):
    repo = make_repo(tmp_path / "repo", {"old.py": "print('RESULT 1')\n"})
    base_sha = git(repo, "rev-parse", "HEAD").strip()
    commit(repo, {"new.py": "print('RESULT 2')\n"})
    git(repo, "remote", "add", "origin", str(repo))
    github = pull_request(tmp_path, repo, base_sha)

    result = run_action(action_yml, tmp_path, github, verify="new.py", verify_args="--repeat 1 --warmup 0")

    assert result.returncode == 0, result.stderr
    summary = Path(github["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert (
        "## green-lint verify: `new.py`\n\nNew in this pull request: no base version to compare with."
        in summary
    )


def test_the_verify_input_passes_a_pull_request_that_saves(action_yml, tmp_path):
    repo = make_repo(tmp_path / "repo", {"train.py": _busy(6_000_000)})
    base_sha = git(repo, "rev-parse", "HEAD").strip()
    commit(repo, {"train.py": _busy(2_000_000)})
    git(repo, "remote", "add", "origin", str(repo))
    github = pull_request(tmp_path, repo, base_sha)

    result = run_action(action_yml, tmp_path, github, verify="train.py", verify_args="--repeat 3 --warmup 0")

    assert result.returncode == 0, result.stderr
    assert "saves" in Path(github["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
