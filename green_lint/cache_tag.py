"""The part of the GitHub Action's cache key that tells apart the legs of a job matrix.

action.yml runs this file by its path in the action's own folder, with the Python that has
green-lint, in isolated mode: it imports nothing from green-lint, so it works whatever
version the `version` input installed (an older `green_lint.action` would take any
argument for a lint run). Standard library only.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shlex
import sys
from collections.abc import Mapping
from importlib import metadata


def cache_tag(env: Mapping[str, str]) -> str:
    """The Python and green-lint versions and a digest of the paths and args inputs: legs
    that differ in these lint differently and save caches of their own (with one key for
    all, the first leg to finish would save and the others could not: a key is never
    overwritten)."""
    inputs: list = [env.get("INPUT_PATHS", ""), env.get("INPUT_ARGS", "")]
    # The same words, however spaced; an input that does not split is reported by the run,
    # and its raw text still tells the legs apart.
    with contextlib.suppress(ValueError):
        inputs = [shlex.split(value) for value in inputs]
    digest = hashlib.blake2b(json.dumps(inputs).encode(), digest_size=4).hexdigest()
    try:
        version = metadata.version("green-lint")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return f"py{sys.version_info[0]}.{sys.version_info[1]}-{version}-{digest}"


if __name__ == "__main__":
    # No line break: on Windows it would end in a carriage return that the shell's `$(...)`
    # keeps, and the key with it.
    sys.stdout.write(cache_tag(os.environ))
