"""Errors the command line reports as one line on stderr with exit code 2."""


class UsageProblem(Exception):
    """A usage or configuration error: a path that does not exist, a bad option or key."""
