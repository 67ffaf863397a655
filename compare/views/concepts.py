"""The concept map: each Keras call, what it hides, and the raw TensorFlow lines that do it.

Every quoted snippet is a whole line of code of keras_impl/cnn.py or raw_tf_impl/cnn.py,
never a piece of one, and is looked up in the file each time the map is shown, which
gives its line number; a snippet the file no longer holds stops the map (a test runs it),
so the map cannot drift from the code it describes. A whole line is one of:
- a statement, whole: one written over several lines is quoted as its one logical line
  (the lines joined, the formatter's trailing comma left out), never by its first line;
- the header of a compound statement, up to its colon (`for epoch in range(epochs):`),
  or a decorator (`@tf.function`);
- one element of a list or call written one element per line, whole, as
  `layers.Conv2D(32, (3, 3), activation="relu")` in `Sequential([...])`.
A snippet the file holds more than once is written (snippet, the def or class it is in).
A concept whose code is the harness's, not the lessons' (TensorBoard's curves), names the
file that holds both styles' snippets under "file", from the repository root.
"""

import ast
import dataclasses
import io
import tokenize
from functools import cache
from typing import NamedTuple

from compare.language import language
from compare.styles import ROOT, STYLES

CONCEPTS = [  # in the order of keras_impl/cnn.py
    {
        "keras": "keras.utils.set_random_seed(seed)",
        "hides": {
            "en": "seeding the initial weights and the shuffling",
            "pt": "a semente dos pesos iniciais e do embaralhamento",
        },
        "raw": [
            "rng = tf.random.Generator.from_seed(seed)",
            "shuffler = np.random.default_rng(seed)",
        ],
    },
    {
        "keras": "return keras.Sequential([layers.Input(shape=input_shape), "
        'layers.Conv2D(32, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)), '
        'layers.Flatten(), layers.Dense(num_classes, activation="softmax")])',
        "hides": {
            "en": "a model object that holds every layer's variables and, called on a "
            "batch, runs the layers in order, each on the output of the one before",
            "pt": "o objeto do modelo, que guarda as variáveis de todas as camadas e, "
            "quando recebe um minilote, aplica as camadas em ordem, cada uma sobre a saída "
            "da anterior",
        },
        "raw": [
            "class CNN(tf.Module):",
            "def __call__(self, images, training=False):",
            "return CNN(seed, input_shape, num_classes)",
        ],
    },
    {
        "keras": "layers.Input(shape=input_shape)",
        "hides": {
            "en": "the shape of the input, known before any data arrives: it fixes the "
            "size of every layer, so all the variables are created at once",
            "pt": "o formato da entrada, conhecido antes de chegar qualquer dado: com "
            "ele, o tamanho de cada camada fica definido e todas as variáveis são "
            "criadas de uma vez",
        },
        "raw": [
            "height, width, channels = input_shape",
            "self.flat_size = (height - 2) // 2 * ((width - 2) // 2) * 32",
        ],
    },
    {
        "keras": 'layers.Conv2D(32, (3, 3), activation="relu")',
        "hides": {
            "en": "a 3x3x1x32 kernel and a bias as variables, Glorot-uniform and zero "
            "initialisation, the convolution, the bias add and the ReLU",
            "pt": "um kernel 3x3x1x32 e um bias como variáveis, inicializados com "
            "Glorot uniforme e com zeros, a convolução, a soma do bias e a ReLU",
        },
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
        "hides": {
            "en": "2x2 max-pooling",
            "pt": "o max-pooling 2x2",
        },
        "raw": ['x = tf.nn.max_pool2d(x, ksize=2, strides=2, padding="VALID")'],
    },
    {
        "keras": "layers.Flatten()",
        "hides": {
            "en": "a reshape to (batch, 5408), with the size worked out for you",
            "pt": "um reshape para (minilote, 5408), com o tamanho já calculado para você",
        },
        "raw": ["x = tf.reshape(x, [-1, self.flat_size])"],
    },
    {
        "keras": 'layers.Dense(num_classes, activation="softmax")',
        "hides": {
            "en": "a 5408x10 kernel and a bias, Glorot-uniform and zero initialisation, "
            "a matrix product; the softmax is folded into the loss",
            "pt": "um kernel 5408x10 e um bias, inicializados com Glorot uniforme e com "
            "zeros, um produto de matrizes; o softmax fica dentro da perda",
        },
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
        "hides": {
            "en": "attaching the loss, the optimizer and the metric to the model, for "
            "fit and evaluate to use; raw TensorFlow passes them along by hand",
            "pt": "associar a perda, o otimizador e a métrica ao modelo, para que o fit "
            "e o evaluate os usem; em TensorFlow puro, eles são passados à mão",
        },
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
        "hides": {
            "en": "two moment variables per weight, bias correction, the update rule",
            "pt": "duas variáveis de momento por peso, a correção de viés e a regra de "
            "atualização",
        },
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
        "hides": {
            "en": "cross-entropy computed from the logits behind the softmax (stable), "
            "averaged over the batch",
            "pt": "a entropia cruzada calculada direto dos logits, sem passar pelo "
            "softmax (numericamente estável), com média no minilote",
        },
        "raw": [
            "per_example = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)",
            "return tf.reduce_mean(per_example)",
        ],
    },
    {
        "keras": 'metrics=["accuracy"]',
        "hides": {
            "en": "counting right answers and keeping running sums over the epoch",
            "pt": "a contagem dos acertos e as somas acumuladas ao longo da época",
        },
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
        "hides": {
            "en": "epochs of shuffled mini-batches, tracing the training step into a "
            "graph, the GradientTape, the gradients and the optimizer's update",
            "pt": "épocas de minilotes embaralhados, a conversão do passo de treino em "
            "grafo (tracing), o GradientTape, os gradientes e a atualização feita pelo "
            "otimizador",
        },
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
        "hides": {
            "en": "a loop over the test batches, forward pass only (no gradients), "
            "the mean loss and the accuracy",
            "pt": "um laço pelos minilotes de teste, só com a propagação direta (sem "
            "gradientes), a perda média e a acurácia",
        },
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
        "hides": {
            "en": "the loop inside the graph: fit runs that many mini-batches per graph "
            "call instead of one (an epoch's worth makes the whole epoch one call), so "
            "Python no longer runs per batch",
            "pt": "o laço dentro do grafo: o fit roda esse número de minilotes a cada "
            "chamada do grafo, em vez de um (com os de uma época inteira, a época toda "
            "vira uma chamada só), e o Python deixa de rodar a cada minilote",
        },
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
        "hides": {
            "en": "a file writer per run (train/, validation/) and, at each epoch's "
            "end, each log as a scalar (epoch_loss, epoch_accuracy, epoch_learning_rate) "
            "at step epoch",
            "pt": "um gravador por execução (train/, validation/) e, no fim de cada "
            "época, cada valor do log como escalar (epoch_loss, epoch_accuracy, "
            "epoch_learning_rate) no passo da época",
        },
        "raw": [
            "self.writers[run] = tf.summary.create_file_writer(folder)",
            "with self.writers[run].as_default():",
            'tf.summary.scalar(f"epoch_{name}", value, step=epoch)',
        ],
    },
]

