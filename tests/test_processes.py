"""Every child dies with its parent: a signal to the parent alone (SIGTERM, SIGINT,
SIGKILL) of `--workers`, `--backends` and `bench` leaves no process of the run behind,
and SIGTERM is one line and exit 143. The join watchdog never signals a process it did
not start. A failed child's line names its signal, not a stack frame."""

import os
import signal
import subprocess
import sys
import time

import pytest
from helpers import ROOT, SMALL

from compare.errors import CompareError
from compare.safety.child_lines import meaningful_line

DIGITS = [*SMALL, "--epochs", "30", "--quiet"]
COMMANDS = {
    "workers": [*DIGITS, "--strategy", "multiworker", "--workers", "2"],
    "backends": [*DIGITS, "--backends", "jax"],
    "bench": [
        *("bench", "--dataset", "digits", "--train-samples", "256"),
        *("--test-samples", "64", "--batch-sizes", "32", "--repeats", "50"),
        *("--variants", "keras,raw", "--quiet"),
    ],
}
# What shows that the run's children are busy, in their command lines.
BUSY = {
    "workers": "compare.harness.backend_run",  # a worker's own child: Keras on JAX
    "backends": "compare.harness.backend_run",
    "bench": "multiprocessing",
}


def session_processes(session):
    """(pid, command line) of the live processes of `session`, from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rpartition(")")[2].split()
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                command = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ValueError):  # not a process, or gone meanwhile
            continue
        if fields[0] != "Z" and int(fields[3]) == session:
            found.append((int(entry), command))
    return found


def wait_for(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"waited {seconds} s for {what}")


def start_run(command):
    """`python -m compare COMMAND` in a session of its own (its id: the parent's PID),
    so that everything it starts can be listed afterwards."""
    return subprocess.Popen(
        [sys.executable, "-m", "compare", *command],
        cwd=ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "command, kind, exit_code, line",
    [
        ("workers", signal.SIGTERM, 143, "python -m compare: stopped by SIGTERM"),
        ("workers", signal.SIGINT, 130, "python -m compare: interrupted"),
        ("workers", signal.SIGKILL, -9, None),
        ("backends", signal.SIGTERM, 143, "python -m compare: stopped by SIGTERM"),
        ("bench", signal.SIGTERM, 143, "python -m compare: stopped by SIGTERM"),
        ("bench", signal.SIGKILL, -9, None),
    ],
)
def test_a_signal_to_the_parent_alone_leaves_no_process_behind(
    command, kind, exit_code, line
):
    parent = start_run(COMMANDS[command])
    try:
        wait_for(  # the children have started their work
            lambda: any(
                BUSY[command] in cmd for _, cmd in session_processes(parent.pid)
            ),
            300,
            f"{command}'s children",
        )
        time.sleep(2)  # well inside their imports or their training
        os.kill(parent.pid, kind)  # the parent alone, not its group
        _, stderr = parent.communicate(timeout=120)
        assert parent.returncode == exit_code, stderr
        if line:
            assert stderr.strip().splitlines() == [line]
        else:
            assert "Traceback" not in stderr, stderr
        # Nothing of the run is left: each child died with its parent.
        wait_for(
            lambda: not session_processes(parent.pid),
            60,
            f"no process left, still {session_processes(parent.pid)}",
        )
    finally:
        for pid, _ in session_processes(parent.pid):  # a failed test cleans up
            os.kill(pid, signal.SIGKILL)
        parent.kill()
        parent.wait()


# The join watchdog --------------------------------------------------------------
def watchdog(parent, seconds, **options):
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "compare.safety.watchdog",
            str(parent),
            str(seconds),
            "late",
        ],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
        **options,
    )


def test_a_watchdog_never_kills_a_pid_it_was_not_started_by():
    """The worker died (kill -9, the OOM killer) and its PID now names an innocent
    process: the watchdog, told that PID, exits and signals nothing."""
    innocent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        dog = watchdog(innocent.pid, 0.5)
        dog.wait(timeout=60)
        time.sleep(1)  # past its deadline
        assert innocent.poll() is None  # alive
        assert "late" not in dog.stderr.read()
        dog.stderr.close()
    finally:
        innocent.kill()
        innocent.wait()


def test_a_watchdog_dies_with_the_worker_it_watches():
    """A worker that dies while joining takes its watchdog with it, long before the
    watchdog's time is up (the kernel's parent-death signal)."""
    worker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import os, subprocess, sys, time; "
            "dog = subprocess.Popen([sys.executable, '-m', 'compare.safety.watchdog', "
            "str(os.getpid()), '600', 'late']); print(dog.pid, flush=True); time.sleep(600)",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    dog = int(worker.stdout.readline())
    worker.stdout.close()
    time.sleep(1)  # the watchdog has asked for its death signal
    worker.kill()
    worker.wait()
    wait_for(lambda: not os.path.exists(f"/proc/{dog}") or zombie(dog), 30, "the dog")


def zombie(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] == "Z"
    except OSError:
        return True


def test_a_watchdog_kills_its_worker_when_time_is_up():
    worker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import os, subprocess, sys, time; "
            "subprocess.Popen([sys.executable, '-m', 'compare.safety.watchdog', "
            "str(os.getpid()), '1', 'no answer']); time.sleep(600)",
        ],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    _, stderr = worker.communicate(timeout=120)
    assert worker.returncode == -signal.SIGKILL
    assert stderr.strip() == "no answer"


# A failed child's line -------------------------------------------------------------
JAX_ABORT = """F0000 00:00:1700000000.000000   12345 client.cc:99] Terminating process because the JAX distributed service detected fatal errors. This most likely indicates that another task died; UNAVAILABLE: heartbeat timeout
*** Check failure stack trace: ***
    @     0x7fa43d4a71f5  (unknown)
    @     0x7fa43d4a7200  (unknown)
"""


def test_a_child_killed_by_a_signal_says_which_and_why():
    line = meaningful_line(JAX_ABORT, -6)
    assert line.startswith("Terminating process because the JAX distributed service")
    assert line.endswith("(ended by SIGABRT (-6))") and "0x7fa" not in line
    assert meaningful_line("", -11) == "ended by SIGSEGV (-11)"
    assert meaningful_line("    @     0x7fa43d4a71f5  (unknown)\n", -11) == (
        "ended by SIGSEGV (-11)"
    )
    assert len(meaningful_line("x" * 100_000, 1)) < 400


def test_a_peer_lost_during_jax_training_is_one_line():
    from compare.harness.backends import backend_failed

    completed = subprocess.CompletedProcess([], -6, "", "noise\n" + JAX_ABORT)
    cluster = {"process_id": 1, "coordinator": "127.0.0.1:5000", "timeout": 60}
    line = backend_failed("jax", completed, cluster)
    assert line == (
        "Keras on JAX, process 1: another process of the cluster at 127.0.0.1:5000 "
        "stopped answering during training (ended by SIGABRT (-6))"
    )


def test_a_peer_lost_during_raw_training_is_one_line():
    import tensorflow as tf

    from compare.harness.distribute import peers_answer

    def train():
        raise tf.errors.UnavailableError(
            None, None, "Socket closed\nAdditional GRPC error information: ..."
        )

    with pytest.raises(CompareError) as caught:
        peers_answer(train, 0)()
    assert str(caught.value) == (
        "worker 0: another worker stopped answering during training (Socket closed)"
    )
