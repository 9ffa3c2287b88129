"""The GitHub Action (`action.yml`): `python -m green_lint.action`.

Reads the action's inputs from `INPUT_PATHS`, `INPUT_ARGS`, `INPUT_SARIF`,
`INPUT_CHANGED_ONLY` and `INPUT_CACHE`, and the run from GitHub's variables (`GITHUB_EVENT_NAME`,
`GITHUB_BASE_REF`, `GITHUB_EVENT_PATH`, `GITHUB_STEP_SUMMARY`, `GITHUB_WORKSPACE`,
`GITHUB_OUTPUT`). It runs green-lint once in JSON, prints the findings as workflow
commands (annotations on the pull request), writes SARIF when asked (a second run), writes
a Markdown summary of the run to the job summary, and exits with green-lint's exit code.

On a pull request, with `changed-only` (the default), only the findings on lines the pull
request changed are reported: `--diff-base origin/<base branch>`, fetched when the checkout
lacks it, else the base commit named in the event payload.

With `cache` (the default), the lint cache and the key that signs it live under
`GREEN_LINT_CACHE_ROOT` (the runner's temporary folder), which action.yml restores from
GitHub's cache before the run and saves after it on pushes, schedules and manual runs
only: a pull request reads what the last push wrote and lints again only the files that
push did not see (issue #16: a cold run costs several times ruff's), and the events that
may run code under review never save a cache that later runs would trust.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import stat
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from green_lint.findings import Finding, Position
from green_lint.output.report import RunReport

# GitHub shows at most this many annotations of each type (error, warning, notice) per
# step; the others are dropped silently.
ANNOTATION_LIMIT = 10
# How many findings the job summary lists.
TOP_FINDINGS = 20
# History fetched with the base branch, so that the merge base is often found.
FETCH_DEPTH = 50
PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")
_COMMANDS = {"info": "notice", "warning": "warning", "error": "error"}
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")
# Flags the action sets itself: in `args` they would break the run it reads.
_RESERVED = ("--output-format", "--output-file", "-o", "--statistics", "--diff", "--write-baseline")


class ActionError(Exception):
    """A problem with the action's inputs: an error annotation and exit code 2."""


@dataclass
class Inputs:
    paths: list[str]
    args: list[str]
    sarif: str
    changed_only: bool
    cache: bool = True

    @classmethod
    def from_environment(cls, env: Mapping[str, str]) -> Inputs:
        try:
            paths = shlex.split(env.get("INPUT_PATHS", "")) or ["."]
            args = shlex.split(env.get("INPUT_ARGS", ""))
        except ValueError as error:
            raise ActionError(f"cannot split the paths or args input: {error}") from None
        for arg in args:
            name = arg.split("=", 1)[0]
            if name in _RESERVED:
                raise ActionError(
                    f"args: the action sets {name} itself (use the sarif input for a SARIF file)"
                )
        changed_only = env.get("INPUT_CHANGED_ONLY", "").strip().lower() or "true"
        if changed_only not in (*_TRUE, *_FALSE):
            raise ActionError(f"changed-only must be true or false, not {changed_only!r}")
        # Only the two words action.yml's `if: inputs.cache == 'true'` tells apart.
        cache = env.get("INPUT_CACHE", "").strip().lower() or "true"
        if cache not in ("true", "false"):
            raise ActionError(f"cache must be true or false, not {cache!r}")
        sarif = env.get("INPUT_SARIF", "").strip()
        return cls(paths, args, sarif, changed_only in _TRUE, cache == "true")


def lint_environment(root: str | None) -> dict[str, str]:
    """The environment of the green-lint runs: with the action's cache folder `root`
    (`action_cache_root`), the lint cache and its key in it."""
    lint_env = dict(os.environ)  # the runs inherit this process's environment
    if root is not None:
        lint_env["GREEN_LINT_CACHE_DIR"] = os.path.join(root, "lint")
        # The key that signs the cache: a cache from another key is a miss (see cache.py).
        lint_env["XDG_CACHE_HOME"] = os.path.join(root, "home")
    return lint_env


