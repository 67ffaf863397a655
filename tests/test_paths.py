"""Inputs are never outputs: every path a command writes is checked, before any work,
against every path it reads and against its other outputs, as the system sees them
(symlinks, hard links, an output inside a folder read or written). In-process calls of
compare.cli.main, each refused in one line with every file left as it was."""

import os

import pytest
from helpers import run_main, write_idx_folder, write_npz

import compare.commands.comparison
import compare.commands.convert
import compare.commands.predict
import compare.commands.step
import compare.commands.transfer
import compare.data as data


class WorkStarted(BaseException):
    """The command got past its checks to the work (main() cannot swallow it)."""


@pytest.fixture(autouse=True)
def offline_and_no_work(tmp_path, monkeypatch):
    """No network, an empty Keras cache and Debian folder, and TensorFlow never loads: a
    command that passes the checks raises WorkStarted."""
    cache = tmp_path / "keras-cache"
    cache.mkdir()
    monkeypatch.setattr(data, "online", lambda timeout=3.0: False)
    monkeypatch.setattr(data, "keras_cache_dir", lambda: cache)
    monkeypatch.setattr(data, "DEBIAN_DIR", tmp_path / "no-debian")

    def start(*args, **kwargs):
        raise WorkStarted

    for command in (
        compare.commands.comparison,
        compare.commands.step,
        compare.commands.predict,
        compare.commands.convert,
        compare.commands.transfer,
    ):
        monkeypatch.setattr(command, "load_tensorflow_quietly", start)
    monkeypatch.setattr(data, "load_dataset", start)  # step and bench read data first
    monkeypatch.setattr("compare.study.load_and_describe", start)
    return cache


def files(root):
    """Every path under `root` with its bytes (None for a folder or a link's target name)."""
    return {
        path: os.readlink(path)
        if path.is_symlink()
        else None
        if path.is_dir()
        else path.read_bytes()
        for path in root.rglob("*")
    }


def dataset(tmp):
    return write_npz(tmp / "data" / "mnist.npz")


def saved_model(tmp):
    folder = tmp / "raw_tf_cnn"
    folder.mkdir()
    (folder / "saved_model.pb").write_bytes(b"a graph")
    return folder


def keras_file(tmp):
    path = tmp / "keras_cnn.keras"
    path.write_bytes(b"PK a model")
    return path


def image(tmp, name="seven.png"):
    path = tmp / name
    path.write_bytes(b"\x89PNG an image")
    return path


def link(path, target, hard=False):
    (os.link if hard else os.symlink)(target, path)
    return path


def data_flags(tmp):
    return ["--dataset", "mnist", "--data-dir", dataset(tmp)]


