"""`verify --against REF`: the script as it was at a git revision, unpacked in the scratch
folder with the files of that revision (`git archive`: nothing is written in the user's
repository, not even a worktree's bookkeeping)."""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

from green_lint.errors import UsageProblem


def at_revision(script: Path, ref: str, scratch: Path) -> Path:
    """The path, under `scratch`, of `script` as it was at `ref`; raises UsageProblem."""
    script = script.resolve()
    found = _git(["rev-parse", "--show-toplevel"], script.parent)
    if found.returncode != 0:
        raise UsageProblem(f"--against needs a git repository: {script} is not in one")
    top = Path(found.stdout.decode().strip())
    relative = script.relative_to(top.resolve())
    dest = scratch / "against"
    dest.mkdir(parents=True, exist_ok=True)
    with subprocess.Popen(
        ["git", "-C", str(top), "archive", "--format=tar", ref],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    ) as archive:
        try:
            with tarfile.open(fileobj=archive.stdout, mode="r|") as members:
                _extract(members, dest)
        except tarfile.TarError:
            pass  # git failed: its message below says why
        problem = archive.stderr.read().decode(errors="replace").strip() if archive.stderr else ""
        status = archive.wait()
    if status != 0:
        last = problem.splitlines()[-1] if problem else f"git archive exited with status {status}"
        raise UsageProblem(f"--against {ref!r}: {last}")
    before = dest / relative
    if not before.is_file():
        raise UsageProblem(f"--against {ref!r}: {relative.as_posix()} does not exist at that revision")
    return before


def _extract(members: tarfile.TarFile, dest: Path) -> None:
    if hasattr(tarfile, "data_filter"):  # Python 3.12, and 3.10.12+/3.11.4+
        members.extractall(dest, filter="data")
    else:
        members.extractall(dest)


def _git(arguments: list[str], folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", "-C", str(folder), *arguments], capture_output=True, stdin=subprocess.DEVNULL, check=False
    )
