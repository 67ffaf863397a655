"""The lecture's practical example, ResNet50 transfer learning, in pure TensorFlow.

ResNet50 written out: the stem, four stages of bottleneck blocks with projection
shortcuts, batch normalisation, global average pooling, and the lecture's head. Its
weights come from Keras' ResNet50 (the model object or a weights file) through an
explicit name and shape mapping, with no Keras import. Compile, train and evaluate are
cnn.py's, unchanged: freezing decides which variables `trainable_variables` returns.
Its twin is keras_impl/resnet50_transfer.py.
"""

import os

import h5py
import numpy as np
import tensorflow as tf

from raw_tf_impl.cnn import glorot_uniform
from raw_tf_impl.cnn_bn_dropout import BatchNorm

# Step 1: define ----------------------------------------------------------------
# Per channel, on the 0-255 scale.
IMAGENET_MEAN_BGR = np.array([103.939, 116.779, 123.68], np.float32)
# Per stage: name, filters, blocks, stride of the first block.
# 3 + 4 + 6 + 3 = 16 blocks of 3 convolutions, + the stem = 49.
STAGES = (
    ("conv2", 64, 3, 1),
    ("conv3", 128, 4, 2),
    ("conv4", 256, 6, 2),
    ("conv5", 512, 3, 2),
)
# Keras' ResNet uses this, not BatchNormalization's default 1e-3.
BATCH_NORM_EPSILON = 1.001e-5


def prepare_images(images):
    """keras.applications.resnet50.preprocess_input by hand ("caffe" style):
    RGB -> BGR, then subtract ImageNet's mean of each channel. No scaling: pixels stay
    on the 0-255 scale."""
    return np.asarray(images, np.float32)[..., ::-1] - IMAGENET_MEAN_BGR  # (N, H, W, 3)


class Conv2D(tf.Module):
    """A convolution with a bias, initialised as Keras does (Glorot uniform, zeros)."""

    def __init__(self, rng, size, in_channels, filters, strides=1, padding="VALID"):
        super().__init__()
        # The fans count the whole window, not just the channels.
        fan_in, fan_out = size * size * in_channels, size * size * filters
        self.kernel = tf.Variable(
            glorot_uniform(rng, (size, size, in_channels, filters), fan_in, fan_out),
            name="kernel",
        )
        self.bias = tf.Variable(tf.zeros([filters]), name="bias")
        self.strides, self.padding, self.trainable = strides, padding, True

    def __call__(self, x):  # (B, h, w, in_channels)
        # Output: (B, h', w', filters)
        return tf.nn.conv2d(x, self.kernel, self.strides, self.padding) + self.bias


class Dense(tf.Module):
    def __init__(self, rng, in_units, units):
        super().__init__()
        self.kernel = tf.Variable(
            glorot_uniform(rng, (in_units, units), in_units, units), name="kernel"
        )
        self.bias = tf.Variable(tf.zeros([units]), name="bias")
        self.trainable = True

    def __call__(self, x):  # (B, in_units)
        return x @ self.kernel + self.bias  # (B, units)


class ResNet50Base(tf.Module):
    """keras.applications.ResNet50(include_top=False). `self.layers` holds its 53
    convolutions and 53 batch norms under Keras' layer names, in the order Keras lists
    them (its graph order puts a block's projection shortcut after the 3x3
    convolution): what pretrained weights map onto."""

    def __init__(self, rng, channels=3):
        super().__init__()
        self.layers = {}
        self.add("conv1", Conv2D(rng, 7, channels, 64, strides=2))  # the stem
        in_channels = 64
        for stage, filters, blocks, strides in STAGES:
            for block in range(1, blocks + 1):
                name, block_strides = (
                    f"{stage}_block{block}",
                    strides if block == 1 else 1,
                )
                self.add(
                    f"{name}_1", Conv2D(rng, 1, in_channels, filters, block_strides)
                )
                self.add(f"{name}_2", Conv2D(rng, 3, filters, filters, padding="SAME"))
                if block == 1:  # projection shortcut: a strided 1x1 conv to 4 * filters
                    self.add(
                        f"{name}_0",
                        Conv2D(rng, 1, in_channels, 4 * filters, block_strides),
                    )
                self.add(f"{name}_3", Conv2D(rng, 1, filters, 4 * filters))
                in_channels = 4 * filters

    def add(self, name, conv):
        """A convolution and the batch norm after it, named as Keras names them."""
        self.layers[f"{name}_conv"] = conv
        self.layers[f"{name}_bn"] = BatchNorm(
            conv.kernel.shape[-1], epsilon=BATCH_NORM_EPSILON
        )

    def conv_bn(self, x, name, training):
        return self.layers[f"{name}_bn"](self.layers[f"{name}_conv"](x), training)

    def block(self, x, name, training):
        """A bottleneck block (Keras' resnet.block1): 1x1 -> 3x3 -> 1x1 convolutions,
        + the shortcut."""
        projected = f"{name}_0_conv" in self.layers
        # (B, h, w, 4f) either way: projected, or x already has 4f channels
        shortcut = self.conv_bn(x, f"{name}_0", training) if projected else x
        x = tf.nn.relu(self.conv_bn(x, f"{name}_1", training))  # (B, h, w, f)
        x = tf.nn.relu(self.conv_bn(x, f"{name}_2", training))  # (B, h, w, f)
        x = self.conv_bn(x, f"{name}_3", training)  # (B, h, w, 4f)
        return tf.nn.relu(x + shortcut)  # (B, h, w, 4f)

    def stages(self, images, training=False):
        """Each stage's output under Keras' name for it.
        Shapes are for 32x32 images [224x224 in brackets]."""
        x = tf.pad(images, [[0, 0], [3, 3], [3, 3], [0, 0]])  # (B, 38, 38, 3)
        x = tf.nn.relu(self.conv_bn(x, "conv1", training))  # (B, 16, 16, 64) [112]
        x = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]])  # (B, 18, 18, 64)
        # Output: (B, 8, 8, 64) [56]
        x = tf.nn.max_pool2d(x, ksize=3, strides=2, padding="VALID")
        outputs = {"pool1_pool": x}
        # Outputs: (B, 8, 8, 256), (B, 4, 4, 512), (B, 2, 2, 1024), (B, 1, 1, 2048)
        for stage, _, blocks, _ in STAGES:
            for block in range(1, blocks + 1):
                x = self.block(x, f"{stage}_block{block}", training)
            outputs[f"{stage}_block{blocks}_out"] = x
        return outputs

    def __call__(self, images, training=False):
        return self.stages(images, training)["conv5_block3_out"]  # (B, 1, 1, 2048) [7]


