"""GL003 file-not-checked."""

from green_lint.engine import DEFAULT_CAPS
from green_lint.rule import Rule


class FileNotChecked(Rule):
    """
    ## What it does
    Reports a file that Python accepts but green-lint did not check, with the reason: it is
    larger than `max-file-bytes` (2 MB), has a line longer than `max-line-bytes` (200,000
    characters), libcst (green-lint's parser) cannot parse it although CPython can, or
    the process checking it crashed. The other files of the run are checked as usual.
    Nesting needs no cap of its own: CPython's parser, which runs first, rejects input
    nested too deeply for it (a `GL001`), before libcst could crash on it.

    ## Why it wastes energy
    Not an energy rule: it says which files were not checked, so that a clean run is not
    mistaken for a clean project. Generated data (a megabyte-long list on one line) and
    machine-made code that nests thousands of levels deep cost more memory and time to
    check than the check is worth.

    ## Example
    ```python
    WEIGHTS = [0.1, 0.2, 0.3, ...]  # 5 MB on one line
    ```

    ## Use instead
    Keep data in data files (`.npy`, `.json`), or exclude generated files
    (`extend-exclude`). The caps are options of this rule:
    `[tool.green-lint.rules.GL003] max-file-bytes = 2000000` and `max-line-bytes = 200000`.

    ## Fix safety
    No fix.

    ## Evidence
    Not an energy rule: it tells you which files were not checked.
    """

    code = "GL003"
    name = "file-not-checked"
    summary = "The file was not checked (size, a parser limit or a crash), with the reason"
    options = DEFAULT_CAPS
    # The engine reports files it could not check through the rule that declares this.
    reports_unchecked_files = True
