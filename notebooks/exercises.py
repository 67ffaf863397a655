"""The exercises as notebooks, English and Brazilian Portuguese, built from the same
sources as the starter files (exercises/*.py, through compare/exercises/starter.py):
for each exercise its statement, the starter cell and a check cell.

`python -m notebooks.build` writes them with the lesson's notebooks (and `--check`
covers them); `python -m notebooks.exercises --otter DIR` builds otter-grader's bundle
for an LMS (see `otter_bundle`).
"""

import argparse
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

from compare.exercises.catalog import ORDER, check_module, position
from compare.exercises.notebook import HOW, NEEDS, TITLE
from compare.exercises.starter import BEGIN, END, body, solution_code, starter
from compare.language import _, speaking

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "notebooks"
LANGUAGES = ("en", "pt")
KERNEL = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


def heading(exercise):
    """The exercise's Markdown: title, statement, concept, where in the lesson."""
    title = _("Exercise {number} of {total}: {title}").format(
        number=position(exercise.name), total=len(ORDER), title=_(exercise.title)
    )
    concept = _("Concept: {concept}").format(concept=_(exercise.concept))
    lesson = _("In the lesson: {where}").format(where=f"`{exercise.lesson}`")
    return f"## {title}\n\n{_(exercise.statement)}\n\n{concept}\n\n{lesson}"


def starter_code(exercise):
    """The starter file without its header (the Markdown above says it)."""
    return body(starter(exercise, 0, 0, "")).strip()


def setup_code(lang):
    return (
        "from compare.exercises.notebook import check\n"
        "from compare.language import set_language\n\n"
        f'set_language("{lang}")'
    )


def notebook(lang):
    """The student's notebook in `lang`, as an nbformat object."""
    import nbformat.v4 as v4

    with speaking(lang):
        cells = [
            v4.new_markdown_cell(f"# {_(TITLE)}\n\n{_(HOW)}\n\n{_(NEEDS)}"),
            v4.new_code_cell(setup_code(lang)),
        ]
        for name in ORDER:
            exercise = check_module(name).EXERCISE
            cells += [
                v4.new_markdown_cell(heading(exercise)),
                v4.new_code_cell(starter_code(exercise)),
                v4.new_code_cell(f'check("{name}")'),
            ]
    for index, cell in enumerate(cells):
        cell.id = f"{index:02d}"
    for name, cell in zip(ORDER, cells[3::3], strict=True):
        cell.metadata["exercise"] = name  # the starter cell of exercise `name`
    return v4.new_notebook(cells=cells, metadata=dict(KERNEL))


def notebook_path(lang):
    return HERE / f"exercises.{lang}.ipynb"


def outputs():
    """{path: text} of the exercise notebooks, for notebooks/build.py."""
    import nbformat

    texts = {}
    for lang in LANGUAGES:
        nb = notebook(lang)
        nbformat.validate(nb)
        texts[notebook_path(lang)] = nbformat.writes(nb) + "\n"
    return texts


def with_solutions(nb):
    """A copy of the student's notebook `nb` with every starter cell replaced by the
    reference solution (its comments as the starter says them): the teacher's key."""
    import copy

    solved = copy.deepcopy(nb)
    for cell in solved.cells:
        name = cell.metadata.get("exercise")
        if name:
            lines = solution_code(check_module(name).EXERCISE).splitlines()
            kept = [line for line in lines if line.strip() not in (BEGIN, END)]
            cell.source = "\n".join(kept).strip()
    return solved


# otter-grader: the bundle for an LMS -------------------------------------------------
OTTER_CONFIG = """# ASSIGNMENT CONFIG
name: exercises
init_cell: true
check_all_cell: false
export_cell: false
run_tests: true
solutions_pdf: false
template_pdf: false
tests:
  files: false
  ok_format: true
"""


def otter_master(lang):
    """otter assign's master notebook in `lang`: a question per exercise, worth one
    point, its solution the reference (otter strips what lies between its BEGIN and END
    SOLUTION lines, the same markers as exercises/*.py), its test the grader."""
    import nbformat.v4 as v4

    with speaking(lang):
        cells = [
            v4.new_raw_cell(OTTER_CONFIG),
            v4.new_markdown_cell(f"# {_(TITLE)}\n\n{_(HOW)}\n\n{_(NEEDS)}"),
            v4.new_code_cell(setup_code(lang)),
        ]
        for name in ORDER:
            exercise = check_module(name).EXERCISE
            test = (
                "from compare.exercises.notebook import verdict_of\n"
                f'verdict = verdict_of("{name}", globals())\n'
                f'assert verdict.passed, verdict.text("{name}")'
            )
            cells += [
                v4.new_raw_cell(f"# BEGIN QUESTION\nname: {name}\npoints: 1"),
                v4.new_markdown_cell(heading(exercise)),
                v4.new_raw_cell("# BEGIN SOLUTION"),
                v4.new_code_cell(
                    solution_code(exercise).strip(),
                    metadata={"exercise": name},
                ),
                v4.new_raw_cell("# END SOLUTION"),
                v4.new_raw_cell("# BEGIN TESTS"),
                v4.new_code_cell(test),
                v4.new_raw_cell("# END TESTS"),
                v4.new_raw_cell("# END QUESTION"),
            ]
    return v4.new_notebook(cells=cells, metadata=dict(KERNEL))


def otter_bundle(folder, lang):
    """Run `otter assign` on the master notebook (folder/exercises.ipynb): writes
    folder/student/exercises.ipynb for the students and folder/autograder.zip for
    Gradescope or `otter run -a autograder.zip SUBMISSION.ipynb`, in the environment
    where the project is installed. otter runs the master first: every reference
    solution must pass its test, or no bundle is written."""
    import nbformat

    folder = folder.absolute()
    folder.mkdir(parents=True)
    nbformat.write(otter_master(lang), folder / "exercises.ipynb")
    subprocess.run(  # otter resolves its output from the working folder: relative paths
        [
            sys.executable,
            "-m",
            "otter",
            "assign",
            "--no-pdfs",
            "exercises.ipynb",
            "dist",
        ],
        check=True,
        cwd=folder,
    )
    (zipped,) = (folder / "dist" / "autograder").glob("*.zip")
    shutil.copy(zipped, folder / "autograder.zip")
    shutil.copytree(folder / "dist" / "student", folder / "student")
    return folder / "autograder.zip"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m notebooks.exercises")
    parser.add_argument("--otter", type=Path, required=True, metavar="DIR")
    parser.add_argument("--lang", choices=LANGUAGES, default="en")
    args = parser.parse_args(argv)
    if args.otter.exists():
        print(f"{args.otter} exists: name a new folder", file=sys.stderr)
        return 1
    if importlib.util.find_spec("otter") is None:
        print("otter is not installed: pip install -e '.[grading]'", file=sys.stderr)
        return 1
    bundle = otter_bundle(args.otter, args.lang)
    print(json.dumps({"autograder": str(bundle)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
