"""compare.harness.training: measured results, determinism, the median of repeats and the divergence check."""

import math

import pytest

from compare.harness.callbacks import TrainingDiverged
from compare.harness.training import median_of_runs, run
from compare.request import Request
from compare.stats import throughput_ratio


@pytest.fixture(scope="module")
def small(digits):
    return digits.subset(train_samples=512, test_samples=128)


@pytest.mark.parametrize("style", ["keras", "raw_tf"])
def test_same_seed_same_numbers(small, style):
    """Two runs with the same seed and flags give bit-identical histories and scores."""
    first, second = (
        run(style, small, Request(epochs=2, batch_size=64), verbose=0) for _ in range(2)
    )
    assert first["history"] == second["history"]
    assert (first["test_loss"], first["test_accuracy"]) == (
        second["test_loss"],
        second["test_accuracy"],
    )
    assert first["params"] == 54_410
    assert (
        0
        < first["trace_seconds"]
        < first["first_epoch_seconds"]
        <= first["train_seconds"]
    )
    assert first["steady_samples_per_second"] > 0


def test_other_seed_other_numbers(small):
    results = [
        run("raw_tf", small, Request(epochs=1, batch_size=64, seed=seed), verbose=0)
        for seed in (0, 1)
    ]
    assert results[0]["history"] != results[1]["history"]


@pytest.mark.parametrize("style", ["keras", "raw_tf"])
def test_a_diverging_run_is_reported(small, style):
    """An absurd learning rate blows the loss up; the run stops with a message naming --lr."""
    with pytest.raises(TrainingDiverged, match="lower --lr"):
        run(style, small, Request(epochs=2, batch_size=64, lr=1e30), verbose=0)


def test_median_of_runs_and_pairwise_ratio():
    def timed(speed):
        return {
            "trace_seconds": 1.0,
            "first_epoch_seconds": 2.0,
            "steady_samples_per_second": speed,
            "train_seconds": 3.0,
            "test_loss": 0.5,
        }

    keras_runs, raw_runs = (
        [timed(100), timed(300), timed(200)],
        [timed(150), timed(330), timed(500)],
    )
    merged = median_of_runs(keras_runs)
    assert merged["steady_samples_per_second"] == 200 and len(merged["runs"]) == 3
    assert throughput_ratio(raw_runs, keras_runs) == pytest.approx(
        1.5
    )  # pairs: 1.5, 1.1, 2.5
    assert "runs" not in median_of_runs(keras_runs[:1])
    assert math.isclose(
        median_of_runs(keras_runs[:1])["steady_samples_per_second"], 100
    )


@pytest.mark.parametrize("style", ["keras", "raw_tf"])
def test_batch_norm_dropout_model_runs_and_counts_its_own_lines(small, style):
    """cnn_bn_dropout: 54,442 parameters (conv without bias, + gamma and beta); its define lines
    come from its own file, the other steps from cnn.py."""
    cnn = run(style, small, Request(epochs=1, batch_size=64), verbose=0)
    variant = run(
        style,
        small,
        Request(epochs=1, batch_size=64, model="cnn_bn_dropout"),
        verbose=0,
    )
    assert (
        variant["model"] == "cnn_bn_dropout" and variant["params"] == 54_410 - 32 + 64
    )
    assert {
        step: variant["loc"][step] for step in ("compile", "train", "evaluate")
    } == {step: cnn["loc"][step] for step in ("compile", "train", "evaluate")}
    assert variant["loc"]["total"] > cnn["loc"]["total"]
    assert 0 <= variant["test_accuracy"] <= 1


@pytest.mark.parametrize("steps_per_execution", [None, 1, 5])
def test_the_harness_raw_loop_is_the_lesson_loop(small, steps_per_execution):
    """The harness runs raw_tf_impl.cnn.train an epoch at a time (its callbacks between
    epochs), or splits each epoch into graph calls of `steps_per_execution` batches: the
    weights end bit-identical to one call of the lesson's train for all epochs (the same
    steps in the same order); the history agrees to float32 rounding of the sums."""
    import numpy as np

    import raw_tf_impl
    from compare.harness.raw_loop import train_raw

    runs = []
    for harness in (False, True):
        model = raw_tf_impl.build_model(seed=0)
        optimizer = raw_tf_impl.compile_model(model)
        x, y = small.x_train, small.y_train
        if harness:
            options = {"steps_per_execution": steps_per_execution}
            history = train_raw(model, optimizer, x, y, 2, 64, 4, options)
        else:
            history = raw_tf_impl.train(
                model, optimizer, x, y, 2, 64, seed=4, verbose=0
            )
        runs.append((history, [variable.numpy() for variable in model.variables]))
    (lesson, lesson_weights), (harness, harness_weights) = runs
    for lesson_weight, harness_weight in zip(
        lesson_weights, harness_weights, strict=True
    ):
        np.testing.assert_array_equal(harness_weight, lesson_weight)
    np.testing.assert_allclose(harness["loss"], lesson["loss"], rtol=1e-6)
    assert harness["accuracy"] == lesson["accuracy"]
