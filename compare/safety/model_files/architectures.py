"""The lecture's two networks as each style saves them: which one a model is, from its layers
(Keras, built or still a config) or its variables (raw), how big it may be, and how each
Keras weight maps onto a raw variable."""

import functools

from compare.errors import CompareError
from compare.language import _, number

KERAS_LAYERS = {  # each model's Keras layers, with what the weights' shapes do not pin down
    "cnn": ("Conv2D(relu)", "MaxPooling2D", "Flatten", "Dense(softmax)"),
    "cnn_bn_dropout": (
        "Conv2D(linear)",
        "BatchNormalization(epsilon=0.001)",
        "ReLU",
        "MaxPooling2D",
        "Flatten",
        "Dropout",
        "Dense(softmax)",
    ),  # epsilon: the raw BatchNorm's
}
WEIGHT_MAPS = {  # (Keras layer index, its weight) <-> the raw model's variable
    "cnn": [
        ((0, "kernel"), "conv_kernel"),
        ((0, "bias"), "conv_bias"),
        ((3, "kernel"), "dense_kernel"),
        ((3, "bias"), "dense_bias"),
    ],
    "cnn_bn_dropout": [
        ((0, "kernel"), "conv_kernel"),
        ((1, "gamma"), "batch_norm.gamma"),
        ((1, "beta"), "batch_norm.beta"),
        ((1, "moving_mean"), "batch_norm.moving_mean"),
        ((1, "moving_variance"), "batch_norm.moving_variance"),
        ((6, "kernel"), "dense_kernel"),
        ((6, "bias"), "dense_bias"),
    ],
}
KERAS_FIXED = {  # what the lecture fixes beyond KERAS_LAYERS: only inputs and classes vary
    "Conv2D": {
        "filters": 32,
        "kernel_size": [3, 3],
        "strides": [1, 1],
        "padding": "valid",
        "dilation_rate": [1, 1],
        "groups": 1,
    },
    "MaxPooling2D": {"pool_size": [2, 2], "strides": [2, 2], "padding": "valid"},
}
# Numbers in a model's weights (64 MB of float32); the cnn on 28x28 digits has 54,410.
MAX_WEIGHTS = 2**24


class ModelError(CompareError):
    """A model that is missing, unreadable, or not one this project exports."""


class WeightMappingError(ModelError):
    """Weights that do not map one to one onto the other style's model."""


def refused(where, reason):
    return ModelError(
        _("{where}: refused, not a model this project exported: {reason}").format(
            where=where, reason=reason
        )
    )


def config_signature(class_name, config):
    """The class, with the activation and batch norm's epsilon: 'Conv2D(relu)'."""
    details = [str(config["activation"])] if "activation" in config else []
    details += [f"epsilon={config['epsilon']}"] if "epsilon" in config else []
    return class_name + (f"({', '.join(details)})" if details else "")


def layer_signature(layer):
    return config_signature(type(layer).__name__, layer.get_config())


def weight_count(input_shape, classes):
    """About how many numbers either network holds for these inputs and classes (a 3x3
    VALID convolution of 32 filters, 2x2 pooling, a dense layer): bounded before any is
    allocated."""
    height, width, channels = input_shape
    return 3 * 3 * channels * 32 + (height - 2) // 2 * ((width - 2) // 2) * 32 * classes


def check_sizes(input_shape, classes, where):
    """Inputs and classes that give a network of at most MAX_WEIGHTS numbers."""
    if not (
        all(isinstance(size, int) and size > 0 for size in (*input_shape, classes))
        and min(input_shape[:2]) >= 4
        and weight_count(input_shape, classes) <= MAX_WEIGHTS
    ):
        raise refused(
            where,
            _(
                "inputs {shape} and {classes} classes give more than {cap} weights"
            ).format(
                shape=tuple(input_shape), classes=classes, cap=number(MAX_WEIGHTS)
            ),
        )


def keras_config_model(config, where):
    """('cnn' or 'cnn_bn_dropout', input shape, classes) from a .keras file's config.json,
    parsed, never built: the lecture's layers with the lecture's sizes, so that no config can
    make Keras allocate a model bigger than MAX_WEIGHTS."""
    try:
        model_config = config["config"]
        layers = model_config["layers"]
        top = (config["module"], config["class_name"], config.get("registered_name"))
        if top != ("keras", "Sequential", None) or not layers:
            raise TypeError
        if layers[0]["class_name"] != "InputLayer":
            raise not_built(where)
        batch_shape = layers[0]["config"]["batch_shape"]
        found = tuple(
            config_signature(layer["class_name"], layer["config"])
            for layer in layers[1:]
        )
        fixed = all(
            layer["module"] == "keras.layers"
            and layer.get("registered_name") is None
            and all(
                layer["config"].get(key) == value
                for key, value in KERAS_FIXED.get(layer["class_name"], {}).items()
            )
            for layer in layers
        )
        classes = layers[-1]["config"]["units"]
        shape_ok = len(batch_shape) == 4 and batch_shape[0] is None
    except (KeyError, IndexError, TypeError, AttributeError):
        found, fixed, shape_ok = None, False, False
    names = [name for name, expected in KERAS_LAYERS.items() if found == expected]
    if not (names and fixed and shape_ok):
        raise refused(
            where, _("its config is neither the lecture's cnn nor cnn_bn_dropout")
        )
    input_shape = tuple(batch_shape[1:])
    check_sizes(input_shape, classes, where)
    return names[0], input_shape, classes


def not_built(where):
    return ModelError(
        _(
            "{where}: the Keras model is not built (it was saved before it knew "
            "its input shape)"
        ).format(where=where)
    )


def keras_model_name(keras_model, where):
    """'cnn' or 'cnn_bn_dropout', from the layers of a built model."""
    if not keras_model.built:
        raise not_built(where)
    found = tuple(layer_signature(layer) for layer in keras_model.layers)
    for name, layers in KERAS_LAYERS.items():
        if found == layers:
            return name
    raise WeightMappingError(
        _(
            "{where}: layers {layers} are neither the lecture's cnn nor cnn_bn_dropout"
        ).format(where=where, layers=", ".join(found))
    )


def raw_variable(raw_model, path):
    """`raw_model.batch_norm.gamma` for 'batch_norm.gamma'; None where there is no such
    variable."""
    import tensorflow as tf

    found = functools.reduce(
        lambda module, name: getattr(module, name, None), path.split("."), raw_model
    )
    return found if isinstance(found, tf.Variable) else None


def raw_model_name(raw_model, where):
    """'cnn' or 'cnn_bn_dropout', from the variables: only cnn has conv_bias, only the other batch_norm."""
    for name, weight_map in WEIGHT_MAPS.items():
        if all(
            raw_variable(raw_model, path) is not None for _index, path in weight_map
        ):
            return name
    expected = _(" or ").join(
        ", ".join(path for _index, path in weight_map)
        for weight_map in WEIGHT_MAPS.values()
    )
    raise WeightMappingError(
        _(
            "{where}: neither the raw cnn nor cnn_bn_dropout (expected the variables "
            "{expected})"
        ).format(where=where, expected=expected)
    )
