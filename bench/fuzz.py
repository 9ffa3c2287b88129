"""Fuzz green-lint with many more mutated programs than the test suite runs.

    python bench/fuzz.py --examples 3000 --seed 7

Generates hypothesmith programs, mutates each (tests/fuzz_cases.py: salt characters, CR
and CRLF, byte-order marks, deep nesting, cuts, NUL bytes) and checks the invariants:
no internal error, GL001 exactly when CPython rejects the file. Prints every failure
with the mutated program, and exits 1 when there is one.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import hypothesmith
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from tests.fuzz_cases import MUTATIONS, check_invariants, mutate


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--examples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    failures: list[tuple[bytes, list[str]]] = []
    checked = 0

    @settings(
        max_examples=args.examples, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(program=hypothesmith.from_grammar(), kind=st.sampled_from(MUTATIONS), where=st.integers(0, 10**6))
    def run(program: str, kind: str, where: int) -> None:
        nonlocal checked
        checked += 1
        data = mutate(program, kind, where)
        problems = check_invariants(data)
        if problems:
            failures.append((data, problems))

    seed(args.seed)(run)()
    for data, problems in failures:
        print(f"FAIL {problems}\n{data!r}\n")
    print(f"{checked} programs, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
