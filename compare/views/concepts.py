"""The concept map: each Keras call, what it hides, and the raw TensorFlow lines that do it.

Every quoted snippet is a whole line of code of keras_impl/cnn.py or raw_tf_impl/cnn.py,
never a piece of one, and is looked up in the file each time the map is shown, which
gives its line number; a snippet the file no longer holds stops the map (a test runs it),
so the map cannot drift from the code it describes. What a whole line is:
compare/views/whole_lines.py.
A concept whose code is the harness's, not the lessons' (TensorBoard's curves), names the
file that holds both styles' snippets under "file", from the repository root.
"""

from typing import NamedTuple

from tabulate import tabulate

from compare.language import N_, _, language, speaking
from compare.styles import ROOT
from compare.views.i18n import TEXT
from compare.views.whole_lines import locate

CONCEPTS = [  # in the order of keras_impl/cnn.py
    {
        "keras": "keras.utils.set_random_seed(seed)",
        "hides": N_("seeding the initial weights and the shuffling"),
        "raw": [
            "rng = tf.random.Generator.from_seed(seed)",
            "shuffler = np.random.default_rng(seed)",
        ],
    },
    {
        "keras": "return keras.Sequential([layers.Input(shape=input_shape), "
        'layers.Conv2D(32, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)), '
        'layers.Flatten(), layers.Dense(num_classes, activation="softmax")])',
        "hides": N_(
            "a model object that holds every layer's variables and, called on a "
            "batch, runs the layers in order, each on the output of the one before"
        ),
        "raw": [
            "class CNN(tf.Module):",
            "def __call__(self, images, training=False):",
            "return CNN(seed, input_shape, num_classes)",
        ],
    },
    {
        "keras": "layers.Input(shape=input_shape)",
        "hides": N_(
            "the shape of the input, known before any data arrives: it fixes the "
            "size of every layer, so all the variables are created at once"
        ),
        "raw": [
            "height, width, channels = input_shape",
            "self.flat_size = (height - 2) // 2 * ((width - 2) // 2) * 32",
        ],
    },
    {
        "keras": 'layers.Conv2D(32, (3, 3), activation="relu")',
        "hides": N_(
            "a 3x3x1x32 kernel and a bias as variables, Glorot-uniform and zero "
            "initialisation, the convolution, the bias add and the ReLU"
        ),
        "raw": [
            "conv_init = glorot_uniform(rng, (3, 3, channels, 32), 9 * channels, 9 * 32)",
            'self.conv_kernel = tf.Variable(conv_init, name="conv_kernel")',
            'self.conv_bias = tf.Variable(tf.zeros([32]), name="conv_bias")',
            'x = tf.nn.conv2d(images, self.conv_kernel, 1, "VALID")',
            "x = tf.nn.relu(tf.nn.bias_add(x, self.conv_bias))",
        ],
    },
    {
        "keras": "layers.MaxPooling2D((2, 2))",
        "hides": N_("2x2 max-pooling"),
        "raw": ['x = tf.nn.max_pool2d(x, ksize=2, strides=2, padding="VALID")'],
    },
    {
        "keras": "layers.Flatten()",
        "hides": N_("a reshape to (batch, 5408), with the size worked out for you"),
        "raw": ["x = tf.reshape(x, [-1, self.flat_size])"],
    },
    {
        "keras": 'layers.Dense(num_classes, activation="softmax")',
        "hides": N_(
            "a 5408x10 kernel and a bias, Glorot-uniform and zero initialisation, "
            "a matrix product; the softmax is folded into the loss"
        ),
        "raw": [
            "dense_shape = (self.flat_size, num_classes)",
            "dense_init = glorot_uniform(rng, dense_shape, *dense_shape)",
            'self.dense_kernel = tf.Variable(dense_init, name="dense_kernel")',
            'self.dense_bias = tf.Variable(tf.zeros([num_classes]), name="dense_bias")',
            "return x @ self.dense_kernel + self.dense_bias",
        ],
    },
    {
        "keras": "model.compile(optimizer=keras.optimizers.Adam(learning_rate), "
        'loss="sparse_categorical_crossentropy", metrics=["accuracy"])',
        "hides": N_(
            "attaching the loss, the optimizer and the metric to the model, for "
            "fit and evaluate to use; raw TensorFlow passes them along by hand"
        ),
        "raw": [
            "def compile_model(model, learning_rate=1e-3):",
            "return Adam(model.trainable_variables, learning_rate)",
            "loss, accuracy = one_epoch(model, optimizer, x_train, y_train, order, "
            "batch_size)",
            "return sparse_categorical_crossentropy(labels, logits), correct",
        ],
    },
    {
        "keras": "optimizer=keras.optimizers.Adam(learning_rate)",
        "hides": N_(
            "two moment variables per weight, bias correction, the update rule"
        ),
        "raw": [
            "class Adam(tf.Module):",
            "self.momentums = [tf.Variable(tf.zeros_like(v)) for v in variables]",
            "self.velocities = [tf.Variable(tf.zeros_like(v)) for v in variables]",
            "correction = tf.sqrt(1 - self.beta_2**step) / (1 - self.beta_1**step)",
            "m.assign_add((gradient - m) * (1 - self.beta_1))",
            "v.assign_add((tf.square(gradient) - v) * (1 - self.beta_2))",
            "variable.assign_sub(m * alpha / (tf.sqrt(v) + self.epsilon))",
        ],
    },
    {
        "keras": 'loss="sparse_categorical_crossentropy"',
        "hides": N_(
            "cross-entropy computed from the logits behind the softmax (stable), "
            "averaged over the batch"
        ),
        "raw": [
            "per_example = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)",
            "return tf.reduce_mean(per_example)",
        ],
    },
    {
        "keras": 'metrics=["accuracy"]',
        "hides": N_("counting right answers and keeping running sums over the epoch"),
        "raw": [
            "predictions = tf.argmax(logits, axis=1, output_type=labels.dtype)",
            "correct = tf.reduce_sum(tf.cast(predictions == labels, tf.float32))",
            ("correct += batch_correct", "train_epoch"),
            (
                "return float(loss_sum) / len(order), float(correct) / len(order)",
                "train_epoch",
            ),
        ],
    },
    {
        "keras": "history = model.fit(x_train, y_train, batch_size=batch_size, "
        "epochs=epochs, shuffle=True, verbose=verbose, callbacks=list(callbacks))",
        "hides": N_(
            "epochs of shuffled mini-batches, tracing the training step into a "
            "graph, the GradientTape, the gradients and the optimizer's update"
        ),
        "raw": [
            "for epoch in range(epochs):",
            "order = shuffler.permutation(len(y_train))",
            "for start in range(0, len(order), batch_size):",
            "loss, batch_correct = train_step(model, optimizer, images, labels)",
            ("@tf.function", "train_step"),
            "with tf.GradientTape() as tape:",
            "gradients = tape.gradient(loss, model.trainable_variables)",
            "optimizer.apply(gradients, model.trainable_variables)",
        ],
    },
    {
        "keras": "return model.evaluate(x_test, y_test, batch_size=batch_size, "
        "verbose=0, return_dict=True)",
        "hides": N_(
            "a loop over the test batches, forward pass only (no gradients), "
            "the mean loss and the accuracy"
        ),
        "raw": [
            ("@tf.function", "evaluate_step"),
            "loss, correct = loss_and_correct(model, images, labels, training=False)",
            "for start in range(0, len(x_test), batch_size):",
            'return {"loss": float(loss_sum) / len(x_test), '
            '"accuracy": float(correct) / len(x_test)}',
        ],
    },
    {  # the Extras of both files: the loop inside the graph, the same idea
        "keras": "model.steps_per_execution = steps",
        "hides": N_(
            "the loop inside the graph: fit runs that many mini-batches per graph "
            "call instead of one (an epoch's worth makes the whole epoch one call), so "
            "Python no longer runs per batch"
        ),
        "raw": [
            "def train_epoch_in_graph(model, optimizer, x_train, y_train, order, "
            "batch_size):",
            "loss_sum, correct = train_batches(model, optimizer, images, labels, order, "
            "batch_size)",
            ("@tf.function", "train_batches"),
            "for start in tf.range(0, tf.size(indices), batch_size):",
        ],
    },
    {  # the harness's --tensorboard: what Keras' callback does, by hand in the raw loop
        "keras": "class KerasCurves(keras.callbacks.TensorBoard):",
        "file": "compare/harness/tensorboard.py",
        "hides": N_(
            "a file writer per run (train/, validation/) and, at each epoch's "
            "end, each log as a scalar (epoch_loss, epoch_accuracy, epoch_learning_rate) "
            "at step epoch"
        ),
        "raw": [
            "self.writers[run] = tf.summary.create_file_writer(folder)",
            "with self.writers[run].as_default():",
            'tf.summary.scalar(f"epoch_{name}", value, step=epoch)',
        ],
    },
]


