"""The lecture's CNN with batch norm and dropout, in pure TensorFlow: step 1, define.

Both layers are written by hand. Compile, train and evaluate are cnn.py's, unchanged:
they pass `training` to the model explicitly, and that flag is all these layers need.
Forget it (or pass the wrong value) and evaluation uses batch statistics and drops
units: the classic trap. Its twin is keras_impl/cnn_bn_dropout.py.
"""

import tensorflow as tf

from raw_tf_impl.cnn import glorot_uniform


# Step 1: define ----------------------------------------------------------------
class BatchNorm(tf.Module):
    """Keras' BatchNormalization: normalise each channel with the batch's statistics in
    training, with moving averages of them in inference. A frozen one
    (`trainable = False`) always runs in inference mode, as in Keras."""

    def __init__(self, channels, momentum=0.99, epsilon=1e-3):
        super().__init__()
        self.momentum, self.epsilon = momentum, epsilon
        self.trainable = True
        self.gamma = tf.Variable(tf.ones([channels]), name="gamma")  # learned scale
        self.beta = tf.Variable(tf.zeros([channels]), name="beta")  # learned shift
        self.moving_mean = tf.Variable(
            tf.zeros([channels]), trainable=False, name="moving_mean"
        )
        self.moving_variance = tf.Variable(
            tf.ones([channels]), trainable=False, name="moving_variance"
        )

    def __call__(self, x, training):  # (B, 26, 26, 32)
        if training and self.trainable:
            mean = tf.reduce_mean(x, axis=(0, 1, 2))  # (32,)
            # The biased variance (divided by n, not n - 1), as Keras computes it.
            variance = tf.reduce_mean(tf.square(x - mean), axis=(0, 1, 2))  # (32,)
            # Moving averages first, then normalise with the batch's statistics,
            # as Keras does.
            self.moving_mean.assign(
                self.moving_mean * self.momentum + mean * (1 - self.momentum)
            )
            self.moving_variance.assign(
                self.moving_variance * self.momentum + variance * (1 - self.momentum)
            )
        else:
            mean, variance = self.moving_mean, self.moving_variance
        scale = tf.math.rsqrt(variance + self.epsilon) * self.gamma  # (32,)
        return x * scale + (self.beta - mean * scale)  # (B, 26, 26, 32)


def dropout(x, rate, seed):
    """Inverted dropout: zero each unit with probability `rate` and scale the survivors
    by 1 / (1 - rate), so the expected activation stays the same. The mask is stateless:
    the same seed, the same mask."""
    keep = tf.random.stateless_uniform(tf.shape(x), seed=seed) >= rate
    return tf.where(keep, x / (1 - rate), tf.zeros_like(x))


class CNNBatchNormDropout(tf.Module):
    """Conv(32, 3x3) -> batch norm -> ReLU -> max-pool 2x2 -> flatten -> dropout
    -> dense; returns logits. The forward pass depends on `training`."""

    def __init__(
        self, seed=0, input_shape=(28, 28, 1), num_classes=10, dropout_rate=0.5
    ):
        super().__init__()
        height, width, channels = input_shape
        # 13 * 13 * 32 = 5408 for 28x28 images
        self.flat_size = (height - 2) // 2 * ((width - 2) // 2) * 32
        rng = tf.random.Generator.from_seed(seed)
        # No conv bias: batch norm's beta is the bias.
        self.conv_kernel = tf.Variable(  # (3, 3, 1, 32)
            glorot_uniform(
                rng, (3, 3, channels, 32), fan_in=9 * channels, fan_out=9 * 32
            ),
            name="conv_kernel",
        )
        self.batch_norm = BatchNorm(32)
        self.dense_kernel = tf.Variable(  # (5408, 10)
            glorot_uniform(
                rng, (self.flat_size, num_classes), self.flat_size, num_classes
            ),
            name="dense_kernel",
        )
        self.dense_bias = tf.Variable(tf.zeros([num_classes]), name="dense_bias")
        self.dropout_rate = dropout_rate
        # [seed, step]: bumped on each training call, for a new mask per step.
        self.dropout_seed = tf.Variable([seed, 0], dtype=tf.int64, trainable=False)

    def __call__(self, images, training=False):  # (B, 28, 28, 1)
        # Output: (B, 26, 26, 32)
        x = tf.nn.conv2d(images, self.conv_kernel, strides=1, padding="VALID")
        x = tf.nn.relu(self.batch_norm(x, training))  # (B, 26, 26, 32)
        x = tf.nn.max_pool2d(x, ksize=2, strides=2, padding="VALID")  # (B, 13, 13, 32)
        x = tf.reshape(x, [-1, self.flat_size])  # (B, 5408)
        if training:
            # Output: (B, 5408)
            x = dropout(x, self.dropout_rate, self.dropout_seed.assign_add([0, 1]))
        return x @ self.dense_kernel + self.dense_bias  # (B, 10) logits


def build_model(seed=0, input_shape=(28, 28, 1), num_classes=10, dropout_rate=0.5):
    return CNNBatchNormDropout(seed, input_shape, num_classes, dropout_rate)
