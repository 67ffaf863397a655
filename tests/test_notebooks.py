"""The lesson's notebooks (notebooks/): their code is the lesson files' code, they are what
notebooks/build.py writes, and they run as a student gets them: uploaded to a plain Colab
runtime, without the project.

The runs use a Jupyter kernel (a kernel spec written for the test, so no registered kernel
is needed) with KERAS_VS_TF_SMALL=1: a few hundred images, and ResNet50 with random
weights on 32 images. Offline: `keras.datasets` finds Fashion-MNIST in a cache prepared
from the Debian package. Two kernels: a fresh virtual environment holding only
TensorFlow, Keras, matplotlib, TensorBoard and the kernel (the project neither installed nor on the
path), and this interpreter, where the project adds the measured table and the raw
ResNet50.
"""

import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tokenize
from importlib.metadata import version

import pytest
from helpers import FASHION_MNIST_DEBIAN, ROOT

from compare.views.code_view import split_steps

nbformat = pytest.importorskip("nbformat", reason="pip install -e '.[notebook]'")
sys.path.insert(0, str(ROOT))  # notebooks/ is not an installed package
from notebooks import build  # noqa: E402

NOTEBOOKS = {lang: build.notebook_path(lang) for lang in build.LANGUAGES}
CELL_TIMEOUT = 300  # seconds; the slowest cell (the measured study) takes ~20 s here
# What a plain Colab runtime has for the notebook (tf.summary needs TensorBoard), at this
# environment's versions (pip's cache has them).
COLAB_PACKAGES = ("tensorflow", "keras", "matplotlib", "tensorboard", "ipykernel")
LESSON_FILES = (
    "keras_impl/cnn.py",
    "raw_tf_impl/cnn.py",
    "keras_impl/resnet50_transfer.py",
)


def read(lang):
    return nbformat.read(NOTEBOOKS[lang], as_version=4)


def lesson_cells(notebook):
    return [cell for cell in notebook.cells if "lesson" in cell.metadata]


@pytest.mark.parametrize("lang", build.LANGUAGES)
def test_committed_notebook_is_what_build_writes(lang):
    """No hand edits and no drift: rebuilding from the lesson files and lesson.LANG.md
    gives the committed file byte for byte (outputs stripped)."""
    committed = NOTEBOOKS[lang].read_text(encoding="utf-8")
    assert committed == build.notebook_text(lang), (
        f"{NOTEBOOKS[lang].name} is out of date: run `python -m notebooks.build`"
    )
    for cell in json.loads(committed)["cells"]:
        assert not cell.get("outputs") and cell.get("execution_count") is None


@pytest.mark.parametrize("lang", build.LANGUAGES)
def test_lesson_cells_are_the_files_sections_verbatim(lang):
    """Each cell that says it is a lesson section is, character for character, that section
    of the file (split at its `# Step N:` headings), and stands in the file as it is."""
    cells = lesson_cells(read(lang))
    for cell in cells:
        path, section, module = (
            cell.metadata["lesson"][key] for key in ("file", "section", "module")
        )
        text = (ROOT / path).read_text(encoding="utf-8")
        magic, _, code = cell.source.partition("\n")
        assert magic == f"%%lesson {module}" and module == build.MODULES[path]
        assert code == "\n".join(split_steps(text)[section]), (path, section)
        assert code in text, (path, section)  # contiguous, unchanged lines


def test_every_step_of_the_lesson_is_in_the_notebooks():
    """The imports, the four steps and the extras of both cnn.py files, and the ResNet50
    example's imports, model and freezing: each exactly once, in the file's order."""
    for lang in build.LANGUAGES:
        shown = [
            (cell.metadata["lesson"]["file"], cell.metadata["lesson"]["section"])
            for cell in lesson_cells(read(lang))
        ]
        assert len(shown) == len(set(shown))
        for path in LESSON_FILES:
            sections = list(split_steps((ROOT / path).read_text(encoding="utf-8")))
            in_notebook = [section for file, section in shown if file == path]
            assert in_notebook == [s for s in sections if s in in_notebook]
            assert {"setup", "define"} <= set(in_notebook)
        for path in ("keras_impl/cnn.py", "raw_tf_impl/cnn.py"):
            in_notebook = [section for file, section in shown if file == path]
            assert {"define", "compile", "train", "evaluate"} <= set(in_notebook)
        assert ("keras_impl/cnn.py", "extras") in shown
        assert ("raw_tf_impl/cnn.py", "extras") in shown
        assert ("keras_impl/resnet50_transfer.py", "freeze") in shown


