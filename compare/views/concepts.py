"""The concept map: each Keras call, what it hides, and the raw TensorFlow lines that do it.

Every `keras` and `raw` snippet must appear verbatim in keras_impl/cnn.py and raw_tf_impl/cnn.py
(a test checks it), so the map cannot drift from the code it describes.
"""

CONCEPTS = [
    {
        "keras": 'layers.Conv2D(32, (3, 3), activation="relu")',
        "hides": {
            "en": "a 3x3x1x32 kernel and a bias as variables, Glorot-uniform and zero initialisation, "
            "the convolution, the bias add and the ReLU",
            "pt": "um kernel 3x3x1x32 e um bias como variáveis, inicialização Glorot uniforme e zeros, "
            "a convolução, a soma do bias e a ReLU",
        },
        "raw": [
            "glorot_uniform(rng, (3, 3, channels, 32)",
            "tf.nn.conv2d(images, self.conv_kernel",
            "tf.nn.relu(x + self.conv_bias)",
        ],
    },
    {
        "keras": "layers.MaxPooling2D((2, 2))",
        "hides": {"en": "2x2 max-pooling", "pt": "max-pooling 2x2"},
        "raw": ['tf.nn.max_pool2d(x, ksize=2, strides=2, padding="VALID")'],
    },
    {
        "keras": "layers.Flatten()",
        "hides": {
            "en": "a reshape to (batch, 5408), with the size worked out for you",
            "pt": "um reshape para (lote, 5408), com o tamanho calculado para você",
        },
        "raw": ["tf.reshape(x, [-1, self.flat_size])"],
    },
    {
        "keras": 'layers.Dense(num_classes, activation="softmax")',
        "hides": {
            "en": "a 5408x10 kernel and a bias, a matrix product; the softmax is folded into the loss",
            "pt": "um kernel 5408x10 e um bias, um produto de matrizes; o softmax vai para a perda",
        },
        "raw": ["x @ self.dense_kernel + self.dense_bias"],
    },
    {
        "keras": 'loss="sparse_categorical_crossentropy"',
        "hides": {
            "en": "cross-entropy computed from the logits behind the softmax (stable), averaged over the batch",
            "pt": "entropia cruzada calculada dos logits antes do softmax (estável), média no lote",
        },
        "raw": ["tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)"],
    },
    {
        "keras": "keras.optimizers.Adam(learning_rate)",
        "hides": {
            "en": "two moment variables per weight, bias correction, the update rule",
            "pt": "duas variáveis de momento por peso, correção de viés, a regra de atualização",
        },
        "raw": [
            "class Adam(tf.Module):",
            "variable.assign_sub(m * alpha / (tf.sqrt(v) + self.epsilon))",
        ],
    },
    {
        "keras": 'metrics=["accuracy"]',
        "hides": {
            "en": "counting right answers and keeping running sums over the epoch",
            "pt": "contar acertos e manter somas acumuladas na época",
        },
        "raw": [
            "tf.argmax(logits, axis=1, output_type=labels.dtype)",
            "correct += batch_correct",
        ],
    },
    {
        "keras": "model.fit(",
        "hides": {
            "en": "epochs x shuffled mini-batches, the GradientTape, the optimizer step, tracing into a graph",
            "pt": "épocas x mini-lotes embaralhados, o GradientTape, o passo do otimizador, o grafo",
        },
        "raw": [
            "for epoch in range(epochs):",
            "order = shuffler.permutation(len(labels))",
            "@tf.function",
            "for start in tf.range(0, tf.size(indices), batch_size):",
            "with tf.GradientTape() as tape:",
            "gradients = tape.gradient(loss, model.trainable_variables)",
            "optimizer.apply(gradients, model.trainable_variables)",
        ],
    },
    {
        "keras": "model.evaluate(",
        "hides": {
            "en": "a loop over the test batches with no gradients, mean loss and accuracy",
            "pt": "um laço sobre os lotes de teste sem gradientes, perda média e acurácia",
        },
        "raw": [
            "def evaluate_step(model, images, labels):",
            "def evaluate(model, x_test, y_test, batch_size):",
        ],
    },
    {
        "keras": "keras.utils.set_random_seed(seed)",
        "hides": {
            "en": "seeding the initial weights and the shuffling",
            "pt": "a semente dos pesos iniciais e do embaralhamento",
        },
        "raw": ["tf.random.Generator.from_seed(seed)", "np.random.default_rng(seed)"],
    },
]


def concept_map_rows(lang):
    """(Keras call, what it hides, raw lines) as text, one tuple per concept."""
    return [
        (
            f"`{concept['keras']}`",
            concept["hides"][lang],
            "<br>".join(f"`{line}`" for line in concept["raw"]),
        )
        for concept in CONCEPTS
    ]


def concept_map_markdown(lang="en"):
    """The map as a Markdown table, as the README shows it."""
    from tabulate import tabulate

    from compare.views.i18n import TEXT

    words = TEXT[lang]
    return tabulate(
        concept_map_rows(lang),
        [words["keras_call"], words["hides"], words["raw_lines"]],
        tablefmt="github",
    )
