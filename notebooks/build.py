"""The lesson as two notebooks, English and Brazilian Portuguese, generated from the
lesson files: `python -m notebooks.build` writes them (and the "open the notebooks"
block of the READMEs); with `--check` it writes nothing and says whether the committed
files are what it would write.

A notebook is the cells of `cells()`, in order, the same for both languages:
- `lesson` cells: a section of a lesson file, verbatim, split at its `# Step N: name`
  headings as `python -m compare code` splits it (before the first heading: "setup"; the
  extras from their first `# Extras:` heading on, every part under its own heading),
  under a first line `%%lesson MODULE`: each lesson file runs in its own module, so the
  two styles never share a `build_model` (notebooks/support.py defines the magic);
- `support`: notebooks/support.py itself, and the project functions of BORROWED, so that
  the notebook needs nothing but what a plain Colab runtime has (TensorFlow, Keras,
  NumPy, matplotlib, TensorBoard);
- `prose` cells: Markdown from lesson.en.md or lesson.pt.md, one `<!-- cell: NAME -->`
  block per cell; «CONCEPT_MAP» and «GLOSSARY» in them are generated from compare/;
- `run` cells: the code below that runs the steps. Each «name» in it is a one-line
  `<!-- phrase: name -->` of the language file; «LANG», «REPOSITORY» and «FILES» (also
  in prose: links to the lesson files) come from here.

The project itself is optional: where it is installed, two cells use it (the measured
table, the raw ResNet50); where it is not, they say how to get it.

The notebooks are committed without outputs (run them to see them): what is committed is
exactly what this script writes, so it cannot drift from the lesson files.
"""

import argparse
import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "notebooks"
# The one setting to change when publishing the project, e.g.
# "https://github.com/you/keras-vs-tf": then run `python -m notebooks.build`, which
# writes it into the notebooks (a Colab cell clones it) and the READMEs' badges. Empty:
# the READMEs say how to upload a notebook to Colab instead.
REPOSITORY = ""
BRANCH = "main"
LANGUAGES = ("en", "pt")
WIDTH = 88  # the lesson files' slide width, which ruff also checks in the notebooks
MARKER = re.compile(r"^<!-- (cell|phrase|readme): ([a-z0-9_]+) -->$")
PLACEHOLDER = re.compile(r"«([A-Za-z0-9_]+)»")
README_BLOCK = re.compile(
    r"(<!-- notebooks: begin \(python -m notebooks.build writes this block\) -->\n)"
    r"(.*?)(<!-- notebooks: end -->)",
    re.DOTALL,
)
READMES = {"README.md": "en", "TEACHING.md": "en", "README.pt.md": "pt"}