def action_cache_root(env: Mapping[str, str], inputs: Inputs) -> str | None:
    """The folder action.yml keeps in GitHub's cache, when the runs use it: the cache
    input is on and the user chose no cache folder (or no cache) of their own."""
    root = env.get("GREEN_LINT_CACHE_ROOT", "").strip()
    own_choice = os.environ.get("GREEN_LINT_CACHE_DIR") or any(
        arg.split("=", 1)[0] in ("--cache-dir", "--no-cache") for arg in inputs.args
    )
    return root if inputs.cache and root and not own_choice else None


# A cache file that no run has read or written for this long (cache.py marks each use) is
# deleted after the run: one of another build of green-lint, or of settings no longer used.
# GitHub keeps a cache that is restored, with every file in it; a file any of the job's
# runs still uses is younger than this. Seven days, as GitHub's own eviction of caches.
STALE_CACHE_SECONDS = 7 * 24 * 3600


def prune_cache(folder: Path, now: float) -> int:
    """Delete the cache files under `folder` unused for STALE_CACHE_SECONDS, then the
    folders left empty; how many files were deleted. Links are neither followed nor
    deleted, and only green-lint's files go: its `.json` cache files and the `.tmp` files
    a write that never finished left behind."""
    if os.path.islink(folder):
        return 0
    removed = 0
    for parent, _folders, files in os.walk(folder, topdown=False):
        for name in files:
            path = os.path.join(parent, name)
            try:
                info = os.lstat(path)
                ours = name.endswith(".json") or (name.startswith(".") and name.endswith(".tmp"))
                cache_file = ours and stat.S_ISREG(info.st_mode)
                if cache_file and now - info.st_mtime > STALE_CACHE_SECONDS:
                    os.unlink(path)
                    removed += 1
            except OSError:
                continue  # gone already, or not ours to delete: the next run tries again
        if parent != str(folder):
            with contextlib.suppress(OSError):  # not empty, or a link
                os.rmdir(parent)
    return removed


def main(environ: Mapping[str, str] | None = None) -> int:
    env = os.environ if environ is None else environ
    workspace = Path(env.get("GITHUB_WORKSPACE") or os.getcwd()).resolve()
    try:
        inputs = Inputs.from_environment(env)
    except ActionError as error:
        _command("error", str(error))
        _write_summary(env, f"## green-lint\n\nThe action could not run: {_cell(str(error))}\n")
        return 2
    command = [sys.executable, "-m", "green_lint", "check", *inputs.paths, *inputs.args]
    base = None
    user_base = any(arg.split("=", 1)[0] in ("--diff-base", "--changed-since") for arg in inputs.args)
    if inputs.changed_only and env.get("GITHUB_EVENT_NAME") in PULL_REQUEST_EVENTS and not user_base:
        base = find_base(workspace, env)
        if base is not None:
            command += ["--diff-base", base]
    print(f"Running: {shlex.join(['green-lint', *command[3:]])}", file=sys.stderr, flush=True)
    cache_root = action_cache_root(env, inputs)
    lint_env = lint_environment(cache_root)
    started = time.time()
    completed = subprocess.run(
        [*command, "--output-format", "json"],
        cwd=workspace,
        env=lint_env,
        capture_output=True,
        encoding="utf-8",
        errors="replace",
    )
    sys.stderr.write(completed.stderr)
    findings = _parse_findings(completed.stdout, workspace)
    if findings is None and completed.returncode == 0 and not completed.stdout.strip():
        findings = []  # nothing to check (no changed Python file, say)
    if findings is None:
        sys.stdout.write(completed.stdout)
        problem = completed.stderr.strip().splitlines()[-1:] or ["no output"]
        _write_summary(
            env,
            f"## green-lint\n\ngreen-lint failed (exit code {completed.returncode}): {_cell(problem[0])}\n",
        )
        _set_outputs(env, None, completed.returncode)
        return completed.returncode or 2
    sys.stdout.write(annotations(findings, workspace))
    sys.stdout.flush()
    hidden = hidden_annotations(findings)
    if findings:
        note = f" ({hidden} without an annotation: see the job summary)" if hidden else ""
        print(f"green-lint: {_count(len(findings), 'finding')}{note}", file=sys.stderr)
    if inputs.sarif:
        _write_sarif(command, workspace, inputs.sarif, lint_env)
    if cache_root is not None:
        pruned = prune_cache(Path(cache_root) / "lint", started)
        if pruned:
            print(f"green-lint: deleted {_count(pruned, 'cache file')} unused for a week", file=sys.stderr)
    _write_summary(env, summary(findings, workspace, base, completed.returncode))
    _set_outputs(env, len(findings), completed.returncode)
    if env.get("INPUT_VERIFY", "").strip():
        from green_lint.action_verify import verify_scripts

        on_pull_request = env.get("GITHUB_EVENT_NAME") in PULL_REQUEST_EVENTS
        verify_base = (base or find_base(workspace, env)) if on_pull_request else None
        return max(completed.returncode, verify_scripts(env, workspace, verify_base, _write_summary))
    return completed.returncode


