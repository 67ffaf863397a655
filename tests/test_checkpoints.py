"""Checkpoints, resume, divergence and --export: nothing lost, nothing confusing.

The central claim: a run interrupted (Ctrl-C, SIGTERM) and resumed ends bit for bit where a run
never interrupted ends, in both styles, because each checkpoint holds everything the next epoch
reads: weights, Adam's moments and step, the epoch, and the data order.
"""

import dataclasses
import functools
import json
import signal

import numpy as np
import pytest
from helpers import SMALL as SMALL_RUN
from helpers import keras_and_raw_pair

import keras_impl
import keras_impl.checkpoints
import raw_tf_impl
import raw_tf_impl.checkpoints
from compare.bench.resume_check import resume_check
from compare.cli import main
from compare.harness.callbacks import TrainingDiverged
from compare.harness.checkpointing import StopOnSignal
from compare.harness.training import run
from compare.request import Request
from compare.styles import STYLES

BATCH = 64
SMALL = [*SMALL_RUN, "--quiet"]


@pytest.fixture(scope="module")
def images(digits):
    return digits.x_train[:650], digits.y_train[:650]  # 11 batches, the last one short


def build(style, model_name, seed):
    """A compiled model of `style` (Keras: the model; raw: (model, Adam)) and its checkpointed train."""
    model = STYLES[style].module(model_name).build_model(seed)
    if style == "keras":
        keras_impl.compile_model(model)
        return (model,), functools.partial(keras_impl.checkpoints.train, verbose=0)
    return (model, raw_tf_impl.compile_model(model)), raw_tf_impl.checkpoints.train


def all_state(style, models):
    """Every variable a resumed run must get back: weights, batch-norm statistics, Adam, random state."""
    if style == "keras":
        return [*models[0].variables, *models[0].optimizer.variables]
    return [*models[0].variables, *models[1].variables]


@pytest.mark.slow
@pytest.mark.parametrize("model_name", ["cnn", "cnn_bn_dropout"])
@pytest.mark.parametrize("style", ["keras", "raw_tf"])
def test_resumed_training_is_bit_identical(images, tmp_path, style, model_name):
    """2 epochs, then a model built with other random weights resumes from the checkpoint to 4: every
    variable (Dropout's random state included) and the last two epochs' losses equal those of 4
    epochs in one go, exactly."""
    histories, states = [], []
    for epochs_before, folder in [(None, "straight"), (2, "broken")]:
        if epochs_before:
            models, train = build(style, model_name, seed=0)
            train(*models, *images, epochs_before, BATCH, tmp_path / folder)
        models, train = build(style, model_name, seed=7 if epochs_before else 0)
        histories.append(train(*models, *images, 4, BATCH, tmp_path / folder))
        states.append(all_state(style, models))
    straight, resumed = histories
    assert (
        resumed["loss"] == straight["loss"][2:]
        and resumed["accuracy"] == straight["accuracy"][2:]
    )
    assert len(states[0]) == len(states[1]) >= 10
    for before, after in zip(*states, strict=True):
        np.testing.assert_array_equal(before.numpy(), after.numpy())


def train_both(models, images, epochs, folder):
    keras_model, raw_model, optimizer = models
    keras_history = keras_impl.checkpoints.train(
        keras_model, *images, epochs, BATCH, folder / "keras", verbose=0
    )
    raw_history = raw_tf_impl.checkpoints.train(
        raw_model, optimizer, *images, epochs, BATCH, folder / "raw"
    )
    return keras_history, raw_history


def test_checkpointed_styles_take_the_same_batches(images, tmp_path):
    """With checkpoints both styles shuffle the raw loop's way, so from equal weights their per-epoch
    losses agree as closely as one step's do. Tolerance 1e-5 relative: 33 Adam steps of float32
    rounding (about 1e-7 relative per op) in two different op orders; another order of batches would
    differ in the second decimal."""
    keras_history, raw_history = train_both(keras_and_raw_pair(), images, 3, tmp_path)
    np.testing.assert_allclose(keras_history["loss"], raw_history["loss"], rtol=1e-5)


def test_checkpoints_do_not_change_the_raw_loop(images, tmp_path):
    """Saving is all a checkpoint adds: the raw loop with and without it gives the same weights, bit for bit."""
    _, with_checkpoints, optimizer = keras_and_raw_pair()
    raw_tf_impl.checkpoints.train(
        with_checkpoints, optimizer, *images, 2, BATCH, tmp_path
    )
    _, without, optimizer = keras_and_raw_pair()
    raw_tf_impl.train(without, optimizer, *images, 2, BATCH, verbose=0)
    for saved, plain in zip(with_checkpoints.variables, without.variables, strict=True):
        np.testing.assert_array_equal(saved.numpy(), plain.numpy())