RUN = {
    "install": """
# «install»
import os
import subprocess
import sys

REPOSITORY = "«REPOSITORY»"
FOLDER = "/content/keras-vs-tf"
if "google.colab" in sys.modules and not os.path.isdir(FOLDER):
    clone = ["git", "clone", "--depth", "1", REPOSITORY, FOLDER]
    install = [sys.executable, "-m", "pip", "install", "-q", "-e", FOLDER]
    if subprocess.run(clone).returncode == 0:  # «install_optional»
        subprocess.run(install, check=True)
if os.path.isdir(FOLDER):
    sys.path.insert(0, FOLDER)
""",
    "settings": """
import importlib.util
import os
import sys
import time

os.environ["KERAS_BACKEND"] = "tensorflow"  # «backend»
with stderr_silenced():  # «quiet_tf»
    import keras
    import tensorflow as tf

    tf.config.list_physical_devices()  # «devices»
import numpy as np

LANG = "«LANG»"  # «lang»
# «installed»
INSTALLED = importlib.util.find_spec("compare") is not None
LOGS = "logs"  # «logs»
# «small_1»
# «small_2»
SMALL = os.environ.get("KERAS_VS_TF_SMALL") == "1"
EPOCHS = 2 if SMALL else 3
BATCH_SIZE = 64 if SMALL else 128
TRAIN_SAMPLES, TEST_SAMPLES = (512, 256) if SMALL else (None, None)  # «all»
# «resnet_1»
# «resnet_2»
RESNET_WEIGHTS = None if SMALL else "imagenet"
RESNET_TRAIN, RESNET_TEST = (32, 32) if SMALL else (2000, 1000)
RESNET_EPOCHS = 1 if SMALL else 3


def show_epoch(epoch, logs):  # «show_epoch»
    loss, accuracy = number(logs["loss"], 4), number(logs["accuracy"], 4)
    print(f"«epoch» {epoch + 1}: «loss» {loss}, «accuracy» {accuracy}")
""",
    "data": """
(x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
x_train = x_train[..., None].astype("float32") / 255  # (60000, 28, 28, 1) in [0, 1]
x_test = x_test[..., None].astype("float32") / 255  # (10000, 28, 28, 1)
y_train, y_test = y_train.astype("int32"), y_test.astype("int32")  # 0 to 9
# «first»
x_train, y_train = x_train[:TRAIN_SAMPLES], y_train[:TRAIN_SAMPLES]
x_test, y_test = x_test[:TEST_SAMPLES], y_test[:TEST_SAMPLES]
print(f"«train»: {number(len(x_train))} «images», «test»: {number(len(x_test))}")
""",
    "keras_define": """
keras_model = keras_cnn.build_model(seed=0)
for layer in keras_model.layers:  # «summary»
    shape = str(layer.output.shape)
    print(f"{layer.name:16} {shape:20} {number(layer.count_params()):>7}")
print(f"«parameters»: {number(keras_model.count_params())}")
""",
    "raw_define": """
raw_model = raw_cnn.build_model(seed=0)
for name in ("conv_kernel", "conv_bias", "dense_kernel", "dense_bias"):
    variable = getattr(raw_model, name)
    shape = str(tuple(variable.shape))
    print(f"{name:16} {shape:20} {number(variable.shape.num_elements()):>7}")
parameters = sum(v.shape.num_elements() for v in raw_model.trainable_variables)
print(f"«parameters»: {number(parameters)}")  # «as_keras»
""",
    "keras_compile": """
keras_model = keras_cnn.compile_model(keras_model)
""",
    "raw_compile": """
optimizer = raw_cnn.compile_model(raw_model)
""",
    "keras_train": """
print_epochs = keras.callbacks.LambdaCallback(on_epoch_end=show_epoch)
keras_board = keras.callbacks.TensorBoard(f"{LOGS}/keras")  # «keras_board»
callbacks = [print_epochs, keras_board]
start = time.perf_counter()
keras_history = keras_cnn.train(
    keras_model, x_train, y_train, EPOCHS, BATCH_SIZE, verbose=0, callbacks=callbacks
)
keras_seconds = time.perf_counter() - start
""",
    "raw_train": """
raw_writer = tf.summary.create_file_writer(f"{LOGS}/raw_tf/train")


def raw_board(epoch, logs):  # «raw_board»
    with raw_writer.as_default(step=epoch):
        for name, value in logs.items():
            tf.summary.scalar(f"epoch_{name}", value)  # epoch_loss, epoch_accuracy
        tf.summary.scalar("epoch_learning_rate", optimizer.learning_rate)


start = time.perf_counter()
raw_history = raw_cnn.train(
    raw_model,
    optimizer,
    x_train,
    y_train,
    EPOCHS,
    BATCH_SIZE,
    verbose=0,
    callbacks=[show_epoch, raw_board],
)
raw_seconds = time.perf_counter() - start
""",
    "keras_evaluate": """
keras_scores = keras_cnn.evaluate(keras_model, x_test, y_test, BATCH_SIZE)
""",
    "raw_evaluate": """
raw_scores = raw_cnn.evaluate(raw_model, x_test, y_test, BATCH_SIZE)
for style, scores, seconds in (
    ("Keras", keras_scores, keras_seconds),
    ("«raw_tf»", raw_scores, raw_seconds),
):
    loss, accuracy = number(scores["loss"], 4), number(scores["accuracy"], 4)
    trained = f"{number(seconds, 1)} s"
    print(f"{style:16} «loss» {loss}   «accuracy» {accuracy}   «trained_in» {trained}")
""",
    "parity_outputs": """
tf.config.experimental.enable_op_determinism()  # «determinism»


def twins():  # «twins»
    keras_twin = keras_cnn.compile_model(keras_cnn.build_model(seed=0))
    keras_twin.jit_compile = False  # «no_xla»
    raw_twin = raw_cnn.build_model(seed=1)  # «copy»
    conv, dense = keras_twin.layers[0], keras_twin.layers[-1]
    raw_twin.conv_kernel.assign(conv.kernel)
    raw_twin.conv_bias.assign(conv.bias)
    raw_twin.dense_kernel.assign(dense.kernel)
    raw_twin.dense_bias.assign(dense.bias)
    return keras_twin, raw_twin


keras_twin, raw_twin = twins()
images, labels = x_test[:BATCH_SIZE], y_test[:BATCH_SIZE]

probabilities = keras_twin(images)  # Keras: softmax
keras_logits = probabilities._keras_logits.numpy()  # «behind_softmax»
raw_logits = raw_twin(tf.constant(images))  # «raw_logits»
keras_loss = keras_cnn.evaluate(keras_twin, images, labels, BATCH_SIZE)["loss"]
raw_loss = raw_cnn.evaluate(raw_twin, images, labels, BATCH_SIZE)["loss"]

logits_gap = np.abs(raw_logits.numpy() - keras_logits).max()
softmax_gap = np.abs(tf.nn.softmax(raw_logits).numpy() - probabilities.numpy()).max()
loss_gap = abs(raw_loss - keras_loss)
print(f"«logits_gap»: {scientific(logits_gap)}")
print(f"«softmax_gap»: {scientific(softmax_gap)}")
print(f"«loss»: Keras {number(keras_loss, 6)}, «raw_tf» {number(raw_loss, 6)}")
PER_OP = 1e-6  # «per_op»
assert logits_gap <= PER_OP * np.abs(keras_logits).max()
assert softmax_gap <= PER_OP
assert loss_gap <= PER_OP * keras_loss
""",
    "parity_training": """
# «few_steps»
few_images, few_labels = x_train[:1024], y_train[:1024]
keras_twin, raw_twin = twins()  # «fresh_twins»
keras_run = keras_cnn.train_in_seeded_order(
    keras_twin, few_images, few_labels, 1, BATCH_SIZE, seed=0, verbose=0
)
raw_optimizer = raw_cnn.compile_model(raw_twin)
raw_run = raw_cnn.train(
    raw_twin, raw_optimizer, few_images, few_labels, 1, BATCH_SIZE, seed=0, verbose=0
)
for style, run in (("Keras", keras_run), ("«raw_tf»", raw_run)):
    loss, accuracy = number(run["loss"][0], 6), number(run["accuracy"][0], 4)
    print(f"{style:16} «loss» {loss}   «accuracy» {accuracy}")
REDUCTION = (BATCH_SIZE * 26 * 26) ** 0.5 * 6e-8  # «reduction»
(keras_epoch_loss,), (raw_epoch_loss,) = keras_run["loss"], raw_run["loss"]
assert abs(raw_epoch_loss - keras_epoch_loss) <= REDUCTION * keras_epoch_loss
assert abs(raw_run["accuracy"][0] - keras_run["accuracy"][0]) <= 1 / len(few_images)
""",
    "curves": """
import matplotlib.pyplot as plt

figure, axes = plt.subplots(1, 2, figsize=(9, 3), layout="constrained")
for style, history in (("Keras", keras_history), ("«raw_tf»", raw_history)):
    for axis, metric in zip(axes, ("loss", "accuracy")):
        axis.plot(range(1, EPOCHS + 1), history[metric], marker="o", label=style)
for axis, title in zip(axes, ("«loss»", "«accuracy»")):
    axis.set(title=title, xlabel="«epoch»", xticks=range(1, EPOCHS + 1))
    # «marks»
    axis.yaxis.set_major_formatter(lambda value, _: number(value, 2))
    axis.legend()
plt.show()
""",
    "tensorboard": """
if "google.colab" in sys.modules:  # «tensorboard_colab»
    %reload_ext tensorboard
    %tensorboard --logdir {LOGS}
else:
    print(f"«tensorboard_elsewhere»: tensorboard --logdir {LOGS}")
""",
    "measured": """
if INSTALLED:
    from IPython.display import Markdown, display

    from compare.language import set_language
    from compare.request import Request
    from compare.study import compare
    from compare.views.report import render

    set_language(LANG)
    request = Request(
        dataset="fashion_mnist",
        train_samples=TRAIN_SAMPLES,
        test_samples=TEST_SAMPLES,
        epochs=EPOCHS,
        batch_size=BATCH_SIZE,
        quiet=True,
    )
    report = compare(request, say=print)
    display(Markdown(render(report, "markdown", LANG)))
else:
    print("«measured_elsewhere»")
""",
    "resnet_run": """
def to_rgb(images):  # «rgb»
    return np.repeat(tf.image.resize(images * 255.0, (32, 32)).numpy(), 3, axis=-1)


images_train = keras_resnet.prepare_images(to_rgb(x_train[:RESNET_TRAIN]))
images_test = keras_resnet.prepare_images(to_rgb(x_test[:RESNET_TEST]))
labels_train, labels_test = y_train[:RESNET_TRAIN], y_test[:RESNET_TEST]

resnet = keras_resnet.build_model(0, (32, 32, 3), weights=RESNET_WEIGHTS)
keras_resnet.freeze_base(resnet)  # «phase_1»
keras_cnn.compile_model(resnet)  # «cnn_steps»
trainable = sum(weight.shape.num_elements() for weight in resnet.trainable_weights)
everything = number(resnet.count_params())
print(f"«parameters»: {everything}, «trainable»: {number(trainable)}")
keras_cnn.train(
    resnet, images_train, labels_train, RESNET_EPOCHS, 32, 0, callbacks=[print_epochs]
)
scores = keras_cnn.evaluate(resnet, images_test, labels_test, 32)
print(f"«test_accuracy»: {number(scores['accuracy'], 4)}")
""",
    "resnet_raw": """
if INSTALLED:
    from raw_tf_impl import resnet50_transfer as raw_resnet

    # «raw_loads»
    raw_resnet_model = raw_resnet.build_model(0, (32, 32, 3), weights=resnet)
    few = images_test[:8]
    keras_base = keras.Model(resnet.input, resnet.get_layer("conv5_block3_out").output)
    keras_features = keras_base(few).numpy()  # (8, 1, 1, 2048)
    raw_features = raw_resnet_model.base(tf.constant(few)).numpy()
    features_gap = np.abs(raw_features - keras_features).max()
    print(f"«features_gap»: {scientific(features_gap)}")
    DRIFT = 50 * 1e-6  # «drift»
    assert features_gap <= DRIFT * np.abs(keras_features).max()
else:
    print("«raw_resnet_elsewhere»")
""",
}

