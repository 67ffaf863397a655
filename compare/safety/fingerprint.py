"""What a run was trained on, in a few bytes: the files the dataset was read from and
a SHA-256 of the arrays loaded, so that `--resume` can refuse other data of the same
name and size (a --data-dir with other images)."""

import hashlib
import os


def fingerprint(arrays, files):
    """{"files": the real paths of `files`, "sha256": of `arrays` (shape, type and
    bytes of each: objects with .shape, .dtype and the buffer protocol, C-ordered)}."""
    hasher = hashlib.sha256()
    for array in arrays:
        hasher.update(f"{tuple(array.shape)} {array.dtype}\n".encode())
        hasher.update(memoryview(array).cast("B"))
    return {
        "files": sorted(os.path.realpath(path) for path in files),
        "sha256": hasher.hexdigest(),
    }
