"""--workers N: N workers of the same command on 127.0.0.1, started and watched by this
process (one failing or running out of time stops them all), each in the run's process
group and, where the kernel allows, in a private network namespace
(compare/safety/network.py: TensorFlow's servers cannot be bound to 127.0.0.1)."""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from compare.errors import CompareError
from compare.harness.distribute import load_worker_report
from compare.language import _, number
from compare.safety.child_lines import meaningful_line
from compare.safety.children import ChildGroup
from compare.safety.network import EXPOSURE_SAID, PrivateNetwork


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def last_line(path, code=None):
    """A failed worker's last meaningful line, else the signal that ended it."""
    return meaningful_line(Path(path).read_text(errors="replace"), code)


def run_local_workers(argv, workers, timeout, say):
    """Run `python -m compare ARGV` as `workers` processes of one cluster on 127.0.0.1 and return each
    worker's report. All are stopped when one fails or `timeout` seconds pass, or when
    this process stops (its children's group is killed; each child dies with it)."""
    *ports, coordinator = free_ports(
        workers + 1
    )  # the last: Keras on JAX's coordinator
    cluster = [f"127.0.0.1:{port}" for port in ports]
    argv = [*argv, "--coordinator", f"127.0.0.1:{coordinator}"]
    with tempfile.TemporaryDirectory() as folder, ChildGroup() as group:
        logs = [Path(folder) / f"worker-{index}.log" for index in range(workers)]
        network = PrivateNetwork(group)
        if not network.holder:  # a warning about the user's safety, even with --quiet
            print(
                exposed_ports_line(ports, network.reason), file=sys.stderr, flush=True
            )
        processes = []
        for index in range(workers):
            tf_config = {
                "cluster": {"worker": cluster},
                "task": {"type": "worker", "index": index},
            }
            env = {
                **os.environ,
                "TF_CONFIG": json.dumps(tf_config),
                "TF_CPP_MIN_LOG_LEVEL": "3",
                EXPOSURE_SAID: "1",  # the line above, or no exposure: not again
            }
            command = [
                sys.executable,
                "-m",
                "compare",
                *argv,
                "--worker-report",
                f"{folder}/worker-{index}.json",
            ]
            with logs[index].open("w") as log:
                processes.append(
                    group.popen(
                        network.command(command),
                        env=env,
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.DEVNULL,
                        stderr=log,
                    )
                )
        say(
            _("Started {workers} workers on {cluster}").format(
                workers=number(workers), cluster=", ".join(cluster)
            )
        )
        deadline = time.monotonic() + timeout
        while (codes := [process.poll() for process in processes]).count(0) < workers:
            failed = [
                index for index, code in enumerate(codes) if code not in (None, 0)
            ]
            if failed:
                raise CompareError(
                    _("worker {index} failed: {line}").format(
                        index=failed[0],
                        line=last_line(logs[failed[0]], codes[failed[0]]),
                    )
                )
            if time.monotonic() > deadline:
                raise CompareError(
                    _(
                        "the workers did not finish within {seconds} s "
                        "(--worker-timeout)"
                    ).format(seconds=number(timeout))
                )
            time.sleep(0.2)
        return [
            load_worker_report(Path(folder) / f"worker-{index}.json")
            for index in range(workers)
        ]


def exposed_ports_line(ports, reason):
    """The run's own word where its workers could not be kept off the network."""
    return _(
        "warning: TensorFlow's gRPC servers listen on ports {ports} of every network "
        "interface, unauthenticated, while the workers run: TensorFlow cannot bind them "
        "to 127.0.0.1 and no private network namespace could be made here ({reason}); "
        "see docs/distributed.md, Multi-worker runs and the network"
    ).format(ports=", ".join(str(port) for port in ports), reason=reason)


def worker_argv(argv):
    """A command's arguments for a worker process: the same, less --workers N."""
    arguments, skip = [], False
    for argument in argv:
        if skip or argument.startswith("--workers="):
            skip = False
        elif argument == "--workers":
            skip = True
        else:
            arguments.append(argument)
    return arguments
