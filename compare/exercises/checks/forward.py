"""The forward pass: the student's raw CNN, given the weights of Keras' CNN, against the
logits behind that Keras model's softmax (`model(images)._keras_logits`, which Keras'
loss reads), on 64 digits and on 7 others (a batch size written in the code shows).
The biases are drawn away from zero first, so that a bias left out shows.

Tolerance: each logit is the dense layer's sum of 5408 products, which another graph
may add in another order: reduction(5408), that is sqrt(5408) * 6e-8 = 4.4e-6 of the
largest logit; the convolution before it sums 9 terms, well within that.
"""

import numpy as np
import tensorflow as tf

import keras_impl.cnn
from compare.data import load_digits_28x28
from compare.exercises.grading import Comparison, Exercise, defined
from compare.exercises.verdict import reduction
from compare.language import N_, _

EXERCISE = Exercise(
    name="forward",
    title=N_("The raw CNN's forward pass"),
    statement=N_(
        "Write CNN.__call__(images): the logits of the lecture's CNN with tf.nn ops, "
        "from the variables its __init__ makes, as Keras' layers compute them."
    ),
    concept=N_(
        "The forward pass: convolution, bias and ReLU, max-pooling, flattening and a "
        "dense layer, each one op on a tensor whose shape you can follow."
    ),
    lesson="keras_impl/cnn.py: build_model; raw_tf_impl/cnn.py: CNN.__init__",
    wanted=("CNN",),
    hint=N_(
        "follow Keras' layers in order: convolution with no padding, its bias, ReLU, "
        "2x2 max-pooling, flatten as tf.reshape does, dense with its bias; return "
        "the logits"
    ),
)

SEED = 0
FLAT_SIZE = 13 * 13 * 32
BATCHES = ((0, 64), (64, 71))  # 64 digits, then 7 others
VARIABLES = ("conv_kernel", "conv_bias", "dense_kernel", "dense_bias")  # Keras' order


def keras_with_biases():
    """Keras' CNN, its biases drawn in [-0.1, 0.1] as training would move them."""
    model = keras_impl.cnn.build_model(seed=SEED)
    rng = np.random.default_rng(SEED)
    for layer in (model.layers[0], model.layers[-1]):
        bias = rng.uniform(-0.1, 0.1, size=layer.bias.shape).astype(np.float32)
        layer.bias.assign(bias)
    return model


def mistaken(weights, images, **mistake):
    """The forward pass with one mistake (the keyword arguments), as a student might
    write it: the grader's own twin."""
    conv_kernel, conv_bias, dense_kernel, dense_bias = weights
    x = tf.nn.conv2d(images, conv_kernel, 1, "VALID")  # (B, 26, 26, 32)
    if not mistake.get("no_conv_bias"):
        x = tf.nn.bias_add(x, conv_bias)
    if not mistake.get("no_relu"):
        x = tf.nn.relu(x)
    pool = tf.nn.avg_pool2d if mistake.get("average") else tf.nn.max_pool2d
    x = pool(x, ksize=2, strides=2, padding="VALID")  # (B, 13, 13, 32)
    if mistake.get("channels_first"):
        x = tf.transpose(x, [0, 3, 1, 2])  # (B, 32, 13, 13)
    x = tf.reshape(x, [-1, FLAT_SIZE])  # (B, 5408)
    x = x @ dense_kernel
    if not mistake.get("no_dense_bias"):
        x = x + dense_bias
    return tf.nn.softmax(x) if mistake.get("softmax") else x


def compare(student):
    model_class = defined(student, "CNN")
    keras_model = keras_with_biases()
    weights = [weight.numpy() for weight in keras_model.weights]
    digits = load_digits_28x28()
    batches = [tf.constant(digits.x_train[start:end]) for start, end in BATCHES]
    model = model_class(seed=SEED + 1)  # other weights, then Keras' copied in
    for name, weight in zip(VARIABLES, weights, strict=True):
        getattr(model, name).assign(weight)
    yours = [model(images) for images in batches]
    pairs = [
        (
            _("the logits of {count} digits").format(count=len(images)),
            logits,
            keras_model(images)._keras_logits,  # behind Keras' softmax
            reduction(FLAT_SIZE),
        )
        for images, logits in zip(batches, yours, strict=True)
    ]

    def mistakes():
        def twin(**mistake):
            return [mistaken(weights, images, **mistake) for images in batches]

        return [
            (
                N_(
                    "return the logits: Keras' last Dense applies the softmax, the raw "
                    "model leaves it to the loss, which takes the logits"
                ),
                [keras_model(images) for images in batches],  # Keras' probabilities
            ),
            (
                N_(
                    "Keras' Conv2D adds its bias to each of the 32 channels before the "
                    "ReLU: tf.nn.conv2d adds none"
                ),
                twin(no_conv_bias=True),
            ),
            (
                N_(
                    "the convolution's activation is a ReLU: its negative outputs "
                    "become 0 before the pooling"
                ),
                twin(no_relu=True),
            ),
            (
                N_(
                    "MaxPooling2D keeps each 2x2 window's largest value, not its "
                    "average"
                ),
                twin(average=True),
            ),
            (
                N_(
                    "Keras' Flatten reads the (13, 13, 32) block in its own order, "
                    "height, width, then channels, as tf.reshape does: no transpose"
                ),
                twin(channels_first=True),
            ),
            (
                N_("the dense layer adds its bias to the 10 logits"),
                twin(no_dense_bias=True),
            ),
        ]

    return Comparison(pairs, mistakes)


FLAT_SHAPES = N_(
    "each image flattens to 13 * 13 * 32 = 5408 values: Keras' Conv2D pads nothing "
    '("VALID": 28 -> 26), and its 2x2 pooling steps by 2 (26 -> 13)'
)
ERRORS = (  # the shapes that do not reach the dense layer's 5408 inputs
    ("but the requested shape requires a multiple of 5408", FLAT_SHAPES),
    ("In[1]: [5408,10]", FLAT_SHAPES),
)
