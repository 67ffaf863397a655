"""--strategy: train on several devices (MirroredStrategy) or several workers (MultiWorkerMirroredStrategy).

`mirrored` uses the machine's GPUs or, without any, logical CPU devices carved from the CPU.
`multiworker` runs this process as one worker of the cluster in TF_CONFIG, or with --workers N
starts N workers of the same command on 127.0.0.1 itself, watches them (one failing or running
out of time stops them all) and checks that they end with identical weights.
"""

import functools
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from compare.errors import CompareError
from compare.language import _, number, quantity
from compare.safety import atomic

STRATEGIES = ("none", "mirrored", "multiworker")
# --devices: 32 logical CPU devices train here (2 cores, 4 inter-op threads each); 64 hung
# in the all-reduce, 256 too. More GPUs than this are more than one machine holds.
MAX_DEVICES = 32
# Keras under each strategy: None on TensorFlow in this process (tf.distribute), "jax" in
# its own process through keras.distribution (keras_impl/distributed_jax.py). Keras 3's fit
# fails under MultiWorkerMirroredStrategy (keras-team/keras#20585, tensorflow/tensorflow#72388),
# so past one machine Keras runs on JAX only.
KERAS_ENGINES = {"none": (None,), "mirrored": (None, "jax"), "multiworker": ("jax",)}


def jax_engine(request):
    """run_on_backend's options for Keras on JAX under `request`'s strategy: the devices
    to make (mirrored) or the cluster to join (multiworker: the processes of TF_CONFIG,
    coordinated at --coordinator, else at worker 0's host, its port + 1)."""
    if request.strategy == "mirrored":
        return {"devices": request.devices or 2}
    workers, index = read_tf_config()
    host, _colon, port = workers[0].rpartition(":")
    return {
        "cluster": {
            "coordinator": request.coordinator or f"{host}:{int(port) + 1}",
            "processes": len(workers),
            "process_id": index,
            "timeout": request.worker_timeout,
        }
    }