REFUSED = {  # name: (argv given tmp_path, part of the error line)
    "--output is the --data-dir file": (
        lambda tmp: [*data_flags(tmp), "--output", tmp / "data" / "mnist.npz"],
        "is the same file as --data-dir",
    ),
    "--output is a symlink to the dataset": (
        lambda tmp: [
            *data_flags(tmp),
            "--output",
            link(tmp / "report.txt", tmp / "data" / "mnist.npz"),
        ],
        "is the same file as --data-dir",
    ),
    "--output is a hard link to the dataset": (
        lambda tmp: [
            *data_flags(tmp),
            "--output",
            link(tmp / "report.txt", tmp / "data" / "mnist.npz", hard=True),
        ],
        "is the same file as --data-dir",
    ),
    "--output is an idx file of the folder --data-dir names": (
        lambda tmp: [
            "--dataset",
            "mnist",
            "--data-dir",
            write_idx_folder(tmp / "data" / "mnist").parent,
            "--output",
            tmp / "data" / "mnist" / "t10k-labels-idx1-ubyte.gz",
        ],
        "is the same file as --data-dir",
    ),
    "--plot onto the Keras cache's mnist.npz (no --data-dir)": (
        lambda tmp: [
            "--dataset",
            "mnist",
            "--plot",
            write_npz(tmp / "keras-cache" / "mnist.npz"),
        ],
        "is the same file as --dataset mnist",
    ),
    "--output, --plot and --report the same new file": (
        lambda tmp: [
            *data_flags(tmp),
            "--output",
            tmp / "out",
            "--plot",
            tmp / "out",
            "--report",
            tmp / "out",
        ],
        "--output {tmp}/out and --plot {tmp}/out are the same file",
    ),
    "--report inside --export": (
        lambda tmp: [*data_flags(tmp), "--export", tmp, "--report", tmp / "r.html"],
        "lie one inside the other",
    ),
    "--export inside --checkpoint-dir": (
        lambda tmp: [
            *data_flags(tmp),
            "--checkpoint-dir",
            tmp / "runs",
            "--export",
            tmp / "runs" / "models",
        ],
        "lie one inside the other",
    ),
    "--export under a regular file (else found only after training)": (
        lambda tmp: [*data_flags(tmp), "--export", tmp / "data" / "mnist.npz" / "m"],
        "mnist.npz is a file, not a folder",
    ),
    "bench --output onto its dataset": (
        lambda tmp: ["bench", *data_flags(tmp), "--output", tmp / "data" / "mnist.npz"],
        "is the same file as --data-dir",
    ),
    "step --output onto its dataset": (
        lambda tmp: ["step", *data_flags(tmp), "--output", tmp / "data" / "mnist.npz"],
        "is the same file as --data-dir",
    ),
    "predict --output onto its --model": (
        lambda tmp: [
            "predict",
            "--model",
            keras_file(tmp),
            "--images",
            image(tmp),
            "--output",
            tmp / "keras_cnn.keras",
        ],
        "is the same file as --model",
    ),
    "predict --output onto its second image": (
        lambda tmp: [
            "predict",
            "--model",
            keras_file(tmp),
            "--images",
            image(tmp),
            image(tmp, "two.png"),
            "--output",
            tmp / "two.png",
        ],
        "is the same file as --images",
    ),
    "predict --output inside the SavedModel folder": (
        lambda tmp: [
            "predict",
            "--model",
            saved_model(tmp),
            "--images",
            image(tmp),
            "--output",
            tmp / "raw_tf_cnn" / "variables.txt",
        ],
        "lies inside --model",
    ),
    "predict --output a hard link to a file of the SavedModel folder": (
        lambda tmp: [
            "predict",
            "--model",
            saved_model(tmp),
            "--images",
            image(tmp),
            "--output",
            link(tmp / "out.txt", tmp / "raw_tf_cnn" / "saved_model.pb", hard=True),
        ],
        "is the same file as --model {tmp}/raw_tf_cnn/saved_model.pb",
    ),
    "convert --output inside the SavedModel it reads": (
        lambda tmp: [
            "convert",
            "--model",
            saved_model(tmp),
            "--to",
            "keras",
            "--output",
            tmp / "raw_tf_cnn" / "keras_cnn.keras",
        ],
        "lies inside --model",
    ),
    "transfer --save-pretrained onto its --weights": (
        lambda tmp: [
            "transfer",
            *data_flags(tmp),
            "--weights",
            link(tmp / "base.weights.h5", tmp / "data" / "mnist.npz", hard=True),
            "--save-pretrained",
            tmp / "base.weights.h5",
        ],
        "is the same file as --weights",
    ),
}


@pytest.mark.parametrize("make, message", REFUSED.values(), ids=REFUSED.keys())
def test_an_output_onto_an_input_or_another_output_is_refused(tmp_path, make, message):
    """One error line, exit 1, before any work, and every file as it was."""
    argv = make(tmp_path)
    before = files(tmp_path)
    code, stdout, stderr = run_main(argv)
    assert code == 1 and stdout == "" and len(stderr.splitlines()) == 1, stderr
    assert stderr.startswith("python -m compare: error: "), stderr
    assert message.format(tmp=tmp_path) in stderr, stderr
    assert files(tmp_path) == before


ALLOWED = {  # name: argv given tmp_path; each reaches the work
    "--output beside the dataset, in the --data-dir folder": lambda tmp: [
        "--dataset",
        "mnist",
        "--data-dir",
        dataset(tmp).parent,
        "--output",
        tmp / "data" / "report.md",
    ],
    "--output, --plot, --report and --export apart": lambda tmp: [
        *data_flags(tmp),
        "--output",
        tmp / "report.md",
        "--plot",
        tmp / "curves.png",
        "--report",
        tmp / "report.html",
        "--export",
        tmp / "models",
    ],
    "--export a folder to be made under one that exists": lambda tmp: [
        *data_flags(tmp),
        "--export",
        tmp / "new" / "models",
    ],
    "predict --output beside the SavedModel": lambda tmp: [
        "predict",
        "--model",
        saved_model(tmp),
        "--images",
        image(tmp),
        "--output",
        tmp / "predictions.csv",
    ],
    "the --data-dir of a named dataset holds another dataset's file, named --output": (
        lambda tmp: [
            "--dataset",
            "mnist",
            "--data-dir",
            dataset(tmp).parent,
            "--output",
            write_npz(tmp / "data" / "fashion_mnist.npz"),
        ]
    ),
}


@pytest.mark.parametrize("make", ALLOWED.values(), ids=ALLOWED.keys())
def test_outputs_apart_from_the_inputs_are_allowed(tmp_path, make):
    """No false alarm: outputs apart from what is read pass the checks."""
    with pytest.raises(WorkStarted):
        run_main(make(tmp_path))