class MapRow(NamedTuple):
    """One concept, its snippets found in their files."""

    keras: str  # the Keras snippet
    keras_at: str  # its file:line
    hides: str  # what it hides, in one language
    raw: list  # [(raw snippet, its file:line), ...]


# The map, as rows, Markdown and the manual's copy ----------------------------------------
def concept_map_entries(lang=None):
    """The map with every snippet found in its file: one MapRow per concept, (keras
    snippet, its file:line, what it hides in `lang` (None: the current language),
    [(raw snippet, file:line), ...])."""
    lang = lang or language()
    rows = []
    for concept in CONCEPTS:
        file = concept.get("file")
        keras = locate("keras", concept["keras"], file=file)
        raw = [locate("raw_tf", quoted, file=file) for quoted in concept["raw"]]
        rows.append(
            MapRow(
                keras.text,
                keras.where,
                hidden(concept["hides"], lang),
                [(quote.text, quote.where) for quote in raw],
            )
        )
    return rows


def hidden(message, lang):
    """What a Keras call hides, in `lang` (the catalog's words)."""
    with speaking(lang):
        return _(message)


def markdown_code(text, where):
    return "`{}` ({})".format(text.replace("|", "\\|"), where)


def concept_map_rows(lang=None):
    """(Keras call, what it hides, raw lines) as Markdown cells, one tuple per concept,
    each snippet followed by its file:line."""
    return [
        (
            markdown_code(row.keras, row.keras_at),
            row.hides,
            "<br>".join(markdown_code(text, where) for text, where in row.raw),
        )
        for row in concept_map_entries(lang)
    ]


def concept_map_markdown(lang="en"):
    """The map as a Markdown table, as the manual shows it (docs/concept-map.md)."""

    words = TEXT[lang]
    return tabulate(
        concept_map_rows(lang),
        [words["keras_call"], words["hides"], words["raw_lines"]],
        tablefmt="github",
        disable_numparse=True,
    )


MAP_PAGES = {  # the manual's pages that hold the map, by language
    "en": "docs/concept-map.md",
    "pt": "docs/pt/mapa-de-conceitos.md",
}
MAP_MARKERS = (
    "<!-- concept map: python -m compare.views.concepts writes this table -->",
    "<!-- end of the concept map -->",
)


def with_concept_map(page, lang="en"):
    """The page's text with the table (in `lang`) between MAP_MARKERS written anew."""
    begin, end = MAP_MARKERS
    head, rest = page.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n\n{concept_map_markdown(lang)}\n\n{end}{tail}"


if __name__ == "__main__":  # rewrite the manual's copies of the map
    from compare.styles import ROOT

    for lang, name in MAP_PAGES.items():
        page = ROOT / name
        page.write_text(with_concept_map(page.read_text(), lang))