KERAS_CNN, RAW_CNN = "keras_impl/cnn.py", "raw_tf_impl/cnn.py"
KERAS_RESNET = "keras_impl/resnet50_transfer.py"
MODULES = {KERAS_CNN: "keras_cnn", RAW_CNN: "raw_cnn", KERAS_RESNET: "keras_resnet"}
CELLS = [  # (kind, what): the cells of both notebooks, in order
    ("prose", "title"),
    ("run", "install"),  # only with a REPOSITORY
    ("support", "notebooks/support.py"),
    ("run", "settings"),
    ("prose", "lecture_cnn"),
    ("prose", "data"),
    ("run", "data"),
    ("prose", "glossary"),
    ("prose", "imports"),
    ("lesson", (KERAS_CNN, "setup")),
    ("lesson", (RAW_CNN, "setup")),
    ("prose", "define_keras"),
    ("lesson", (KERAS_CNN, "define")),
    ("run", "keras_define"),
    ("prose", "define_raw"),
    ("lesson", (RAW_CNN, "define")),
    ("run", "raw_define"),
    ("prose", "compile_keras"),
    ("lesson", (KERAS_CNN, "compile")),
    ("run", "keras_compile"),
    ("prose", "compile_raw"),
    ("lesson", (RAW_CNN, "compile")),
    ("run", "raw_compile"),
    ("prose", "train_keras"),
    ("lesson", (KERAS_CNN, "train")),
    ("run", "keras_train"),
    ("prose", "train_raw"),
    ("lesson", (RAW_CNN, "train")),
    ("run", "raw_train"),
    ("prose", "evaluate_keras"),
    ("lesson", (KERAS_CNN, "evaluate")),
    ("run", "keras_evaluate"),
    ("prose", "evaluate_raw"),
    ("lesson", (RAW_CNN, "evaluate")),
    ("run", "raw_evaluate"),
    ("prose", "evaluate_compared"),
    ("prose", "curves"),
    ("run", "curves"),
    ("prose", "tensorboard"),
    ("run", "tensorboard"),
    ("prose", "concept_map"),
    ("prose", "extras"),
    ("lesson", (KERAS_CNN, "extras")),
    ("prose", "extras_raw"),
    ("lesson", (RAW_CNN, "extras")),
    ("prose", "parity"),
    ("run", "parity_outputs"),
    ("prose", "parity_training"),
    ("run", "parity_training"),
    ("prose", "measured"),
    ("run", "measured"),
    ("prose", "resnet"),
    ("lesson", (KERAS_RESNET, "setup")),
    ("lesson", (KERAS_RESNET, "define")),
    ("prose", "resnet_freeze"),
    ("lesson", (KERAS_RESNET, "freeze")),
    ("prose", "resnet_run"),
    ("run", "resnet_run"),
    ("prose", "resnet_raw"),
    ("run", "resnet_raw"),
    ("prose", "closing"),
]
SKIPPED_IN_SLIDES = {"install", "notebooks/support.py", "settings"}


