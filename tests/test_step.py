"""`python -m compare step`: one mini-batch through both styles from the same weights.

The command's numbers are checked against a computation of the test's own (its own weight
copy, Keras' loss class, eager raw calls, its own tapes and Adam steps), its Portuguese
against the catalog, its flags against one-line errors. The CLI runs in this process
(compare.cli.main), but for one subprocess run marked slow.

Tolerances, float32 (6.0E-8 per rounding): the test computes the same quantities through
other calls (Keras' model call instead of a functional view of its layers, the raw model
eagerly instead of its traced graph), which may round differently but run the same
kernels, so a forward result agrees to 1E-6 of its scale (the parity tests' PER_OP) and a
gradient to 1.2E-5 of its scale (REDUCTION: a sum over 64 * 26 * 26 conv positions, more
than the batches here).
"""

import ast
import contextlib
import io
import json
import re
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import run_cli, succeeded

import keras_impl
import keras_impl.cnn_bn_dropout
import raw_tf_impl
from compare.language import catalog, scientific, speaking
from raw_tf_impl.cnn import sparse_categorical_crossentropy

ROOT = Path(__file__).resolve().parents[1]
PER_OP = 1e-6
REDUCTION = 1.2e-5
BATCH, SEED = 16, 3
STEP = ["step", "--dataset", "digits", "--quiet"]


def run_step(capsys, *flags):
    """main(step FLAGS) in this process: its stdout, after checking it succeeded quietly."""
    from compare.cli import main

    assert main([*STEP, *map(str, flags)]) == 0
    out, err = capsys.readouterr()
    assert err == "", err
    return out


@pytest.fixture(scope="module")
def cnn_report():
    """The JSON report of one step of the lecture's CNN (batch 16, seed 3)."""
    from compare.cli import main

    out, err = io.StringIO(), io.StringIO()
    flags = ["--batch-size", str(BATCH), "--seed", str(SEED), "--format", "json"]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert main([*STEP, *flags]) == 0, err.getvalue()
    return json.loads(out.getvalue())


