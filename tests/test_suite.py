"""compare/bench/suite.py on the CPU: a reduced grid of the suite, its raw mixed-precision
step and the lesson loops it runs with another step. No test asserts a speed."""

import json

import keras
import numpy as np
import pytest
from helpers import run_cli

from compare.bench.suite import SuiteOptions, keras_policy, markdown, run_suite
from compare.bench.suite_raw import RawMixedFloat16Step, raw_one_epoch
from compare.styles import STYLES


def raw_cnn():
    return STYLES["raw_tf"].module("cnn")


def table_cells(text):
    """(XLA, batch, precision, pair) of each line of the markdown table."""
    return {
        tuple(cell.strip() for cell in line.strip("|").split("|")[:4])
        for line in text.splitlines()
        if line.startswith(("| on", "| off"))
    }


def check_suite(result, expected):
    """Every expected cell, once, with both styles measured and a ratio whose interval
    holds its median; the markdown names every cell; Keras is float32 again and op
    determinism (conftest's) back on."""
    from tensorflow.python.framework import config

    assert keras.mixed_precision.global_policy().name == "float32"
    assert config.is_op_determinism_enabled()
    json.dumps(result)  # JSON-ready
    assert isinstance(result["device"], str) and result["device"]
    cells = [
        (row["xla"], row["batch_size"], row["precision"], row["pair"])
        for row in result["cells"]
    ]
    assert sorted(cells) == sorted(expected)
    rounds = result["options"]["rounds"]
    for row in result["cells"]:
        for style in ("keras", "raw_tf"):
            rates = row[style]["samples_per_second"]
            assert len(rates["runs"]) == rounds
            assert all(rate > 0 for rate in rates["runs"])
            assert rates["min"] <= rates["median"] <= rates["max"]
            assert row[style]["microseconds_per_step"] > 0
        ratio = row["raw_over_keras"]
        assert len(ratio["runs"]) == rounds
        assert ratio["low"] <= ratio["median"] <= ratio["high"]
    on_off = {True: "on", False: "off"}
    assert table_cells(markdown(result)) == {
        (on_off[xla], str(batch), precision, pair)
        for xla, batch, precision, pair in expected
    }


@pytest.mark.slow
def test_reduced_grid_on_cpu(digits):
    """XLA off and on x float32 and mixed float16, the step pair, batch 32 (~15 s)."""
    options = SuiteOptions(steps=3, rounds=2, batch_sizes=(32,), pairs=("step",))
    result = run_suite(digits.x_train, digits.y_train, options)
    expected = [
        (xla, 32, precision, "step")
        for xla in (False, True)
        for precision in ("float32", "mixed_float16")
    ]
    check_suite(result, expected)


@pytest.mark.slow
def test_fit_pairs_with_xla_and_mixed_precision(digits):
    """per_batch and fused, in the cell where both knobs change both styles' code
    (~20 s)."""
    options = SuiteOptions(
        steps=3,
        rounds=2,
        batch_sizes=(32,),
        xla=(True,),
        mixed_precision=(True,),
        pairs=("per_batch", "fused"),
    )
    result = run_suite(digits.x_train, digits.y_train, options)
    check_suite(
        result, [(True, 32, "mixed_float16", pair) for pair in ("per_batch", "fused")]
    )
    assert {row["raw_step"] for row in result["cells"]} == {
        "RawMixedFloat16Step (jit_compile)"
    }


def test_the_policy_comes_back_after_a_failure():
    with pytest.raises(RuntimeError), keras_policy("mixed_float16"):
        assert keras.mixed_precision.global_policy().name == "mixed_float16"
        raise RuntimeError("a cell failed")
    assert keras.mixed_precision.global_policy().name == "float32"


@pytest.mark.parametrize("fused", [False, True])
def test_the_lesson_loops_call_the_step_given(batch, fused):
    """raw_one_epoch: the lesson's train_epoch / train_batches, their train_step ours."""
    import tensorflow as tf

    raw = raw_cnn()
    calls = tf.Variable(0)

    @tf.function
    def counting_step(model, optimizer, images, labels):
        calls.assign_add(1)
        return raw.train_step(model, optimizer, images, labels)

    x, y = batch  # 64 images: 4 batches of 16
    model = raw.build_model(0)
    optimizer = raw.compile_model(model)
    if fused:
        x, y = tf.constant(x), tf.constant(y)
    one_epoch = raw_one_epoch(counting_step, fused)
    history = raw.train(model, optimizer, x, y, 1, 16, 0, 0, one_epoch)
    assert int(calls.numpy()) == 4 and int(optimizer.iterations.numpy()) == 4
    assert np.isfinite(history["loss"][0])
    assert raw.train_step.python_function.__globals__["train_step"] is raw.train_step


