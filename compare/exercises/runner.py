"""Running a student's file: in its own process, with a time limit, so that code that
hangs, crashes or exhausts memory ends one check, not the grader; nothing is written
(no bytecode; Keras' config and AutoGraph's files go to a folder removed afterwards).

`python -m compare.exercises.runner NAME FILE LANG` is that process: it grades FILE and
prints the Verdict as one JSON line.
"""

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from compare.exercises.catalog import check_module
from compare.exercises.grading import Broken, error_line, grade, load, source_name
from compare.exercises.verdict import Verdict
from compare.language import _, speaking

TIME_LIMIT = 120  # seconds; TensorFlow's start and the longest check take about 20


def grade_source(name, source, filename):
    """The Verdict of exercise `name` on `source`, in this process."""
    check = check_module(name)
    try:
        student = load(source, filename)
    except (NotImplementedError, Broken) as error:
        status = "unwritten" if isinstance(error, NotImplementedError) else "broken"
        return Verdict(
            status, str(error) or _("the part marked YOUR CODE HERE still raises")
        )
    except Exception as error:  # the file raised while it ran
        return Verdict("broken", error_line(error, source_name(filename)))
    return grade(check, student, source_name(filename))


def grade_file(name, path, lang, time_limit=TIME_LIMIT):
    """The Verdict of exercise `name` on the file `path`, graded in a child process that
    is stopped (with all it started) after `time_limit` seconds."""
    with tempfile.TemporaryDirectory(prefix="compare-exercise-") as scratch:
        environment = {
            **os.environ,
            "PYTHONDONTWRITEBYTECODE": "1",
            "KERAS_HOME": scratch,
            "KERAS_BACKEND": "tensorflow",
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "TMPDIR": scratch,
            "PYTHONPATH": os.pathsep.join(sys.path),
        }
        command = [sys.executable, "-m", __name__, name, str(path.absolute()), lang]
        child = subprocess.Popen(
            command,
            cwd=scratch,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, stopped as one
        )
        try:
            output, _unused = child.communicate(timeout=time_limit)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.communicate()
            with speaking(lang):
                return Verdict(
                    "timeout",
                    _("stopped after {seconds} s: a loop that never ends?").format(
                        seconds=time_limit
                    ),
                )
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)  # anything it left running
    lines = output.decode("utf-8", "replace").strip().splitlines()
    try:
        return Verdict(**json.loads(lines[-1]))
    except (IndexError, ValueError, TypeError):
        with speaking(lang):
            return Verdict(
                "broken",
                _("the check's process ended with code {code} and no answer").format(
                    code=child.returncode
                ),
            )


def main(argv):
    name, path, lang = argv
    path = Path(path)
    with speaking(lang):
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            verdict = Verdict("broken", str(error))
        else:
            # The student's prints go to stderr; stdout carries the one JSON line.
            with contextlib.redirect_stdout(sys.stderr):
                try:
                    verdict = grade_source(name, source, str(path))
                except MemoryError:
                    verdict = Verdict("broken", _("out of memory"))
    print(json.dumps(asdict(verdict)), flush=True)


if __name__ == "__main__":
    sys.setrecursionlimit(10_000)
    main(sys.argv[1:])