class ResNet50Transfer(tf.Module):
    """The lecture's model: ResNet50 base -> global average pooling -> Dense(1024) +
    ReLU -> Dense(10); returns logits."""

    def __init__(self, seed=0, input_shape=(32, 32, 3), num_classes=10):
        super().__init__()
        rng = tf.random.Generator.from_seed(seed)
        self.base = ResNet50Base(rng, input_shape[-1])
        self.hidden = Dense(rng, 2048, 1024)
        self.classifier = Dense(rng, 1024, num_classes)

    def __call__(self, images, training=False):  # (B, 32, 32, 3)
        x = self.base(images, training)  # (B, 1, 1, 2048)
        x = tf.reduce_mean(x, axis=(1, 2))  # (B, 2048) global average pool
        x = tf.nn.relu(self.hidden(x))  # (B, 1024)
        return self.classifier(x)  # (B, 10) logits; softmax lives in the loss

    @property
    def trainable_variables(self):
        """The variables of the trainable layers, like Keras' `trainable_weights`: what
        compile_model hands to Adam and train_step differentiates."""
        layers = [*self.base.layers.values(), self.hidden, self.classifier]
        return [
            variable
            for layer in layers
            if layer.trainable
            for variable in layer.trainable_variables
        ]


def build_model(seed=0, input_shape=(32, 32, 3), num_classes=10, weights=None):
    """`weights`: None (random), a Keras weights file,
    or a Keras ResNet50 object (see Step 7)."""
    model = ResNet50Transfer(seed, input_shape, num_classes)
    if weights is not None:
        load_keras_weights(model.base, weights)
    return model


# Step 6: freeze ----------------------------------------------------------------
def freeze_base(model):
    """Phase 1: only the new head trains. A frozen batch norm runs in inference mode."""
    for layer in model.base.layers.values():
        layer.trainable = False


def unfreeze_top(model, stages=("conv5",)):
    """Phase 2, fine-tuning: the top stages' convolutions train too; batch norm
    stays frozen."""
    for name, layer in model.base.layers.items():
        layer.trainable = name.startswith(stages) and not isinstance(layer, BatchNorm)


# Step 7: load pretrained weights -----------------------------------------------
KERAS3_FILE_NAMES = {Conv2D: "conv2d", BatchNorm: "batch_normalization"}


def keras_model_weights(keras_model):
    """{Keras layer name: arrays} from a Keras model object, read off its attributes."""
    return {
        layer.name: [weight.numpy() for weight in layer.weights]
        for layer in keras_model.layers
        if layer.weights
    }


def keras_file_weights(path, base):
    """{Keras layer name: arrays} from a Keras weights file. Legacy .h5 files
    (ImageNet's download) name their groups after the layers; Keras 3 .weights.h5 files
    after the class and position (the 8th Conv2D is layers/conv2d_7), so those follow
    `base`'s order, which is Keras'."""
    with h5py.File(path, "r") as file:
        if "layers" in file:  # Keras 3
            weights, seen = {}, {}
            for name, layer in base.layers.items():
                kind = KERAS3_FILE_NAMES[type(layer)]
                seen[kind] = index = seen.get(kind, -1) + 1
                group = file.get(
                    f"layers/{kind}{f'_{index}' if index else ''}/vars", {}
                )
                weights[name] = [group[str(i)][()] for i in range(len(group))]
            return weights
        # A whole saved model keeps them under model_weights.
        layers = file.get("model_weights", file)
        names = [
            name.decode() if isinstance(name, bytes) else name
            for name in layers.attrs.get("layer_names", [])
        ]
        return {
            name: [
                layers[name][weight][()]
                for weight in layers[name].attrs["weight_names"]
            ]
            for name in names
        }


def load_keras_weights(base, source):
    """Copy Keras' ResNet50 weights (a file path or a model object) into `base`, layer
    by layer. The mapping: Conv2D [kernel, bias] -> kernel, bias; BatchNormalization
    [gamma, beta, moving_mean, moving_variance] -> the same four. Kernels are
    (h, w, in, out) in both."""
    from_file = isinstance(source, (str, os.PathLike))
    weights = (
        keras_file_weights(source, base) if from_file else keras_model_weights(source)
    )
    for name, layer in base.layers.items():
        variables = (
            [layer.kernel, layer.bias]
            if isinstance(layer, Conv2D)
            else [layer.gamma, layer.beta, layer.moving_mean, layer.moving_variance]
        )
        arrays = weights.get(name, [])
        shapes, expected = (
            [np.shape(array) for array in arrays],
            [tuple(v.shape) for v in variables],
        )
        if shapes != expected:
            raise ValueError(
                f"layer {name}: the weights have shapes {shapes}, "
                f"the model expects {expected} "
                "(not weights of a ResNet50 without its top, for this input?)"
            )
        for variable, array in zip(variables, arrays):
            variable.assign(array)
