"""A temporary folder of the run's own: AutoGraph writes the code it generates
(`__autograph_generated_file*.py`) into the temporary folder and removes it only at a
normal exit, so a killed run left its files in TMPDIR for good. Each run now works in
`compare-run-<pid>-*` under TMPDIR, removed at exit; a run starting removes the folders
of runs whose process is gone. The folder is tried with a small write first: AutoGraph
that cannot write its file fails 70 lines deep, far from the cause.
"""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from compare.errors import CompareError, explained
from compare.language import _

PREFIX = "compare-run-"
PROBE_BYTES = 64 * 1024  # more than AutoGraph writes for one function
_folder = None  # this process's, once made


def owner_pid(folder):
    """The PID in compare-run-<pid>-..., or None."""
    pid = folder.name.removeprefix(PREFIX).split("-")[0]
    return int(pid) if pid.isdigit() else None


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's: alive, and not ours to sweep
        return True
    return True


def sweep(base):
    """Remove the run folders under `base` that are ours and whose run is gone."""
    try:
        folders = list(Path(base).glob(PREFIX + "*"))
    except OSError:
        return
    for folder in folders:
        pid = owner_pid(folder)
        try:
            ours = folder.lstat().st_uid == os.geteuid() and folder.is_dir()
        except OSError:
            continue
        if ours and not folder.is_symlink() and pid and not alive(pid):
            shutil.rmtree(folder, ignore_errors=True)


def cannot_write(base, error):
    return CompareError(
        _(
            "cannot write in the temporary folder {path} ({error}): TensorFlow's "
            "AutoGraph writes code there; free space in it or set TMPDIR to another "
            "folder"
        ).format(path=base, error=explained(error))
    )


def probe(folder):
    path = Path(folder) / "probe"
    with open(path, "wb") as file:
        file.write(b"\0" * PROBE_BYTES)
        file.flush()
        os.fsync(file.fileno())
    path.unlink()


def use_private_tempdir():
    """Make a folder of this run's own the temporary folder of the process and its
    children (TMPDIR), before TensorFlow reads it; removed at exit."""
    global _folder
    if _folder is not None:  # once per process (tests call main() many times)
        return _folder
    base = os.environ.get("TMPDIR") or "/tmp"
    try:
        base = tempfile.gettempdir()  # OSError where no folder is usable
        sweep(base)
        folder = tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=base)
    except OSError as error:
        raise cannot_write(base, error) from None
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    try:
        probe(folder)
    except OSError as error:
        raise cannot_write(base, error) from None
    os.environ["TMPDIR"] = folder
    tempfile.tempdir = _folder = folder
    return folder


def autograph_failed(error):
    """Whether `error` is TensorFlow's for a function AutoGraph could not convert: it
    then runs the function as written, and a Python `if` on a tensor fails."""
    return type(error).__name__ == "OperatorNotAllowedInGraphError"


def autograph_explained(error):
    first = (str(error).strip().splitlines() or [type(error).__name__])[0]
    return _(
        "TensorFlow's AutoGraph could not convert a function ({error}): it writes the "
        "code it makes in {path}, which may be full or past `ulimit -f`; free space in "
        "it or set TMPDIR to another folder"
    ).format(error=first, path=tempfile.gettempdir())
