"""GL001 syntax-error."""

from green_lint.rule import Rule


class SyntaxErrorRule(Rule):
    """
    ## What it does
    Reports a file that cannot be parsed: a syntax error, bytes that are not valid in the
    file's encoding, NUL bytes (a binary file with a Python suffix), or a notebook that is
    not valid JSON.

    ## Why it wastes energy
    green-lint cannot check what it cannot parse, and neither can Python run it. The rest
    of the run goes on with the other files.

    ## Example
    ```python
    def train(:
        ...
    ```

    ## Use instead
    Fix the syntax error, or save the file as UTF-8 (or declare its encoding with a PEP 263
    `# -*- coding: latin-1 -*-` line).

    ## Fix safety
    No fix.

    ## Evidence
    Not an energy rule: it tells you which files were not checked.
    """

    code = "GL001"
    name = "syntax-error"
    summary = "The file cannot be parsed, so it was not checked"
    # The engine reports parse and decode failures through the rule that declares this.
    handles_parse_errors = True
