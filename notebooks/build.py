"""The lesson as two notebooks, English and Brazilian Portuguese, generated from the
lesson files: `python -m notebooks.build` writes them; with `--check` it writes nothing
and says whether the committed ones are what it would write.

A notebook is the cells of `CELLS`, in order, the same for both languages:
- `lesson` cells: a section of a lesson file, verbatim, split at its `# Step N: name`
  headings as `python -m compare code` splits it (before the first heading: "setup"; the
  extras from their first `# Extras:` heading on, every part under its own heading);
- `prose` cells: Markdown from lesson.en.md or lesson.pt.md, one `<!-- cell: NAME -->`
  block per cell;
- `run` cells: the code below that runs the steps. Each «name» in it is a one-line
  `<!-- phrase: name -->` of the language file; «LANG», «REPOSITORY» and «FILES» (also
  in prose: links to the lesson files) come from here.

The notebooks are committed without outputs (run them to see them): what is committed is
exactly what this script writes, so it cannot drift from the lesson files.
"""

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "notebooks"
# The one thing to set when publishing: where Colab clones the project from.
REPOSITORY = "https://github.com/YOUR-ACCOUNT/keras-vs-tf"
BRANCH = "main"
LANGUAGES = ("en", "pt")
WIDTH = 88  # the lesson files' slide width, which ruff also checks in the notebooks
MARKER = re.compile(r"^<!-- (cell|phrase): ([a-z0-9_]+) -->$")
PLACEHOLDER = re.compile(r"«([A-Za-z0-9_]+)»")

