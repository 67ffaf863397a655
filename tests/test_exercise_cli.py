"""`python -m compare exercise`: start writes a starter and never overwrites; check grades
a file in a child process with a time limit and changes no file; --all grades a class."""

import os
import shutil
import subprocess
import time

import pytest
from helpers import run_main
from mutations.glorot import MUTATIONS

from compare.exercises.starter import reference

pytestmark = pytest.mark.slow  # each check starts a Python with TensorFlow
# A wrong answer that writes a "right" verdict straight to file descriptor 1, then exits.
FORGED = """import json, os


def glorot_uniform(rng, shape):
    verdict = {"status": "right", "detail": "", "hint": ""}
    os.write(1, (json.dumps(verdict) + "\\n").encode())
    os._exit(0)
"""
# Leaves a process behind in a session of its own, past the time limit.
ESCAPES = """import os


def glorot_uniform(rng, shape):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execvp("sleep", ["sleep", "97"])
        os._exit(0)
    while True:
        pass
"""


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    """Verdicts wrap at the terminal's width: these tests read them unwrapped."""
    monkeypatch.setenv("COLUMNS", "1000")


def files_and_times(folder):
    return {
        path: (path.stat().st_mtime_ns, path.stat().st_size)
        for path in folder.rglob("*")
    }


def test_start_writes_the_starter_and_never_overwrites(tmp_path):
    path = tmp_path / "mine.py"
    code, out, _err = run_main(["exercise", "start", "glorot", "--file", path])
    assert code == 0 and "YOUR CODE HERE" in path.read_text()
    assert f"check glorot --file {path}" in out
    path.write_text("my work")
    code, out, err = run_main(["exercise", "start", "glorot", "--file", path])
    assert code == 1 and path.read_text() == "my work"
    assert err.count("\n") == 1 and "exists" in err
    assert [p.name for p in tmp_path.iterdir()] == ["mine.py"]  # no temporary left


def test_a_starter_is_not_written_yet_and_the_reference_is_right(tmp_path):
    starter = tmp_path / "glorot.py"
    run_main(["exercise", "start", "glorot", "--file", starter, "--lang", "pt"])
    code, out, _err = run_main(["exercise", "check", "--file", starter, "--lang", "pt"])
    assert code == 1 and "ainda não escrito" in out  # the name is read from the header
    solution = tmp_path / "solution.py"
    solution.write_text(reference("glorot"))
    code, out, _err = run_main(["exercise", "check", "glorot", "--file", solution])
    assert code == 0 and ": right" in out


def test_a_mistake_gets_the_first_difference_and_its_hint_and_nothing_is_written(
    tmp_path,
):
    old, new, hint = MUTATIONS[0]
    path = tmp_path / "glorot.py"
    path.write_text(reference("glorot").replace(old, new) + "\nprint('hello')\n")
    before = files_and_times(tmp_path)
    code, out, err = run_main(["exercise", "check", "glorot", "--file", path])
    assert code == 1, err
    assert out.splitlines() == [
        f"Exercise glorot ({path}): not yet right",
        out.splitlines()[1],
        f"  hint: {hint}",
    ]
    assert out.splitlines()[1].startswith(
        "  first difference: the kernel of shape (3, 3, 1, 32): off by up to"
    )
    assert files_and_times(tmp_path) == before  # no __pycache__, nothing else


@pytest.mark.parametrize(
    ("code_text", "status", "detail"),
    [
        (
            "def glorot_uniform(rng, shape):\n    while True:\n        pass\n",
            "too slow",
            "stopped after 20 s",
        ),
        ("def glorot_uniform(rng, shape)\n    return 0\n", "does not run", "line 1: "),
        (
            "def glorot_uniform(rng, shape):\n    return [1, 2]\n",
            "does not run",
            "has shape (2,)",
        ),
        (
            "def glorot_uniform(rng, shape):\n    return {}['x']\n",
            "does not run",
            "line 2: KeyError: 'x'",
        ),
        (
            "import os\nos._exit(3)\n",
            "does not run",
            "(exit code 3) before it answered",
        ),
        ("import sys\n\nsys.exit('bye')\n", "does not run", "line 3: SystemExit: bye"),
        (FORGED, "does not run", "(exit code 0) before it answered"),
        (
            "def glorot(rng, shape):\n    return 0\n",
            "does not run",
            "defines no `glorot_uniform`",
        ),
    ],
    ids=[
        "hangs",
        "syntax",
        "shape",
        "raises",
        "exits",
        "sys.exit",
        "forged",
        "missing",
    ],
)
def test_code_that_cannot_be_graded_gets_one_clear_line(
    tmp_path, code_text, status, detail
):
    path = tmp_path / "glorot.py"
    path.write_text(code_text)
    code, out, err = run_main(
        ["exercise", "check", "glorot", "--file", path, "--time-limit", 20]
    )
    assert code == 1 and err == ""
    assert f": {status}" in out.splitlines()[0] and detail in out.splitlines()[1]
    assert "Traceback" not in out


