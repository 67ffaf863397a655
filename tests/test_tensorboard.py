"""--tensorboard DIR: both styles write the same scalars under the same tags at the same
steps (Keras with its own callback, raw TF with tf.summary), read back here with
TensorBoard's own reader, and they are the history the run returned; a DIR that is not
new or empty, or that lies where the command's paths rules refuse it, is one line before
any work."""

import json
import os

import numpy as np
import pytest
from helpers import SMALL, run_main, write_npz

import compare.commands.comparison

event_accumulator = pytest.importorskip(
    "tensorboard.backend.event_processing.event_accumulator",
    reason="TensorBoard's reader: pip install tensorboard (the [test] extra has it)",
)

STYLES = ("keras", "raw_tf")
RUNS = ("train", "validation")
TAGS = {  # what keras.callbacks.TensorBoard writes per epoch (Keras 3)
    "train": {"epoch_loss", "epoch_accuracy", "epoch_learning_rate"},
    "validation": {"epoch_loss", "epoch_accuracy"},
}
EPOCHS, LR = 2, 1e-3


def scalars(folder):
    """{tag: [(step, value), ...]} of one run's folder, as TensorBoard reads it
    (tf.summary's v2 scalars are tensors to its reader)."""
    import tensorflow as tf

    accumulator = event_accumulator.EventAccumulator(str(folder))
    accumulator.Reload()
    return {
        tag: [
            (event.step, tf.make_ndarray(event.tensor_proto).item())
            for event in accumulator.Tensors(tag)
        ]
        for tag in accumulator.Tags()["tensors"]
    }


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One small run of both styles with --tensorboard: (folder, report, stderr)."""
    folder = tmp_path_factory.mktemp("curves") / "runs"
    code, stdout, stderr = run_main(
        [
            *SMALL,
            "--epochs",
            EPOCHS,
            "--lr",
            LR,
            "--pair-rounds",
            "0",
            "--format",
            "json",
            "--tensorboard",
            folder,
        ]
    )
    assert code == 0, stderr
    return folder, json.loads(stdout), stderr


def test_the_layout_is_keras_and_raw_tf_each_with_train_and_validation(trained):
    """DIR/<style>/<run>, one event file in each run's folder and nothing else."""
    folder, _report, stderr = trained
    runs = [f"{style}/{run}" for style in STYLES for run in RUNS]
    folders = [path for path in folder.rglob("*") if path.is_dir()]
    assert sorted(str(path.relative_to(folder)) for path in folders) == sorted(
        [*STYLES, *runs]
    )
    for run in runs:
        (event_file,) = (folder / run).iterdir()
        assert event_file.name.startswith("events.out.tfevents.")
    assert sum(path.is_file() for path in folder.rglob("*")) == len(runs)
    assert f"tensorboard --logdir {folder}" in stderr


def test_both_styles_write_the_same_tags_at_the_same_steps(trained):
    folder, _report, _stderr = trained
    for run in RUNS:
        keras, raw = (scalars(folder / style / run) for style in STYLES)
        assert set(keras) == set(raw) == TAGS[run], run
        for tag in TAGS[run]:
            assert [step for step, _ in keras[tag]] == list(range(EPOCHS)), tag
            assert [step for step, _ in raw[tag]] == list(range(EPOCHS)), tag


def test_the_curves_are_the_history_the_run_returned(trained):
    """float32-exact: TensorBoard keeps float32, the history the same numbers as floats."""
    folder, report, _stderr = trained
    results = {result["implementation"]: result for result in report["results"]}
    for style in STYLES:
        history = results[style]["history"]
        for run, prefix in zip(RUNS, ("", "val_"), strict=True):
            written = scalars(folder / style / run)
            for name in ("loss", "accuracy"):
                values = [value for _, value in written[f"epoch_{name}"]]
                expected = np.float32(history[prefix + name]).tolist()
                assert values == expected, (style, run, name)
        learning_rates = [
            value
            for _, value in scalars(folder / style / "train")["epoch_learning_rate"]
        ]
        assert learning_rates == [np.float32(LR).item()] * EPOCHS