def find_base(workspace: Path, env: Mapping[str, str]) -> str | None:
    """The ref to pass to --diff-base: origin/<base branch>, fetched if missing, else the
    base commit of the event payload; None (with a warning) when neither can be found."""
    base_ref = env.get("GITHUB_BASE_REF", "").strip()
    if base_ref:
        remote = f"origin/{base_ref}"
        if not _resolves(workspace, remote):
            # Offline, or no remote: tolerated, the payload's commit may be there.
            _git(
                workspace,
                "fetch",
                "--no-tags",
                f"--depth={FETCH_DEPTH}",
                "origin",
                f"+refs/heads/{base_ref}:refs/remotes/origin/{base_ref}",
            )
        if _resolves(workspace, remote):
            return remote
    sha = _event_base_sha(env)
    if sha:
        if not _resolves(workspace, sha):
            _git(workspace, "fetch", "--no-tags", "--depth=1", "origin", sha)
        if _resolves(workspace, sha):
            return sha
    _command(
        "warning",
        "cannot find the base of the pull request (neither origin/"
        f"{base_ref or '<base>'} nor the base commit {sha or '(none in the event)'}): "
        "checking every line. Check out with fetch-depth: 0 to fix this.",
    )
    return None


def annotations(findings: Sequence[Finding], workspace: Path) -> str:
    """The workflow commands GitHub turns into annotations, from green-lint's renderer."""
    from green_lint.output import render
    from green_lint.registry import all_rules

    report = RunReport(
        findings=list(findings), rules={rule.code: rule for rule in all_rules()}, root=workspace
    )
    return render("github", report)


def unannotated(findings: Sequence[Finding]) -> list[Finding]:
    """The findings GitHub will not show as annotations: past the first ten of each type,
    in the order they are printed."""
    seen: Counter[str] = Counter()
    hidden = []
    for finding in findings:
        kind = _COMMANDS.get(finding.severity, "warning")
        seen[kind] += 1
        if seen[kind] > ANNOTATION_LIMIT:
            hidden.append(finding)
    return hidden


def hidden_annotations(findings: Sequence[Finding]) -> int:
    """How many findings GitHub will not show as annotations."""
    return len(unannotated(findings))


