"""Resource limits and the run's temporary folder: `ulimit -v`, a cap on threads, `ulimit
-f` and a full TMPDIR are each one line naming the limit, never a C++ abort or a 70-line
AutoGraph traceback; each run keeps AutoGraph's files in a folder of its own, and a run
removes those of runs that were killed (compare/safety/limits.py, tempdir.py)."""

import os
import resource
import subprocess
import sys
import threading

import pytest
from helpers import ROOT

from compare.errors import CompareError
from compare.safety import limits, tempdir

MISSING = ["--dataset", "mnist", "--data-dir", "/nonexistent", "--quiet"]


def run_limited(args, limit, value, env=None, timeout=180):
    """`python -m compare ARGS` with the resource `limit` set to `value` bytes."""
    return subprocess.run(
        [sys.executable, "-m", "compare", *args],
        cwd=ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=lambda: resource.setrlimit(limit, (value, value)),
    )


@pytest.mark.slow
def test_a_small_address_space_is_one_line_before_tensorflow():
    """`ulimit -v 2000000` aborted TensorFlow (exit 134, a CHECK stack)."""
    process = run_limited(
        ["--dataset", "digits", "--epochs", "1"], resource.RLIMIT_AS, 2_000_000 * 1024
    )
    assert process.returncode == 1, process.stderr
    assert process.stderr.count("\n") == 1
    assert "out of address space: ulimit -v allows 2,000,000 KiB" in process.stderr


@pytest.mark.slow
def test_a_file_size_limit_is_one_line_naming_the_temporary_folder(tmp_path):
    """Past `ulimit -f` SIGXFSZ killed the run; now the probe write fails (EFBIG)."""
    process = run_limited(
        ["--dataset", "digits", "--epochs", "1", "--quiet"],
        resource.RLIMIT_FSIZE,
        16 * 1024,
        env={"TMPDIR": str(tmp_path)},
    )
    assert process.returncode == 1, process.stderr
    assert process.stderr.count("\n") == 1
    assert f"cannot write in the temporary folder {tmp_path}" in process.stderr
    assert "File too large" in process.stderr
    assert not list(tmp_path.iterdir())  # its folder removed at exit


def test_no_room_for_threads_is_one_line(monkeypatch):
    """Root passes RLIMIT_NPROC, so the cap is played by a thread start that fails."""
    started = []

    def start(thread):
        if len(started) == 5:
            raise RuntimeError("can't start new thread")
        started.append(thread)
        original_start(thread)

    original_start = threading.Thread.start
    monkeypatch.setattr(threading.Thread, "start", start)
    with pytest.raises(CompareError, match="cannot start threads") as refusal:
        limits.check_threads(20)
    assert "only 5 could start" in str(refusal.value)
    assert "ulimit -u" in str(refusal.value)
    assert all(not thread.is_alive() for thread in started)  # let go


def test_room_for_threads_passes():
    limits.check_threads()


def test_address_space_needed_grows_with_the_cpus(monkeypatch):
    monkeypatch.setattr(limits, "schedulable_cpus", lambda: 2)
    two = limits.needed_address_space()
    monkeypatch.setattr(limits, "schedulable_cpus", lambda: 64)
    assert limits.needed_address_space() > two > 3 * 2**30


def dead_pid():
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_sweep_removes_the_folders_of_dead_runs_only(tmp_path):
    dead = tmp_path / f"compare-run-{dead_pid()}-abc"
    alive = tmp_path / f"compare-run-{os.getpid()}-def"
    other = tmp_path / "compare-run-notapid"
    for folder in (dead, alive, other):
        folder.mkdir()
    (dead / "__autograph_generated_file1.py").write_text("x = 1\n")
    tempdir.sweep(tmp_path)
    assert not dead.exists()
    assert alive.exists() and other.exists()


@pytest.mark.slow
def test_a_run_sweeps_killed_runs_and_removes_its_own_folder(tmp_path):
    stale = tmp_path / f"compare-run-{dead_pid()}-xyz"
    stale.mkdir()
    (stale / "__autograph_generated_filek9.py").write_text("x = 1\n")
    process = subprocess.run(
        [sys.executable, "-m", "compare", *MISSING],
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert "mnist not found" in process.stderr  # it went past the folder's set-up
    assert list(tmp_path.iterdir()) == []


def test_autograph_failing_is_explained():
    OperatorNotAllowedInGraphError = type(
        "OperatorNotAllowedInGraphError", (TypeError,), {}
    )
    error = OperatorNotAllowedInGraphError(
        "Using a symbolic `tf.Tensor` as a Python `bool` is not allowed.\nmore"
    )
    assert tempdir.autograph_failed(error)
    assert not tempdir.autograph_failed(TypeError("a bug"))
    message = tempdir.autograph_explained(error)
    assert "\n" not in message and "ulimit -f" in message and "TMPDIR" in message