def test_the_numbers_are_those_computed_directly(cnn_report, digits):
    """The batch, every shape, both losses, the logits, each gradient norm and difference
    and the weights after one Adam step, from the test's own computation."""
    report = cnn_report
    indices = np.random.default_rng(SEED).permutation(len(digits.x_train))[:BATCH]
    assert report["batch_indices"] == indices.tolist()  # the raw loop's first batch
    images, labels = digits.x_train[indices], digits.y_train[indices]

    keras_model = keras_impl.compile_model(keras_impl.build_model(SEED))
    raw_model = raw_tf_impl.build_model(SEED + 100)
    conv, dense = keras_model.layers[0], keras_model.layers[3]
    for raw_variable, keras_variable in [
        (raw_model.conv_kernel, conv.kernel),
        (raw_model.conv_bias, conv.bias),
        (raw_model.dense_kernel, dense.kernel),
        (raw_model.dense_bias, dense.bias),
    ]:
        raw_variable.assign(keras_variable.numpy())

    # Shapes: the batch, then each Keras layer's output shape, in both columns.
    expected = [[BATCH, 28, 28, 1]] + [
        [BATCH, *layer.output.shape[1:]] for layer in keras_model.layers
    ]
    assert [layer["keras_shape"] for layer in report["layers"]] == expected
    assert [layer["raw_shape"] for layer in report["layers"]] == expected
    assert [layer["raw_op"] for layer in report["layers"]] == [
        "Placeholder",
        "Relu",
        "MaxPool",
        "Reshape",
        "AddV2",
    ]

    # Losses, logits and gradients, each style on its own.
    keras_loss_function = keras.losses.SparseCategoricalCrossentropy()
    with tf.GradientTape() as tape:
        probabilities = keras_model(images, training=True)
        keras_loss = keras_loss_function(labels, probabilities)
    keras_gradients = tape.gradient(keras_loss, keras_model.trainable_weights)
    raw_variables = [
        raw_model.conv_kernel,
        raw_model.conv_bias,
        raw_model.dense_kernel,
        raw_model.dense_bias,
    ]  # Keras' order
    with tf.GradientTape() as tape:
        raw_logits = raw_model(tf.constant(images), training=True)
        raw_loss = sparse_categorical_crossentropy(labels, raw_logits)
    raw_gradients = tape.gradient(raw_loss, raw_variables)

    assert report["loss"]["keras"] == pytest.approx(float(keras_loss), rel=PER_OP)
    assert report["loss"]["raw_tf"] == pytest.approx(float(raw_loss), rel=PER_OP)
    assert report["loss"]["raw_tf"] == pytest.approx(
        report["loss"]["keras"], rel=PER_OP
    )
    logits_scale = float(np.abs(raw_logits.numpy()).max())
    assert report["logits"]["raw_tf_max_abs"] == pytest.approx(logits_scale, rel=PER_OP)
    keras_logits = probabilities._keras_logits.numpy()
    assert report["logits"]["keras_max_abs"] == pytest.approx(
        float(np.abs(keras_logits).max()), rel=PER_OP
    )

    names = ["conv_kernel", "conv_bias", "dense_kernel", "dense_bias"]
    assert [gradient["raw_tf"] for gradient in report["gradients"]] == names
    for gradient, keras_gradient, raw_gradient in zip(
        report["gradients"], keras_gradients, raw_gradients, strict=True
    ):
        keras_gradient, raw_gradient = keras_gradient.numpy(), raw_gradient.numpy()
        scale = float(np.abs(keras_gradient).max())
        assert gradient["keras_norm"] == pytest.approx(
            float(np.linalg.norm(keras_gradient)), rel=REDUCTION
        )
        assert gradient["raw_tf_norm"] == pytest.approx(
            float(np.linalg.norm(raw_gradient)), rel=REDUCTION
        )
        direct = float(np.abs(keras_gradient - raw_gradient).max())
        assert gradient["max_abs_difference"] == pytest.approx(
            direct, abs=REDUCTION * scale
        )
        assert gradient["max_abs_difference"] <= REDUCTION * scale

    # One Adam step in each style, as the command takes it.
    keras_model.optimizer.apply(keras_gradients, keras_model.trainable_weights)
    raw_optimizer = raw_tf_impl.compile_model(raw_model)
    by_name = dict(zip(names, raw_gradients, strict=True))
    raw_optimizer.apply(
        [by_name[v.name.split(":")[0]] for v in raw_model.trainable_variables],
        raw_model.trainable_variables,
    )
    for weight, keras_weight, raw_weight in zip(
        report["weights_after_step"],
        keras_model.trainable_weights,
        raw_variables,
        strict=True,
    ):
        direct = float(np.abs(keras_weight.numpy() - raw_weight.numpy()).max())
        assert weight["max_abs_difference"] == pytest.approx(direct, abs=1e-8)

    # The verdict: the largest of the differences reported, within their tolerances.
    largest = max(compared["max_abs_difference"] for compared in report["differences"])
    assert report["largest_difference"]["max_abs_difference"] == largest
    loss_gap = abs(report["loss"]["keras"] - report["loss"]["raw_tf"])
    assert report["differences"][0] == {
        **report["differences"][0],
        "what": "loss",
        "max_abs_difference": loss_gap,
    }
    assert largest >= loss_gap
    assert report["within_float32_rounding"] and report["same_shapes"]
    for compared in report["differences"]:
        assert 0 < compared["tolerance"] < 1e-3 * max(compared["scale"], 1)


def test_cnn_bn_dropout_shows_every_layer_and_its_raw_op(capsys):
    """Batch norm's output is what the raw ReLU takes, dropout's what its matmul takes;
    the moving statistics are compared after the step too."""
    report = json.loads(
        run_step(
            capsys, "--model", "cnn_bn_dropout", "--batch-size", 8, "--format", "json"
        )
    )
    keras_model = keras_impl.cnn_bn_dropout.build_model(0)
    expected = [[8, 28, 28, 1]] + [
        [8, *layer.output.shape[1:]] for layer in keras_model.layers
    ]
    layers = report["layers"]
    assert [layer["keras_shape"] for layer in layers] == expected
    assert [layer["raw_shape"] for layer in layers] == expected
    assert [(layer["keras_layer"], layer["raw_op"]) for layer in layers] == [
        ("Input", "Placeholder"),
        ("Conv2D", "Conv2D"),
        ("BatchNormalization", "AddV2"),
        ("ReLU", "Relu"),
        ("MaxPooling2D", "MaxPool"),
        ("Flatten", "Reshape"),
        ("Dropout", "SelectV2"),
        ("Dense + softmax", "AddV2"),
    ]
    assert report["dropout_rate"] == 0
    assert len(report["gradients"]) == 5  # conv kernel, gamma, beta, dense kernel, bias
    assert {"batch_norm.moving_mean", "batch_norm.moving_variance"} <= {
        weight["raw_tf"] for weight in report["weights_after_step"]
    }
    assert report["within_float32_rounding"]


