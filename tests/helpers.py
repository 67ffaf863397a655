"""What several test files share: running the CLI, equal weights in both styles
(keras_and_raw_pair, from compare.saved.convert), and small dataset files written on the
spot."""

import gzip
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from compare.data import IDX_NAMES
from compare.saved.convert import keras_and_raw_pair  # noqa: F401  (tests import it from here)

ROOT = Path(__file__).resolve().parents[1]
FASHION_MNIST_DEBIAN = Path("/usr/share/datasets/fashion-mnist")
TRAIN, TEST = 12, 6  # images in the dataset files the helpers write
# A small real run of the comparison: 256 digits to train on, 128 to test, batches of 64.
SMALL = (
    "--dataset digits --train-samples 256 --test-samples 128 --batch-size 64".split()
)


# The command line -------------------------------------------------------------
def run_cli(*args, timeout=180):
    """`python -m compare ARGS` from the repository root, TensorFlow's C++ logs off."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run(
        [sys.executable, "-m", "compare", *map(str, args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def succeeded(process):
    assert process.returncode == 0, process.stderr
    assert "Traceback" not in process.stderr
    return process


# Dataset files ------------------------------------------------------------------
def idx_bytes(array, ndim=None):
    """An idx file of unsigned bytes: 0, 0, 8, ndim, big-endian uint32 dims, then the data."""
    array = np.asarray(array, dtype=np.uint8)
    ndim = array.ndim if ndim is None else ndim
    header = bytes([0, 0, 8, ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape[:ndim]
    )
    return header + array.tobytes()


def fake_arrays(train=TRAIN, test=TEST, seed=0):
    """Four uint8 arrays shaped like MNIST, with every label in 0..9."""
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.integers(0, 256, (train, 28, 28), dtype=np.uint8),
        "y_train": np.arange(train, dtype=np.uint8) % 10,
        "x_test": rng.integers(0, 256, (test, 28, 28), dtype=np.uint8),
        "y_test": np.arange(test, dtype=np.uint8)[::-1] % 10,
    }


def write_idx_folder(folder, arrays=None, gz=True, overrides=None):
    """The four idx files in `folder` (created), gzipped or raw; `overrides` maps split -> raw bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = fake_arrays() if arrays is None else arrays
    for split, name in IDX_NAMES.items():
        content = (overrides or {}).get(split, idx_bytes(arrays[split]))
        path = folder / (name + ".gz" if gz else name)
        path.write_bytes(gzip.compress(content) if gz else content)
    return folder


def write_npz(path, arrays=None, **changes):
    """A Keras-style .npz; `changes` replace (or, with None, drop) arrays."""
    arrays = {**(fake_arrays() if arrays is None else arrays), **changes}
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **{key: value for key, value in arrays.items() if value is not None})
    return path


def assert_is_dataset(dataset, name, train=TRAIN, test=TEST):
    assert dataset.name == name
    assert dataset.x_train.shape == (train, 28, 28, 1) and dataset.x_test.shape == (
        test,
        28,
        28,
        1,
    )
    assert dataset.x_train.dtype == dataset.x_test.dtype == np.float32
    assert dataset.y_train.dtype == dataset.y_test.dtype == np.int32
    for images in (dataset.x_train, dataset.x_test):
        assert 0.0 <= images.min() and images.max() <= 1.0
    for labels in (dataset.y_train, dataset.y_test):
        assert 0 <= labels.min() and labels.max() <= 9


def npz_bytes(**arrays):
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()
