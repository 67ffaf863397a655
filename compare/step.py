"""One mini-batch through both styles from the same weights (`python -m compare step`).

The Keras model and the raw model start from the same weights (the raw one is drawn from
another seed, then given the Keras weights by compare.saved.convert's one mapping), take
the raw loop's first mini-batch at the seed, and each runs one forward and backward pass
and one Adam step. Everything shown is measured, not restated: the Keras shapes are those
of the tensors its layers returned, the raw shapes are read from the graph of the raw
model's own __call__, traced for this batch (the lesson file holds no code for this).

`step` returns a JSON-ready dict; compare/views/step_view.py words it.
"""

import math

import numpy as np

from compare.errors import CompareError
from compare.language import _
from compare.saved.convert import keras_and_raw_pair, weight_pairs
from compare.styles import STYLES

# float32 rounds each result to within 2^-24 (6.0E-8) of its magnitude.
UNIT_ROUNDOFF = 2.0**-24

# Where each Keras layer's output stands in the raw model's graph: the tensor that the
# first op of a type produces ("out") or takes as its first input ("in"); None: what the
# function returns. The shapes themselves are read from the graph.
RAW_TENSORS = {
    "cnn": (("Relu", "out"), ("MaxPool", "out"), ("Reshape", "out"), (None, "out")),
    "cnn_bn_dropout": (
        ("Conv2D", "out"),
        ("Relu", "in"),  # batch norm: x * scale + shift, what the ReLU takes
        ("Relu", "out"),
        ("MaxPool", "out"),
        ("Reshape", "out"),
        ("MatMul", "in"),  # dropout: what the dense layer's matmul takes
        (None, "out"),
    ),
}
# cnn_bn_dropout's dropout rate in this step: the two styles draw their masks from
# different random generators, so at any other rate they would drop different units.
STEP_DROPOUT_RATE = 0.0


def rounding_tolerance(terms):
    """How far apart, relative to the values' scale, two float32 results may be when a sum
    of `terms` float32 numbers was added in a different order (another kernel, another
    reduction tree): each addition rounds by up to 6.0E-8 of the running sum and the
    errors, as likely up as down, add like a random walk: about sqrt(terms) * 6.0E-8 (the
    worst case, terms * 6.0E-8, needs every rounding to go the same way). The parity
    tests' numbers are this rule at batch 64: the gradients sum over 64 * 26 * 26 =
    43,264 conv positions, sqrt(43,264) * 6.0E-8 = 1.2E-5; their forward pass's 1E-6 is
    tighter because there both styles run the very same kernels in the same order."""
    return math.sqrt(terms) * UNIT_ROUNDOFF


def first_batch(dataset, batch_size, seed):
    """The raw loop's first mini-batch at `seed`: the first `batch_size` images of epoch
    1's order, which raw_tf_impl.cnn.train draws as numpy's default_rng(seed).permutation."""
    indices = np.random.default_rng(seed).permutation(len(dataset.x_train))[:batch_size]
    return indices, dataset.x_train[indices], dataset.y_train[indices]


def check_keras_on_tensorflow():
    import keras

    if keras.backend.backend() != "tensorflow":
        raise CompareError(
            _(
                "step runs Keras on TensorFlow, next to raw TensorFlow; KERAS_BACKEND "
                "is {backend}"
            ).format(backend=keras.backend.backend())
        )


def layer_label(layer):
    """'Conv2D + relu', 'MaxPooling2D': the class, and the activation where it has one."""
    activation = layer.get_config().get("activation")
    name = type(layer).__name__
    return f"{name} + {activation}" if activation not in (None, "linear") else name


def keras_pass(keras_model, images, labels):
    """Keras' forward pass, every layer's output kept (a functional view of the same
    layers), its compiled loss and the gradients of its trainable weights."""
    import keras
    import tensorflow as tf

    view = keras.Model(
        keras_model.inputs, [layer.output for layer in keras_model.layers]
    )
    with tf.GradientTape() as tape:
        outputs = view([images], training=True)
        loss = keras_model.compute_loss(x=images, y=labels, y_pred=outputs[-1])
    gradients = tape.gradient(loss, keras_model.trainable_weights)
    # Keras' softmax keeps the logits it was computed from on its output (its
    # cross-entropy reads them there, to stay stable); they are what the raw model returns.
    logits = outputs[-1]._keras_logits
    return {
        "shapes": [tuple(images.shape)] + [tuple(output.shape) for output in outputs],
        "labels": ["Input"] + [layer_label(layer) for layer in keras_model.layers],
        "loss": float(loss),
        "logits": logits.numpy(),
        "gradients": {
            id(variable): gradient.numpy()
            for variable, gradient in zip(
                keras_model.trainable_weights, gradients, strict=True
            )
        },
        "gradient_list": gradients,  # for the Adam step
    }