def summary(findings: Sequence[Finding], workspace: Path, base: str | None, exit_code: int) -> str:
    """The job summary: counts per rule, the top findings, what the annotations leave out."""
    scope = f" on the lines changed since `{base}`" if base else ""
    lines = ["## green-lint", ""]
    if not findings:
        lines += [f"No findings{scope}. :white_check_mark:", ""]
        return "\n".join(lines)
    files = len({finding.filename for finding in findings})
    lines += [f"**{_count(len(findings), 'finding')}** in {_count(files, 'file')}{scope}.", ""]
    lines += ["| Rule | Name | Findings |", "|---|---|---:|"]
    per_rule = Counter(finding.code for finding in findings)
    names = {finding.code: (finding.name, finding.url) for finding in findings}
    for code, count in sorted(per_rule.items(), key=lambda item: (-item[1], item[0])):
        name, url = names[code]
        rule = f"[{code}]({url})" if url else code
        lines.append(f"| {rule} | {_cell(name)} | {count} |")
    lines.append("")
    hidden = {id(finding) for finding in unannotated(findings)}
    if hidden:
        lines += [
            f"> [!NOTE]\n> GitHub shows at most {ANNOTATION_LIMIT} warning and {ANNOTATION_LIMIT} error "
            f"annotations (and {ANNOTATION_LIMIT} notices) per step: "
            f"**{_count(len(hidden), 'finding')} {'is' if len(hidden) == 1 else 'are'} hidden by this "
            "limit** on the pull request (marked *no annotation* below). "
            "A local run (`green-lint .`) shows every finding.",
            "",
        ]
    order = {"error": 0, "warning": 1, "info": 2}
    top = sorted(findings, key=lambda f: (order.get(f.severity, 1), f.sort_key()))[:TOP_FINDINGS]
    title = "Top findings" if len(findings) > len(top) else "Findings"
    lines += [f"### {title}", "", "| Where | Rule | Message |", "|---|---|---|"]
    paths = RunReport(findings=[], rules={}, root=workspace)
    for finding in top:
        where = f"{paths.relative_path(finding.filename)}:{finding.location.row}"
        if finding.cell is not None:
            where = f"{paths.relative_path(finding.filename)}, cell {finding.cell}:{finding.location.row}"
        note = " *no annotation*" if id(finding) in hidden else ""
        lines.append(f"| `{_code(where)}`{note} | {finding.code} | {_cell(finding.message)} |")
    if len(findings) > len(top):
        lines += ["", f"… and {len(findings) - len(top)} more."]
    lines += ["", f"green-lint exited with code {exit_code}.", ""]
    return "\n".join(lines)


def _parse_findings(stdout: str, workspace: Path) -> list[Finding] | None:
    if not stdout.strip():
        return None
    try:
        data = json.loads(stdout)
        return [_finding(item, workspace) for item in data]
    except (ValueError, TypeError, KeyError):
        return None


def _finding(item: dict, workspace: Path) -> Finding:
    location = Position(**item["location"])
    return Finding(
        code=item["code"],
        name=item["name"],
        message=item["message"],
        severity=item["severity"],
        # Relative to the folder green-lint ran in, which need not be this process's.
        filename=os.path.join(workspace, item["filename"]),
        location=location,
        end_location=Position(**item["end_location"]),
        noqa_row=item.get("noqa_row", location.row),
        url=item.get("url", ""),
        cell=item.get("cell"),
    )


def _write_sarif(command: list[str], workspace: Path, sarif: str, env: Mapping[str, str]) -> None:
    target = workspace / sarif
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        _command("warning", f"cannot create the folder of {sarif}: {error.strerror or error}")
        return
    completed = subprocess.run(
        [*command, "--output-format", "sarif", "--output-file", str(target), "--exit-zero", "--quiet"],
        cwd=workspace,
        env=env,
        capture_output=True,
        encoding="utf-8",
        errors="replace",
    )
    if completed.returncode != 0:
        sys.stderr.write(completed.stderr)
        _command("warning", f"green-lint could not write the SARIF file {sarif}")


def _write_summary(env: Mapping[str, str], text: str) -> None:
    path = env.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as error:
        print(f"green-lint: cannot write the job summary: {error.strerror or error}", file=sys.stderr)


def _set_outputs(env: Mapping[str, str], findings: int | None, exit_code: int) -> None:
    path = env.get("GITHUB_OUTPUT")
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(f"findings={'' if findings is None else findings}\nexit-code={exit_code}\n")
    except OSError:
        pass


def _event_base_sha(env: Mapping[str, str]) -> str | None:
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            sha = json.load(handle)["pull_request"]["base"]["sha"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return sha if isinstance(sha, str) and sha else None


def _resolves(workspace: Path, ref: str) -> bool:
    return _git(workspace, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")


def _git(workspace: Path, *args: str) -> bool:
    # Never wait for a password: a fetch that cannot run without one fails at once.
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    try:
        completed = subprocess.run(
            ["git", *args], cwd=workspace, env=env, capture_output=True, text=True, timeout=300
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return completed.returncode == 0


def _command(kind: str, message: str) -> None:
    from green_lint.output.github import escape_data

    print(f"::{kind} title=green-lint::{escape_data(message)}", flush=True)


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _code(text: str) -> str:
    """Text safe inside a code span in a Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|").replace("`", "'")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


if __name__ == "__main__":
    sys.exit(main())