# Project functions the support cell carries after notebooks/support.py.
BORROWED = [("compare/quiet.py", "stderr_silenced")]


def support_source():
    """notebooks/support.py, then each BORROWED function copied from its file."""
    text = (ROOT / "notebooks" / "support.py").read_text(encoding="utf-8").strip()
    for path, name in BORROWED:
        source = (ROOT / path).read_text(encoding="utf-8")
        function = next(
            node
            for node in ast.parse(source).body
            if isinstance(node, ast.FunctionDef) and node.name == name
        )
        first = min([function.lineno, *(d.lineno for d in function.decorator_list)])
        lines = source.splitlines()[first - 1 : function.end_lineno]
        text += "\n\n\n# From {}, copied by notebooks/build.py\n{}".format(
            path, "\n".join(lines)
        )
    return text


def cells():
    """CELLS as this build writes them: the install cell only with a REPOSITORY."""
    return [cell for cell in CELLS if cell != ("run", "install") or REPOSITORY]


class BuildError(Exception):
    """A language file or a cell that does not fit the notebook's plan."""


def read_language(lang):
    """({cell name: Markdown}, {phrase name: one line}, {readme block: Markdown}) from
    lesson.LANG.md; text before the first marker is a comment for whoever edits it."""
    path = HERE / f"lesson.{lang}.md"
    blocks, current = {}, None
    for line in path.read_text(encoding="utf-8").splitlines():
        match = MARKER.match(line)
        if match:
            current = match.groups()
            if current in blocks:
                raise BuildError(
                    f"{path.name}: {current[0]} {current[1]} appears twice"
                )
            blocks[current] = []
        elif current:
            blocks[current].append(line)
    text = {key: "\n".join(lines).strip() for key, lines in blocks.items()}
    by_kind = {
        wanted: {name: text[kind, name] for kind, name in blocks if kind == wanted}
        for wanted in ("cell", "phrase", "readme")
    }
    prose, phrases, readme = by_kind["cell"], by_kind["phrase"], by_kind["readme"]
    for name, phrase in phrases.items():
        if "\n" in phrase or not phrase:
            raise BuildError(f"{path.name}: phrase {name} must be one line")
    wanted = [name for kind, name in CELLS if kind == "prose"]
    if list(prose) != wanted:
        raise BuildError(
            f"{path.name}: the cells must be {', '.join(wanted)}, in that order "
            f"(found {', '.join(prose)})"
        )
    if set(readme) != {"upload", "published"}:
        raise BuildError(f"{path.name}: the readme blocks are upload and published")
    return prose, phrases, readme