def raw_graph_tensors(graph_function, model_name):
    """The raw graph's input, then the tensor that stands for each Keras layer's output."""

    operations = graph_function.graph.get_operations()
    tensors = [graph_function.inputs[0]]
    for op_type, side in RAW_TENSORS[model_name]:
        if op_type is None:
            tensor = graph_function.outputs[0]
            while tensor.op.type == "Identity":  # tf.function's wrapping of the result
                tensor = tensor.op.inputs[0]
        else:
            found = [op for op in operations if op.type == op_type]
            if not found:
                raise CompareError(
                    _(
                        "the raw {model}'s graph has no {op} op: compare/step.py's "
                        "RAW_TENSORS no longer matches the lesson file"
                    ).format(model=model_name, op=op_type)
                )
            tensor = found[0].outputs[0] if side == "out" else found[0].inputs[0]
        tensors.append(tensor)
    return tensors


def raw_pass(raw_model, images, labels, model_name):
    """The raw model's own __call__, traced for this batch's shape: its graph gives the
    shapes, and running that same graph gives the logits; then the lesson's loss and the
    gradients of its trainable variables."""
    import tensorflow as tf

    loss_function = STYLES["raw_tf"].module("cnn").sparse_categorical_crossentropy
    forward = tf.function(lambda batch: raw_model(batch, training=True))
    traced = forward.get_concrete_function(tf.TensorSpec(images.shape, tf.float32))
    tensors = raw_graph_tensors(traced, model_name)
    variables = raw_model.trainable_variables
    with tf.GradientTape() as tape:
        logits = traced(tf.constant(images))
        loss = loss_function(tf.constant(labels), logits)
    gradients = tape.gradient(loss, variables)
    return {
        "shapes": [tuple(tensor.shape.as_list()) for tensor in tensors],
        "ops": [tensor.op.type for tensor in tensors],
        "loss": float(loss),
        "logits": logits.numpy(),
        "gradients": {
            id(variable): gradient.numpy()
            for variable, gradient in zip(variables, gradients, strict=True)
        },
        "gradient_list": gradients,  # for the Adam step
    }


def largest_abs(array):
    return float(np.max(np.abs(array))) if np.size(array) else 0.0


def difference(what, name, keras_value, raw_value, tolerance, absolute=False):
    """One compared quantity: its largest absolute difference, and whether that is within
    `tolerance` (relative to the Keras values' scale, or `absolute`)."""
    keras_value, raw_value = np.asarray(keras_value), np.asarray(raw_value)
    scale = largest_abs(keras_value)
    bound = tolerance if absolute else tolerance * scale
    gap = largest_abs(keras_value - raw_value)
    return {
        "what": what,
        "name": name,
        "max_abs_difference": gap,
        "scale": scale,
        "tolerance": bound,
        "within": gap <= bound,
    }


def tolerances(raw_shapes, batch_size, model_name):
    """(forward, gradient): how far apart, relative to their scale, the two styles' results
    may be (rounding_tolerance), from the longest sums the measured shapes imply. Each
    logit is a dot product over the flattened features, the loss a mean over the batch;
    batch norm's statistics and the conv gradients sum over every conv position."""
    conv_positions = math.prod(raw_shapes[1][:3])  # B * 26 * 26
    flat_features = raw_shapes[-2][-1]  # what the dense layer takes: 5408
    forward_terms = max(flat_features, batch_size)
    if model_name == "cnn_bn_dropout":
        forward_terms = max(forward_terms, conv_positions)
    return (
        rounding_tolerance(forward_terms),
        rounding_tolerance(max(forward_terms, conv_positions)),
    )


def compare_gradients(pairs, keras_side, raw_side, tolerance):
    """A row per trainable variable (Keras' order): both norms and the largest
    difference; and the differences compared."""
    rows, differences = [], []
    for keras_name, keras_variable, raw_name, raw_variable in pairs:
        if id(keras_variable) not in keras_side["gradients"]:  # moving statistics
            continue
        keras_gradient = keras_side["gradients"][id(keras_variable)]
        raw_gradient = raw_side["gradients"][id(raw_variable)]
        compared = difference(
            "gradient", raw_name, keras_gradient, raw_gradient, tolerance
        )
        differences.append(compared)
        rows.append(
            {
                "keras": keras_name,
                "raw_tf": raw_name,
                "keras_norm": float(np.linalg.norm(keras_gradient)),
                "raw_tf_norm": float(np.linalg.norm(raw_gradient)),
                "max_abs_difference": compared["max_abs_difference"],
            }
        )
    return rows, differences