# Refused before any work ------------------------------------------------------------------
class WorkStarted(BaseException):
    """The command got past its checks to the work (main() cannot swallow it)."""


@pytest.fixture
def no_work(monkeypatch):
    def start(*args, **kwargs):
        raise WorkStarted

    monkeypatch.setattr(compare.commands.comparison, "load_tensorflow_quietly", start)


def not_empty(tmp):
    (tmp / "runs").mkdir()
    (tmp / "runs" / "old.txt").write_text("an earlier run")
    return ["--tensorboard", tmp / "runs"]


def a_file(tmp):
    (tmp / "runs").write_text("a file")
    return ["--tensorboard", tmp / "runs"]


def broken_link(tmp):
    os.symlink(tmp / "nowhere", tmp / "runs")
    return ["--tensorboard", tmp / "runs"]


def under_a_file(tmp):
    (tmp / "notes.txt").write_text("a file")
    return ["--tensorboard", tmp / "notes.txt" / "runs"]


def inside_export(tmp):
    return ["--export", tmp / "models", "--tensorboard", tmp / "models" / "runs"]


def same_as_output(tmp):
    return ["--output", tmp / "runs", "--tensorboard", tmp / "runs"]


def inside_data_dir(tmp):
    write_npz(tmp / "data.npz")
    return [
        "--dataset",
        "mnist",
        "--data-dir",
        tmp / "data.npz",
        "--tensorboard",
        tmp / "data.npz" / "runs",
    ]


REFUSED = {  # name: (argv given tmp_path, part of the one error line)
    "a folder with files": (not_empty, "is not an empty folder: name a new or empty"),
    "a file": (a_file, "is not an empty folder"),
    "a broken symlink": (broken_link, "is not an empty folder"),
    "under a file": (under_a_file, "is a file, not a folder"),
    "inside --export": (inside_export, "lie one inside the other"),
    "the --output file": (same_as_output, "are the same file"),
    "inside the --data-dir file": (inside_data_dir, "is a file, not a folder"),
    "with --backends": (
        lambda tmp: ["--tensorboard", tmp / "runs", "--backends", "jax"],
        "--tensorboard does not combine with --backends",
    ),
    "with --model both": (
        lambda tmp: ["--tensorboard", tmp / "runs", "--model", "both"],
        "--tensorboard does not combine with --model both",
    ),
    "with --strategy": (
        lambda tmp: ["--tensorboard", tmp / "runs", "--strategy", "mirrored"],
        "--tensorboard does not combine with --strategy mirrored",
    ),
}


def files(root):
    return {
        path: os.readlink(path)
        if path.is_symlink()
        else None
        if path.is_dir()
        else path.read_bytes()
        for path in root.rglob("*")
    }


@pytest.mark.parametrize("make, message", REFUSED.values(), ids=REFUSED.keys())
def test_a_bad_folder_is_refused_in_one_line_before_any_work(
    tmp_path, no_work, make, message
):
    argv = [*SMALL, *make(tmp_path)]
    before = files(tmp_path)
    code, stdout, stderr = run_main(argv)
    assert code == 1 and stdout == "" and len(stderr.splitlines()) == 1, stderr
    assert stderr.startswith("python -m compare: error: "), stderr
    assert message in stderr, stderr
    assert "Traceback" not in stderr
    assert files(tmp_path) == before  # nothing written, nothing made


def test_the_refusal_speaks_portuguese(tmp_path, no_work):
    code, _stdout, stderr = run_main([*SMALL, *not_empty(tmp_path), "--lang", "pt"])
    assert code == 1
    assert "não é uma pasta vazia: indique uma pasta nova ou vazia" in stderr, stderr


@pytest.mark.parametrize("exists", [False, True], ids=["new", "empty"])
def test_a_new_or_empty_folder_reaches_the_work(tmp_path, no_work, exists):
    if exists:
        (tmp_path / "runs").mkdir()
    with pytest.raises(WorkStarted):
        run_main([*SMALL, "--tensorboard", tmp_path / "runs"])