OPENING, CLOSING = "([{", ")]}"
NOT_CODE = {
    tokenize.COMMENT,
    tokenize.NL,
    tokenize.NEWLINE,
    tokenize.INDENT,
    tokenize.DEDENT,
    tokenize.ENDMARKER,
}


class ConceptMapError(ValueError):
    """A quoted snippet that is not one whole line of its file."""


@dataclasses.dataclass(frozen=True)
class Unit:
    """A whole line of code of a file, as the map may quote it."""

    text: str  # its one logical line
    first: int  # its first and last physical lines
    last: int
    scope: str  # the def or class it is in (dotted: "Adam.apply"), "" at module level


@dataclasses.dataclass(frozen=True)
class Quote:
    """A snippet found in its file."""

    text: str
    path: str  # from the repository root: "raw_tf_impl/cnn.py"
    first: int
    last: int

    @property
    def where(self):
        """file:line, or file:first-last for a statement over several lines."""
        lines = (
            str(self.first) if self.first == self.last else f"{self.first}-{self.last}"
        )
        return f"{self.path}:{lines}"


class MapRow(NamedTuple):
    """One concept, its snippets found in their files."""

    keras: str  # the Keras snippet
    keras_at: str  # its file:line
    hides: str  # what it hides, in one language
    raw: list  # [(raw snippet, its file:line), ...]


# Whole lines, from tokenize and ast ------------------------------------------------------
def joined(tokens):
    """Tokens as one logical line: the spacing of each physical line kept, the lines
    joined (nothing after an opening or before a closing bracket, one space elsewhere),
    the trailing comma of a bracket closed on a later line left out."""
    text, previous = "", None
    for index, token in enumerate(tokens):
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if (
            token.string == ","
            and following is not None
            and following.string in CLOSING
            and following.start[0] > token.end[0]
        ):
            continue
        if previous is None:
            text = token.string
        elif token.start[0] == previous.end[0]:
            text += " " * (token.start[1] - previous.end[1]) + token.string
        else:
            gap = previous.string in OPENING or token.string in CLOSING
            text += ("" if gap else " ") + token.string
        previous = token
    return text


@cache
def units_in(source):
    """Every whole line of code of `source` (see the module's docstring)."""
    return tuple(Units(source).walk(ast.parse(source).body, ""))