def test_the_table_fits_80_columns_and_names_the_same_model(capsys):
    text = run_step(capsys)
    assert max(len(line) for line in text.splitlines()) <= 80
    assert text.startswith("One mini-batch through both styles, from the same weights")
    for label in ("Conv2D + relu", "conv_kernel", "layers[0].kernel", "Loss"):
        assert label in text
    verdict, words = text.strip().split("\n\n")[-2:]
    assert verdict.startswith("Largest difference: ") and "same model" in verdict
    assert words.startswith("Words used above:\n- mini-batch: ")  # the glossary's


def my_messages():
    """The English this command passes through _() (compare/step.py and its view)."""
    found = []
    for path in ("compare/step.py", "compare/views/step_view.py"):
        for node in ast.walk(ast.parse((ROOT / path).read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "_"
                and isinstance(node.args[0], ast.Constant)
            ):
                found.append(node.args[0].value)
    return found


def test_portuguese_has_none_of_the_english_and_brazilian_numbers(capsys):
    text = run_step(capsys, "--lang", "pt", "--model", "cnn_bn_dropout")
    messages = my_messages()
    assert len(messages) > 20 and all(message in catalog("pt") for message in messages)
    for message in messages:
        for piece in re.split(r"\{[^}]*\}", message):
            words = re.findall(r"[A-Za-z][A-Za-z'_]*", piece)
            if len(words) >= 2 and piece.strip() not in catalog("pt")[message]:
                assert piece.strip(" ;:,.()") not in text, piece
    assert text.startswith("Um minilote pelos dois estilos, a partir dos mesmos pesos")
    assert re.search(r"Perda +│ \d,\d{6} │ \d,\d{6}", text)  # the loss, 6 decimals
    assert not re.search(r"\d\.\d{6}|\d\.\dE", text)  # no English decimal point
    assert re.findall(r"\d,\dE-\d+", text)  # the tolerance at least, 6,0E-8
    assert max(len(line) for line in text.splitlines()) <= 80
    with speaking("pt"):
        assert (scientific(1.234e-7), scientific(0.0)) == ("1,2E-7", "0")
    assert scientific(1.234e-7) == "1.2E-7"


@pytest.mark.parametrize(
    "flags",
    [
        ["--batch-size", "0"],
        ["--batch-size", "1025"],
        ["--seed", "-1"],
        ["--model", "resnet50"],
        ["--format", "csv"],
        ["--lang", "fr"],
        ["--test-samples", "5"],  # the step draws from the training images only
    ],
    ids=lambda flags: " ".join(flags),
)
def test_a_bad_flag_is_one_line_and_exit_2(capsys, flags):
    from compare.cli import main

    with pytest.raises(SystemExit) as stopped:
        main([*STEP, *flags])
    assert stopped.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "error" in err, err


def test_a_batch_larger_than_the_data_is_one_line_and_exit_1(capsys):
    from compare.cli import main

    assert main([*STEP, "--train-samples", "8", "--batch-size", "16"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "--batch-size 16" in err, err


def test_a_root_flag_before_step_is_an_error(capsys):
    from compare.cli import main

    with pytest.raises(SystemExit) as stopped:
        main(["--epochs", "5", "step"])
    assert stopped.value.code == 2
    assert "--epochs before `step` has no effect" in capsys.readouterr().err


def test_the_tests_share_compares_weight_copy():
    """One copy of the weight mapping: tests/helpers.py hands out compare's pair."""
    import helpers

    from compare.saved.convert import keras_and_raw_pair

    assert helpers.keras_and_raw_pair is keras_and_raw_pair


@pytest.mark.slow
def test_step_as_a_user_runs_it():
    """`python -m compare step --lang pt` in its own process: the report on stdout, the
    progress on stderr, in Portuguese."""
    process = succeeded(run_cli(*STEP[:3], "--batch-size", "8", "--lang", "pt"))
    assert process.stdout.startswith("Um minilote pelos dois estilos")
    assert "O mesmo modelo." in process.stdout or "bit a bit" in process.stdout
    assert "Um minilote pelo Keras, depois pelo TensorFlow puro ..." in process.stderr
