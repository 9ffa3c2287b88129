"""GL002 unused-noqa."""

from green_lint.rule import Rule


class UnusedNoqa(Rule):
    """
    ## What it does
    Reports a `# noqa: GLxxx` comment whose green-lint code no longer fires on that line
    (the code was fixed, or the finding moved). Other tools' codes in the same comment
    (`E501`, `F401`, ...) are left alone.

    ## Why it wastes energy
    A stale suppression hides the next real finding on that line: the energy waste it was
    written for may come back unnoticed.

    ## Example
    ```python
    search = HalvingGridSearchCV(SVC(), grid)  # noqa: GL103, E501
    ```

    ## Use instead
    ```python
    search = HalvingGridSearchCV(SVC(), grid)  # noqa: E501
    ```

    ## Fix safety
    Safe: the fix removes only the unused green-lint codes, and the comment when nothing
    is left in it.

    ## Evidence
    Suppression hygiene, as ruff's `RUF100`. Off by default: select `GL002` to use it.
    """

    code = "GL002"
    name = "unused-noqa"
    summary = "A `# noqa` comment lists a green-lint code that no longer fires on its line"
    fix_safety = "safe"
    default_enabled = False
    # The engine reports unused suppressions through the rule that declares this.
    reports_unused_suppressions = True