class Units:
    """A source's tokens and lines, and the whole lines of code found in them."""

    def __init__(self, source):
        self.tokens = [
            token
            for token in tokenize.generate_tokens(io.StringIO(source).readline)
            if token.type not in NOT_CODE
        ]
        self.lines = source.splitlines()

    def between(self, start, end):
        return [
            token for token in self.tokens if start <= token.start and token.end <= end
        ]

    def unit(self, span, scope):
        return Unit(joined(span), span[0].start[0], span[-1].end[0], scope)

    def header(self, node):
        """A compound statement's tokens up to the colon that ends its header."""
        start, depth = (node.lineno, node.col_offset), 0
        span = []
        for token in self.tokens:
            if token.start < start:
                continue
            span.append(token)
            if token.string in OPENING:
                depth += 1
            elif token.string in CLOSING:
                depth -= 1
            elif token.string == ":" and depth == 0:
                return span
        raise AssertionError(f"no colon after line {node.lineno}")  # not Python

    def stands_alone(self, node):
        """Whether `node` fills its physical lines, bar indentation, a comma, a comment."""
        before = self.lines[node.lineno - 1][: node.col_offset]
        after = self.lines[node.end_lineno - 1][node.end_col_offset :].strip()
        after = after.removeprefix(",").strip()
        return not before.strip() and (not after or after.startswith("#"))

    def elements(self, statement, scope):
        """The arguments and items of `statement` that stand on lines of their own."""
        for node in ast.walk(statement):
            if isinstance(node, ast.Call):
                parts = [*node.args, *node.keywords]
            elif isinstance(node, (ast.List, ast.Tuple, ast.Set)):
                parts = node.elts
            else:
                continue
            for part in parts:
                if part.lineno > statement.lineno and self.stands_alone(part):
                    span = self.between(
                        (part.lineno, part.col_offset),
                        (part.end_lineno, part.end_col_offset),
                    )
                    yield self.unit(span, scope)

    def decorators(self, statement, scope):
        """A definition's scope and its decorators' lines (none for other statements)."""
        if not isinstance(
            statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
        ):
            return scope, []
        inner = f"{scope}.{statement.name}" if scope else statement.name
        return inner, [
            self.unit(
                self.between(
                    (decorator.lineno, 0),
                    (decorator.end_lineno, decorator.end_col_offset),
                ),
                inner,
            )
            for decorator in statement.decorator_list
        ]

    def walk(self, body, scope):
        for statement in body:
            inner, decorators = self.decorators(statement, scope)
            yield from decorators
            children = [
                getattr(statement, field, None)
                for field in ("body", "orelse", "finalbody")
            ]
            handlers = getattr(statement, "handlers", [])
            if not (any(children) or handlers):  # a simple statement
                end = (statement.end_lineno, statement.end_col_offset)
                yield self.unit(
                    self.between((statement.lineno, statement.col_offset), end), scope
                )
                yield from self.elements(statement, scope)
                continue
            yield self.unit(self.header(statement), inner)
            for child in children:
                yield from self.walk(child or [], inner)
            for handler in handlers:
                yield self.unit(self.header(handler), inner)
                yield from self.walk(handler.body, inner)


def snippet_and_scope(quoted):
    """A CONCEPTS snippet as (text, scope): a plain string has no scope."""
    return quoted if isinstance(quoted, tuple) else (quoted, None)


def locate(style, quoted, lesson="cnn", file=None):
    """The Quote of `quoted` in `style`'s lesson file (or in `file`, a path from the
    repository root); ConceptMapError unless it is exactly one whole line of it (in its
    scope, when one is given)."""
    text, scope = snippet_and_scope(quoted)
    path = ROOT / file if file else STYLES[style].path(lesson)
    name = file or f"{path.parent.name}/{path.name}"
    units = [
        unit
        for unit in units_in(path.read_text())
        if scope is None or unit.scope == scope
    ]
    matches = [unit for unit in units if unit.text == text]
    where = f"{name}" + (f", in {scope}" if scope else "")
    if len(matches) > 1:
        lines = ", ".join(str(unit.first) for unit in matches)
        raise ConceptMapError(
            f"{text!r} is {len(matches)} lines of {where} (lines {lines}): write it as "
            f"(snippet, the def or class it is in)"
        )
    if not matches:
        partial = any(text in unit.text for unit in units)
        raise ConceptMapError(
            f"{text!r} is only part of a line of {where}: quote the whole statement"
            if partial
            else f"{text!r} is not in {where}"
        )
    (unit,) = matches
    return Quote(text, name, unit.first, unit.last)


# The map, as rows, Markdown and the README's copy ----------------------------------------
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
                concept["hides"][lang],
                [(quote.text, quote.where) for quote in raw],
            )
        )
    return rows


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
    """The map as a Markdown table, as the README shows it."""
    from tabulate import tabulate

    from compare.views.i18n import TEXT

    words = TEXT[lang]
    return tabulate(
        concept_map_rows(lang),
        [words["keras_call"], words["hides"], words["raw_lines"]],
        tablefmt="github",
        disable_numparse=True,
    )


README_MARKERS = (
    "<!-- concept map: python -m compare.views.concepts writes this table -->",
    "<!-- end of the concept map -->",
)


def with_concept_map(readme):
    """The README's text with the table between README_MARKERS written anew."""
    begin, end = README_MARKERS
    head, rest = readme.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n\n{concept_map_markdown('en')}\n\n{end}{tail}"


if __name__ == "__main__":  # rewrite the README's copy of the map
    from compare.styles import ROOT

    readme = ROOT / "README.md"
    readme.write_text(with_concept_map(readme.read_text()))
