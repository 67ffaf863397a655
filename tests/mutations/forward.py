MUTATIONS = [
    (
        "return x @ self.dense_kernel + self.dense_bias",
        "return tf.nn.softmax(x @ self.dense_kernel + self.dense_bias)",
        "return the logits: Keras' last Dense applies the softmax, the raw model leaves "
        "it to the loss, which takes the logits",
    ),
    (
        "x = tf.nn.relu(tf.nn.bias_add(x, self.conv_bias))",
        "x = tf.nn.relu(x)",
        "Keras' Conv2D adds its bias to each of the 32 channels before the ReLU: "
        "tf.nn.conv2d adds none",
    ),
    (
        "x = tf.nn.relu(tf.nn.bias_add(x, self.conv_bias))",
        "x = tf.nn.bias_add(x, self.conv_bias)",
        "the convolution's activation is a ReLU: its negative outputs become 0 before "
        "the pooling",
    ),
    (
        "x = tf.nn.max_pool2d(x,",
        "x = tf.nn.avg_pool2d(x,",
        "MaxPooling2D keeps each 2x2 window's largest value, not its average",
    ),
    (
        "x = tf.reshape(x, [-1, self.flat_size])",
        "x = tf.reshape(tf.transpose(x, [0, 3, 1, 2]), [-1, self.flat_size])",
        "Keras' Flatten reads the (13, 13, 32) block in its own order, height, width, "
        "then channels, as tf.reshape does: no transpose",
    ),
    (
        "return x @ self.dense_kernel + self.dense_bias",
        "return x @ self.dense_kernel",
        "the dense layer adds its bias to the 10 logits",
    ),
    (
        'self.conv_kernel, 1, "VALID")',
        'self.conv_kernel, 1, "SAME")',
        "each image flattens to 13 * 13 * 32 = 5408 values: Keras' Conv2D pads nothing "
        '("VALID": 28 -> 26), and its 2x2 pooling steps by 2 (26 -> 13)',
    ),
    (
        "ksize=2, strides=2,",
        "ksize=2, strides=1,",
        "each image flattens to 13 * 13 * 32 = 5408 values: Keras' Conv2D pads nothing "
        '("VALID": 28 -> 26), and its 2x2 pooling steps by 2 (26 -> 13)',
    ),
]
