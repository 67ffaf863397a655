MUTATIONS = [
    (
        "variance = tf.reduce_mean(tf.square(x - mean), axis=(0, 1, 2))  # (32,)",
        "n = tf.cast(tf.size(x) // tf.shape(x)[-1], x.dtype)  # B * height * width\n"
        "            variance = tf.reduce_sum(tf.square(x - mean), axis=(0, 1, 2)) / "
        "(n - 1)",
        "Keras' variance is the biased one: the mean of the squared deviations, "
        "divided by n, not n - 1",
    ),
    (
        "self.moving_mean * self.momentum + mean * (1 - self.momentum)",
        "self.moving_mean * (1 - self.momentum) + mean * self.momentum",
        "momentum is the share of the old moving statistic that stays; the batch's "
        "statistic brings the rest, 1 - momentum",
    ),
    (
        "self.moving_variance * self.momentum + variance * (1 - self.momentum)",
        "self.moving_variance * (1 - self.momentum) + variance * self.momentum",
        "momentum is the share of the old moving statistic that stays; the batch's "
        "statistic brings the rest, 1 - momentum",
    ),
    (
        "            self.moving_mean.assign(\n"
        "                self.moving_mean * self.momentum + mean * (1 - self.momentum)\n"
        "            )\n"
        "            self.moving_variance.assign(\n"
        "                self.moving_variance * self.momentum + variance * (1 - "
        "self.momentum)\n"
        "            )\n",
        "",
        "in training, update moving_mean and moving_variance with .assign: inference "
        "will need them",
    ),
    (
        "mean, variance = self.moving_mean, self.moving_variance",
        "mean, variance = tf.nn.moments(x, axes=(0, 1, 2))",
        "in inference (training=False), normalise with the moving statistics, not with "
        "the batch's",
    ),
    (
        "if training:",
        "if True:",
        "training=False must change what the layer does: in inference, use the moving "
        "statistics and leave them unchanged",
    ),
    (
        "tf.math.rsqrt(variance + self.epsilon)",
        "1 / (tf.sqrt(variance) + self.epsilon)",
        "epsilon goes inside the square root, added to the variance: sqrt(variance + "
        "epsilon), as Keras computes it",
    ),
    (
        "mean = tf.reduce_mean(x, axis=(0, 1, 2))",
        "mean = tf.reduce_mean(x, axis=0)",
        "one mean and one variance per channel: reduce over the batch, height and "
        "width (axes 0, 1 and 2), leaving shape (channels,)",
    ),
    (
        "        else:\n"
        "            mean, variance = self.moving_mean, self.moving_variance\n",
        "        mean, variance = self.moving_mean, self.moving_variance\n",
        "in training, normalise with the batch's own mean and variance; the moving "
        "averages are for inference",
    ),
    (
        "        scale = tf.math.rsqrt(variance + self.epsilon) * self.gamma  # (32,)\n"
        "        return x * scale + (self.beta - mean * scale)  # (B, 26, 26, 32)\n",
        "        scale = tf.math.rsqrt(variance + self.epsilon)  # (32,)\n"
        "        return x * scale - mean * scale  # (B, 26, 26, 32)\n",
        "after normalising, scale by gamma and shift by beta: the layer's learned "
        "parameters",
    ),
]
