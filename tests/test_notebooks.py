"""The lesson's notebooks (notebooks/): their code is the lesson files' code, they are what
notebooks/build.py writes, and both run from top to bottom without an error.

The run uses a Jupyter kernel of this very interpreter (a kernel spec written for the test,
so no registered kernel is needed) with KERAS_VS_TF_SMALL=1: a few hundred real images read
offline, and ResNet50 with random weights on 32 images.
"""

import io
import json
import os
import sys
import tokenize

import pytest
from helpers import ROOT

from compare.views.code_view import split_steps

nbformat = pytest.importorskip("nbformat", reason="pip install -e '.[notebook]'")
sys.path.insert(0, str(ROOT))  # notebooks/ is not an installed package
from notebooks import build  # noqa: E402

NOTEBOOKS = {lang: build.notebook_path(lang) for lang in build.LANGUAGES}
CELL_TIMEOUT = 300  # seconds; the slowest cell (the measured study) takes ~20 s here
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
        path, section = (cell.metadata["lesson"][key] for key in ("file", "section"))
        text = (ROOT / path).read_text(encoding="utf-8")
        assert cell.source == "\n".join(split_steps(text)[section]), (path, section)
        assert cell.source in text, (path, section)  # contiguous, unchanged lines


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
    for en_cell, pt_cell in zip(english.cells, portuguese.cells):
        if "lesson" in en_cell.metadata:
            assert en_cell.source == pt_cell.source
        elif en_cell.cell_type == "code":
            assert code_without_words(en_cell.source) == code_without_words(
                pt_cell.source
            ), en_cell.id
        else:
            assert en_cell.source != pt_cell.source, en_cell.id  # translated


def test_colab_install_cell_comes_first_and_uses_the_one_repository_url():
    for lang in build.LANGUAGES:
        first_code = next(c for c in read(lang).cells if c.cell_type == "code")
        assert '"google.colab" in sys.modules' in first_code.source
        assert f'REPOSITORY = "{build.REPOSITORY}"' in first_code.source


def kernel_for_this_interpreter(folder):
    """A kernel spec running ipykernel on sys.executable (this venv's python), with the
    small, offline settings in its environment."""
    pytest.importorskip("ipykernel", reason="pip install -e '.[notebook]'")
    spec = folder / "kernels" / "keras-vs-tf-test"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [
                    sys.executable,
                    "-m",
                    "ipykernel_launcher",
                    "-f",
                    "{connection_file}",
                ],
                "display_name": "keras-vs-tf tests",
                "language": "python",
                "env": {"KERAS_VS_TF_SMALL": "1", "TF_CPP_MIN_LOG_LEVEL": "3"},
            }
        )
    )
    return "keras-vs-tf-test"


@pytest.mark.slow
@pytest.mark.parametrize("lang", build.LANGUAGES)
def test_notebook_runs_headlessly_without_an_error(lang, tmp_path, monkeypatch):
    """Every cell, in order, in a fresh kernel; any exception (the parity cells' asserts
    included) fails the test with the cell and its traceback."""
    nbclient = pytest.importorskip("nbclient", reason="pip install -e '.[notebook]'")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path), prepend=os.pathsep)
    kernel = kernel_for_this_interpreter(tmp_path)
    notebook = read(lang)
    client = nbclient.NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name=kernel,
        resources={"metadata": {"path": str(ROOT)}},
    )
    client.execute()  # raises CellExecutionError on the first failing cell

    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    assert not [output for output in outputs if output.output_type == "error"]
    text = "\n".join(
        output.get("text", "") + str(output.get("data", {}).get("text/markdown", ""))
        for output in outputs
    )
    assert "Traceback" not in text
    words = build.read_language(lang)[1]
    # The parity cell printed its differences, the study its table, ResNet50 its accuracy.
    for phrase in ("logits_gap", "softmax_gap", "features_gap", "test_accuracy"):
        assert words[phrase] in text, phrase
    assert words["raw_tf"] in text
    pngs = [output for output in outputs if "image/png" in output.get("data", {})]
    assert pngs, "the training curves were not displayed"
