"""Cross-loading weights between the two styles, by an explicit mapping; `python -m compare convert`.

The styles never import each other: this module knows both. Each Keras weight maps to
one raw variable of exactly the same shape. Nothing is transposed: Keras' Flatten orders
(height, width, channels) as tf.reshape does. A model that does not map is refused in one line.
"""

from pathlib import Path

from compare.errors import CompareError
from compare.language import _
from compare.safety.model_files.architectures import (
    WEIGHT_MAPS,
    WeightMappingError,
    keras_model_name,
    raw_model_name,
    raw_variable,
)
from compare.saved.export import refuse_to_overwrite, save_new
from compare.saved.predict import export_module, load_classifier
from compare.styles import STYLES


def build_model(style, model_name, **options):
    """A fresh model of one style; dropout keeps its default rate (used in training only)."""
    return STYLES[style].module(model_name).build_model(**options)


def weight_pairs(model_name, keras_model, raw_model):
    """(Keras name, Keras variable, raw name, raw variable) for every weight of `model_name`."""
    return [
        (
            f"layers[{index}].{weight}",
            getattr(keras_model.layers[index], weight),
            path,
            raw_variable(raw_model, path),
        )
        for (index, weight), path in WEIGHT_MAPS[model_name]
    ]


def copy_weights(model_name, keras_model, raw_model, to, where):
    """Assign each weight of one model to its twin in the other (`to`: 'keras' or 'raw_tf')."""
    for keras_name, keras_variable, raw_name, raw_var in weight_pairs(
        model_name, keras_model, raw_model
    ):
        if tuple(keras_variable.shape) != tuple(raw_var.shape):
            raise WeightMappingError(
                _(
                    "{where}: {keras_name} is shaped {keras_shape} but {raw_name} {raw_shape}"
                ).format(
                    where=where,
                    keras_name=keras_name,
                    keras_shape=tuple(keras_variable.shape),
                    raw_name=raw_name,
                    raw_shape=tuple(raw_var.shape),
                )
            )
        source, target = (
            (keras_variable, raw_var) if to == "raw_tf" else (raw_var, keras_variable)
        )
        target.assign(source.numpy())  # a copy: the two models share nothing


def keras_and_raw_pair(seed=0, learning_rate=1e-3, model_name="cnn", **options):
    """A compiled Keras model, and a raw model with its Adam, holding the same weights: the
    raw model is drawn from another seed, then given the Keras weights (`options`, such as
    dropout_rate, go to both models' build_model)."""
    keras_model = build_model("keras", model_name, seed=seed, **options)
    STYLES["keras"].module("cnn").compile_model(keras_model, learning_rate)
    raw_model = build_model("raw_tf", model_name, seed=seed + 1, **options)
    copy_weights(model_name, keras_model, raw_model, "raw_tf", "keras_and_raw_pair")
    raw_optimizer = (
        STYLES["raw_tf"].module("cnn").compile_model(raw_model, learning_rate)
    )
    return keras_model, raw_model, raw_optimizer


def keras_to_raw(keras_model, where="the Keras model"):
    """A new raw model holding `keras_model`'s weights."""
    model_name = keras_model_name(keras_model, where)
    raw_model = build_model(
        "raw_tf",
        model_name,
        input_shape=tuple(keras_model.input_shape[1:]),
        num_classes=keras_model.layers[-1].units,
    )
    copy_weights(model_name, keras_model, raw_model, "raw_tf", where)
    return raw_model


def raw_to_keras(raw_model, input_shape=(28, 28, 1), where="the raw model"):
    """A new Keras model holding `raw_model`'s weights (a live raw model or a loaded SavedModel);
    `input_shape` is the one it was built for. The Keras model is not compiled."""
    model_name = raw_model_name(raw_model, where)
    keras_model = build_model(
        "keras",
        model_name,
        input_shape=tuple(input_shape),
        num_classes=raw_variable(raw_model, "dense_bias").shape[0],
    )
    copy_weights(model_name, keras_model, raw_model, "keras", where)
    return keras_model


def convert(source, to, destination):
    """Load `source` (a .keras file or a SavedModel folder), copy its weights into a new model of the
    other style (`to`: 'keras' or 'raw_tf') and save that at `destination`; returns the mapping used."""
    destination = Path(destination)
    refuse_to_overwrite(destination, "--output")
    folder = destination.parent
    if not folder.is_dir():
        raise CompareError(
            _("--output {destination}: folder {folder} does not exist").format(
                destination=destination, folder=folder
            )
        )
    if to == "keras" and destination.suffix != ".keras":
        raise CompareError(
            _(
                "--output {destination}: a Keras model file's name must end in .keras"
            ).format(destination=destination)
        )
    classifier = load_classifier(source)
    if classifier.style == to:
        raise CompareError(
            _("{source} is already a {to} model").format(source=source, to=to)
        )
    if to == "raw_tf":
        keras_model, raw_model = (
            classifier.model,
            keras_to_raw(classifier.model, str(source)),
        )
        save_new(
            destination,
            lambda to: export_module("raw_tf").save(
                raw_model, to, classifier.input_shape
            ),
            "--output",
        )
    else:
        raw_model, keras_model = (
            classifier.model,
            raw_to_keras(classifier.model, classifier.input_shape, str(source)),
        )
        save_new(
            destination,
            lambda to: export_module("keras").save(keras_model, to),
            "--output",
        )
    model_name = keras_model_name(keras_model, str(source))
    weights = [
        {"keras": keras_name, "raw_tf": raw_name, "shape": list(keras_variable.shape)}
        for keras_name, keras_variable, raw_name, _ in weight_pairs(
            model_name, keras_model, raw_model
        )
    ]
    return {
        "source": str(source),
        "destination": str(destination),
        "model": model_name,
        "weights": weights,
    }