WORDS = {tokenize.COMMENT, tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", None)}


def code_without_words(source):
    """The tokens of `source` but its comments and the text of its strings."""
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return [(token.type, token.string) for token in tokens if token.type not in WORDS]


def test_both_languages_have_the_same_cells_in_the_same_order():
    """Only the words differ: the same cell kinds and ids, the same lesson code, run cells
    with the same code apart from comments and strings, and translated prose."""
    english, portuguese = read("en"), read("pt")
    assert [(c.cell_type, c.id) for c in english.cells] == [
        (c.cell_type, c.id) for c in portuguese.cells
    ]
    for en_cell, pt_cell in zip(english.cells, portuguese.cells, strict=True):
        if "lesson" in en_cell.metadata:
            assert en_cell.source == pt_cell.source
        elif en_cell.cell_type == "code":
            assert code_without_words(en_cell.source) == code_without_words(
                pt_cell.source
            ), en_cell.id
        else:
            assert en_cell.source != pt_cell.source, en_cell.id  # translated


def test_the_support_cell_is_the_project_s_code_verbatim():
    """The helpers travel inside the notebook, copied from the project's files: no drift.
    notebooks/support.py, then compare.quiet's stderr_silenced as its file writes it."""
    import inspect

    from compare.quiet import stderr_silenced

    source = (ROOT / "notebooks" / "support.py").read_text(encoding="utf-8").strip()
    for lang in build.LANGUAGES:
        supports = [c for c in read(lang).cells if "support" in c.metadata]
        assert len(supports) == 1 and supports[0].source.startswith(source)
        assert supports[0].source.endswith(inspect.getsource(stderr_silenced).strip())


def test_nothing_but_a_plain_colab_runtime_is_imported():
    """Outside the cells that first ask whether the project is INSTALLED, the code cells
    import only what Colab has: no `compare`, `keras_impl`, `raw_tf_impl`, babel..."""
    allowed = {"keras", "numpy", "tensorflow", "matplotlib", "IPython"}
    allowed |= sys.stdlib_module_names
    for lang in build.LANGUAGES:
        for cell in read(lang).cells:
            if cell.cell_type != "code" or "if INSTALLED:" in cell.source:
                continue
            modules = re.findall(r"^\s*(?:from|import) ([\w.]+)", cell.source, re.M)
            assert {m.split(".")[0] for m in modules} <= allowed, (cell.id, modules)


def test_an_unpublished_project_has_no_clone_cell_and_readmes_say_upload(monkeypatch):
    monkeypatch.setattr(build, "REPOSITORY", "")
    for lang in build.LANGUAGES:
        assert not any("clone" in c.source for c in build.notebook(lang).cells)
    for name, text in build.outputs().items():
        if name.suffix == ".md":
            assert "colab-badge" not in text and "YOUR-ACCOUNT" not in text
            assert "keras_vs_tf.pt.ipynb" in text, name


def test_a_published_address_reaches_the_notebooks_and_the_readmes(monkeypatch):
    """One setting: the clone cell and every README's badges follow it."""
    address = "https://github.com/teacher/keras-vs-tf"
    monkeypatch.setattr(build, "REPOSITORY", address)
    for lang in build.LANGUAGES:
        first_code = next(
            c for c in build.notebook(lang).cells if c.cell_type == "code"
        )
        assert f'REPOSITORY = "{address}"' in first_code.source
        assert '"google.colab" in sys.modules' in first_code.source
    readmes = [text for path, text in build.outputs().items() if path.suffix == ".md"]
    assert len(readmes) == len(build.READMES)
    colab = "https://colab.research.google.com/github/teacher/keras-vs-tf/blob/main"
    for text in readmes:
        assert f"{colab}/notebooks/keras_vs_tf.pt.ipynb" in text
        assert f"{colab}/notebooks/keras_vs_tf.en.ipynb" in text


def test_the_committed_readmes_hold_the_block_build_writes():
    assert build.stale() == []


def test_the_notebook_numbers_are_babels(monkeypatch):
    """support.number and support.scientific, which the notebooks carry instead of Babel,
    write what compare.language writes, in both languages."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from compare import language
    from notebooks import support

    values = st.floats(-1e9, 1e9, allow_nan=False) | st.integers(-(10**9), 10**9)
    tiny = st.floats(1e-12, 1e3, allow_nan=False)

    @settings(max_examples=300, deadline=None)
    @given(
        values,
        st.integers(0, 6),
        tiny,
        st.integers(2, 4),
        st.sampled_from("en pt".split()),
    )
    def same(value, decimals, small, digits, lang):
        monkeypatch.setattr(support, "LANG", lang)
        with language.speaking(lang):
            assert support.number(value, decimals) == language.number(value, decimals)
            assert support.scientific(small, digits) == language.scientific(
                small, digits
            )

    same()
    for lang, expected in (("en", "54,410"), ("pt", "54.410")):
        monkeypatch.setattr(support, "LANG", lang)
        assert support.number(54410) == expected
    # Found by the comparison: Babel alone wrote 9.99e-8 as 10.0E-8.
    with language.speaking("en"):
        assert language.scientific(9.99e-8) == "1.0E-7"


def test_a_lesson_cell_runs_in_its_own_module():
    """%%lesson NAME: the code lands in module NAME, AutoGraph can read it back, and two
    modules keep two functions of the same name apart."""
    namespace = {}
    exec((ROOT / "notebooks" / "support.py").read_text(encoding="utf-8"), namespace)
    lesson = namespace["lesson"]
    lesson("probe_keras", "def build_model():\n    return 'keras'\n")
    lesson("probe_raw", "def build_model():\n    return 'raw'\n")
    lesson("probe_raw", "import inspect\nsource = inspect.getsource(build_model)\n")
    assert namespace["probe_keras"].build_model() == "keras"
    assert namespace["probe_raw"].build_model() == "raw"
    assert namespace["probe_raw"].source.startswith("def build_model")
    for name in ("probe_keras", "probe_raw"):
        del sys.modules[name]


def fashion_mnist_cache(folder):
    """A KERAS_HOME where keras.datasets.fashion_mnist finds its files, so that it
    downloads nothing."""
    if not FASHION_MNIST_DEBIAN.is_dir():
        pytest.skip(
            f"Fashion-MNIST not at {FASHION_MNIST_DEBIAN} (dataset-fashion-mnist)"
        )
    cache = folder / "keras-home"
    shutil.copytree(FASHION_MNIST_DEBIAN, cache / "datasets" / "fashion-mnist")
    return cache


def kernel_spec(folder, python, keras_home):
    """A kernel spec running ipykernel on `python`, with the small, offline settings in
    its environment and nothing of this project's on its path."""
    spec = folder / "kernels" / "keras-vs-tf-test"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "keras-vs-tf tests",
                "language": "python",
                "env": {
                    "KERAS_VS_TF_SMALL": "1",
                    "TF_CPP_MIN_LOG_LEVEL": "3",
                    "KERAS_HOME": str(keras_home),
                    "PYTHONPATH": "",
                },
            }
        )
    )
    return "keras-vs-tf-test"


