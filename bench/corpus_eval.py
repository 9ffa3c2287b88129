"""Precision and recall of each rule on the hand-labelled corpus of real ML code.

The corpus is a set of labels (bench/corpus/labels/*.csv, see bench/corpus/LABELLING.md),
never the code: this script materialises each labelled file from a local clone at the
recorded commit, runs green-lint on them, and matches findings to labels by file, rule
and line (within --tolerance lines of the finding's range, in the same notebook cell).

    python bench/corpus_eval.py --clones /work/.mirror            # clones as OWNER+NAME/repo
    python bench/corpus_eval.py --clones DIR --details GL301      # list misses and extras

A clone is any git directory holding the commits (a bare mirror or a working clone);
files whose repository or commit is not there are counted as skipped, not as misses.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

LABELS = Path(__file__).parent / "corpus" / "labels"
MISSION = ("GL101", "GL102", "GL103", "GL201", "GL203", "GL301", "GL302")


@dataclass(frozen=True)
class Mark:
    """A place in a file: a line, or a line inside a notebook cell."""

    cell: int | None
    line: int


@dataclass
class Label:
    repo: str
    commit: str
    path: str
    mark: Mark
    code: str
    note: str


def read_labels(folder: Path) -> tuple[dict[tuple[str, str, str], list[Label]], list[Label]]:
    """Files read in full (repo, commit, path) -> their labels; and labels outside them."""
    files: dict[tuple[str, str, str], list[Label]] = {}
    rows = []
    for sheet in sorted(folder.glob("*.csv")):
        with sheet.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                rows.append(row)
    for row in rows:
        if row["code"] == "FILE":
            files.setdefault((row["repo"], row["commit"], row["path"]), [])
    stray = []
    for row in rows:
        if row["code"] == "FILE":
            continue
        label = Label(row["repo"], row["commit"], row["path"], _mark(row["line"]), row["code"], row["note"])
        key = (row["repo"], row["commit"], row["path"])
        files.get(key, stray).append(label)
    return files, stray


def _mark(text: str) -> Mark:
    if text.startswith("cell"):
        cell, _, line = text[4:].partition(":")
        return Mark(int(cell), int(line))
    return Mark(None, int(text))


def git_dir_for(clones: Path, repo: str) -> Path | None:
    base = clones / repo.replace("/", "+")
    for candidate in (base / "repo", base, clones / repo.split("/")[1]):
        if (candidate / "HEAD").is_file():
            return candidate
        if (candidate / ".git" / "HEAD").is_file():  # a clone with a work tree
            return candidate / ".git"
    return None


def materialise(files, clones: Path, into: Path) -> tuple[dict[str, tuple], list[tuple]]:
    """Write each file to `into`; returns written path -> key, and the keys skipped."""
    written, skipped = {}, []
    for key in files:
        repo, commit, path = key
        git_dir = git_dir_for(clones, repo)
        if git_dir is None:
            skipped.append(key)
            continue
        shown = subprocess.run(
            ["git", f"--git-dir={git_dir}", "show", f"{commit}:{path}"], capture_output=True, check=False
        )
        if shown.returncode != 0:
            skipped.append(key)
            continue
        target = into / repo.replace("/", "__") / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(shown.stdout)
        written[str(target.relative_to(into))] = key
    return written, skipped


def materialise_modules(written: dict[str, tuple], clones: Path, into: Path) -> None:
    """Write the other Python modules and notebooks of each labelled commit beside its
    labelled files, without overwriting them, so that what a file imports from its project
    (a budget in `config.py`) and who calls its functions (a notebook passing 20 epochs)
    can be followed; only the labelled files are linted."""
    for repo, commit in sorted({(key[0], key[1]) for key in written.values()}):
        git_dir = git_dir_for(clones, repo)
        listed = subprocess.run(
            ["git", f"--git-dir={git_dir}", "ls-tree", "-r", "--name-only", commit],
            capture_output=True,
            text=True,
            check=False,
        )
        for path in listed.stdout.splitlines():
            target = into / repo.replace("/", "__") / path
            if not path.endswith((".py", ".ipynb")) or target.exists():
                continue
            shown = subprocess.run(
                ["git", f"--git-dir={git_dir}", "show", f"{commit}:{path}"], capture_output=True, check=False
            )
            if shown.returncode == 0:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(shown.stdout)


def lint(into: Path, command: list[str], paths: list[str]) -> list[dict]:
    """Lint each repository's labelled files in a run of its own, from its folder, as its
    user would (the project is that repository, not the whole corpus)."""
    by_repo: dict[str, list[str]] = defaultdict(list)
    for path in paths:
        repo, _, inside = path.partition("/")
        by_repo[repo].append(inside)
    findings = []
    for repo, inside in sorted(by_repo.items()):
        folder = into / repo
        (folder / "green-lint.toml").write_text("respect-gitignore = false\nexclude = []\n")
        result = subprocess.run(
            [
                *command,
                "--no-cache",
                "--preview",  # preview rules are measured too: the corpus decides their promotion
                "--select",
                "GL",
                "--ignore",
                "GL304",
                "--output-format",
                "json",
                *inside,
            ],
            cwd=folder,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode not in (0, 1):
            sys.exit(f"green-lint failed on {repo} ({result.returncode}): {result.stderr.strip()}")
        for finding in json.loads(result.stdout):
            finding["filename"] = f"{repo}/{finding['filename']}"
            findings.append(finding)
    return findings


def score(files, written, findings, tolerance: int):
    """Per code: true positives, false positives, false negatives, with their places."""
    by_file: dict[tuple, list[tuple[str, Mark]]] = defaultdict(list)
    for finding in findings:
        key = written.get(finding["filename"])
        if key is not None and finding["code"] not in ("GL001", "GL003"):
            start, end = finding["location"]["row"], finding["end_location"]["row"]
            by_file[key].append((finding["code"], Mark(finding["cell"], start), end))
    outcome: dict[str, dict[str, list]] = defaultdict(lambda: {"tp": [], "fp": [], "fn": []})
    for key in written.values():
        labels = [label for label in files[key] if label.code != "none"]
        found = list(by_file.get(key, []))
        for label in labels:
            match = _closest(found, label, tolerance)
            if match is None:
                outcome[label.code]["fn"].append((key, label.mark, label.note))
            else:
                found.remove(match)
                outcome[label.code]["tp"].append((key, label.mark, label.note))
        for code, mark, _ in found:
            outcome[code]["fp"].append((key, mark, ""))
    return outcome


def _closest(found, label: Label, tolerance: int):
    """The finding of the label's rule nearest to it; a finding spans its range (a
    constructor written over several lines, labelled at its `fit` just below, matches)."""
    best = None
    for item in found:
        code, mark, end = item
        if code != label.code or mark.cell != label.mark.cell:
            continue
        line = label.mark.line
        distance = 0 if mark.line <= line <= end else min(abs(mark.line - line), abs(end - line))
        if distance <= tolerance and (best is None or distance < best[0]):
            best = (distance, item)
    return None if best is None else best[1]


def report(outcome, written, skipped, none_labels: int, details: set[str]) -> None:
    print(f"files: {len(written)} linted, {len(skipped)} skipped (no local clone or commit)")
    print(f"labels without a rule yet ('none'): {none_labels}")
    print(
        f"{'rule':<7} {'labels':>6} {'found':>6} {'tp':>4} {'fp':>4} {'fn':>4} {'precision':>9} {'recall':>7}"
    )
    totals = {"tp": 0, "fp": 0, "fn": 0}
    for code in sorted(outcome):
        counts = {kind: len(outcome[code][kind]) for kind in ("tp", "fp", "fn")}
        if code in MISSION:
            for kind in totals:
                totals[kind] += counts[kind]
        _row(code, counts)
    _row("mission", totals)
    for code in sorted(details):
        for kind in ("fp", "fn"):
            for key, mark, note in outcome[code][kind]:
                where = f"cell{mark.cell}:{mark.line}" if mark.cell else str(mark.line)
                print(f"{code} {kind} {key[0]} {key[2]}:{where} {note}")


def _row(code: str, counts: dict[str, int]) -> None:
    tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
    precision = f"{tp / (tp + fp):.2f}" if tp + fp else "-"
    recall = f"{tp / (tp + fn):.2f}" if tp + fn else "-"
    print(f"{code:<7} {tp + fn:>6} {tp + fp:>6} {tp:>4} {fp:>4} {fn:>4} {precision:>9} {recall:>7}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clones", type=Path, required=True, help="folder of git clones, OWNER+NAME/repo")
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--tolerance", type=int, default=3, help="lines between a finding and its label")
    parser.add_argument("--details", nargs="*", default=[], help="rule codes whose misses and extras to list")
    parser.add_argument("--green-lint", default=f"{sys.executable} -m green_lint", help="the command to run")
    options = parser.parse_args()
    files, stray = read_labels(options.labels)
    if stray:
        print(f"warning: {len(stray)} labels are in files without a FILE row; they are not scored")
    with tempfile.TemporaryDirectory(prefix="green-lint-corpus-") as folder:
        into = Path(folder)
        written, skipped = materialise(files, options.clones, into)
        materialise_modules(written, options.clones, into)
        findings = lint(into, options.green_lint.split(), sorted(written))
    outcome = score(files, written, findings, options.tolerance)
    none_labels = sum(1 for key in written.values() for label in files[key] if label.code == "none")
    report(outcome, written, skipped, none_labels, set(options.details))


if __name__ == "__main__":
    main()
