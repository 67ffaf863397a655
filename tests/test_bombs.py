"""Memory bombs: dataset files that declare or inflate to gigabytes, built in a second or
two (a sparse file, a deflate stream of zeros repeated), read by `python -m compare` in a
subprocess under an address-space limit (RLIMIT_AS), so that a loader that allocates what
a header says fails here instead of swapping. Each ends in one error line or, with
--train-samples, the correct result, and each child's peak memory is bounded.

The limits stand well above what a normal run needs (here ~2.0 GiB of address space for
a one-epoch TensorFlow run, ~0.15 GiB for a command that stops at the data) and well
below what the bombs would take if read whole (2.2 to 40 GiB)."""

import gzip
import io
import json
import os
import re
import resource
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from helpers import ROOT, fake_arrays, idx_bytes, write_idx_folder

from compare.data import IDX_NAMES
from compare.safety.dataset_files import MAX_ARRAY_BYTES

pytestmark = pytest.mark.slow  # subprocesses

GIB = 2**30
DATA_LIMIT, TENSORFLOW_LIMIT = 2 * GIB, 8 * GIB  # address space of the children
DATA_PEAK, TENSORFLOW_PEAK = GIB // 2, 2 * GIB  # the most resident memory each may take
ROW = 28 * 28
BOMB_IMAGES = 3_000_000  # 2.2 GiB of uint8 images, 8.8 GiB as float32
SPARSE_IMAGES = 51_000_000  # 40 GB
CHUNK = 1000 * ROW  # bytes of zeros per deflate block: 1000 images