@pytest.fixture(scope="session")
def colab_python(tmp_path_factory):
    """The python of a fresh virtual environment holding only what a plain Colab runtime
    has for this notebook (TensorFlow, Keras, matplotlib, TensorBoard) and the kernel."""
    folder = tmp_path_factory.mktemp("colab-venv")
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    python = str(folder / "bin" / "python")
    wanted = [f"{name}=={version(name)}" for name in COLAB_PACKAGES]
    install = [python, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    result = subprocess.run([*install, *wanted], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    check = [python, "-c", "import importlib.util as u; print(u.find_spec('compare'))"]
    assert (
        subprocess.run(check, capture_output=True, text=True, cwd=folder).stdout.strip()
        == "None"
    )
    return python


def client_for(lang, folder, python, monkeypatch):
    """A notebook client for the `lang` notebook, run in `folder` (so its logs/ lands
    there) on a kernel of `python`."""
    nbclient = pytest.importorskip("nbclient", reason="pip install -e '.[notebook]'")
    monkeypatch.setenv("JUPYTER_PATH", str(folder), prepend=os.pathsep)
    keras_home = fashion_mnist_cache(folder)
    work = folder / "work"
    work.mkdir()
    return nbclient.NotebookClient(
        read(lang),
        timeout=CELL_TIMEOUT,
        kernel_name=kernel_spec(folder, python, keras_home),
        resources={"metadata": {"path": str(work)}},
    )


def printed(notebook):
    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    assert not [output for output in outputs if output.output_type == "error"]
    return "\n".join(
        output.get("text", "") + str(output.get("data", {}).get("text/markdown", ""))
        for output in outputs
    )


def check_outputs(notebook, lang, installed):
    """The parity cells printed their differences, ResNet50 its accuracy, the curves were
    drawn; the project's cells ran where it is installed and said so where not."""
    text = printed(notebook)
    assert "Traceback" not in text
    # TensorFlow's C++ logs (I0000 oneDNN..., E0000 cuInit...) stay out of the notebook.
    assert not re.search(r"^[IWEF]0000 |absl::InitializeLog", text, re.M), text
    words = build.read_language(lang)[1]
    for phrase in (
        "logits_gap",
        "softmax_gap",
        "test_accuracy",
        "raw_tf",
        "trained_in",
    ):
        assert words[phrase] in text, phrase
    elsewhere = ("measured_elsewhere", "raw_resnet_elsewhere")
    for phrase in elsewhere:
        assert (words[phrase] in text) != installed, phrase
    assert (words["features_gap"] in text) == installed
    assert re.search(rf"{words['epoch']} 2: {words['loss']} ", text)  # both styles
    pngs = [
        o
        for c in notebook.cells
        for o in c.get("outputs", [])
        if "image/png" in o.get("data", {})
    ]
    assert pngs, "the training curves were not displayed"
    return text


def english_and_english_numbers(text):
    """What a Portuguese reader should not meet: the English phrases the catalog and the
    English notebook know, Keras' English progress words, numbers with a decimal point."""
    from test_language import english_phrases

    lesson_english = {
        phrase
        for name, phrase in build.read_language("en")[1].items()
        if len(phrase.split()) >= 3 and phrase != build.read_language("pt")[1][name]
    }
    known = english_phrases() | lesson_english | {"Epoch ", "Total params", "ms/step"}
    found = sorted(phrase for phrase in known if phrase in text)
    # 0.8853, 1.2E-7 or 54,410 (English), not 0,8853 or 54.410; shapes like
    # (512, 28, 28, 1) are fine.
    numbers = re.findall(r"(?<![\w.,])\d[\d.,]*\d(?:E-?\d+)?(?!\w)", text)
    # Three decimals read as English thousands: the notebooks print 1, 2, 4 or 6.
    # (0,001 is Brazilian: no English thousands start with 0).
    decimals = r"(?:,(?:\d{1,2}|\d{4,}))?"
    brazilian = re.compile(rf"\d+|0,\d+|\d{{1,3}}(?:\.\d{{3}})*{decimals}(?:E-?\d+)?")
    return found + [n for n in numbers if not brazilian.fullmatch(n)]


def test_the_scan_finds_english_in_an_english_notebook_output():
    """The negative control of the scan below, and a Portuguese line it lets pass."""
    sample = "Epoch 2: loss 0.3512, accuracy 0.8810\nparameters: 54,410 1.2E-7"
    assert len(english_and_english_numbers(sample)) >= 5
    brazilian = "época 2: perda 0,3512, acurácia 0,8810\nparâmetros: 54.410 1,2E-7 (None, 5408) 0,001"
    assert english_and_english_numbers(brazilian) == []


@pytest.mark.slow
@pytest.mark.parametrize("lang", build.LANGUAGES)
def test_notebook_runs_as_uploaded_to_colab(lang, colab_python, tmp_path, monkeypatch):
    """Every cell, in order, in the fresh environment: any exception (the parity cells'
    asserts included) fails the test with the cell and its traceback. The Portuguese
    notebook's outputs hold no English and no English-formatted number."""
    client = client_for(lang, tmp_path, colab_python, monkeypatch)
    client.execute()
    text = check_outputs(client.nb, lang, installed=False)
    logs = tmp_path / "work" / "logs"
    assert (logs / "keras" / "train").is_dir() and (logs / "raw_tf" / "train").is_dir()
    if lang == "pt":
        assert english_and_english_numbers(text) == []
        assert "54.410" in text


def code_cells(notebook, kind):
    return [
        (index, cell)
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and kind(cell)
    ]


@pytest.mark.slow
def test_step_cells_run_again_and_in_any_order(colab_python, tmp_path, monkeypatch):
    """After the whole notebook: each step cell again, in order; then every lesson cell in
    a shuffled order (the ResNet50 file's `build_model` among them), the steps' run
    cells again, and the parity cells twice (their asserts still hold). Each style keeps its own functions, and the steps still run."""
    client = client_for("en", tmp_path, colab_python, monkeypatch)
    notebook = client.nb
    lessons = code_cells(notebook, lambda cell: "lesson" in cell.metadata)
    steps = code_cells(
        notebook,
        lambda cell: (
            "lesson" in cell.metadata
            and cell.metadata["lesson"]["module"] in ("keras_cnn", "raw_cnn")
            and cell.metadata["lesson"]["section"]
            in ("define", "compile", "train", "evaluate")
            or cell.id.split("-run-")[-1].startswith(("keras-", "raw-"))
            and "-run-" in cell.id
        ),
    )
    runs = [(index, cell) for index, cell in steps if "lesson" not in cell.metadata]
    parity = code_cells(notebook, lambda cell: "-run-parity-" in cell.id)
    assert len(parity) == 2
    assert len(steps) == 16 and len(runs) == 8, [cell.id for _, cell in steps]
    shuffled = lessons[:]
    random.Random(0).shuffle(shuffled)
    probe = nbformat.v4.new_code_cell(
        "assert {f.__module__ for f in (keras_cnn.build_model, keras_cnn.train)} == {'keras_cnn'}\n"
        "assert {f.__module__ for f in (raw_cnn.build_model, raw_cnn.train)} == {'raw_cnn'}\n"
        "assert keras_resnet.build_model.__module__ == 'keras_resnet'\n"
        "assert type(raw_model).__module__ == 'raw_cnn'\n"
        "assert keras_model.count_params() == 54410\n"
        "print(keras_history['loss'][-1], raw_history['loss'][-1])"
    )
    with client.setup_kernel():
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)
        for index, cell in [*steps, *shuffled, *runs, *parity, *parity]:
            client.execute_cell(cell, index)
        notebook.cells.append(probe)
        client.execute_cell(probe, len(notebook.cells) - 1)
    assert "error" not in {o.output_type for o in probe.outputs}
    check_outputs(notebook, "en", installed=False)


@pytest.mark.slow
def test_notebook_uses_the_project_where_it_is_installed(tmp_path, monkeypatch):
    """In this environment, where the project is installed: the measured table and the
    raw ResNet50's check run too, in Portuguese."""
    client = client_for("pt", tmp_path, sys.executable, monkeypatch)
    client.execute()
    text = check_outputs(client.nb, "pt", installed=True)
    assert english_and_english_numbers(text) == []