def compare_weights(pairs, gradient_tolerance, learning_rate):
    """A row per weight after the step, batch norm's moving statistics included; and the
    differences compared. Both started equal; the first Adam step moves a weight by
    lr * m / (sqrt(v) + eps), about lr * sign(g), which a relative gradient difference
    d changes by about lr * d; a moving statistic moves by 1% of the batch's, as exact
    as the sums behind it. So: d * (the weight's scale + lr)."""
    rows, differences = [], []
    for keras_name, keras_variable, raw_name, raw_variable in pairs:
        keras_weight, raw_weight = keras_variable.numpy(), raw_variable.numpy()
        bound = gradient_tolerance * (largest_abs(keras_weight) + learning_rate)
        compared = difference(
            "weight", raw_name, keras_weight, raw_weight, bound, absolute=True
        )
        differences.append(compared)
        rows.append(
            {
                "keras": keras_name,
                "raw_tf": raw_name,
                "max_abs_difference": compared["max_abs_difference"],
            }
        )
    return rows, differences


def step(dataset, request, say):
    """The step's report on `dataset` (compare.data.Dataset); `request` is a
    compare.request.Request (its batch_size, lr, seed and model)."""
    import tensorflow as tf

    check_keras_on_tensorflow()
    tf.config.experimental.enable_op_determinism()  # same flags, same numbers
    indices, images, labels = first_batch(dataset, request.batch_size, request.seed)
    model_name = request.model
    options = (
        {"dropout_rate": STEP_DROPOUT_RATE} if model_name == "cnn_bn_dropout" else {}
    )
    keras_model, raw_model, raw_optimizer = keras_and_raw_pair(
        request.seed, request.lr, model_name, **options
    )
    say(_("One mini-batch through Keras, then through raw TensorFlow ..."))
    keras_side = keras_pass(keras_model, images, labels)
    raw_side = raw_pass(raw_model, images, labels, model_name)
    keras_model.optimizer.apply(
        keras_side["gradient_list"], keras_model.trainable_weights
    )
    raw_optimizer.apply(raw_side["gradient_list"], raw_model.trainable_variables)

    forward_tolerance, gradient_tolerance = tolerances(
        raw_side["shapes"], request.batch_size, model_name
    )
    pairs = weight_pairs(model_name, keras_model, raw_model)
    layers = [
        {
            "keras_layer": label,
            "keras_shape": list(keras_shape),
            "raw_op": op,
            "raw_shape": list(raw_shape),
        }
        for label, keras_shape, op, raw_shape in zip(
            keras_side["labels"],
            keras_side["shapes"],
            raw_side["ops"],
            raw_side["shapes"],
            strict=True,
        )
    ]
    gradients, gradient_differences = compare_gradients(
        pairs, keras_side, raw_side, gradient_tolerance
    )
    weights, weight_differences = compare_weights(pairs, gradient_tolerance, request.lr)
    differences = [
        difference(
            "loss", None, keras_side["loss"], raw_side["loss"], forward_tolerance
        ),
        difference(
            "logits", None, keras_side["logits"], raw_side["logits"], forward_tolerance
        ),
        *gradient_differences,
        *weight_differences,
    ]
    report = {
        "dataset": {
            "name": dataset.name,
            "source": dataset.source,
            "train_size": len(dataset.x_train),
        },
        "model": model_name,
        "batch_size": len(indices),
        "seed": request.seed,
        "lr": request.lr,
        "batch_indices": [int(index) for index in indices],
        "layers": layers,
        "loss": {"keras": keras_side["loss"], "raw_tf": raw_side["loss"]},
        "logits": {
            "keras_max_abs": largest_abs(keras_side["logits"]),
            "raw_tf_max_abs": largest_abs(raw_side["logits"]),
        },
        "gradients": gradients,
        "weights_after_step": weights,
        "differences": differences,
        "largest_difference": max(
            differences, key=lambda compared: compared["max_abs_difference"]
        ),
        "same_shapes": all(
            layer["keras_shape"] == layer["raw_shape"] for layer in layers
        ),
        "within_float32_rounding": all(compared["within"] for compared in differences),
        "unit_roundoff": UNIT_ROUNDOFF,
    }
    if options:
        report["dropout_rate"] = STEP_DROPOUT_RATE
    return report