@pytest.mark.slow
@pytest.mark.parametrize("model_name", ["cnn", "cnn_bn_dropout"])
@pytest.mark.parametrize("style", ["keras", "raw_tf"])
def test_checkpoint_dir_does_not_change_the_numbers(
    digits, tmp_path, style, model_name
):
    """The harness with --checkpoint-dir and without: the same batches, so bit-identical
    per-epoch histories and test scores; and a run stopped after epoch 2 and resumed to 3
    ends with the scores of the uninterrupted run, and its last epoch's history."""
    small = digits.subset(train_samples=320, test_samples=128)
    plain_config = Request(epochs=3, batch_size=BATCH, model=model_name, seed=2)
    plain = run(style, small, plain_config, verbose=0)
    saved = dataclasses.replace(plain_config, checkpoint_dir=str(tmp_path / "straight"))
    straight = run(style, small, saved, verbose=0)
    assert straight["history"] == plain["history"]
    assert (straight["test_loss"], straight["test_accuracy"]) == (
        plain["test_loss"],
        plain["test_accuracy"],
    )
    broken = dataclasses.replace(plain_config, checkpoint_dir=str(tmp_path / "broken"))
    run(style, small, dataclasses.replace(broken, epochs=2), verbose=0)
    resumed = run(style, small, broken, verbose=0)
    assert resumed["resumed_after_epoch"] == 2
    assert resumed["history"]["loss"] == plain["history"]["loss"][2:]
    assert (resumed["test_loss"], resumed["test_accuracy"]) == (
        plain["test_loss"],
        plain["test_accuracy"],
    )


@pytest.mark.slow
def test_interrupted_twice_and_resumed_from_the_command_line(tmp_path):
    """Ctrl-C while Keras trains, SIGTERM while the raw loop trains, then --resume: exit codes 130 and
    143, and final checkpoints (weights and Adam state) and test scores identical to an uninterrupted run."""
    rows = resume_check([*SMALL, "--epochs", "25"], tmp_path)
    for style, interrupted_by, arrays, difference, same_scores in rows:
        assert interrupted_by.startswith(
            {
                "keras": "SIGINT -> exit 130, after epoch",
                "raw_tf": "SIGTERM -> exit 143, after epoch",
            }[style]
        )
        assert "epoch ?" not in interrupted_by and arrays >= 8
        assert difference == 0.0 and same_scores


def test_a_second_ctrl_c_stops_at_once():
    stopper = StopOnSignal(say=lambda message: None)
    stopper.handle(
        signal.SIGINT, None
    )  # the first asks for a stop after the epoch is saved
    with pytest.raises(KeyboardInterrupt):
        stopper.handle(signal.SIGINT, None)


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--resume"], "--resume needs --checkpoint-dir"),
        (
            ["--checkpoint-dir", "{dir}", "--repeats", "2"],
            "--checkpoint-dir does not combine with --repeats",
        ),
        (
            ["--export", "{dir}", "--strategy", "mirrored"],
            "--export does not combine with --strategy",
        ),
        (["--checkpoint-dir", "{dir}/new", "--resume"], "holds no run to resume"),
        (["--checkpoint-dir", "{dir}/full"], "is not an empty folder; pass --resume"),
        (["--checkpoint-dir", "{dir}/full/run.json"], "is not an empty folder"),
        (
            ["--checkpoint-dir", "{dir}/full", "--resume"],
            "made with --lr 0.5 (not 0.001)",
        ),
        (["--checkpoint-dir", "{dir}/damaged", "--resume"], "run.json is damaged"),
        (
            ["--export", "{dir}/full"],
            "keras_cnn.keras already exists; not overwriting it",
        ),
    ],
)
def test_checkpoint_and_export_mistakes_are_one_line_errors_before_training(
    tmp_path, capsys, arguments, message
):
    (tmp_path / "full").mkdir()
    settings = {
        "dataset": "digits",
        "train_samples": 256,
        "batch_size": 64,
        "lr": 0.5,
        "seed": 0,
        "model": "cnn",
        "epochs": 1,
    }
    (tmp_path / "full" / "run.json").write_text(json.dumps(settings))
    (tmp_path / "full" / "keras_cnn.keras").write_text("a file the user did not name")
    (tmp_path / "damaged").mkdir()
    (tmp_path / "damaged" / "run.json").write_text("{not json")
    before = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()}
    assert (
        main([*SMALL, *(argument.format(dir=tmp_path) for argument in arguments)]) == 1
    )
    error = capsys.readouterr().err.strip()
    assert message in error and "\n" not in error and "Traceback" not in error
    assert {
        path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()
    } == before


@pytest.mark.parametrize("style", ["keras", "raw_tf"])
def test_divergence_stops_and_is_not_saved(digits, tmp_path, style):
    """An absurd learning rate: training stops at the first NaN/inf loss, says where
    (Keras: the epoch and the step; the raw loop, one graph call per epoch: the epoch)
    and hints at --lr; the diverged epoch is not saved, so a resume cannot start from
    NaN weights."""
    small = digits.subset(train_samples=512, test_samples=128)
    config = Request(epochs=3, batch_size=64, lr=1e30, checkpoint_dir=str(tmp_path))
    with pytest.raises(
        TrainingDiverged,
        match=r"the loss became (nan|-?inf) in epoch 1"
        + (r", step \d+" if style == "keras" else "")
        + r" \(--lr 1e\+30\); try a lower --lr",
    ):
        run(style, small, config, verbose=0)
    assert not any(path.is_file() for path in tmp_path.rglob("*"))


def test_export_writes_both_styles_and_predict_reads_them(tmp_path, capsys):
    assert (
        main([*SMALL, "--epochs", "1", "--export", str(tmp_path), "--format", "json"])
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert [result["exported_to"] for result in report["results"]] == [
        str(tmp_path / "keras_cnn.keras"),
        str(tmp_path / "raw_tf_cnn"),
    ]
    assert (tmp_path / "raw_tf_cnn" / "saved_model.pb").is_file()
