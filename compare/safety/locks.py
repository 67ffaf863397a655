"""One run at a time on a folder or a target: a lock file, held for the whole command.

`hold` takes an exclusive flock(2) on a lock file, which records who holds it (PID,
host, since when); a second run is refused in one line naming that holder. The system
drops the lock when its holder dies, however it dies (kill -9 included), so a stale lock
file never blocks. The lock file is removed when released: whoever opened it meanwhile
sees, once locked, that its file is no longer the one at that name, and tries again.
"""

import contextlib
import datetime
import fcntl
import json
import os
import socket

from compare.errors import CompareError
from compare.language import _

LOCK_FILE = ".compare.lock"  # inside a folder the run writes (a checkpoint folder)
_held = {}  # real path of the lock file -> its descriptor
_made = []  # folders made to hold locks, outermost first: removed at the end if empty


class InUse(CompareError):
    """Another run holds the lock; nothing was changed."""


def holder_of(descriptor):
    """The holder recorded in a lock file, in words."""
    try:
        recorded = json.loads(os.pread(descriptor, 4096, 0) or b"{}")
        return _("PID {pid} on {host}, since {since}").format(
            pid=int(recorded["pid"]),
            host=str(recorded["host"])[:100],
            since=str(recorded["since"])[:40],
        )
    except (ValueError, KeyError, TypeError, OSError):
        return _("a process that has not yet said who it is")


def hold(lock_path, flag, path):
    """Takes the lock `lock_path` for the rest of this command (`release_all` frees it);
    raises InUse, naming `flag` `path` and the holder, where another run has it. Taking
    a lock this process already holds is a no-op."""
    key = os.path.realpath(lock_path)
    if key in _held:
        return
    while True:
        descriptor = os.open(
            key, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644
        )
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = holder_of(descriptor)
            os.close(descriptor)
            raise InUse(
                _(
                    "{flag} {path} is in use by another run ({holder}); wait for it "
                    "to end, or name another path"
                ).format(flag=flag, path=path, holder=holder)
            ) from None
        try:  # the holder before may have removed the file as it released it
            same = os.path.samestat(
                os.stat(key, follow_symlinks=False), os.fstat(descriptor)
            )
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(descriptor)
    record = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
    }
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, json.dumps(record).encode(), 0)
    _held[key] = descriptor


def release(lock_path):
    descriptor = _held.pop(os.path.realpath(lock_path), None)
    if descriptor is None:
        return
    with contextlib.suppress(OSError):
        os.unlink(os.path.realpath(lock_path))  # while still locked: see the docstring
    os.close(descriptor)


def release_all():
    """Frees every lock this process took (the command has ended), and removes the
    folders made for them that are still empty (a run that failed before writing)."""
    for key in list(_held):
        release(key)
    while _made:
        with contextlib.suppress(OSError):  # not empty: the run wrote there
            os.rmdir(_made.pop())


def make_folder(folder):
    """Makes `folder` and any missing parent, to hold a lock; each one made is removed
    by release_all where the run left it empty, so a run that stops early leaves no
    trace."""
    missing = []
    for candidate in (folder, *folder.parents):
        if candidate.exists() or candidate.is_symlink():
            break
        missing.append(candidate)
    folder.mkdir(parents=True, exist_ok=True)
    _made.extend(reversed(missing))


def beside(path):
    """The lock file of a file or folder to be made at `path`: `.NAME.lock` beside it."""
    return path.with_name(f".{path.name}.lock")
