"""Exercise: batch normalisation, as Keras computes it (the reference solution)."""

import tensorflow as tf


#: Keras' BatchNormalization for images (B, height, width, channels): each channel
#: normalised with the batch's statistics in training, with moving averages of them in
#: inference. Its __init__ gives gamma and beta (the learned scale and shift), the
#: moving statistics (not trainable), momentum and epsilon.
class BatchNorm(tf.Module):
    def __init__(self, channels, momentum=0.99, epsilon=1e-3):
        super().__init__()
        self.momentum, self.epsilon = momentum, epsilon
        self.gamma = tf.Variable(tf.ones([channels]), name="gamma")
        self.beta = tf.Variable(tf.zeros([channels]), name="beta")
        self.moving_mean = tf.Variable(
            tf.zeros([channels]), trainable=False, name="moving_mean"
        )
        self.moving_variance = tf.Variable(
            tf.ones([channels]), trainable=False, name="moving_variance"
        )

    def __call__(self, x, training):  # (B, 26, 26, 32)
        #: x normalised per channel, then scaled by gamma and shifted by beta, as
        #: keras.layers.BatchNormalization() computes it. In training (training is
        #: True), use the batch's own mean and variance per channel, the variance
        #: divided by the number of values n, as Keras computes it; first update each
        #: moving statistic: it keeps `momentum` of its old value and takes 1 - momentum
        #: of the batch's. In inference, use the moving statistics and leave them as
        #: they are. Normalise as (x - mean) / sqrt(variance + epsilon). Update a
        #: variable with .assign(value).
        # BEGIN SOLUTION
        if training:
            mean = tf.reduce_mean(x, axis=(0, 1, 2))  # (32,): over batch, height, width
            variance = tf.reduce_mean(tf.square(x - mean), axis=(0, 1, 2))  # (32,)
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
        # END SOLUTION
