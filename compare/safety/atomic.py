"""Writes that are complete or absent, and land where the checks saw them.

check_paths (compare/safety/paths.py) looks at every path before the run; a run lasts
minutes, and the path may be swapped meanwhile (a folder replaced by a symbolic link to
the dataset). So `remember` notes, for each output, its real folder and that folder's
identity (device, inode), and the identities of everything read. A write then goes:
open that folder, check it is the one seen, write a new file beside the target (never
following a link), flush it, check again that the target is not now an input, rename it
into place through the folder's descriptor, flush the folder. A crash at any moment
leaves the old file or the new one (the next write removes the dead writer's partial
file); a full disk leaves the old one and names the file.
"""

import contextlib
import ctypes
import os
import re
import stat
from pathlib import Path

from compare.errors import CompareError
from compare.language import _
from compare.safety.tempdir import alive

_outputs = {}  # absolute path as given -> (flag, real folder, name, folder identity)
_inputs = set()  # identities of what is read
_folders = {}  # absolute path of a folder written in -> (flag, its identity)


class PathChanged(CompareError):
    """An output's place changed between the checks and the write; nothing written."""


def identity(status):
    return (status.st_dev, status.st_ino)


def place_of(path):
    """(real folder, name) of `path`: a link to a file is followed, as the checks do."""
    real = Path(os.path.realpath(path))
    return real.parent, real.name


def remember(outputs, inputs):
    """Notes where each output (flag, path) goes and what each input (flag, path) is,
    as they are now (check_paths, just after its checks)."""
    _outputs.clear()
    _inputs.clear()
    _folders.clear()
    for flag, path in outputs:
        folder, name = place_of(path)
        with contextlib.suppress(OSError):  # a folder not made yet is seen when made
            _outputs[os.path.abspath(path)] = (flag, folder, name, seen(folder))
        if os.path.isdir(path):
            remember_folder(path, flag)
    for _flag, path in inputs:
        with contextlib.suppress(OSError):
            _inputs.add(identity(os.stat(path)))


def remember_folder(path, flag):
    """Notes the folder `path` (an --export folder), which outputs go into."""
    _folders[os.path.abspath(path)] = (flag, seen(path))


def seen(folder):
    return identity(os.stat(folder))


def target_of(path, flag):
    """(flag, real folder, name, identity the folder must have) of an output."""
    recorded = _outputs.get(os.path.abspath(path))
    if recorded:
        return recorded
    folder, name = place_of(path)
    flag, expected = _folders.get(os.path.dirname(os.path.abspath(path)), (flag, None))
    return (flag, folder, name, expected)


def open_folder(path, flag, folder, expected):
    """A descriptor on `folder`, refused in one line if it is no longer the folder the
    checks saw (or now the folder of an input)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as error:
        raise OSError(error.errno, error.strerror, str(path)) from None
    now = identity(os.fstat(descriptor))
    if (expected is not None and now != expected) or now in _inputs:
        os.close(descriptor)
        raise changed(flag, path)
    return descriptor


def changed(flag, path):
    return PathChanged(
        _(
            "{flag} {path}: its place changed during the run (a folder or link "
            "replaced); nothing was written there"
        )
        .format(flag=flag or "", path=path)
        .strip()
    )


def check_target(descriptor, name, flag, path):
    """Just before the rename: the name is not now a link, a folder, or an input."""
    try:
        status = os.stat(name, dir_fd=descriptor, follow_symlinks=False)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(status.st_mode) or identity(status) in _inputs:
        raise changed(flag, path)
    return status


def write_all(descriptor, data):
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view) :]


def replace(path, data, flag=None):
    """Replaces (or creates) the file `path` by `data` (bytes or str, UTF-8), as the
    module's docstring says. `flag` names the option in errors (--report)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    flag, folder, name, expected = target_of(path, flag)
    descriptor = open_folder(path, flag, folder, expected)
    temporary = f".{name}.{os.getpid()}.partial"
    try:
        remove_stale_partials(name, descriptor)
        try:
            output = os.open(
                temporary,
                os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                0o666,
                dir_fd=descriptor,
            )
            try:
                write_all(output, data)
                old = check_target(descriptor, name, flag, path)
                if old is not None:  # the file keeps its permissions
                    os.fchmod(output, stat.S_IMODE(old.st_mode))
                os.fsync(output)
            finally:
                os.close(output)
            check_target(descriptor, name, flag, path)
            os.rename(temporary, name, src_dir_fd=descriptor, dst_dir_fd=descriptor)
        except BaseException as error:
            give_up(error, temporary, descriptor, path)
            raise
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def remove_stale_partials(name, descriptor):
    """Removes the `.NAME.PID.partial` files of writers killed mid-write (kill -9, power
    cut) whose process is gone, and this process's own."""
    pattern = re.compile(rf"\.{re.escape(name)}\.(\d+)\.partial")
    for entry in os.listdir(descriptor):
        found = pattern.fullmatch(entry)
        writer = int(found.group(1)) if found else None
        if found and (writer == os.getpid() or not alive(writer)):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry, dir_fd=descriptor)


