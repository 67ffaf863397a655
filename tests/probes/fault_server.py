"""Run by test_faults.py: a fork server for `python -m compare` runs, so that dozens of
runs killed at random moments fit in a short test.

It loads TensorFlow once (about 4 of the 6 seconds a run takes to start), then for
each request on stdin, one JSON line {"argv": [...], "log": PATH}, forks a child that
runs compare.cli.main(argv) as `python -m compare` would (its stdout and stderr into
PATH; it ends through sys.exit, so Python's and HDF5's exit handlers run as in a real
run), and answers {"pid": PID} at once and {"exit": CODE} when the child has ended
(CODE negative: killed by that signal). A request may carry "file_size_after_usr1":
BYTES, a fault-injecting writer for machines that cannot mount a small disk: from the
moment the child gets SIGUSR1, every write past BYTES into a file fails (EFBIG), as
writes fail on a full disk. Nothing runs TensorFlow in this process before
a fork, so each child starts as a fresh `python -m compare` would after its imports.
"""

import json
import os
import resource
import signal
import sys

from compare.quiet import load_tensorflow_quietly

load_tensorflow_quietly()

import compare.cli  # noqa: E402  (the CLI and, through it, what runs load lazily)
import compare.harness.training  # noqa: E402, F401
import compare.study  # noqa: E402, F401


def limit_file_size_on_usr1(size):
    """After SIGUSR1, writes past `size` bytes of a file fail with EFBIG (SIGXFSZ, which
    would kill the process, is ignored)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1]
    signal.signal(
        signal.SIGUSR1,
        lambda *_: resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard)),
    )


def child(argv, log, file_size_after_usr1=None):
    if file_size_after_usr1 is not None:
        limit_file_size_on_usr1(file_size_after_usr1)
    descriptor = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(descriptor, 1)
    os.dup2(descriptor, 2)
    os.close(descriptor)
    sys.exit(compare.cli.main(argv))


def main():
    for line in sys.stdin:
        request = json.loads(line)
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            child(request["argv"], request["log"], request.get("file_size_after_usr1"))
        print(json.dumps({"pid": pid}), flush=True)
        _, status = os.waitpid(pid, 0)
        print(json.dumps({"exit": os.waitstatus_to_exitcode(status)}), flush=True)


if __name__ == "__main__":
    main()