@functools.cache
def mirrored_strategy(devices):
    """The first `devices` GPUs, or without GPUs `devices` logical CPU devices (default 2). Must be
    called before TensorFlow has started its runtime in this process."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        if devices and devices > len(gpus):
            raise CompareError(
                _("--devices {devices}: this machine has {gpus} GPUs").format(
                    devices=devices, gpus=number(len(gpus))
                )
            )
        return tf.distribute.MirroredStrategy(
            [f"/gpu:{i}" for i in range(devices or len(gpus))]
        )
    count = devices or 2
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * count
        )
        # Each replica's all-reduce blocks a thread of the one inter-op pool until its
        # peers arrive: with fewer threads than they need, a step waits forever (32
        # logical devices hung here on 2 cores; 4 threads per replica ran 256).
        if not tf.config.threading.get_inter_op_parallelism_threads():
            tf.config.threading.set_inter_op_parallelism_threads(4 * count)
    except RuntimeError:
        if len(tf.config.list_logical_devices("CPU")) != count:
            raise CompareError(
                _("TensorFlow started before the logical CPU devices could be made")
            ) from None
    return tf.distribute.MirroredStrategy([f"/cpu:{i}" for i in range(count)])


def read_tf_config():
    """TF_CONFIG, checked: the cluster's workers ("host:port") and this process's index among them."""
    text = os.environ.get("TF_CONFIG")
    if not text:
        raise CompareError(
            _(
                "--strategy multiworker needs TF_CONFIG in the environment (see the "
                "README), or --workers N to start N local workers"
            )
        )
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise CompareError(
            _("TF_CONFIG is not valid JSON ({error})").format(error=error)
        ) from None
    cluster = config.get("cluster") if isinstance(config, dict) else None
    workers = cluster.get("worker") if isinstance(cluster, dict) else None
    if not (
        isinstance(workers, list)
        and workers
        and all(isinstance(w, str) and w.rpartition(":")[2].isdigit() for w in workers)
    ):
        raise CompareError(
            _('TF_CONFIG needs "cluster": {{"worker": ["host:port", ...]}}').format()
        )
    task = config.get("task")
    if not (
        isinstance(task, dict)
        and task.get("type") == "worker"
        and isinstance(task.get("index"), int)
        and 0 <= task["index"] < len(workers)
    ):
        raise CompareError(
            _(
                'TF_CONFIG needs "task": {{"type": "worker", "index": 0 to {last}}}'
            ).format(last=len(workers) - 1)
        )
    return workers, task["index"]


@functools.cache
def multiworker_strategy(timeout_seconds):
    """MultiWorkerMirroredStrategy for the cluster in TF_CONFIG; a collective that waits longer than
    `timeout_seconds` for a peer fails instead of hanging."""
    import tensorflow as tf

    workers, index = read_tf_config()
    peers = ", ".join(
        worker for position, worker in enumerate(workers) if position != index
    )
    watchdog = start_watchdog(
        timeout_seconds,
        "python -m compare: "
        + _("error")
        + ": "
        + _(
            "worker {index}: no answer from {peers} within {seconds} s "
            "(--worker-timeout); are all the workers in TF_CONFIG running?"
        ).format(index=index, peers=peers, seconds=number(timeout_seconds)),
    )
    try:
        options = tf.distribute.experimental.CommunicationOptions(
            timeout_seconds=timeout_seconds
        )
        return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    except tf.errors.OpError as error:
        raise CompareError(
            _("worker {index} could not join {peers}: {error}").format(
                index=index, peers=peers, error=error.message.splitlines()[0]
            )
        ) from None
    finally:
        watchdog.kill()
        watchdog.wait()


WATCHDOG = """import os, signal, sys, time
pid, seconds, message = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
time.sleep(seconds)
print(message, file=sys.stderr, flush=True)
os.kill(pid, signal.SIGKILL)"""


def start_watchdog(seconds, message):
    """A small process that prints `message` and kills this one in `seconds` unless killed first.
    Joining a cluster waits inside TensorFlow's C++ runtime, holding the interpreter: no Python
    timer or signal handler here could run, hence a process of its own."""
    return subprocess.Popen(
        [sys.executable, "-c", WATCHDOG, str(os.getpid()), str(seconds), message],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )


def strategy_for(config):
    if config.strategy == "mirrored":
        return mirrored_strategy(config.devices)
    return multiworker_strategy(config.worker_timeout)


def nearby_multiples(count, replicas):
    """The multiples of `replicas` either side of `count`, for a flag: "62 or 64"."""
    lower = count - count % replicas
    if not lower:
        return str(replicas)
    return _("{lower} or {upper}").format(lower=lower, upper=lower + replicas)


def check_even_shares(replicas, batch_size, test_size):
    """Under MirroredStrategy, Keras 3's fit and evaluate fail when their first batch does
    not split into equal shares: they reduce that batch eagerly with strategy.reduce to
    build the model (_maybe_symbolic_build), and shares of different sizes do not add
    ("Inputs to operation AddN ... must have the same size and shape"; reproduced with
    Keras 3.15). So the global batch is a multiple of the replicas, and so is a test set
    smaller than one batch, in both styles. A short last batch may split unevenly."""
    if batch_size % replicas:
        raise CompareError(
            _(
                "--batch-size {batch_size} does not split evenly across {replicas} "
                "replicas, which Keras 3's fit needs: use a multiple of {replicas}, such "
                "as {multiples}"
            ).format(
                batch_size=batch_size,
                replicas=number(replicas),
                multiples=nearby_multiples(batch_size, replicas),
            )
        )
    if test_size < batch_size and test_size % replicas:
        raise CompareError(
            _(
                "a test set of {images}, smaller than a batch, does not split evenly "
                "across {replicas} replicas, which Keras 3's evaluate needs: use "
                "--test-samples {multiples}"
            ).format(
                images=quantity(test_size, "{count} image", "{count} images"),
                replicas=number(replicas),
                multiples=nearby_multiples(test_size, replicas),
            )
        )


# Local workers on 127.0.0.1 --------------------------------------------------------
def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def last_line(path):
    lines = [
        line
        for line in Path(path).read_text(errors="replace").splitlines()
        if line.strip()
    ]
    return lines[-1] if lines else _("no message")


def run_local_workers(argv, workers, timeout, say):
    """Run `python -m compare ARGV` as `workers` processes of one cluster on 127.0.0.1 and return each
    worker's report. All are stopped when one fails or `timeout` seconds pass."""
    *ports, coordinator = free_ports(
        workers + 1
    )  # the last: Keras on JAX's coordinator
    cluster = [f"127.0.0.1:{port}" for port in ports]
    argv = [*argv, "--coordinator", f"127.0.0.1:{coordinator}"]
    with tempfile.TemporaryDirectory() as folder:
        processes, logs = (
            [],
            [Path(folder) / f"worker-{index}.log" for index in range(workers)],
        )
        try:
            for index in range(workers):
                tf_config = {
                    "cluster": {"worker": cluster},
                    "task": {"type": "worker", "index": index},
                }
                env = {
                    **os.environ,
                    "TF_CONFIG": json.dumps(tf_config),
                    "TF_CPP_MIN_LOG_LEVEL": "3",
                }
                with logs[index].open("w") as log:
                    processes.append(
                        subprocess.Popen(
                            [
                                sys.executable,
                                "-m",
                                "compare",
                                *argv,
                                "--worker-report",
                                f"{folder}/worker-{index}.json",
                            ],
                            env=env,
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
            while (codes := [process.poll() for process in processes]).count(
                0
            ) < workers:
                failed = [
                    index for index, code in enumerate(codes) if code not in (None, 0)
                ]
                if failed:
                    raise CompareError(
                        _("worker {index} failed: {line}").format(
                            index=failed[0], line=last_line(logs[failed[0]])
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
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                    process.wait()


REPORT_ENTRY = "report.json"  # the worker's report, beside its weights in one file


def load_worker_report(path):
    with np.load(path, allow_pickle=False) as archive:
        report = json.loads(archive[REPORT_ENTRY].tobytes())
        report["weights"] = {
            name: archive[name] for name in archive.files if name != REPORT_ENTRY
        }
    return report


def save_worker_report(report, weights, path):
    """A worker's report (JSON) and its final weights ("<implementation>/<index>") in
    one .npz, written only at `path` (beside it, then renamed: compare/safety)."""
    memory = io.BytesIO()
    text = np.frombuffer(json.dumps(report).encode(), dtype=np.uint8)
    np.savez(memory, **{REPORT_ENTRY: text}, **weights)
    atomic.replace(path, memory.getvalue(), "--worker-report")


def merge_worker_reports(reports):
    """The chief's (worker 0's) report, with how far the workers' final weights are apart."""
    report = {key: value for key, value in reports[0].items() if key != "weights"}
    differences = {}
    for name, chief in reports[0]["weights"].items():
        implementation = name.split("/")[0]
        for other in reports[1:]:
            difference = float(np.abs(other["weights"][name] - chief).max())
            differences[implementation] = max(
                differences.get(implementation, 0.0), difference
            )
    report["workers"] = {
        "count": len(reports),
        "max_weight_difference": differences,
        "identical_weights": all(value == 0 for value in differences.values()),
    }
    return report


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
