"""GL401 outdated-ml-dependency (a text rule: requirements*.txt, pyproject.toml and setup.cfg)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from green_lint.rule import Rule

Version = tuple[int, ...]


@dataclass(frozen=True)
class Release:
    """The first release of a library worth having, and why."""

    project: str
    first_good: Version
    brings: str


# One table: the release a pin must allow, and what it brings (the reason for the rule).
RELEASES = {
    "torch": Release(
        "torch",
        (2, 0),
        "`torch.compile` (graph capture with fused, generated kernels) and fused scaled-dot-product "
        "attention (FlashAttention and memory-efficient kernels behind "
        "`F.scaled_dot_product_attention` and `nn.MultiheadAttention`)",
    ),
    "pandas": Release(
        "pandas",
        (2, 0),
        "pyarrow-backed dtypes (`dtype_backend='pyarrow'`: strings stored as Arrow, far less memory "
        "than Python objects, faster string operations) and copy-on-write (no defensive copies)",
    ),
    "scikit-learn": Release(
        "scikit-learn",
        (1, 0),
        "stable HistGradientBoosting estimators (no experimental import; histogram-based, "
        "multi-threaded, much faster than GradientBoosting on large data) and the faster "
        "pairwise-distance and neighbour searches of the 1.x releases",
    ),
    "numpy": Release(
        "numpy",
        (1, 22),
        "SIMD (AVX-512) vectorised ufuncs through the universal intrinsics, and the wheels for "
        "current Pythons",
    ),
    "transformers": Release(
        "transformers",
        (4, 0),
        "fast Rust tokenizers by default (`use_fast=True`), and in later 4.x releases SDPA "
        "attention, `torch_dtype`/`device_map` loading and quantised loading",
    ),
    "tensorflow": Release(
        "tensorflow",
        (2, 0),
        "`tf.function` graph compilation with eager debugging, Keras as the high-level API, and "
        "later mixed precision and XLA (`jit_compile=True`); TensorFlow 1.x gets no fixes any more",
    ),
}
# Other distribution names of the same libraries.
ALIASES = {
    "sklearn": "scikit-learn",
    "tensorflow-gpu": "tensorflow",
    "tensorflow-cpu": "tensorflow",
    "pytorch": "torch",
}

# PEP 508 (requirements files, PEP 621 arrays): name, extras, specifiers, markers.
REQUIREMENT = re.compile(
    r"^(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[[^\]]*\])?\s*"
    r"(?P<spec>\(?\s*(?:(?:~=|===|==|!=|<=|>=|<|>)\s*[^,;()\s]+\s*,?\s*)*\)?)\s*(?P<marker>;.*)?$"
)
CLAUSE = re.compile(r"(?P<op>\^|~=|~|===|==|!=|<=|>=|<|>)?\s*v?(?P<version>\d+(?:\.\d+)*(?:\.\*)?)[\w.+!-]*")
COMMENT = re.compile(r"(^|\s)#.*$")
TABLE = re.compile(r"^\s*\[\[?\s*(?P<name>[^\]]+?)\s*\]\]?\s*(?:#.*)?$")
KEY = re.compile(r"^\s*(?P<key>[A-Za-z0-9_.-]+|\"[^\"]+\"|'[^']+')\s*=\s*")
POETRY_TABLE = re.compile(r"^tool\.poetry\.(?:dependencies|dev-dependencies|group\.[^.]+\.dependencies)$")
ARRAY_TABLES = ("project.optional-dependencies", "dependency-groups", "tool.pdm.dev-dependencies")


class OutdatedMlDependency(Rule):
    """
    ## What it does
    Flags a requirement in `requirements*.txt`, `pyproject.toml` or `setup.cfg` whose pin or upper
    bound keeps an ML library below the release that brought its efficient paths:

    | library | flagged below | what the newer release brings |
    |---|---|---|
    | torch | 2.0 | `torch.compile`; fused scaled-dot-product attention (FlashAttention) |
    | pandas | 2.0 | pyarrow-backed dtypes (Arrow strings); copy-on-write |
    | scikit-learn (`sklearn`) | 1.0 | stable HistGradientBoosting; faster neighbour/distance searches in 1.x |
    | numpy | 1.22 | AVX-512 vectorised ufuncs (universal intrinsics) |
    | transformers | 4.0 | fast tokenizers by default; later SDPA attention, quantised loading |
    | tensorflow (`-gpu`, `-cpu`) | 2.0 | `tf.function` graphs, mixed precision, XLA |

    Pins (`==1.13.1`, `===`, `==1.*`), upper bounds (`<2`, `<=1.13.1`), compatible
    releases (`~=1.5` means `<2`) and Poetry constraints (`^1.13`, `~1.13`, `"1.13"`) are
    read. Lower bounds alone (`>=1.5`) are not flagged. In `pyproject.toml` only the
    dependency arrays are read: `[project] dependencies`,
    `[project.optional-dependencies]`, `[dependency-groups]`, and Poetry's
    `[tool.poetry.dependencies]` (and dev/group dependencies); in `setup.cfg`,
    `install_requires`, `setup_requires` and `tests_require` of `[options]` and every list
    of `[options.extras_require]`. Names are normalised
    (`Scikit_Learn`); comments, `-r`/`-c`/`-e` lines, URLs and environment markers are
    handled.

    ## Why it wastes energy
    An old pin locks the project out of the work the library's authors did on speed
    and memory: the same code on the newer release can run cheaper (compiled graphs,
    fused attention kernels, Arrow memory, vectorised ufuncs), and an old release also
    stops getting security and bug fixes.

    ## Example
    ```text
    torch==1.13.1
    pandas<2
    scikit-learn~=0.24
    ```

    ## Use instead
    ```text
    torch>=2.2
    pandas>=2.0
    scikit-learn>=1.3
    ```
    Upgrade, run the tests, then use the new paths (`torch.compile`,
    `dtype_backend="pyarrow"`, ...): the upgrade alone brings part of the gain.

    ## Fix safety
    No fix: a major upgrade can change behaviour and needs the project's tests.

    ## Evidence
    - An empirical study of pandas, Vaex, scikit-learn and NumPy versions on 21 tasks:
      "no single library always saves the most energy", and newer versions sometimes use
      less: the gain of an upgrade is not guaranteed, measure it on your code with
      `green-lint verify`.
      https://figshare.com/articles/dataset/_b_An_Empirical_Study_on_Energy_Usage_Patterns_of_b_b_Different_Variants_of_Data_Processing_Libraries_b_/27611421
    - PyTorch 2.0 release notes: `torch.compile`, accelerated transformers with
      scaled-dot-product attention. https://pytorch.org/blog/pytorch-2.0-release/
    - pandas 2.0 release notes: pyarrow-backed dtypes, copy-on-write.
      https://pandas.pydata.org/docs/whatsnew/v2.0.0.html
    - scikit-learn 1.0 release highlights (HistGradientBoosting no longer experimental).
      https://scikit-learn.org/stable/auto_examples/release_highlights/plot_release_highlights_1_0_0.html
    - NumPy 1.22 release notes (AVX-512 vectorised umath).
      https://numpy.org/doc/stable/release/1.22.0-notes.html
    - Transformers v4.0.0 release notes (fast tokenizers by default).
      https://github.com/huggingface/transformers/releases/tag/v4.0.0
    """

    code = "GL401"
    name = "outdated-ml-dependency"
    summary = "A dependency pin keeps an ML library on a release without its efficient paths"
    file_kinds = ("requirements",)
    # Names are case-insensitive (`Torch`, `NumPy`), and the engine hands this rule only
    # requirements files: no trigger needed.
    triggers = ()

    def lint_text(self, text: str) -> None:
        path = self.context.path.lower()
        lines = text.splitlines()
        if path.endswith(".toml"):
            found = _pyproject(lines)
        elif path.endswith(".cfg"):
            found = _setup_cfg(lines)
        else:
            found = _requirements(lines)
        for row, start, end, requirement, name, constraint, poetry in found:
            message = _message(requirement, name, constraint, poetry)
            if message is not None:
                self.report_span((row, start + 1), (row, end + 1), message)


def _message(requirement: str, name: str, constraint: str, poetry: bool) -> str | None:
    normalised = re.sub(r"[-_.]+", "-", name).lower()
    project = ALIASES.get(normalised, normalised)
    release = RELEASES.get(project)
    if release is None:
        return None
    if not _keeps_below(constraint, release.first_good, poetry):
        return None
    first = ".".join(map(str, release.first_good))
    alias = ""
    if normalised == "sklearn":
        alias = " (`sklearn` is a deprecated alias package: depend on `scikit-learn`)"
    return (
        f"`{requirement}` keeps {release.project} below {first}{alias}, so the code cannot use "
        f"{release.brings}. Allow {release.project}>={first} and run the tests."
    )


# -- version constraints -----------------------------------------------------------------
def _version(text: str) -> tuple[Version, bool]:
    """(release numbers, wildcard?) of `1.13.1`, `1.*`."""
    wildcard = text.endswith(".*")
    numbers = text[:-2] if wildcard else text
    return tuple(int(part) for part in numbers.split(".")), wildcard


def _bump(version: Version) -> Version:
    return (*version[:-1], version[-1] + 1)


def _upper(op: str | None, text: str, poetry: bool) -> tuple[Version, bool] | None:
    """The upper bound a clause sets: (version, inclusive?), or None for no bound."""
    version, wildcard = _version(text)
    if op is None:
        op = "==" if poetry else None
    if op in ("==", "==="):
        return (_bump(version), False) if wildcard else (version, True)
    if op == "<":
        return version, False
    if op == "<=":
        return version, True
    if op == "~=":
        return (_bump(version[:-1]), False) if len(version) >= 2 else None
    if op == "^":
        for index, part in enumerate(version):
            if part != 0 or index == len(version) - 1:
                return _bump(version[: index + 1]), False
    if op == "~":
        return (_bump(version[:2]) if len(version) >= 2 else _bump(version)), False
    return None  # >=, >, != : no upper bound


def _keeps_below(constraint: str, first_good: Version, poetry: bool) -> bool:
    """Whether every alternative of the constraint excludes `first_good` and later."""
    alternatives = constraint.split("||") if poetry else [constraint]
    verdicts = []
    for alternative in alternatives:
        bounds = [
            bound
            for match in CLAUSE.finditer(alternative)
            if (bound := _upper(match.group("op"), match.group("version"), poetry)) is not None
        ]
        if not bounds:
            verdicts.append(False)
            continue
        below = False
        for version, inclusive in bounds:
            width = max(len(version), len(first_good))
            v = version + (0,) * (width - len(version))
            t = first_good + (0,) * (width - len(first_good))
            if v < t or (v == t and not inclusive):
                below = True
        verdicts.append(below)
    return bool(verdicts) and all(verdicts)


# -- requirements files ------------------------------------------------------------------
Found = tuple[int, int, int, str, str, str, bool]


def _requirements(lines: list[str]) -> Iterator[Found]:
    for row, line in enumerate(lines, start=1):
        content = COMMENT.sub("", line)
        content = re.split(r"\s--?\w", content, maxsplit=1)[0]  # per-requirement options (--hash)
        stripped = content.strip()
        if not stripped or stripped.startswith("-") or stripped.endswith("\\"):
            continue
        parsed = _parse_requirement(stripped)
        if parsed is None:
            continue
        start = line.index(stripped)
        yield row, start, start + len(stripped), stripped, parsed[0], parsed[1], False


def _parse_requirement(text: str) -> tuple[str, str] | None:
    """(name, specifiers) of a PEP 508 requirement; None for URLs and what does not parse."""
    match = REQUIREMENT.match(text)
    if match is None:
        return None
    return match.group("name"), match.group("spec") or ""


# -- setup.cfg ---------------------------------------------------------------------------
CFG_SECTION = re.compile(r"^\[(?P<name>[^\]]+)\]")
CFG_KEY = re.compile(r"^(?P<key>[A-Za-z0-9_.-]+)\s*[=:]\s*")
CFG_REQUIREMENT_KEYS = ("install_requires", "setup_requires", "tests_require")


def _setup_cfg(lines: list[str]) -> Iterator[Found]:
    """Requirements of setuptools' declarative config: a value on the key's line and/or
    a dangling list on the indented lines below it."""
    section, in_list = "", False
    for row, line in enumerate(lines, start=1):
        if line[:1].isspace():
            if not in_list:
                continue
            value, offset = line, 0
        else:
            in_list = False
            header = CFG_SECTION.match(line)
            if header is not None:
                section = header.group("name").strip()
                continue
            key = CFG_KEY.match(line)
            if key is None:
                continue
            in_list = section == "options.extras_require" or (
                section == "options" and key.group("key") in CFG_REQUIREMENT_KEYS
            )
            if not in_list:
                continue
            value, offset = line[key.end() :], key.end()
        stripped = COMMENT.sub("", value).strip()
        if not stripped or stripped.startswith(";"):
            continue
        parsed = _parse_requirement(stripped)
        if parsed is not None:
            start = offset + value.index(stripped)
            yield row, start, start + len(stripped), stripped, parsed[0], parsed[1], False


# -- pyproject.toml ----------------------------------------------------------------------
def _pyproject(lines: list[str]) -> Iterator[Found]:
    table = ""
    in_array = False
    for row, line in enumerate(lines, start=1):
        if not in_array:
            header = TABLE.match(line)
            if header is not None:
                table = header.group("name").replace('"', "").replace("'", "").replace(" ", "")
                continue
            key = KEY.match(line)
            if key is None:
                continue
            name = key.group("key").strip("\"'")
            value_start = key.end()
            if POETRY_TABLE.match(table):
                yield from _poetry_entry(row, line, name, key.start("key"), value_start)
                continue
            if not (
                (table == "project" and name == "dependencies")
                or table in ARRAY_TABLES
                or (table.startswith("tool.pdm.dev-dependencies"))
            ):
                continue
            if not line[value_start:].lstrip().startswith("["):
                continue
            strings, closed = _scan(line, line.index("[", value_start) + 1)
            in_array = not closed
        else:
            strings, closed = _scan(line, 0)
            in_array = not closed
        for start, end, value in strings:
            parsed = _parse_requirement(value.strip())
            if parsed is not None:
                yield row, start, end, value.strip(), parsed[0], parsed[1], False


def _scan(line: str, position: int) -> tuple[list[tuple[int, int, str]], bool]:
    """The strings of an array line from `position` (their 0-based column range, without
    quotes) and whether the array closes on this line. A `#` outside strings ends it."""
    strings = []
    index = position
    while index < len(line):
        char = line[index]
        if char in "\"'":
            end = index + 1
            while end < len(line) and line[end] != char:
                end += 2 if char == '"' and line[end] == "\\" else 1
            strings.append((index + 1, end, line[index + 1 : end]))
            index = end + 1
            continue
        if char == "#":
            break
        if char == "]":
            return strings, True
        index += 1
    return strings, False


def _poetry_entry(row: int, line: str, name: str, start: int, value_start: int) -> Iterator[Found]:
    value = line[value_start:]
    strings, _ = _scan(value, 0)
    if not strings:
        return
    if value.lstrip().startswith("{"):
        match = re.search(r"\bversion\s*=\s*[\"']([^\"']*)[\"']", value.split("#", 1)[0])
        if match is None:
            return
        constraint = match.group(1)
        closing = value.find("}")
        end = value_start + closing + 1 if closing >= 0 else len(line.split("#", 1)[0].rstrip())
    elif value.lstrip()[:1] in "\"'":
        constraint = strings[0][2]
        end = value_start + strings[0][1] + 1
    else:
        return
    requirement = line[start:end].strip()
    if name.lower() == "python":
        return
    yield row, start, start + len(requirement), requirement, name, constraint, True