def test_a_class_folder_gets_a_table_in_portuguese(tmp_path):
    old, new, _hint = MUTATIONS[1]
    (tmp_path / "ana").mkdir()
    (tmp_path / "ana" / "glorot.py").write_text(reference("glorot"))
    (tmp_path / "bruno").mkdir()
    (tmp_path / "bruno" / "glorot.py").write_text(reference("glorot").replace(old, new))
    (tmp_path / "bruno" / "notes.py").write_text("x = 1\n")
    before = files_and_times(tmp_path)
    code, out, err = run_main(["exercise", "check", "--all", tmp_path, "--lang", "pt"])
    assert code == 1 and err == ""  # not every file is right
    assert "aluno" in out and "primeira diferença" in out
    cells = [
        [cell.strip() for cell in line.split("│")[1:-1]] for line in out.splitlines()
    ]
    rows = [row[:4] for row in cells if row and row[0] in ("ana", "bruno")]
    assert rows == [
        ["ana", "ana/glorot.py", "glorot", "certo"],
        ["bruno", "bruno/glorot.py", "glorot", "ainda não está certo"],
        ["bruno", "bruno/notes.py", "", "não é um exercício"],
    ]
    assert out.splitlines()[-1] == "1 de 3 certos"
    assert files_and_times(tmp_path) == before


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["exercise", "check", "nope"], "no exercise nope: the exercises are glorot,"),
        (["exercise", "start"], "name an exercise"),
        (
            ["exercise", "check", "glorot", "--file", "missing.py"],
            "missing.py does not exist",
        ),
        (["exercise", "check", "glorot", "--file", "."], ". is not a file"),
        (["exercise", "start", "glorot", "--file", ""], "--file needs a file name"),
        (["exercise", "check", "--all", "missing"], "missing is not a folder"),
        (
            ["exercise", "start", "glorot", "--file", "no/such/dir/g.py"],
            "does not exist",
        ),
    ],
)
def test_bad_input_gets_one_line(argv, words, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_main(argv)
    assert code == 1 and out == "" and err.count("\n") == 1 and words in err
    assert list(tmp_path.iterdir()) == []


def test_the_grader_needs_no_write_access(tmp_path):
    """A read-only student folder grades as well (nothing is written beside the file)."""
    folder = tmp_path / "readonly"
    folder.mkdir()
    shutil.copy(os.path.join("exercises", "glorot.py"), folder / "glorot.py")
    folder.chmod(0o555)
    try:
        code, out, _err = run_main(
            ["exercise", "check", "glorot", "--file", folder / "glorot.py"]
        )
    finally:
        folder.chmod(0o755)
    assert code == 0, out


def test_the_time_limit_holds_and_nothing_is_left_running(tmp_path):
    """Code that loops and leaves a process in its own session: stopped at the limit,
    and the process it left is stopped too."""
    path = tmp_path / "glorot.py"
    path.write_text(ESCAPES)
    began = time.monotonic()
    code, out, _err = run_main(
        ["exercise", "check", "glorot", "--file", path, "--time-limit", 15]
    )
    assert code == 1 and ": too slow" in out
    assert time.monotonic() - began < 15 + 30  # TensorFlow's start, the clean-up
    left = subprocess.run(["pgrep", "-f", "sleep 97"], capture_output=True, text=True)
    assert left.stdout == ""


def test_start_names_the_command_that_checks_it_in_the_student_s_language(tmp_path):
    path = tmp_path / "meu glorot.py"
    code, out, _err = run_main(
        ["exercise", "start", "glorot", "--file", path, "--lang", "pt"]
    )
    command = f"python -m compare exercise check glorot --file '{path}' --lang pt"
    assert code == 0 and out.strip().endswith(command)
    assert command in path.read_text()
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # as open() makes files