def test_the_raw_mixed_step_is_float16_with_float32_weights(batch):
    """Its convolution runs in float16; its loss is the float32 step's to float16
    precision; the variables stay float32; one finite step counted at scale 2**15."""
    import tensorflow as tf

    raw = raw_cnn()
    images, labels = tf.constant(batch[0][:32]), tf.constant(batch[1][:32])
    model32 = raw.build_model(0)
    optimizer32 = raw.compile_model(model32)
    model16 = raw.build_model(0)
    optimizer16 = raw.compile_model(model16)
    step = RawMixedFloat16Step()
    graph = step.step.get_concrete_function(model16, optimizer16, images, labels).graph
    convolutions = [op for op in graph.get_operations() if op.type == "Conv2D"]
    assert convolutions and all(op.get_attr("T") == tf.float16 for op in convolutions)
    loss32, correct32 = raw.train_step(model32, optimizer32, images, labels)
    loss16, correct16 = step(model16, optimizer16, images, labels)
    assert loss16.dtype == tf.float32
    assert float(loss16) == pytest.approx(float(loss32), rel=1e-2)
    assert abs(float(correct16) - float(correct32)) <= 1
    assert all(v.dtype == tf.float32 for v in model16.trainable_variables)
    assert int(optimizer16.iterations.numpy()) == 1
    assert float(step.scale.numpy()) == 2.0**15 and int(step.finite_steps.numpy()) == 1
    moved = [
        float(tf.reduce_max(tf.abs(after - before)))
        for after, before in zip(
            model16.trainable_variables,
            raw.build_model(0).trainable_variables,
            strict=True,
        )
    ]
    assert all(0 < change < 2e-3 for change in moved)  # one Adam step: about lr


def test_the_raw_mixed_step_skips_overflow_and_grows_its_scale(batch):
    """Keras' LossScaleOptimizer's rules: non-finite gradients skip the step and halve
    the scale; `growth_steps` finite steps double it."""
    import tensorflow as tf

    raw = raw_cnn()
    images, labels = tf.constant(batch[0][:32]), tf.constant(batch[1][:32])
    model = raw.build_model(0)
    optimizer = raw.compile_model(model)
    before = [v.numpy() for v in model.trainable_variables]
    step = RawMixedFloat16Step(initial_scale=1e38, growth_steps=2)  # float16 overflows
    step(model, optimizer, images, labels)
    assert float(step.scale.numpy()) == pytest.approx(5e37)
    assert int(optimizer.iterations.numpy()) == 0
    for variable, value in zip(model.trainable_variables, before, strict=True):
        np.testing.assert_array_equal(variable.numpy(), value)
    step.scale.assign(2.0**10)
    step(model, optimizer, images, labels)
    assert float(step.scale.numpy()) == 2.0**10 and int(step.finite_steps.numpy()) == 1
    step(model, optimizer, images, labels)
    assert float(step.scale.numpy()) == 2.0**11 and int(step.finite_steps.numpy()) == 0
    assert int(optimizer.iterations.numpy()) == 2


@pytest.mark.slow
def test_the_suite_runs_from_the_command_line():
    """`python -m compare bench --suite gpu`, shrunk to one batch size and a few steps:
    the command a GPU session runs first, checked here on the CPU."""
    completed = run_cli(
        "bench",
        "--suite",
        "gpu",
        "--dataset",
        "digits",
        "--batch-sizes",
        "32",
        "--pair-steps",
        "2",
        "--pair-rounds",
        "3",
        "--format",
        "json",
        "--quiet",
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert {cell["batch_size"] for cell in result["cells"]} == {32}
    assert {(cell["xla"], cell["precision"]) for cell in result["cells"]} == {
        (False, "float32"),
        (False, "mixed_float16"),
        (True, "float32"),
        (True, "mixed_float16"),
    }