RUN = {
    "install": """
# «install»
import os
import subprocess
import sys

REPOSITORY = "«REPOSITORY»"
FOLDER = "/content/keras-vs-tf"
if "google.colab" in sys.modules:  # «colab_only»
    if not os.path.isdir(FOLDER):
        subprocess.run(["git", "clone", "--depth", "1", REPOSITORY, FOLDER], check=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "-e", FOLDER], check=True
        )
    os.chdir(FOLDER)
    sys.path.insert(0, FOLDER)
""",
    "settings": """
import os

from compare.language import number, scientific, set_language
from compare.quiet import load_tensorflow_quietly

os.environ["KERAS_BACKEND"] = "tensorflow"  # «backend»
load_tensorflow_quietly()  # «quiet_tf»
LANG = "«LANG»"  # «lang»
set_language(LANG)
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
""",
    "data": """
from compare.data import DataError, load_named

if SMALL:  # «small_data»
    try:
        dataset = load_named("fashion_mnist", allow_download=False)
    except DataError:
        dataset = load_named("digits")
else:  # «full_data»
    dataset = load_named("fashion_mnist")
dataset = dataset.subset(TRAIN_SAMPLES, TEST_SAMPLES)
x_train, y_train = dataset.x_train, dataset.y_train  # (N, 28, 28, 1), (N,)
x_test, y_test = dataset.x_test, dataset.y_test
print(f"{dataset.name}: {dataset.source}")
print(f"«train» {x_train.shape}, «test» {x_test.shape}")
""",
    "keras_define": """
keras_model = build_model(seed=0)
keras_model.summary()
""",
    "raw_define": """
raw_model = build_model(seed=0)
for name in ("conv_kernel", "conv_bias", "dense_kernel", "dense_bias"):
    print(f"{name:13}", getattr(raw_model, name).shape)
parameters = sum(v.shape.num_elements() for v in raw_model.trainable_variables)
print(f"«parameters»: {number(parameters)}")  # «as_keras»
""",
    "keras_compile": """
keras_model = compile_model(keras_model)
""",
    "raw_compile": """
optimizer = compile_model(raw_model)
""",
    "keras_train": """
keras_history = train(keras_model, x_train, y_train, EPOCHS, BATCH_SIZE, verbose=2)
""",
    "raw_train": """
raw_history = train(raw_model, optimizer, x_train, y_train, EPOCHS, BATCH_SIZE)
""",
    "keras_evaluate": """
keras_scores = evaluate(keras_model, x_test, y_test, BATCH_SIZE)
""",
    "raw_evaluate": """
raw_scores = evaluate(raw_model, x_test, y_test, BATCH_SIZE)
for style, scores in (("Keras", keras_scores), ("«raw_tf»", raw_scores)):
    loss, accuracy = number(scores["loss"], 4), number(scores["accuracy"], 4)
    print(f"{style:16} «loss» {loss}   «accuracy» {accuracy}")
""",
    "concept_map": """
from IPython.display import Image, Markdown, display

from compare.views.concepts import concept_map_markdown

display(Markdown(concept_map_markdown(LANG)))
""",
    "parity_outputs": """
import numpy as np
import tensorflow as tf

import keras_impl
import raw_tf_impl
from compare.saved.convert import keras_to_raw

# «qualified_1»
# «qualified_2»
tf.config.experimental.enable_op_determinism()  # «determinism»
keras_twin = keras_impl.compile_model(keras_impl.build_model(seed=0))
keras_twin.jit_compile = False  # «no_xla»
raw_twin = keras_to_raw(keras_twin)  # «copy»
images, labels = x_test[:BATCH_SIZE], y_test[:BATCH_SIZE]

probabilities = keras_twin(images)  # Keras: softmax
keras_logits = probabilities._keras_logits.numpy()  # «behind_softmax»
raw_logits = raw_twin(tf.constant(images))  # «raw_logits»
keras_loss = keras_impl.evaluate(keras_twin, images, labels, BATCH_SIZE)["loss"]
raw_loss = raw_tf_impl.evaluate(raw_twin, images, labels, BATCH_SIZE)["loss"]

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
keras_run = keras_impl.cnn.train_in_seeded_order(
    keras_twin, few_images, few_labels, 1, BATCH_SIZE, seed=0, verbose=0
)
raw_optimizer = raw_tf_impl.compile_model(raw_twin)
raw_run = raw_tf_impl.train(
    raw_twin, raw_optimizer, few_images, few_labels, 1, BATCH_SIZE, seed=0, verbose=0
)
for style, run in (("Keras", keras_run), ("«raw_tf»", raw_run)):
    loss, accuracy = number(run["loss"][0], 6), number(run["accuracy"][0], 4)
    print(f"{style:16} «loss» {loss}   «accuracy» {accuracy}")
REDUCTION = 1.2e-5  # «reduction»
(keras_epoch_loss,), (raw_epoch_loss,) = keras_run["loss"], raw_run["loss"]
assert abs(raw_epoch_loss - keras_epoch_loss) <= REDUCTION * keras_epoch_loss
assert abs(raw_run["accuracy"][0] - keras_run["accuracy"][0]) <= 1 / len(few_images)
""",
    "measured": """
from compare.study import Request, compare
from compare.views.report import render

request = Request(
    dataset=dataset.name,
    train_samples=TRAIN_SAMPLES,
    test_samples=TEST_SAMPLES,
    epochs=EPOCHS,
    batch_size=BATCH_SIZE,
    curves=True,  # «curves»
    quiet=True,
)
report = compare(request, say=print)
display(Markdown(render(report, "markdown", LANG)))
""",
    "curves": """
from compare.views.plots import png_bytes, training_curves

display(Image(png_bytes(training_curves(report["results"], LANG))))
""",
    "resnet_run": """
from compare.transfer.transfer import to_rgb

# «rgb»
images_train = prepare_images(to_rgb(x_train[:RESNET_TRAIN], 32))  # (N, 32, 32, 3)
images_test = prepare_images(to_rgb(x_test[:RESNET_TEST], 32))
labels_train, labels_test = y_train[:RESNET_TRAIN], y_test[:RESNET_TEST]

resnet = build_model(seed=0, input_shape=(32, 32, 3), weights=RESNET_WEIGHTS)
freeze_base(resnet)  # «phase_1»
keras_impl.compile_model(resnet)  # «cnn_steps»
trainable = sum(weight.shape.num_elements() for weight in resnet.trainable_weights)
everything = number(resnet.count_params())
print(f"«parameters»: {everything}, «trainable»: {number(trainable)}")
keras_impl.train(resnet, images_train, labels_train, RESNET_EPOCHS, 32, verbose=2)
scores = keras_impl.evaluate(resnet, images_test, labels_test, 32)
print(f"«test_accuracy»: {number(scores['accuracy'], 4)}")
""",
    "resnet_raw": """
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
""",
}

