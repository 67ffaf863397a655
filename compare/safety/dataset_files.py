"""Reading dataset files that may be hostile: idx files (gzipped or not) and .npz
archives, each header checked against the file's size before anything is allocated, no
array past MAX_ARRAY_BYTES, no pickle, no FIFO or device. Anything wrong is a DataError
with a one-line explanation; compare/data.py makes datasets of what they read.
"""

import gzip
import math
import os
import stat
import tokenize
import zipfile
import zlib

import numpy as np

from compare.errors import DataError
from compare.language import N_, _, number

# The most bytes one array may take as read: a million 28x28 uint8 images are 784 MB (EMNIST's
# largest split has 698,000); beyond it a header is lying, or --train-samples reads fewer.
MAX_ARRAY_BYTES = 2**30
FEWER = N_("; --train-samples and --test-samples read fewer images")


def open_regular(path):
    """`path` opened for reading if it is a regular file: a FIFO would block, /dev/zero never
    end. O_NONBLOCK lets a FIFO open at once, so that fstat can refuse it."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise DataError(
            _(
                "{path}: not a regular file (a folder, FIFO, device or socket); "
                "data is read from regular files only"
            ).format(path=path)
        )
    return os.fdopen(descriptor, "rb")


def check_size(where, size, hint):
    """Refuse, before allocating, an array of more than MAX_ARRAY_BYTES; with `hint`, say
    that --train-samples and --test-samples read fewer."""
    if size > MAX_ARRAY_BYTES:
        raise DataError(
            _(
                "{where} holds {size} bytes, more than the {limit} one array may take"
            ).format(where=where, size=number(size), limit=number(MAX_ARRAY_BYTES))
            + (_(FEWER) if hint else "")
        )


def read_idx(path):
    """One idx file (gzipped or not) as a uint8 array, its header checked against its size."""
    return read_idx_rows(path)[0]


def read_idx_rows(path, rows=None):
    """One idx file (gzipped or not): (a uint8 array of its first `rows` items, None: all;
    the count its header declares), the header checked against the file's size, and the
    size against MAX_ARRAY_BYTES, before anything is allocated."""
    with open_regular(path) as file:
        gzipped = file.read(2) == b"\x1f\x8b"
        file.seek(0)
        try:
            if gzipped:
                with gzip.GzipFile(fileobj=file) as stream:
                    return read_idx_stream(path, stream, None, rows)
            return read_idx_stream(path, file, os.fstat(file.fileno()).st_size, rows)
        except (OSError, EOFError, zlib.error) as error:
            if not gzipped:
                raise
            raise DataError(
                _("{path}: corrupt gzip file ({error})").format(path=path, error=error)
            ) from None


def read_idx_stream(path, stream, file_size, rows):
    """read_idx on an open stream; `file_size` is None for a gzip stream, whose size is
    known only by reading it: then never more than the header declares (and one byte) is
    read."""
    magic = stream.read(4)
    if len(magic) < 4 or magic[:3] != b"\x00\x00\x08":
        if not magic:
            raise DataError(
                _(
                    "{path}: not an idx file of unsigned bytes (magic number missing)"
                ).format(path=path)
            )
        raise DataError(
            _(
                "{path}: not an idx file of unsigned bytes (magic number {magic})"
            ).format(path=path, magic=magic.hex())
        )
    ndim = magic[3]
    dims = stream.read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise DataError(_("{path}: truncated idx header").format(path=path))
    shape = tuple(
        int.from_bytes(dims[i : i + 4], "big") for i in range(0, len(dims), 4)
    )
    expected = math.prod(shape)  # exact: np.prod wraps around int64 for huge headers
    if file_size is not None and file_size - len(magic) - len(dims) != expected:
        found = file_size - len(magic) - len(dims)
        raise DataError(lying_header(path, shape, expected, found))
    kept_shape = shape
    if shape and rows is not None:
        kept_shape = (min(rows, shape[0]), *shape[1:])
    size = math.prod(kept_shape)
    check_size(path, size, hint=True)
    body = stream.read(size)
    if len(body) < size:
        raise DataError(lying_header(path, shape, expected, len(body)))
    if file_size is None and size == expected and stream.read(1):  # a gzip inflating on
        raise DataError(
            _(
                "{path}: header says shape {shape} ({expected} bytes) but the file "
                "holds more (corrupt)"
            ).format(path=path, shape=shape, expected=number(expected))
        )
    array = np.frombuffer(body, dtype=np.uint8).reshape(kept_shape)
    return array, shape[0] if shape else None


def lying_header(path, shape, expected, found):
    return _(
        "{path}: header says shape {shape} ({expected} bytes) "
        "but the file holds {found} bytes (truncated or corrupt)"
    ).format(path=path, shape=shape, expected=number(expected), found=number(found))


# What reading a hostile archive raises, besides the OSError/ValueError family: NotImplementedError
# (an unknown compression method), RuntimeError (an encrypted member), SyntaxError and
# tokenize.TokenError (a mangled .npy header).
NPZ_READ_ERRORS = (
    OSError,
    ValueError,
    EOFError,
    zlib.error,
    zipfile.BadZipFile,
    NotImplementedError,
    RuntimeError,
    SyntaxError,
    tokenize.TokenError,
)
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # what np.load takes for a zip
NPY_HEADERS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}


def read_npz_arrays(path, choose_keys):
    """The arrays of an .npz that `choose_keys(names in the archive)` picks (it raises DataError
    when the ones it needs are missing); see read_npz_members."""
    members = read_npz_members(path, choose_keys)
    return {key: array for key, (array, _count) in members.items()}


def read_npz_members(path, choose_keys, rows=None):
    """The arrays `choose_keys` picks, each as (its first `rows[key]` rows where `rows` says
    so, the rows it declares). Each member's .npy header is checked against the member's size
    before anything is allocated; pickles are refused; anything unreadable is a DataError."""
    with open_regular(path) as file:
        start = file.read(6)
        file.seek(0)
        if start == np.lib.format.MAGIC_PREFIX:  # a lone .npy array
            raise DataError(
                _("{path}: holds a single array, not an .npz archive").format(path=path)
            )
        if start[:4] not in ZIP_MAGIC:
            raise DataError(not_npz(path, _("not a zip archive")))
        try:
            with zipfile.ZipFile(file) as archive:
                members = {info.filename: info for info in archive.infolist()}
                # numpy finds x_train as x_train.npy too
                for name, info in list(members.items()):
                    members.setdefault(name.removesuffix(".npy"), info)
                names = list(
                    dict.fromkeys(name.removesuffix(".npy") for name in members)
                )
                return {
                    key: read_npy_member(
                        path,
                        key,
                        archive.open(members[key]),
                        members[key].file_size,
                        rows,
                    )
                    for key in choose_keys(names)
                }
        except NPZ_READ_ERRORS as error:
            file.seek(0)
            # numpy would call junk "pickled data"
            detail = error if zipfile.is_zipfile(file) else _("not a zip archive")
            raise DataError(not_npz(path, detail)) from None


def not_npz(path, detail):
    return _("{path}: not a readable .npz file ({error})").format(
        path=path, error=detail
    )


def read_npy_member(path, key, member, member_size, rows):
    """One .npy member of an archive, open as `member`: (its first `rows[key]` rows where
    `rows` says so, the rows it declares)."""
    wanted = (rows or {}).get(key)
    with member:
        if member.read(6) != np.lib.format.MAGIC_PREFIX:
            raise DataError(
                _("{path}: {key} is not a NumPy array (no .npy header)").format(
                    path=path, key=key
                )
            )
        version = tuple(member.read(2))
        if version not in NPY_HEADERS:
            raise ValueError(f"unsupported .npy format version {version}")
        shape, fortran_order, dtype = NPY_HEADERS[version](member)
        if dtype.hasobject:  # np.load's words, for a pickle
            raise ValueError("Object arrays cannot be loaded when allow_pickle=False")
        if any(size < 0 for size in shape):
            raise ValueError(f"negative dimensions in shape {shape}")
        expected = math.prod(shape) * dtype.itemsize  # exact, however large
        found = member_size - member.tell()
        if found != expected:
            raise DataError(
                _(
                    "{path}: {key} declares shape {shape} ({expected} bytes) but holds "
                    "{found} bytes (truncated or corrupt)"
                ).format(
                    path=path,
                    key=key,
                    shape=shape,
                    expected=number(expected),
                    found=number(found),
                )
            )
        kept = shape
        if shape and wanted is not None and not fortran_order:  # the first rows lead
            kept = (min(wanted, shape[0]), *shape[1:])
        size = math.prod(kept) * dtype.itemsize
        check_size(f"{path}: {key}", size, hint=rows is not None)
        body = member.read(size)
        if len(body) < size:
            raise EOFError(f"{key} ends after {len(body)} of {size} bytes")
        if kept == shape:
            member.read()  # to the end, where zipfile checks the CRC
    order = "F" if fortran_order else "C"
    array = np.frombuffer(body, dtype=dtype).reshape(kept, order=order)
    if not shape:
        return array, None
    return array[:wanted], shape[0]
