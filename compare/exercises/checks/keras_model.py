"""The lecture's CNN rebuilt with Keras: here the answer key is the raw lesson and Keras
is the student's tool. The grader copies a raw CNN's weights (raw_tf_impl/cnn.py, its
biases drawn away from zero) into the student's keras.Sequential, in the raw order
conv_kernel, conv_bias, dense_kernel, dense_bias, then compares the model's output on 64
digits with softmax(raw logits), and its compiled loss (keras_impl/cnn.py's
compile_model) with the raw sparse_categorical_crossentropy. The pairs' "Keras" side is
the raw lesson's number.

Tolerance: each logit is the dense layer's sum of 5408 products, which Keras' graph may
add in another order than the raw one: reduction(5408), that is sqrt(5408) * 6e-8 =
4.4e-6 of the largest value; the softmax and the loss carry that difference on.
"""

import keras
import numpy as np
import tensorflow as tf

import keras_impl.cnn
import raw_tf_impl.cnn
from compare.data import load_digits_28x28
from compare.exercises.grading import Comparison, Exercise, defined
from compare.exercises.verdict import Broken, reduction
from compare.language import N_, _

EXERCISE = Exercise(
    name="keras_model",
    title=N_("The lecture's CNN with keras.Sequential"),
    statement=N_(
        "Write build_model(input_shape, num_classes): the raw CNN of the lesson as a "
        "keras.Sequential. This time the raw lesson is the answer key: the grader "
        "gives your model the raw CNN's weights and compares its probabilities and "
        "its compiled loss with the raw model's."
    ),
    concept=N_(
        "Keras' layers are the raw ops with their weights inside: Conv2D holds a "
        "kernel and a bias, Dense too, and an activation is part of the layer."
    ),
    lesson="raw_tf_impl/cnn.py: CNN; keras_impl/cnn.py: build_model",
    wanted=("build_model",),
    hint=N_(
        "one Keras layer per stage of the raw CNN, each holding its own weights and "
        "activation: the convolution with its bias and ReLU, the pooling, the "
        "flattening, the dense layer with its softmax"
    ),
)

SEED = 0
IMAGES = 64
FLAT_SIZE = 13 * 13 * 32
VARIABLES = ("conv_kernel", "conv_bias", "dense_kernel", "dense_bias")


def raw_with_biases():
    """The raw CNN, its biases drawn in [-0.1, 0.1] as training would move them."""
    model = raw_tf_impl.cnn.build_model(seed=SEED)
    rng = np.random.default_rng(SEED)
    for bias in (model.conv_bias, model.dense_bias):
        bias.assign(rng.uniform(-0.1, 0.1, size=bias.shape).astype(np.float32))
    return model


def mistaken_logits(raw, images, relu=True, pool=tf.nn.max_pool2d):
    """The raw forward pass with one mistake: the grader's own twin."""
    x = tf.nn.bias_add(tf.nn.conv2d(images, raw.conv_kernel, 1, "VALID"), raw.conv_bias)
    x = tf.nn.relu(x) if relu else x  # (B, 26, 26, 32)
    x = pool(x, ksize=2, strides=2, padding="VALID")  # (B, 13, 13, 32)
    return tf.reshape(x, [-1, FLAT_SIZE]) @ raw.dense_kernel + raw.dense_bias


def shapes(variables):
    return [tuple(int(size) for size in variable.shape) for variable in variables]


def student_model(build_model, images):
    """The student's model, built on a first image if it has no Input yet."""
    model = build_model(input_shape=(28, 28, 1), num_classes=10)
    if not isinstance(model, keras.Model):
        raise Broken(
            _("build_model returns {kind}, not a Keras model").format(
                kind=type(model).__name__
            )
        )
    if not model.built:
        model(images[:1])
    return model


def compare(student):
    build_model = defined(student, "build_model")
    digits = load_digits_28x28()
    images, labels = digits.x_train[:IMAGES], digits.y_train[:IMAGES]
    model = student_model(build_model, images)
    raw = raw_with_biases()
    raw_weights = [getattr(raw, name) for name in VARIABLES]
    if shapes(model.weights) != shapes(raw_weights):
        raise Broken(
            _(
                "your model's weights are shaped {yours}; the raw CNN's, which the "
                "grader copies in, are {raw}"
            ).format(yours=shapes(model.weights), raw=shapes(raw_weights))
        )
    model.set_weights([weight.numpy() for weight in raw_weights])
    keras_impl.cnn.compile_model(model)  # the lesson's loss, optimizer and metric
    probabilities = model(images)
    loss = model.compute_loss(x=images, y=labels, y_pred=probabilities)
    logits = raw(tf.constant(images))
    pairs = [
        (
            _("your model's probabilities for 64 digits, against the raw CNN's"),
            probabilities,
            tf.nn.softmax(logits),
            reduction(FLAT_SIZE),
        ),
        (
            _("your model's compiled loss on 64 digits, against the raw CNN's"),
            loss,
            raw_tf_impl.cnn.sparse_categorical_crossentropy(labels, logits),
            reduction(FLAT_SIZE),
        ),
    ]

    def mistakes():
        def twin(**mistake):
            wrong = mistaken_logits(raw, tf.constant(images), **mistake)
            return [
                tf.nn.softmax(wrong),
                raw_tf_impl.cnn.sparse_categorical_crossentropy(labels, wrong),
            ]

        return [
            (
                N_(
                    "the lecture's last Dense gives probabilities: its activation is "
                    "the softmax, which the compiled loss turns back into logits"
                ),
                [logits, None],
            ),
            (
                N_(
                    "the output's activation is the softmax: a ReLU's outputs are not "
                    "probabilities"
                ),
                [tf.nn.relu(logits), None],
            ),
            (
                N_(
                    "the convolution's activation is a ReLU: Conv2D applies none "
                    "unless its activation argument names one"
                ),
                twin(relu=False),
            ),
            (
                N_(
                    "the lecture's pooling keeps each 2x2 window's largest value: "
                    "MaxPooling2D, not AveragePooling2D"
                ),
                twin(pool=tf.nn.avg_pool2d),
            ),
        ]

    return Comparison(pairs, mistakes)
