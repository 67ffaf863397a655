"""Floating-point operations per training sample of the lecture's CNN, from its layer shapes.

A multiply-add counts as 2 FLOPs. Only the convolution and the dense layer count: bias, ReLU,
max-pool, softmax and Adam add about 11% more at batch 128 (124,160 per sample), all of them
memory-bound; compare/bench/roofline.py counts every op, and its bytes.
"""


def conv_multiply_adds(height, width, channels, filters, kernel):
    """A 'valid' convolution: one kernel-window dot product per output value."""
    return (
        (height - kernel + 1)
        * (width - kernel + 1)
        * filters
        * kernel
        * kernel
        * channels
    )


def training_flops_per_sample(
    input_shape=(28, 28, 1), filters=32, kernel=3, pool=2, classes=10
):
    """Forward + backward of Conv2D -> MaxPool -> Flatten -> Dense for one sample.

    Backward needs, for each layer, the gradient of its kernel (as many multiply-adds as the
    forward pass) and, except for the first layer whose input is data, of its input (as many again).
    """
    height, width, channels = input_shape
    conv = conv_multiply_adds(height, width, channels, filters, kernel)
    flat = (height - kernel + 1) // pool * ((width - kernel + 1) // pool) * filters
    dense = flat * classes
    forward = conv + dense
    backward = (
        conv + 2 * dense
    )  # conv: kernel gradient only; dense: kernel and input gradients
    return 2 * (forward + backward)