# Creating a file or folder that must not exist yet ---------------------------------------
def rename_no_replace(source, target, descriptor):
    """Renames `source` to `target` in the folder `descriptor`, failing with
    FileExistsError where `target` exists (Linux's renameat2 RENAME_NOREPLACE; elsewhere
    a check just before, the target being locked by locks.py)."""
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is not None:
        result = renameat2(
            descriptor, os.fsencode(source), descriptor, os.fsencode(target), 1
        )
        if result == 0:
            return
        number = ctypes.get_errno()
        if number not in (22, 38):  # EINVAL, ENOSYS: the file system cannot; below
            raise OSError(number, os.strerror(number), target)
    with contextlib.suppress(FileNotFoundError):
        os.stat(target, dir_fd=descriptor, follow_symlinks=False)
        raise FileExistsError(17, os.strerror(17), target)
    os.rename(source, target, src_dir_fd=descriptor, dst_dir_fd=descriptor)


def give_up(error, temporary, descriptor, path):
    """Removes a failed write's temporary; an OSError that names no file is raised again
    naming `path`, so its one line says which output failed."""
    with contextlib.suppress(OSError):
        remove(temporary, descriptor)
    if isinstance(error, OSError) and not error.filename:
        raise OSError(error.errno, error.strerror, str(path)) from None


def remove(name, descriptor):
    """Removes the file or folder `name` in `descriptor`, never following a link."""
    try:
        status = os.stat(name, dir_fd=descriptor, follow_symlinks=False)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(status.st_mode):
        os.unlink(name, dir_fd=descriptor)
        return
    inner = os.open(
        name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=descriptor
    )
    try:
        for entry in os.listdir(inner):
            remove(entry, inner)
    finally:
        os.close(inner)
    os.rmdir(name, dir_fd=descriptor)


def flush_tree(path):
    """fsync of every file and folder under `path` (a saver's output), then of it."""
    if path.is_dir() and not path.is_symlink():
        for entry in path.iterdir():
            flush_tree(entry)
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def create(path, write, flag=None, exists=None):
    """Makes the new file or folder `path` with `write(temporary path)` (a saver that
    wants a path: Keras, a SavedModel), beside it, then renames it into place without
    replacing anything: where `path` exists by then, raises `exists(path)` (a
    one-line error) and leaves it as it was."""
    flag, folder, name, expected = target_of(path, flag)
    descriptor = open_folder(path, flag, folder, expected)
    suffix = Path(name).suffix  # Keras wants its .keras
    temporary = f".{name}.{os.getpid()}.partial{suffix}"
    try:
        remove(temporary, descriptor)
        try:
            write(folder / temporary)
            flush_tree(folder / temporary)
            if identity(os.stat(folder)) != identity(os.fstat(descriptor)):
                raise changed(flag, path)
            check_target(descriptor, name, flag, path)
            rename_no_replace(temporary, name, descriptor)
        except FileExistsError:
            remove(temporary, descriptor)
            raise (exists or FileExistsError)(path) from None
        except BaseException as error:
            give_up(error, temporary, descriptor, path)
            raise
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    return path
