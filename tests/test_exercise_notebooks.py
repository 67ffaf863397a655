"""The exercises as notebooks (notebooks/exercises.py): built from the same sources as
the starter files, committed without outputs, and they run: the starters say "not
written yet", the reference solutions are right, in Portuguese without English; and
otter-grader's bundle grades a class's notebooks offline."""

import json
import subprocess
import sys

import pytest
from helpers import ROOT

from compare.exercises.catalog import ORDER
from compare.language import catalog

nbformat = pytest.importorskip("nbformat", reason="pip install -e '.[notebook]'")
sys.path.insert(0, str(ROOT))  # notebooks/ is not an installed package
from notebooks import exercises  # noqa: E402

CELL_TIMEOUT = 300


@pytest.mark.parametrize("lang", exercises.LANGUAGES)
def test_committed_exercise_notebook_is_what_build_writes(lang):
    path = exercises.notebook_path(lang)
    committed = path.read_text(encoding="utf-8")
    assert committed == exercises.outputs()[path], "run `python -m notebooks.build`"
    cells = json.loads(committed)["cells"]
    assert not any(cell.get("outputs") for cell in cells)
    checks = [c["source"] for c in cells if "".join(c["source"]).startswith("check(")]
    assert ["".join(source) for source in checks] == [f'check("{n}")' for n in ORDER]


def kernel(folder):
    """A kernel spec for this interpreter (the project installed), written for the test."""
    spec = folder / "kernels" / "exercises-test"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "exercises", "language": "python"})
    )
    return "exercises-test"


def executed(notebook, tmp_path, monkeypatch):
    nbclient = pytest.importorskip("nbclient", reason="pip install -e '.[notebook]'")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    client = nbclient.NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name=kernel(tmp_path),
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    return [
        "".join(output.get("text", "") for output in cell.get("outputs", []))
        for cell in client.nb.cells
        if cell.cell_type == "code" and cell.source.startswith("check(")
    ]


@pytest.mark.slow
def test_the_portuguese_starters_run_and_say_not_written_yet(tmp_path, monkeypatch):
    from test_notebooks import english_and_english_numbers

    notebook = nbformat.read(exercises.notebook_path("pt"), as_version=4)
    printed = executed(notebook, tmp_path, monkeypatch)
    assert len(printed) == len(ORDER)
    for name, text in zip(ORDER, printed, strict=True):
        assert text.startswith(f"Exercício {name}: ainda não escrito"), text
    assert english_and_english_numbers("\n".join(printed)) == []
    assert "I0000" not in "\n".join(printed)  # TensorFlow's C++ logs stay out


@pytest.mark.slow
@pytest.mark.parametrize("lang", exercises.LANGUAGES)
def test_the_reference_solutions_are_right_in_the_notebook(lang, tmp_path, monkeypatch):
    notebook = nbformat.read(exercises.notebook_path(lang), as_version=4)
    printed = executed(exercises.with_solutions(notebook), tmp_path, monkeypatch)
    right = catalog(lang).get("right", "right")
    assert [text.splitlines()[0] for text in printed] == [
        f"{catalog(lang).get('Exercise {name}', 'Exercise {name}').format(name=name)}: {right}"
        for name in ORDER
    ]


@pytest.mark.slow
def test_otter_grades_a_class_offline(tmp_path):
    """The bundle: otter assign proves every reference passes; otter run scores a
    submission with one mistake 10 of 11 and its results name the mistake's hint."""
    pytest.importorskip("otter", reason="pip install -e '.[grading]'")
    from mutations.adam import MUTATIONS

    bundle = exercises.otter_bundle(tmp_path / "bundle", "pt")
    submission = nbformat.read(tmp_path / "bundle" / "student" / "exercises.ipynb", 4)
    solved = exercises.with_solutions(nbformat.read(exercises.notebook_path("pt"), 4))
    answers = {
        cell.metadata["exercise"]: cell.source
        for cell in solved.cells
        if "exercise" in cell.metadata
    }
    old, new, hint = MUTATIONS[0]
    assert answers["adam"].count(old) == 1
    answers["adam"] = answers["adam"].replace(old, new)
    filled = [cell for cell in submission.cells if "exercise" in cell.metadata]
    assert [cell.metadata["exercise"] for cell in filled] == list(ORDER)
    for cell in filled:
        cell.source = answers[cell.metadata["exercise"]]
    nbformat.write(submission, tmp_path / "ana.ipynb")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "otter",
            "run",
            "--no-logo",
            "-a",
            bundle,
            "-o",
            tmp_path,
            tmp_path / "ana.ipynb",
        ],
        check=True,
        capture_output=True,
    )
    results = json.loads((tmp_path / "results.json").read_text())
    graded = [
        test for test in results["tests"] if "max_score" in test
    ]  # one a question
    scores = {test["name"]: test["score"] for test in graded}
    assert scores == {name: 0.0 if name == "adam" else 1.0 for name in ORDER}
    (failed,) = [test for test in graded if test["name"] == "adam"]
    assert catalog("pt")[hint] in failed["output"]
