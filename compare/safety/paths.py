"""What a command reads and writes, checked before any work: every output can be written,
and no output is an input or another output, as the system sees them (symlinks and hard
links count, and so does an output inside a folder that is read or written).

Each command module declares, as names of its parsed arguments: INPUTS (read), OUTPUTS
(files written, overwriting) and CREATES (folders or models made anew, never overwriting:
their own code refuses an existing one)."""

import itertools
import os
from pathlib import Path

from compare.errors import CompareError
from compare.language import _
from compare.safety import atomic


def check_writable(path, flag):
    """Fail before training, not after, if an output file cannot be written."""
    if path.is_dir():
        raise OSError(
            _("{flag} {path} is a folder, not a file").format(flag=flag, path=path)
        )
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        message = (
            _("{flag} {path}: {folder} is a file, not a folder")
            if folder.exists()
            else _("{flag} {path}: folder {folder} does not exist")
        )
        raise OSError(message.format(flag=flag, path=path, folder=folder))
    if not os.access(path if path.exists() else folder, os.W_OK):
        raise OSError(_("{flag} {path}: not writable").format(flag=flag, path=path))


def check_creatable(path, flag):
    """A new folder or model can be made at `path`: its nearest existing ancestor is a
    writable folder (an existing `path` is its owner's to refuse or reuse)."""
    if path.exists() or path.is_symlink():
        return
    ancestor = next(parent for parent in path.absolute().parents if parent.exists())
    if not ancestor.is_dir():
        raise OSError(
            _("{flag} {path}: {folder} is a file, not a folder").format(
                flag=flag, path=path, folder=ancestor
            )
        )
    if not os.access(ancestor, os.W_OK):
        raise OSError(_("{flag} {path}: not writable").format(flag=flag, path=path))


def given(args, names, flags):
    """(flag, path) for each of the arguments `names` the user gave; a list gives each
    path, a str one only where it names a file (transfer's --weights may be a keyword)."""
    pairs = []
    for name in names:
        value = getattr(args, name, None)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, Path) or (
                isinstance(item, str) and Path(item).is_file()
            ):
                pairs.append((flags[name], Path(item)))
    return pairs


def inputs_of(args, names, flags, dataset_files):
    """(flag, path) of everything read: the dataset's files where --data-dir is an input
    (`dataset_files(name, data_dir)`: compare.data.files_read)."""
    pairs = given(args, [name for name in names if name != "data_dir"], flags)
    if "data_dir" in names and getattr(args, "dataset", None):
        flag = "--data-dir" if args.data_dir else f"--dataset {args.dataset}"
        pairs += [(flag, path) for path in dataset_files(args.dataset, args.data_dir)]
    return pairs


def real(path):
    return Path(os.path.realpath(path))


def same(first, second):
    if first.exists() and second.exists():
        return os.path.samefile(first, second)
    return real(first) == real(second)


def inside(path, folder):
    """Whether `path` is (or would be) under `folder`, an existing folder or a new one."""
    return real(path) != real(folder) and real(path).is_relative_to(real(folder))


def hard_link_inside(path, folder, most=10_000):
    """The file of `folder` that `path`, an existing file with other hard links, is; None
    if none is (the first `most` entries are looked at: a model folder holds a few)."""
    if not path.is_file() or path.stat().st_nlink < 2:
        return None
    entries = itertools.islice(folder.rglob("*"), most)
    return next(
        (entry for entry in entries if entry.is_file() and same(path, entry)), None
    )


def check_apart(outputs, created, inputs):
    """No output (a file written, or a folder or model created) is the same as an input or
    another output, nor inside a folder read or created."""
    writes = [*outputs, *created]
    for index, (flag, path) in enumerate(writes):
        for other_flag, other in inputs:
            if other.is_dir() and hard_link_inside(path, other):
                other = hard_link_inside(path, other)
            if same(path, other):
                message = _(
                    "{flag} {path} is the same file as {other_flag} {other}: the "
                    "output would overwrite what is read"
                )
            elif other.is_dir() and inside(path, other):
                message = _(
                    "{flag} {path} lies inside {other_flag} {other}, which is read: "
                    "outputs go elsewhere"
                )
            else:
                continue
            raise CompareError(
                message.format(flag=flag, path=path, other_flag=other_flag, other=other)
            )
        for other_flag, other in writes[index + 1 :]:
            if same(path, other):
                message = _(
                    "{flag} {path} and {other_flag} {other} are the same file: one "
                    "output would overwrite the other"
                )
            elif inside(path, other) or inside(other, path):
                message = _(
                    "{flag} {path} and {other_flag} {other} lie one inside the other: "
                    "each output needs its own place"
                )
            else:
                continue
            raise CompareError(
                message.format(flag=flag, path=path, other_flag=other_flag, other=other)
            )


def check_paths(args, module, flags, dataset_files):
    """The checks above for the command `module`, whose parser's flags are `flags`
    (argument name -> flag); `dataset_files(name, data_dir)` lists the files a dataset
    is read from."""
    outputs = given(args, module.OUTPUTS, flags)
    created = given(args, getattr(module, "CREATES", ()), flags)
    for flag, path in outputs:
        check_writable(path, flag)
    for flag, path in created:
        check_creatable(path, flag)
    inputs = inputs_of(args, module.INPUTS, flags, dataset_files)
    check_apart(outputs, created, inputs)
    atomic.remember([*outputs, *created], inputs)  # what each write will check again


def check_empty_folder(path, flag):
    """A folder the command fills (TensorBoard's curves): new, or an empty folder it may
    write in, so that no run's files mix with an earlier one's."""
    if path is None or not (path.exists() or path.is_symlink()):
        return
    if not path.is_dir() or any(path.iterdir()):
        raise CompareError(
            _(
                "{flag} {path} is not an empty folder: name a new or empty folder"
            ).format(flag=flag, path=path)
        )
    if not os.access(path, os.W_OK | os.X_OK):
        raise OSError(_("{flag} {path}: not writable").format(flag=flag, path=path))


def check_new_folder(path, flag):
    """A folder the command makes anew (a profiler's traces): it must not exist yet."""
    if path is not None and (path.exists() or path.is_symlink()):
        raise CompareError(
            _("{flag} {path} exists: name a new folder").format(flag=flag, path=path)
        )
