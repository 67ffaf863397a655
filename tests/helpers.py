"""What several test files share: running the CLI, equal weights in both styles
(keras_and_raw_pair, from compare.saved.convert), small dataset files written on the spot,
the bad flags every language must answer, reports shaped like the commands' JSON, and
headless Chromium."""

import contextlib
import gzip
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from compare.bench.bench import summarise
from compare.cli import main
from compare.data import IDX_NAMES
from compare.loc import STEPS
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


def run_main(argv):
    """`python -m compare ARGS` in this process: (exit code, stdout, stderr)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main([str(argument) for argument in argv])
    return code, stdout.getvalue(), stderr.getvalue()


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
        assert images.min() >= 0.0 and images.max() <= 1.0
    for labels in (dataset.y_train, dataset.y_test):
        assert labels.min() >= 0 and labels.max() <= 9


def npz_bytes(**arrays):
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


# Bad input the command line must answer in one line --------------------------
ONE_EPOCH = [*SMALL, "--epochs", "1"]


def corrupt_idx_folder(tmp_path):
    """A folder with the four MNIST idx file names, each holding a gzip magic number and then junk."""
    for name in (
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ):
        (tmp_path / (name + ".gz")).write_bytes(b"\x1f\x8b\x08\x00 not really gzip")
    return tmp_path


BAD_FLAGS = {  # id: (arguments, given tmp_path; exit code; part of the error line)
    "epochs -1": (
        lambda tmp: ["--epochs", "-1"],
        2,
        "argument --epochs: must be a positive integer",
    ),
    "epochs 0": (
        lambda tmp: ["--epochs", "0"],
        2,
        "argument --epochs: must be a positive integer, got '0'",
    ),
    "batch-size 0": (
        lambda tmp: ["--batch-size", "0"],
        2,
        "argument --batch-size: must be a positive integer",
    ),
    "repeats 0": (
        lambda tmp: ["--repeats", "0"],
        2,
        "argument --repeats: must be a positive integer",
    ),
    "lr nan": (
        lambda tmp: ["--lr", "nan"],
        2,
        "argument --lr: must be a positive number, got 'nan'",
    ),
    "lr -1": (
        lambda tmp: ["--lr", "-1"],
        2,
        "argument --lr: must be a positive number",
    ),
    "dataset unknown": (
        lambda tmp: ["--dataset", "unknown"],
        2,
        "invalid choice: 'unknown'",
    ),
    "format xml": (lambda tmp: ["--format", "xml"], 2, "invalid choice: 'xml'"),
    "data-dir missing": (
        lambda tmp: ["--dataset", "mnist", "--data-dir", "/nonexistent"],
        1,
        "mnist not found (looked in /nonexistent/mnist.npz",
    ),
    "output in missing folder": (
        lambda tmp: [*ONE_EPOCH, "--output", tmp / "missing" / "report.txt"],
        1,
        "does not exist",
    ),
    "output is a folder": (
        lambda tmp: [*ONE_EPOCH, "--output", tmp],
        1,
        "is a folder, not a file",
    ),
    "train-samples too many": (
        lambda tmp: ["--dataset", "digits", "--train-samples", "5000"],
        1,
        "--train-samples 5000 is out of range: digits has 1,347",
    ),
    "corrupt idx": (
        lambda tmp: ["--dataset", "mnist", "--data-dir", corrupt_idx_folder(tmp)],
        1,
        "corrupt gzip file",
    ),
}


# Reports shaped like the commands' JSON, without training ---------------------
def synthetic_report():
    """A report shaped like `python -m compare --format json` (with curves), without training."""

    def result(name, loc, accuracy):
        return {
            "implementation": name,
            "loc": dict(zip((*STEPS, "total"), loc, strict=True)),
            "params": 54410,
            "trace_seconds": 1.0,
            "first_epoch_seconds": 4.0,
            "steady_samples_per_second": 20000.0,
            "train_seconds": 12.0,
            "test_loss": 0.34,
            "test_accuracy": accuracy,
            "history": {
                "loss": [0.5, 0.35],
                "accuracy": [0.82, 0.88],
                "val_loss": [0.4, 0.36],
                "val_accuracy": [0.85, 0.87],
            },
        }

    return {
        "dataset": {
            "name": "fashion_mnist",
            "source": "test",
            "train_size": 60000,
            "test_size": 10000,
        },
        "config": {
            "epochs": 2,
            "batch_size": 128,
            "lr": 0.001,
            "seed": 0,
            "steps_per_execution": None,
        },
        "results": [
            result("keras", (3, 3, 3, 2, 13), 0.881),
            result("raw_tf", (21, 19, 42, 11, 96), 0.878),
        ],
        "raw_over_keras_steady_throughput": 1.0,
    }


def bench_report():
    """A report shaped like `python -m compare bench --format json`, without training."""
    floors = {
        "peak_flops_per_second": 100e9,
        "bandwidth_bytes_per_second": 10e9,
        "dispatch_seconds": 100e-6,
    }
    roofline = {"samples": 1000, "total_seconds": 2.0}
    row = summarise(
        "keras",
        32,
        [
            {
                "trace_seconds": 1.0,
                "steady_samples_per_second": 100.0,
                "inference_samples_per_second": 300.0,
                "graph_calls_per_epoch": 32,
            }
        ],
        500.0,
        1e6,
        lambda calls: roofline,
    )
    ratio = {"median": 1.5, "low": 1.2, "high": 1.8, "min": 1.1, "max": 1.9}
    style = {"samples_per_second": {"median": 100.0}, "microseconds_per_step": 320e3}
    pairs = {
        "steps": 4,
        "rounds": 3,
        "batch_size": 32,
        "results": {
            name: {"keras": style, "raw_tf": style, "raw_over_keras": ratio}
            for name in ("per_batch", "fused", "step")
        },
    }
    return {
        "machine": {
            "cpu": "test cpu",
            "logical_cores": 2,
            "python": "3.11",
            "tensorflow": "2.x",
            "keras": "3.x",
        },
        "config": {"dataset": "digits", "epochs": 2, "repeats": 1},
        "flops_per_training_sample": 1e6,
        "by_batch_size": [
            {
                "batch_size": 32,
                "floors": floors,
                "roofline": roofline,
                "graph_ops_per_training_step": {"raw_tf": 1, "keras": 2},
                "pairs": pairs,
            }
        ],
        "results": [
            row,
            {
                "implementation": "torch",
                "variant": "torch",
                "batch_size": 32,
                "unavailable": "PyTorch is not installed",
            },
        ],
    }


# Headless Chromium -----------------------------------------------------------
CHROMIUM = (
    shutil.which("chromium")
    or shutil.which("chromium-browser")
    or shutil.which("google-chrome")
)
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (apt-get install chromium chromium-driver)",
)


def chromium(*args, tmp_path):
    """Run headless Chromium on a file; returns (stdout, stderr)."""
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        *args,
    ]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=120)
    return completed.stdout, completed.stderr


def console_messages(stderr):
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]
