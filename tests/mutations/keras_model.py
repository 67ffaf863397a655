HINT = (  # the hint with the shapes' one line, when the weights do not fit
    "one Keras layer per stage of the raw CNN, each holding its own weights and "
    "activation: the convolution with its bias and ReLU, the pooling, the "
    "flattening, the dense layer with its softmax"
)

MUTATIONS = [
    (
        'layers.Dense(num_classes, activation="softmax")',
        "layers.Dense(num_classes)",
        "the lecture's last Dense gives probabilities: its activation is the softmax, "
        "which the compiled loss turns back into logits",
    ),
    (
        'layers.Conv2D(32, (3, 3), activation="relu")',
        "layers.Conv2D(32, (3, 3))",
        "the convolution's activation is a ReLU: Conv2D applies none unless its "
        "activation argument names one",
    ),
    (
        "layers.MaxPooling2D((2, 2))",
        "layers.AveragePooling2D((2, 2))",
        "the lecture's pooling keeps each 2x2 window's largest value: MaxPooling2D, "
        "not AveragePooling2D",
    ),
    (
        'activation="softmax"',
        'activation="relu"',
        "the output's activation is the softmax: a ReLU's outputs are not "
        "probabilities",
    ),
    (
        'layers.Conv2D(32, (3, 3), activation="relu")',
        'layers.Conv2D(32, (3, 3), activation="relu", padding="same")',
        HINT,
    ),
    (
        "layers.Flatten(),  # (B, 5408)",
        'layers.Flatten(),  # (B, 5408)\n            layers.Dense(128, activation="relu"),',
        HINT,
    ),
]