KERAS_CNN, RAW_CNN = "keras_impl/cnn.py", "raw_tf_impl/cnn.py"
KERAS_RESNET = "keras_impl/resnet50_transfer.py"
CELLS = [  # (kind, what): the cells of both notebooks, in order
    ("prose", "title"),
    ("run", "install"),
    ("run", "settings"),
    ("prose", "lecture_cnn"),
    ("prose", "data"),
    ("run", "data"),
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
    ("prose", "concept_map"),
    ("run", "concept_map"),
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
    ("prose", "curves"),
    ("run", "curves"),
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
SKIPPED_IN_SLIDES = {"install", "settings"}


class BuildError(Exception):
    """A language file or a cell that does not fit the notebook's plan."""


def read_language(lang):
    """({cell name: Markdown}, {phrase name: one line}) from lesson.LANG.md; text before
    the first marker is a comment for whoever edits the file."""
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
    prose = {name: text[kind, name] for kind, name in blocks if kind == "cell"}
    phrases = {name: text[kind, name] for kind, name in blocks if kind == "phrase"}
    for name, phrase in phrases.items():
        if "\n" in phrase or not phrase:
            raise BuildError(f"{path.name}: phrase {name} must be one line")
    wanted = [name for kind, name in CELLS if kind == "prose"]
    if list(prose) != wanted:
        raise BuildError(
            f"{path.name}: the cells must be {', '.join(wanted)}, in that order "
            f"(found {', '.join(prose)})"
        )
    return prose, phrases


def lesson_section(path, section):
    """A lesson file's section, as `compare code` shows it."""
    from compare.views.code_view import split_steps

    lines = split_steps((ROOT / path).read_text(encoding="utf-8")).get(section)
    if not lines:
        raise BuildError(f"{path} has no '{section}' section")
    return "\n".join(lines)


def substitute(text, lang, phrases, where):
    """`text` with each «name» replaced: «LANG», «REPOSITORY», «FILES» (where the lesson
    files are read online) or one of `phrases`."""
    known = {
        **phrases,
        "LANG": lang,
        "REPOSITORY": REPOSITORY,
        "FILES": f"{REPOSITORY}/blob/{BRANCH}",
    }

    def replace(match):
        if match.group(1) not in known:
            raise BuildError(f"lesson.{lang}.md: no phrase {match.group(1)} ({where})")
        return known[match.group(1)]

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
    if kind == "run" and what in SKIPPED_IN_SLIDES:
        return "skip"
    if kind == "prose" and text.startswith(("# ", "## ")):
        return "slide"
    if kind == "prose" and text.startswith("**"):  # the second style of a step
        return "subslide"
    return "-"


def notebook(lang):
    """The notebook in `lang`, as an nbformat object."""
    import nbformat.v4 as v4

    prose, phrases = read_language(lang)
    used = {key for template in RUN.values() for key in PLACEHOLDER.findall(template)}
    unused = sorted(set(phrases) - used)
    if unused:
        raise BuildError(f"lesson.{lang}.md: phrases no cell uses: {', '.join(unused)}")
    cells = []
    for index, (kind, what) in enumerate(CELLS):
        if kind == "prose":
            cell = v4.new_markdown_cell(substitute(prose[what], lang, {}, what))
            name = what
        elif kind == "lesson":
            path, section = what
            cell = v4.new_code_cell(lesson_section(path, section))
            cell.metadata["lesson"] = {"file": path, "section": section}
            name = f"{path.split('/')[0]}-{Path(path).stem}-{section}"
        else:
            cell = v4.new_code_cell(run_cell(what, lang, phrases))
            name = f"run-{what}"
        cell.id = f"{index:02d}-{name}".replace("_", "-")
        cell.metadata["slideshow"] = {"slide_type": slide_type(kind, what, cell.source)}
        cells.append(cell)
    return v4.new_notebook(
        cells=cells,
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
    repository = REPOSITORY.removeprefix("https://github.com/")
    path = notebook_path(lang).relative_to(ROOT)
    return f"https://colab.research.google.com/github/{repository}/blob/{BRANCH}/{path}"


def stale():
    """The notebooks whose committed text is not what this script writes."""
    return [
        notebook_path(lang)
        for lang in LANGUAGES
        if not notebook_path(lang).is_file()
        or notebook_path(lang).read_text(encoding="utf-8") != notebook_text(lang)
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m notebooks.build", description=__doc__
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 where a committed notebook is out of date",
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
        texts = {lang: notebook_text(lang) for lang in LANGUAGES}  # all, or none
        for lang, text in texts.items():
            notebook_path(lang).write_text(text, encoding="utf-8")
            print(f"wrote {notebook_path(lang).relative_to(ROOT)}  ({colab_url(lang)})")
    except BuildError as error:
        print(f"python -m notebooks.build: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
