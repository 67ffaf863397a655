"""--strategy: train on several devices (MirroredStrategy) or several workers (MultiWorkerMirroredStrategy).

`mirrored` uses the machine's GPUs or, without any, logical CPU devices carved from the CPU.
`multiworker` runs this process as one worker of the cluster in TF_CONFIG, or with --workers N
starts N workers of the same command on 127.0.0.1 itself (compare/harness/local_workers.py)
and checks that they end with identical weights.
"""

import functools
import io
import json
import os
import subprocess
import sys

import numpy as np

from compare.errors import CompareError
from compare.language import _, number, quantity
from compare.safety import atomic
from compare.safety.child_lines import first_line
from compare.safety.network import EXPOSURE_SAID

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
                "--strategy multiworker needs TF_CONFIG in the environment (see "
                "docs/distributed.md), or --workers N to start N local workers"
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
        and type(task.get("index")) is int  # not true, which Python counts as 1
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
    peers = peer_list(workers, index)
    say_exposure(workers, index)
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


def peer_list(workers, index, shown=3):
    """The other workers, for a line: at most `shown`, each bounded (TF_CONFIG may be huge)."""
    peers = [worker for position, worker in enumerate(workers) if position != index]
    listed = ", ".join(
        peer if len(peer) <= 80 else peer[:80] + "..." for peer in peers[:shown]
    )
    if len(peers) > shown:
        listed = _("{peers} and {count} more").format(
            peers=listed, count=number(len(peers) - shown)
        )
    return listed


def say_exposure(workers, index):
    """A TF_CONFIG worker's word on where its server listens (local --workers' parent has
    said it for all of them: compare/safety/network.py)."""
    if os.environ.get(EXPOSURE_SAID):
        return
    port = workers[index].rpartition(":")[2]
    print(
        "python -m compare: "
        + _(
            "worker {index}: TensorFlow's gRPC server listens on port {port} of every "
            "network interface, unauthenticated, whatever host TF_CONFIG names: keep the "
            "cluster on a private network (see docs/distributed.md, Multi-worker runs and the "
            "network)"
        ).format(index=index, port=port),
        file=sys.stderr,
        flush=True,
    )


def start_watchdog(seconds, message):
    """A small process that prints `message` and kills this one in `seconds` unless killed first.
    Joining a cluster waits inside TensorFlow's C++ runtime, holding the interpreter: no Python
    timer or signal handler here could run, hence a process of its own, which dies with this
    one and can signal no other (compare/safety/watchdog.py)."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "compare.safety.watchdog",
            str(os.getpid()),
            str(seconds),
            message,
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )


def peers_answer(function, index):
    """`function`, with a peer that stops answering mid-training (its process killed,
    its machine gone) made one line instead of TensorFlow's traceback."""

    @functools.wraps(function)
    def guarded(*arguments, **options):
        import tensorflow as tf

        try:
            return function(*arguments, **options)
        except (tf.errors.UnavailableError, tf.errors.DeadlineExceededError) as error:
            raise CompareError(
                _(
                    "worker {index}: another worker stopped answering during "
                    "training ({error})"
                ).format(index=index, error=first_line(error.message))
            ) from None

    return guarded


def strategy_for(request):
    if request.strategy == "mirrored":
        return mirrored_strategy(request.devices)
    return multiworker_strategy(request.worker_timeout)


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


REPORT_ENTRY = "report.json"  # the worker's report, beside its weights in one file


def load_worker_report(path):
    with np.load(path, allow_pickle=False) as archive:
        report = json.loads(archive[REPORT_ENTRY].tobytes())
        report["weights"] = {
            name: archive[name] for name in archive.files if name != REPORT_ENTRY
        }
    return report


def save_worker_report(report, weights, path):
    """A worker's report (JSON) and its final weights ("<style>/<index>") in
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
        style = name.split("/")[0]
        for other in reports[1:]:
            difference = float(np.abs(other["weights"][name] - chief).max())
            differences[style] = max(differences.get(style, 0.0), difference)
    report["workers"] = {
        "count": len(reports),
        "max_weight_difference": differences,
        "identical_weights": all(value == 0 for value in differences.values()),
    }
    return report