def lesson_section(path, section):
    """A lesson file's section, as `compare code` shows it, under the line that runs it
    in the file's own module."""
    from compare.views.code_view import split_steps

    lines = split_steps((ROOT / path).read_text(encoding="utf-8")).get(section)
    if not lines:
        raise BuildError(f"{path} has no '{section}' section")
    return "\n".join([f"%%lesson {MODULES[path]}", *lines])


def generated(name, lang):
    """Markdown made by compare/ at build time, so the notebook needs no project."""
    if name == "CONCEPT_MAP":
        from compare.views.concepts import concept_map_markdown

        return concept_map_markdown(lang)
    from compare.views.glossary import glossary_markdown

    return glossary_markdown(lang)


def substitute(text, lang, phrases, where):
    """`text` with each «name» replaced: «LANG», «REPOSITORY», «COLAB_EN» and
    «COLAB_PT» (the notebooks' Colab addresses), «CONCEPT_MAP» and «GLOSSARY», or one
    of `phrases`."""
    known = {
        **phrases,
        "LANG": lang,
        "REPOSITORY": REPOSITORY,
        "COLAB_EN": colab_url("en"),
        "COLAB_PT": colab_url("pt"),
    }

    def replace(match):
        name = match.group(1)
        if name in ("CONCEPT_MAP", "GLOSSARY"):
            return generated(name, lang)
        if name not in known:
            raise BuildError(f"lesson.{lang}.md: no phrase {name} ({where})")
        return known[name]

    return PLACEHOLDER.sub(replace, text)


def run_cell(name, lang, phrases):
    """A run cell in `lang`, at most WIDTH columns wide."""
    code = substitute(RUN[name].strip("\n"), lang, phrases, f"run cell {name}")
    for line in code.splitlines():
        if len(line) > WIDTH:
            raise BuildError(
                f"run cell {name} in {lang}: a line of {len(line)} columns (at most "
                f"{WIDTH}; shorten the phrase): {line}"
            )
    return code


