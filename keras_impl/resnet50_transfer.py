"""The lecture's practical example, ResNet50 transfer learning, the Keras way.

Step 1 is the lecture's five lines: a pretrained ResNet50 without its top, global
average pooling, Dense(1024, relu), Dense(10, softmax). Compile, train and evaluate
are cnn.py's, unchanged; freezing is a flag on each layer, and pretrained weights are
one argument. Its twin is raw_tf_impl/resnet50_transfer.py.
"""

import keras
from keras import layers
from keras.applications.resnet50 import ResNet50, preprocess_input


# Step 1: define ----------------------------------------------------------------
def build_model(seed=0, input_shape=(32, 32, 3), num_classes=10, weights="imagenet"):
    """`weights`: "imagenet" (downloaded once, then cached), a weights file,
    or None (random)."""
    keras.utils.set_random_seed(seed)
    base_model = ResNet50(weights=weights, include_top=False, input_shape=input_shape)
    x = layers.GlobalAveragePooling2D()(base_model.output)
    x = layers.Dense(1024, activation="relu")(x)
    predictions = layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs=base_model.input, outputs=predictions)


def prepare_images(images):
    """ResNet50's own preprocessing: RGB -> BGR, minus ImageNet's mean per channel."""
    return preprocess_input(images.copy())  # a copy: it edits a float32 array in place


# Step 6: freeze ----------------------------------------------------------------
BASE_LAYERS = slice(0, -3)  # all but the head: pooling, Dense(1024), Dense(10)


def freeze_base(model):
    """Phase 1: only the new head trains. A frozen BatchNormalization runs in
    inference mode."""
    for layer in model.layers[BASE_LAYERS]:
        layer.trainable = False


def unfreeze_top(model, stages=("conv5",)):
    """Phase 2, fine-tuning: the top stages' convolutions train too; batch norm
    stays frozen."""
    for layer in model.layers[BASE_LAYERS]:
        layer.trainable = (
            layer.name.startswith(stages)  # Keras' names: conv5_block1_1_conv, ...
            and not isinstance(layer, layers.BatchNormalization)
        )
