"""Files that are complete or absent, never half-written, and the one-line errors of
checkpoint saving and checking: the helpers behind keras_saves.py, raw_saves.py and
checkpointing.py.

A write that must survive a crash (kill -9, a second Ctrl-C, a full disk, a power cut)
goes write, fsync, rename: the new bytes are on the disk before their name replaces the
old one, and a rename is atomic, so the name holds the old bytes or all the new ones.
"""

import hashlib
import os

from compare.errors import CompareError, explained
from compare.language import N_, _, number
from compare.safety import atomic

# TensorFlow's words for a write that failed, beside compare.errors.SYSTEM_ERRORS.
WRITE_ERRORS = (N_("File too large"),)


class CheckpointDamaged(CompareError):
    """A checkpoint file that a resume cannot trust; nothing was changed."""


class SaveFailed(CompareError):
    """A save could not be written (a full disk, say); the previous save is intact."""


def damaged(path, why):
    """`why` already in the user's language: "it is missing"."""
    return CheckpointDamaged(
        _("--resume: {path} is damaged: {why}; nothing was changed").format(
            path=path, why=why
        )
    )


def save_failed(style, epoch, folder, reason, last_saved):
    """`reason` an OSError or a line already in the user's language."""
    if isinstance(reason, OSError):
        reason = explained(reason)
    kept = (
        _("the save of epoch {epoch} there is intact").format(epoch=number(last_saved))
        if last_saved
        else _("nothing had been saved there yet")
    )
    return SaveFailed(
        _("{style} could not save epoch {epoch} in {folder} ({reason}); {kept}").format(
            style=style,
            epoch=number(epoch),
            folder=folder,
            reason=reason,
            kept=kept,
        )
    )


def fsync_path(path):
    """Flushes a file, or a folder's list of names, to the disk."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_durably(path, data):
    """Writes `data` (bytes) to a new file `path` and flushes it to the disk."""
    with open(path, "xb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())


def write_atomically(path, data):
    """Replaces `path` by `data` (bytes): write beside it, fsync, rename
    (compare/safety/atomic.py). A crash at any moment leaves the old file or the new
    one; a full disk raises OSError and leaves the old one."""
    atomic.replace(path, data)


def digest(path):
    """(size in bytes, SHA-256 in hex) of a file."""
    hasher, size = hashlib.sha256(), 0
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            hasher.update(chunk)
            size += len(chunk)
    return size, hasher.hexdigest()
