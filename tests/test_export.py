"""Export, prediction and cross-loading: each style's saved model gives back its probabilities, raw
weights cross-load into Keras and back bit for bit, and `python -m compare predict` / `convert`
classify PNG files and .npz archives or fail in one line.

Tolerance: a save and load runs the same kernels on the same weights, so its probabilities are
equal bit for bit. Between the styles the forward passes differ by about one float32 rounding per
op (bias_add against +, Keras' softmax layer against tf.nn.softmax), as in test_parity.py: 1e-6
(measured on CPU: 0, as is the SavedModel's graph against the eager model).
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_impl
import keras_impl.cnn_bn_dropout
import keras_impl.export
import raw_tf_impl
import raw_tf_impl.cnn_bn_dropout
import raw_tf_impl.export
from compare.cli import main
from compare.errors import DataError
from compare.saved.convert import WeightMappingError, keras_to_raw, raw_to_keras
from compare.saved.export import export_model
from compare.saved.predict import (
    ModelError,
    load_classifier,
    predict,
    read_images,
)

PER_OP = 1e-6
RAW_BUILDERS = {
    "cnn": raw_tf_impl.build_model,
    "cnn_bn_dropout": raw_tf_impl.cnn_bn_dropout.build_model,
}


def raw_model(name, seed=1):
    """A raw model; cnn_bn_dropout gets non-trivial batch-norm state, so that inference really uses it."""
    model = RAW_BUILDERS[name](seed)
    if name == "cnn_bn_dropout":
        rng = np.random.default_rng(seed)
        norm = model.batch_norm
        for variable, low, high in [
            (norm.gamma, 0.5, 1.5),
            (norm.beta, -0.2, 0.2),
            (norm.moving_mean, -0.1, 0.1),
            (norm.moving_variance, 0.5, 2.0),
        ]:
            variable.assign(
                rng.uniform(low, high, size=variable.shape).astype("float32")
            )
    return model


def raw_probabilities(model, images):
    return tf.nn.softmax(model(tf.constant(images), training=False)).numpy()


def to_uint8(images):
    """Digits are uint8 / 255, so this gives back the exact pixels."""
    return np.round(images[..., 0] * 255).astype(np.uint8)  # (N, 28, 28)


def write_png(path, pixels):
    tf.io.write_file(str(path), tf.io.encode_png(pixels[..., None]))
    return path


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """A Keras cnn exported as .keras and a raw cnn exported as a SavedModel, with the live models."""
    folder = tmp_path_factory.mktemp("exports")
    keras_model, raw = keras_impl.build_model(seed=0), raw_model("cnn")
    return {
        "keras": (export_model("keras", keras_model, folder), keras_model),
        "raw_tf": (export_model("raw_tf", raw, folder), raw),
    }


@pytest.fixture
def digit_files(tmp_path, digits):
    """8 test digits as PNG files and as an .npz with labels."""
    pixels, labels = to_uint8(digits.x_test[:8]), digits.y_test[:8]
    pngs = [
        write_png(tmp_path / f"digit{index}.png", image)
        for index, image in enumerate(pixels)
    ]
    npz = tmp_path / "digits.npz"
    np.savez(npz, x_test=pixels, y_test=labels)
    return pngs, npz


# Each style's export ------------------------------------------------------------------
def test_export_names_files_by_style_and_model(exports):
    assert (
        exports["keras"][0].name == "keras_cnn.keras" and exports["keras"][0].is_file()
    )
    assert (
        exports["raw_tf"][0].name == "raw_tf_cnn"
        and (exports["raw_tf"][0] / "saved_model.pb").is_file()
    )


def test_keras_round_trip_gives_identical_probabilities(exports, batch):
    images, _ = batch
    path, keras_model = exports["keras"]
    loaded = keras_impl.export.load(path)
    np.testing.assert_array_equal(
        keras_impl.export.predict_probabilities(loaded, images),
        keras_impl.export.predict_probabilities(keras_model, images),
    )


@pytest.mark.parametrize("name", RAW_BUILDERS)
def test_raw_round_trip_through_the_serving_signature(tmp_path, batch, name):
    """The signature needs none of our code; it runs the model in inference mode."""
    images, _ = batch
    model = raw_model(name)
    loaded = raw_tf_impl.export.load(raw_tf_impl.export.save(model, tmp_path / name))
    assert "serving_default" in loaded.signatures
    probabilities = raw_tf_impl.export.predict_probabilities(loaded, images)
    np.testing.assert_allclose(
        probabilities, raw_probabilities(model, images), rtol=0, atol=PER_OP
    )
    assert probabilities.shape == (len(images), 10)
    # Loaded twice, the same graph and weights: bit-identical.
    np.testing.assert_array_equal(
        raw_tf_impl.export.predict_probabilities(
            raw_tf_impl.export.load(tmp_path / name), images
        ),
        probabilities,
    )


# Cross-loading ------------------------------------------------------------------------
@pytest.mark.parametrize("name", RAW_BUILDERS)
def test_raw_to_keras_and_back_keeps_every_weight_bit_for_bit(batch, name):
    images, _ = batch
    raw = raw_model(name)
    keras_model = raw_to_keras(raw)
    back = keras_to_raw(keras_model)
    assert type(back) is type(raw)
    for original, returned in zip(
        raw.variables, back.variables, strict=True
    ):  # tf.Module lists them in attribute order
        if (
            original.trainable or "moving" in original.name
        ):  # not dropout's seed counter: not a weight
            np.testing.assert_array_equal(
                returned.numpy(), original.numpy(), err_msg=original.name
            )
    keras_probabilities = keras_model.predict(images, verbose=0)
    np.testing.assert_allclose(
        keras_probabilities, raw_probabilities(raw, images), rtol=0, atol=PER_OP
    )
    np.testing.assert_array_equal(
        raw_probabilities(back, images), raw_probabilities(raw, images)
    )


def test_a_keras_model_of_another_shape_is_refused():
    other = keras.Sequential(
        [
            keras.layers.Input((28, 28, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(10),
        ]
    )
    with pytest.raises(
        WeightMappingError, match="neither the lecture's cnn nor cnn_bn_dropout"
    ):
        keras_to_raw(other)


def test_a_raw_module_of_other_variables_is_refused():
    with pytest.raises(
        WeightMappingError, match="neither the raw cnn nor cnn_bn_dropout"
    ):
        raw_to_keras(tf.Module())


def test_a_wrong_input_shape_is_refused_by_shape():
    with pytest.raises(
        WeightMappingError,
        match=r"layers\[3\].kernel is shaped \(6272, 10\) but dense_kernel",
    ):
        raw_to_keras(raw_model("cnn"), input_shape=(30, 30, 1))


def test_convert_files_both_ways(exports, tmp_path, batch, capsys):
    """.keras -> SavedModel -> .keras: the same weights, the same probabilities through every file."""
    images, _ = batch
    keras_path, keras_model = exports["keras"]
    raw_folder, keras_again = tmp_path / "raw", tmp_path / "again.keras"
    assert (
        main(
            [
                "convert",
                "--model",
                str(keras_path),
                "--to",
                "raw",
                "--output",
                str(raw_folder),
                "--quiet",
            ]
        )
        == 0
    )
    assert "layers[3].kernel" in capsys.readouterr().out
    assert (
        main(
            [
                "convert",
                "--model",
                str(raw_folder),
                "--to",
                "keras",
                "--output",
                str(keras_again),
                "--quiet",
            ]
        )
        == 0
    )
    for original, returned in zip(
        keras_model.weights, keras_impl.export.load(keras_again).weights, strict=True
    ):
        np.testing.assert_array_equal(returned.numpy(), original.numpy())
    reference = predict(keras_path, images)
    np.testing.assert_allclose(
        predict(raw_folder, images), reference, rtol=0, atol=PER_OP
    )
    np.testing.assert_array_equal(predict(keras_again, images), reference)


# Reading images and predicting --------------------------------------------------------
def test_png_files_and_npz_read_the_same_images(digit_files, digits):
    pngs, npz = digit_files
    png_images, png_labels, png_names = read_images(pngs)
    npz_images, npz_labels, npz_names = read_images([npz])
    np.testing.assert_array_equal(png_images, digits.x_test[:8])
    np.testing.assert_array_equal(npz_images, png_images)
    assert png_images.dtype == np.float32 and png_images.shape == (8, 28, 28, 1)
    assert png_labels is None and np.array_equal(npz_labels, digits.y_test[:8])
    assert png_names == [str(path) for path in pngs] and npz_names[3] == "digits.npz[3]"


@pytest.mark.parametrize("style", ["keras", "raw_tf"])
def test_both_exports_classify_png_files(exports, digit_files, style):
    path, _ = exports[style]
    classifier = load_classifier(path)
    assert classifier.style == style and classifier.input_shape == (
        28,
        28,
        1,
    )
    probabilities = predict(path, read_images(digit_files[0])[0])
    assert probabilities.shape == (8, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=PER_OP)


def test_predict_command_prints_a_row_per_image_and_the_accuracy(
    exports, digit_files, capsys
):
    _, npz = digit_files
    model = str(exports["raw_tf"][0])
    assert main(["predict", "--model", model, "--images", str(npz), "--quiet"]) == 0
    output = capsys.readouterr().out
    assert (
        "Predictions" in output and "digits.npz[7]" in output and "accuracy" in output
    )
    assert (
        main(
            [
                "predict",
                "--model",
                model,
                "--images",
                str(npz),
                "--format",
                "csv",
                "--quiet",
            ]
        )
        == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "image,predicted,probability,label" and len(lines) == 9


def test_predict_command_json_has_every_probability(exports, digit_files, capsys):
    import json

    assert (
        main(
            [
                "predict",
                "--model",
                str(exports["keras"][0]),
                "--images",
                *map(str, digit_files[0]),
                "--format",
                "json",
                "--quiet",
            ]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["implementation"] == "keras" and "accuracy" not in report
    assert [len(row["probabilities"]) for row in report["predictions"]] == [10] * 8
    assert all(
        row["probability"] == max(row["probabilities"]) for row in report["predictions"]
    )


# Bad inputs: one line, exit 1 ---------------------------------------------------------
def not_a_model(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not a model")
    return [
        "predict",
        "--model",
        path,
        "--images",
        write_png(tmp_path / "a.png", np.zeros((28, 28), np.uint8)),
    ]


def corrupt_keras_file(tmp_path):
    path = tmp_path / "broken.keras"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    return [
        "predict",
        "--model",
        path,
        "--images",
        write_png(tmp_path / "a.png", np.zeros((28, 28), np.uint8)),
    ]


def corrupt_png(tmp_path, exports):
    (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    return ["predict", "--model", exports["keras"][0], "--images", tmp_path / "bad.png"]


def wrong_size_png(tmp_path, exports):
    return [
        "predict",
        "--model",
        exports["raw_tf"][0],
        "--images",
        write_png(tmp_path / "big.png", np.zeros((40, 32), np.uint8)),
    ]


def npz_without_images(tmp_path, exports):
    np.savez(tmp_path / "other.npz", weights=np.zeros(3))
    return [
        "predict",
        "--model",
        exports["keras"][0],
        "--images",
        tmp_path / "other.npz",
    ]


def convert_over_an_existing_file(tmp_path, exports):
    (tmp_path / "taken.keras").write_text("mine")
    return [
        "convert",
        "--model",
        exports["raw_tf"][0],
        "--to",
        "keras",
        "--output",
        tmp_path / "taken.keras",
    ]


def convert_to_its_own_style(tmp_path, exports):
    return [
        "convert",
        "--model",
        exports["keras"][0],
        "--to",
        "keras",
        "--output",
        tmp_path / "same.keras",
    ]


@pytest.mark.parametrize(
    "make_args, message",
    [
        (
            lambda tmp, exports: [
                "predict",
                "--model",
                tmp / "missing.keras",
                "--images",
                tmp / "a.png",
            ],
            "missing.keras: no such file or folder",
        ),
        (
            lambda tmp, exports: not_a_model(tmp),
            "not a model: expected a .keras file or a SavedModel folder",
        ),
        (
            lambda tmp, exports: corrupt_keras_file(tmp),
            "broken.keras: not a readable keras model",
        ),
        (corrupt_png, "bad.png: not a readable PNG file"),
        (wrong_size_png, "model expects 28x28 images, "),
        (
            npz_without_images,
            "other.npz: no images: needs an array named x, images, x_test (found weights)",
        ),
        (
            convert_over_an_existing_file,
            "taken.keras already exists; not overwriting it",
        ),
        (convert_to_its_own_style, "is already a keras model"),
    ],
    ids=[
        "missing model",
        "not a model",
        "corrupt .keras",
        "corrupt PNG",
        "wrong size",
        "npz without images",
        "overwrite",
        "same style",
    ],
)
def test_bad_inputs_fail_with_one_error_line(
    tmp_path, exports, capsys, make_args, message
):
    assert (
        main([str(argument) for argument in make_args(tmp_path, exports)] + ["--quiet"])
        == 1
    )
    error = capsys.readouterr().err
    assert (
        message in error
        and len(error.strip().splitlines()) == 1
        and "Traceback" not in error
    ), error
    if message == "model expects 28x28 images, ":
        assert error.strip().endswith("big.png is 32x40")


def test_an_export_never_overwrites(tmp_path):
    model = raw_model("cnn")
    path = export_model("raw_tf", model, tmp_path / "new")  # the folder is created
    with pytest.raises(
        ModelError, match="raw_tf_cnn already exists; not overwriting it"
    ):
        export_model("raw_tf", model, tmp_path / "new")
    assert (path / "saved_model.pb").is_file()


def test_mixing_an_npz_with_png_files_is_refused(digit_files):
    pngs, npz = digit_files
    with pytest.raises(DataError, match="one .npz file or PNG files"):
        read_images([npz, *pngs])


def test_an_npz_member_without_an_npy_header_is_refused(tmp_path):
    import zipfile

    path = tmp_path / "raw.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x", b"no header")  # np.load hands back the bytes
    with pytest.raises(DataError, match="x is not a NumPy array"):
        read_images([path])