def slide_type(kind, what, text):
    if what in SKIPPED_IN_SLIDES:
        return "skip"
    if kind == "prose" and text.startswith(("# ", "## ")):
        return "slide"
    if kind == "prose" and text.startswith("**"):  # the second style of a step
        return "subslide"
    return "-"


def notebook(lang):
    """The notebook in `lang`, as an nbformat object."""
    import nbformat.v4 as v4

    prose, phrases, _ = read_language(lang)
    used = {key for template in RUN.values() for key in PLACEHOLDER.findall(template)}
    unused = sorted(set(phrases) - used)
    if unused:
        raise BuildError(f"lesson.{lang}.md: phrases no cell uses: {', '.join(unused)}")
    notebook_cells = []
    for index, (kind, what) in enumerate(cells()):
        if kind == "prose":
            cell = v4.new_markdown_cell(substitute(prose[what], lang, {}, what))
            name = what
        elif kind == "lesson":
            path, section = what
            cell = v4.new_code_cell(lesson_section(path, section))
            cell.metadata["lesson"] = {
                "file": path,
                "section": section,
                "module": MODULES[path],
            }
            name = f"{path.split('/')[0]}-{Path(path).stem}-{section}"
        elif kind == "support":
            cell = v4.new_code_cell(support_source())
            cell.metadata["support"] = {"file": what}
            name = "support"
        else:
            cell = v4.new_code_cell(run_cell(what, lang, phrases))
            name = f"run-{what}"
        cell.id = f"{index:02d}-{name}".replace("_", "-")
        cell.metadata["slideshow"] = {"slide_type": slide_type(kind, what, cell.source)}
        notebook_cells.append(cell)
    return v4.new_notebook(
        cells=notebook_cells,
        metadata={
            "kernelspec": {
                "display_name": "Python 3",
                "language": "python",
                "name": "python3",
            },
            "language_info": {"name": "python"},
            "colab": {"provenance": []},
        },
    )


def notebook_path(lang):
    return HERE / f"keras_vs_tf.{lang}.ipynb"


def notebook_text(lang):
    import nbformat

    nb = notebook(lang)
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


def colab_url(lang):
    """Where Colab opens the notebook from the published repository ("" unpublished)."""
    if not REPOSITORY:
        return ""
    repository = REPOSITORY.removeprefix("https://github.com/")
    path = notebook_path(lang).relative_to(ROOT)
    return f"https://colab.research.google.com/github/{repository}/blob/{BRANCH}/{path}"


def readme_text(name):
    """README `name` with its notebooks block written: badges to the published
    notebooks, or how to upload one to Colab. None where the file has no block."""
    path = ROOT / name
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    lang = READMES[name]
    block = read_language(lang)[2]["published" if REPOSITORY else "upload"]
    block = substitute(block, lang, {}, f"readme block in {name}") + "\n"
    if not README_BLOCK.search(text):
        raise BuildError(f"{name} has no notebooks block (see README_BLOCK)")
    return README_BLOCK.sub(lambda match: match[1] + block + match[3], text, count=1)


def outputs():
    """{path: the text this script writes there}: the notebooks (the lesson's and the
    exercises', notebooks/exercises.py) and the READMEs."""
    from notebooks import exercises  # deferred: it imports the project's grader

    texts = {notebook_path(lang): notebook_text(lang) for lang in LANGUAGES}
    texts.update(exercises.outputs())
    for name in READMES:
        text = readme_text(name)
        if text is not None:
            texts[ROOT / name] = text
    return texts


def stale():
    """The files whose committed text is not what this script writes."""
    return [
        path
        for path, text in outputs().items()
        if not path.is_file() or path.read_text(encoding="utf-8") != text
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m notebooks.build", description=__doc__
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 where a committed file is out of date",
    )
    args = parser.parse_args(argv)
    try:
        if args.check:
            outdated = stale()
            for path in outdated:
                print(
                    f"{path.relative_to(ROOT)} is not what notebooks/build.py writes: "
                    "run `python -m notebooks.build`",
                    file=sys.stderr,
                )
            return 1 if outdated else 0
        texts = outputs()  # all, or none
        for path, text in texts.items():
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                path.write_text(text, encoding="utf-8")
                print(f"wrote {path.relative_to(ROOT)}")
    except BuildError as error:
        print(f"python -m notebooks.build: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
