"""ruff, as configured in pyproject.toml: lint and format for the whole repository, and
slide width (88 columns, comments and docstrings included) for the lesson files."""

import shutil
import subprocess
import sys

import pytest
from helpers import ROOT

LESSONS = sorted([*ROOT.glob("keras_impl/*.py"), *ROOT.glob("raw_tf_impl/*.py")])


def ruff(*arguments):
    command = (
        [sys.executable, "-m", "ruff"] if shutil.which("ruff") is None else ["ruff"]
    )
    return subprocess.run(
        [*command, *arguments], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("arguments", [["check", "."], ["format", "--check", "."]])
def test_ruff_passes(arguments):
    completed = ruff(*arguments)
    assert completed.returncode == 0, completed.stdout + completed.stderr


@pytest.mark.parametrize("path", LESSONS, ids=lambda path: str(path.relative_to(ROOT)))
def test_lesson_files_fit_a_slide(path):
    wide = [
        number
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if len(line) > 88
    ]
    assert not wide, f"{path.name}: lines over 88 columns: {wide}"
