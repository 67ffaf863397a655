"""Running a student's file: in its own process, with a time limit, so that code that
hangs, crashes or exhausts memory ends one check, not the grader; nothing is written
(no bytecode; Keras' config and AutoGraph's files go to a folder removed afterwards).

Two processes: a supervisor (`python -m compare.exercises.runner supervise LIMIT`),
which runs no student code, and the worker it starts, which grades. The request (the
exercise, the file's name and text, the language) comes on stdin, so the student's code
is never handed the file's path; the supervisor prints the Verdict as one JSON line.
This guards against mistakes and accidents, not against a student set on cheating:
the code runs with the student's own rights.
"""

import contextlib
import ctypes
import json
import os
import secrets
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
RUNNER = "compare.exercises.runner"  # this module (as __main__, its __name__ is not)


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


def grade_file(name, path, source, lang, time_limit=TIME_LIMIT):
    """The Verdict of exercise `name` on `source` (the text of the file `path`), graded
    by a supervisor process (see `supervise`) within `time_limit` seconds."""
    request = {"name": name, "path": str(path), "source": source, "lang": lang}
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
        supervisor = subprocess.Popen(
            [sys.executable, "-m", RUNNER, "supervise", str(time_limit)],
            cwd=scratch,
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:  # the supervisor answers within the limit and its clean-up
            output, _unused = supervisor.communicate(
                json.dumps(request).encode(), timeout=time_limit + SUPERVISOR_SPARE
            )
        except subprocess.TimeoutExpired:
            output = b""
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(supervisor.pid, signal.SIGKILL)
            supervisor.wait()
    try:
        return Verdict(**json.loads(output.decode().strip().splitlines()[-1]))
    except (IndexError, ValueError, TypeError):
        with speaking(lang):
            return Verdict("broken", ended_early(supervisor.returncode))


SUPERVISOR_SPARE = 60  # seconds past the limit: stopping what the code left running
PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h


def ended_early(code):
    return _(
        "the check's process ended (exit code {code}) before it answered: an exercise "
        "never calls sys.exit or os._exit"
    ).format(code=code)


def become_subreaper():
    """Processes the student's code starts and leaves (even in a new session) become
    this process's children when their parent ends, so that they can be stopped."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def children():
    """This process's children, from /proc (empty where there is none)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == os.getpid():  # state, then the parent's pid
                found.append(int(stat.parent.name))
    return found


def stop_all(worker):
    """Stop the worker's process group, then every process it left behind."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()
    for _round in range(100):
        left = children()
        if not left:
            return
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)


def supervise(time_limit):
    """The supervisor: runs the worker (`work`) on the request read from stdin, stops it
    after `time_limit` seconds, stops whatever it started, and prints the Verdict as
    one JSON line. The worker's answer must carry a token only the two of them know,
    so that the student's code cannot print a verdict of its own."""
    become_subreaper()
    request = json.loads(sys.stdin.read())
    request["token"] = secrets.token_hex(16)
    with tempfile.TemporaryFile() as answer:
        worker = subprocess.Popen(
            [sys.executable, "-m", RUNNER, "work"],
            stdin=subprocess.PIPE,
            stdout=answer,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        with contextlib.suppress(BrokenPipeError):
            worker.stdin.write(json.dumps(request).encode())
            worker.stdin.close()
        try:
            worker.wait(timeout=time_limit)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
        stop_all(worker)
        answer.seek(0)
        lines = answer.read().decode("utf-8", "replace").splitlines()
    with speaking(request["lang"]):
        if timed_out:
            verdict = Verdict(
                "timeout",
                _("stopped after {seconds} s: a loop that never ends?").format(
                    seconds=time_limit
                ),
            )
        else:
            signed = [line for line in lines if line.startswith(request["token"] + " ")]
            verdict = (
                Verdict(**json.loads(signed[-1].split(" ", 1)[1]))
                if signed
                else Verdict("broken", ended_early(worker.returncode))
            )
    print(json.dumps(asdict(verdict)), flush=True)


def work():
    """The worker: grades the request read from stdin; the student's prints, even
    written straight to file descriptor 1, go nowhere; the answer goes to the saved
    descriptor, signed with the supervisor's token."""
    request = json.loads(sys.stdin.read())
    sys.stdin.close()
    answer = os.dup(1)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 1)
    token = request.pop("token")
    with speaking(request["lang"]):
        try:
            verdict = grade_source(request["name"], request["source"], request["path"])
        except MemoryError:
            verdict = Verdict("broken", _("out of memory"))
        except BaseException as error:  # noqa: BLE001  SystemExit, KeyboardInterrupt...
            verdict = Verdict("broken", error_line(error, source_name(request["path"])))
    os.write(answer, f"{token} {json.dumps(asdict(verdict))}\n".encode())


if __name__ == "__main__":
    sys.setrecursionlimit(10_000)
    if sys.argv[1] == "supervise":
        supervise(int(sys.argv[2]))
    else:
        work()