# Building the bombs ------------------------------------------------------------
def npy_header(shape, dtype="|u1"):
    buffer = io.BytesIO()
    header = {"descr": dtype, "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue()


def idx_header(shape):
    return bytes([0, 0, 8, len(shape)]) + b"".join(
        size.to_bytes(4, "big") for size in shape
    )


def deflated_zeros(head, chunk):
    """(start, block, end) of a raw deflate stream: `head`, then any number of blocks of
    `chunk` zero bytes, compressed once and repeated (a full flush makes each block stand
    alone), then the end."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = compressor.compress(head) + compressor.flush(zlib.Z_FULL_FLUSH)
    zeros = bytes(chunk)
    block = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH) == block
    return start, block, compressor.flush()


def crc_of_zeros(head, chunk, repeat):
    crc, zeros = zlib.crc32(head), bytes(chunk)
    for _ in range(repeat):
        crc = zlib.crc32(zeros, crc)
    return crc


def write_zip(path, members):
    """A zip written by hand, so that a member can be a deflate stream of gigabytes of
    zeros made from one repeated block: {name: bytes (stored) or (head, chunk, repeat)
    (head, then repeat * chunk zero bytes, deflated)}. Valid throughout: CRCs and sizes
    are right, and numpy loads it whole where memory allows."""
    central = b""
    with open(path, "wb") as file:
        for name, content in members.items():
            offset, encoded = file.tell(), name.encode()
            if isinstance(content, bytes):
                method, size, crc = 0, len(content), zlib.crc32(content)
                parts, repeat = (content, b"", b""), 0
            else:
                head, chunk, repeat = content
                method, size = 8, len(head) + repeat * chunk
                crc, parts = crc_of_zeros(*content), deflated_zeros(head, chunk)
            compressed = len(parts[0]) + repeat * len(parts[1]) + len(parts[2])
            fields = (20, 0, method, 0, 0, crc, compressed, size, len(encoded), 0)
            file.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", *fields) + encoded)
            file.write(parts[0])
            for _ in range(repeat):
                file.write(parts[1])
            file.write(parts[2])
            central += struct.pack(
                "<4s6H3L5H2L", b"PK\x01\x02", 20, *fields, 0, 0, 0, 0, offset
            )
            central += encoded
        start = file.tell()
        file.write(central)
        count = len(members)
        file.write(
            struct.pack(
                "<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(central), start, 0
            )
        )
    return path


def npy(array):
    return npy_header(array.shape, array.dtype.str) + array.tobytes()


def npz_declaring_millions(tmp_path):
    """mnist.npz whose train split holds 3,000,000 blank images (a 2.2 GiB member, 2 MB
    deflated) with their labels, and a real test split of 128."""
    test = fake_arrays(train=1, test=128)
    return write_zip(
        tmp_path / "mnist.npz",
        {
            "x_train.npy": (
                npy_header((BOMB_IMAGES, 28, 28)),
                CHUNK,
                BOMB_IMAGES // 1000,
            ),
            "y_train.npy": (npy_header((BOMB_IMAGES,)), BOMB_IMAGES, 1),
            "x_test.npy": npy(test["x_test"]),
            "y_test.npy": npy(test["y_test"]),
        },
    )


def sparse_idx_folder(tmp_path):
    """mnist/ whose train images are a 40 GB sparse idx file (and their labels 51 MB),
    consistent with its header; the test split is real."""
    folder = write_idx_folder(
        tmp_path / "mnist", fake_arrays(train=1, test=128), gz=False
    )
    for split, shape in (
        ("x_train", (SPARSE_IMAGES, 28, 28)),
        ("y_train", (SPARSE_IMAGES,)),
    ):
        header = idx_header(shape)
        path = folder / IDX_NAMES[split]
        path.write_bytes(header)
        os.truncate(path, len(header) + int(np.prod(shape)))
    return tmp_path


def gzip_inflating_to_16_gib(tmp_path):
    """mnist/ whose train images are a 16 MB .gz with a header of 60,000 images (47 MB) and
    a stream of 16 GiB."""
    folder = write_idx_folder(tmp_path / "mnist", fake_arrays(train=1, test=128))
    labels = idx_bytes(np.arange(60_000) % 10)
    (folder / (IDX_NAMES["y_train"] + ".gz")).write_bytes(gzip.compress(labels))
    start, block, end = deflated_zeros(idx_header((60_000, 28, 28)), CHUNK)
    with open(folder / (IDX_NAMES["x_train"] + ".gz"), "wb") as file:
        file.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + start)
        for _ in range(16 * GIB // CHUNK):
            file.write(block)
        file.write(end + bytes(8))  # a CRC and size no reader gets to
    return tmp_path


# Running them under a limit ----------------------------------------------------
def run_limited(argv, limit, timeout=300):
    """`python ARGV` from the repository root under an address-space limit: (exit code,
    stdout, stderr, peak resident memory in bytes)."""
    env = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "MALLOC_ARENA_MAX": "2",  # glibc's arenas reserve 64 MiB per thread otherwise
        "OPENBLAS_NUM_THREADS": "1",  # and OpenBLAS a buffer per core
    }
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(
            [sys.executable, *map(str, argv)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=err,
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit)),
        )
        timer = threading.Timer(timeout, process.kill)
        timer.start()
        peak = 0
        try:
            # VmHWM, the high-water mark since exec, read until the child ends: its
            # ru_maxrss would count the forked pytest's pages it held before exec.
            while process.poll() is None:
                peak = max(peak, high_water_mark(process.pid))
                time.sleep(0.01)
        finally:
            timer.cancel()
        out.seek(0)
        err.seek(0)
        return process.returncode, out.read().decode(), err.read().decode(), peak


def high_water_mark(pid):
    """The process's peak resident memory so far, in bytes (0 once it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(found[1]) * 1024 if found else 0


def refused_in_one_line(data_dir, message):
    """`step` stops at the data: one error line holding `message`, little memory."""
    code, stdout, stderr, peak = run_limited(
        [
            "-m",
            "compare",
            "step",
            "--dataset",
            "mnist",
            "--data-dir",
            data_dir,
            "--quiet",
        ],
        DATA_LIMIT,
    )
    assert code == 1 and stdout == "" and len(stderr.splitlines()) == 1, stderr
    assert "Traceback" not in stderr and message in stderr, stderr
    assert peak < DATA_PEAK, peak
    return peak


TOO_LARGE = f"more than the {MAX_ARRAY_BYTES:,} one array may take"


def test_an_npz_declaring_millions_is_refused_then_read_in_part(tmp_path):
    """3,000,000 images: refused without --train-samples; with --train-samples 512 the
    comparison trains on 512 of them, never holding the rest."""
    path = npz_declaring_millions(tmp_path)
    refused_in_one_line(path, f"x_train holds 2,352,000,000 bytes, {TOO_LARGE}")
    code, stdout, stderr, peak = run_limited(
        [
            *("-m", "compare", "--dataset", "mnist", "--data-dir", path),
            *("--train-samples", 512, "--test-samples", 128, "--batch-size", 128),
            *("--epochs", 1, "--only", "raw", "--format", "json", "--quiet"),
        ],
        TENSORFLOW_LIMIT,
    )
    assert code == 0, stderr
    report = json.loads(stdout)
    assert report["dataset"]["train_size"] == 512, report["dataset"]
    assert report["dataset"]["test_size"] == 128
    assert peak < TENSORFLOW_PEAK, peak


def test_a_sparse_40_gb_idx_file_is_refused_then_read_in_part(tmp_path):
    """An idx file as large as its header says: refused without --train-samples, read in
    part with it (by the data loader alone, no TensorFlow)."""
    data_dir = sparse_idx_folder(tmp_path)
    refused_in_one_line(data_dir, f"holds 39,984,000,000 bytes, {TOO_LARGE}")
    code, stdout, stderr, peak = run_limited(
        [
            "-c",
            "import sys; from compare.data import load_dataset; "
            "d = load_dataset('mnist', sys.argv[1], 512, 128); "
            "print(d.x_train.shape, d.y_train.shape, d.x_test.shape, d.x_train.max())",
            data_dir,
        ],
        DATA_LIMIT,
    )
    assert code == 0, stderr
    assert stdout.split() == "(512, 28, 28, 1) (512,) (128, 28, 28, 1) 0.0".split()
    assert peak < DATA_PEAK, peak


def test_a_gzip_inflating_past_its_header_is_refused(tmp_path):
    """A header of 60,000 images, a stream of 16 GiB: no more than the header says (and a
    byte) is ever inflated."""
    refused_in_one_line(
        gzip_inflating_to_16_gib(tmp_path),
        "header says shape (60000, 28, 28) (47,040,000 bytes) but the file holds more",
    )
