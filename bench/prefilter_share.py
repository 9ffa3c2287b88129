"""What the prefilter lets through: how many files of a tree libcst parses, how many of
those hold a finding, and which rules' triggers let each parsed file through.

    python bench/prefilter_share.py [TREE] [--select GL] [--top 12] [--fruitless GL203]

Lints the tree in this process, one file at a time (no pool, no cache), with the default
rules, counting the files handed to libcst. A file parsed for a rule that then reports
nothing in it is the prefilter's waste: the table ranks the rules by the parses they
caused that produced none of their findings. Not a test; the counts are exact, the time is
this machine's.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from green_lint import engine
from green_lint.engine import LintSettings, lint_source
from green_lint.registry import select_rules
from green_lint.source import SourceError, load_source


def default_tree() -> Path:
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("no tree given and scikit-learn is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


@dataclass
class Share:
    files: int = 0
    parsed: int = 0  # files handed to libcst
    with_findings: int = 0  # ... of which hold a finding
    characters: int = 0  # of all the files
    parsed_characters: int = 0  # of the files parsed
    finding_characters: int = 0  # of the parsed files that hold a finding
    seconds: float = 0.0  # linting, in one process
    parse_seconds: float = 0.0  # ... of which libcst's parser
    walk_seconds: float = 0.0  # ... and the rules' walk of its trees
    visited: Counter = field(default_factory=Counter)  # parses each rule took part in
    fruitless: Counter = field(default_factory=Counter)  # ... that gave none of its findings
    alone: Counter = field(default_factory=Counter)  # fruitless parses no other rule asked for
    wasted: dict = field(default_factory=dict)  # rule -> files parsed for it without its finding


def measure(tree: Path, select: str = "GL") -> Share:
    """Lint `tree` in this process, counting the files libcst parses."""
    rules = select_rules([select])
    settings = LintSettings(rules=rules)
    parses: list[int] = []
    real_parse, real_traverse = engine.parse_trusted, engine._traverse
    share = Share()

    def counting_parse(text: str):
        parses.append(1)
        start = time.perf_counter()
        try:
            return real_parse(text)
        finally:
            share.parse_seconds += time.perf_counter() - start

    def timed_traverse(*args):
        start = time.perf_counter()
        try:
            return real_traverse(*args)
        finally:
            share.walk_seconds += time.perf_counter() - start

    engine.parse_trusted, engine._traverse = counting_parse, timed_traverse
    files = sorted(tree.rglob("*.py"))
    share.files = len(files)
    try:
        for path in files:
            try:
                source = load_source(path, str(path), path.read_bytes())
            except (OSError, SourceError):
                continue
            share.characters += len(source.text)
            before = len(parses)
            running = _running_rules(source, rules)
            start = time.perf_counter()
            findings = lint_source(source, settings)
            share.seconds += time.perf_counter() - start
            if len(parses) == before:
                continue
            share.parsed += 1
            share.parsed_characters += len(source.text)
            codes = {finding.code for finding in findings}
            if codes - {"GL001", "GL003"}:
                share.with_findings += 1
                share.finding_characters += len(source.text)
            for code in running:
                share.visited[code] += 1
                if code not in codes:
                    share.fruitless[code] += 1
                    share.wasted.setdefault(code, []).append(str(path.relative_to(tree)))
            if len(running) == 1 and running[0] not in codes:
                share.alone[running[0]] += 1
    finally:
        engine.parse_trusted, engine._traverse = real_parse, real_traverse
    return share


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("tree", nargs="?", type=Path, default=None)
    parser.add_argument("--select", default="GL")
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument(
        "--fruitless", metavar="CODE", help="list the files parsed for CODE without its finding"
    )
    args = parser.parse_args()
    tree = args.tree or default_tree()
    share = measure(tree, args.select)
    print(f"tree: {tree} ({share.files} files), rules: {args.select}, linted in one process")
    print(
        f"parsed by libcst: {share.parsed} ({share.parsed / max(1, share.files):.0%}); "
        f"with a finding: {share.with_findings}"
    )
    # libcst's parse and the rules' walk grow with the text: the share of characters parsed
    # is the share of that work done. With every prefilter exact, only the files with a
    # finding would be parsed: the ceiling of what prefilters can save.
    print(
        f"characters parsed: {share.parsed_characters / max(1, share.characters):.0%} of the tree's; "
        f"with every prefilter exact: {share.finding_characters / max(1, share.characters):.0%}"
    )
    libcst = share.parse_seconds + share.walk_seconds
    rest = share.seconds - libcst
    exact = rest + libcst * share.finding_characters / max(1, share.parsed_characters)
    print(
        f"linting took {share.seconds:.1f} s: libcst's parser {share.parse_seconds:.1f} s, the rules' "
        f"walk {share.walk_seconds:.1f} s, the rest {rest:.1f} s (CPython's parser, triggers, "
        f"prefilters, findings); modelled with every prefilter exact: {exact:.1f} s"
    )
    print("rule     parses  without its finding  of which for this rule alone")
    for code, count in share.fruitless.most_common(args.top):
        print(f"{code:8} {share.visited[code]:6}  {count:19}  {share.alone[code]:6}")
    if args.fruitless:
        print(
            f"parsed for {args.fruitless} without its finding:",
            *share.wasted.get(args.fruitless, []),
            sep="\n  ",
        )


def _running_rules(source, rules) -> list[str]:
    """The rules the engine runs on the file: its text hits one of their triggers and their
    tree prefilter (`may_flag`, on CPython's tree) does not rule the file out."""
    text, searched = source.text, {}
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError):
        return []
    return [
        rule.code
        for rule in rules
        if not (rule.handles_parse_errors or rule.reports_unchecked_files or rule.file_kinds != ("python",))
        and (not rule.triggers or any(engine._hit(t, text, searched) for t in rule.triggers))
        and rule.may_flag(tree, text, None)
    ]


if __name__ == "__main__":
    main()
