"""Exercise: the raw CNN's forward pass, with tf.nn ops (the reference solution)."""

import tensorflow as tf

from raw_tf_impl import cnn


#: raw_tf_impl/cnn.py's CNN: its __init__ gives the variables conv_kernel (3, 3, 1, 32),
#: conv_bias (32,), dense_kernel (5408, 10) and dense_bias (10,), and flat_size: the
#: 5408 values of a flattened image. This model has no dropout or batch norm: the
#: training argument changes nothing.
class CNN(cnn.CNN):
    def __call__(self, images, training=False):  # (B, 28, 28, 1)
        #: The logits (B, 10) of the images, as the layers of keras_impl/cnn.py compute
        #: them: Conv2D(32, (3, 3), activation="relu") with Keras' default padding
        #: (none), MaxPooling2D((2, 2)), Flatten, then Dense(10) without its softmax:
        #: the loss takes the logits. Use tf.nn ops and the variables above, no Keras.
        # BEGIN SOLUTION
        x = tf.nn.conv2d(images, self.conv_kernel, 1, "VALID")  # (B, 26, 26, 32)
        x = tf.nn.relu(tf.nn.bias_add(x, self.conv_bias))  # (B, 26, 26, 32)
        x = tf.nn.max_pool2d(x, ksize=2, strides=2, padding="VALID")  # (B, 13, 13, 32)
        # Keras' Flatten reads (height, width, channels) in order, as tf.reshape does
        x = tf.reshape(x, [-1, self.flat_size])  # (B, 5408)
        return x @ self.dense_kernel + self.dense_bias  # (B, 10) logits: no softmax
        # END SOLUTION
