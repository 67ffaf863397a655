"""Listen only where told, read from the OS: during a `--workers 2` run no server of the
run can be reached from outside the machine (nor from this test's own network: the
workers sit in a private namespace whose one interface is loopback), or, where no such
namespace can be made, the run's own output names the ports that listen everywhere. The
JAX coordinator is bound to --coordinator's address; a port in use is one line."""

import json
import os
import socket
import subprocess
import sys
import time

import pytest
from helpers import ROOT, SMALL

from compare.errors import CompareError
from compare.harness.backend_run import check_port_free
from compare.harness.distribute import peer_list, read_tf_config
from compare.safety.network import is_loopback, tcp_listeners


def test_listeners_are_read_from_the_os():
    with socket.socket() as loopback, socket.socket() as everywhere:
        loopback.bind(("127.0.0.1", 0))
        loopback.listen()
        everywhere.bind(("0.0.0.0", 0))
        everywhere.listen()
        found = tcp_listeners()
        assert ("127.0.0.1", loopback.getsockname()[1]) in found
        assert ("0.0.0.0", everywhere.getsockname()[1]) in found
    assert is_loopback("127.0.0.2") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("::")


def worker_processes(parent):
    """PID and TF_CONFIG of each worker of `parent` (its children with a TF_CONFIG)."""
    workers = {}
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as stat:
                ppid = int(stat.read().rpartition(")")[2].split()[1])
            with open(f"/proc/{entry}/environ", "rb") as environ:
                variables = environ.read().split(b"\0")
        except (OSError, ValueError):
            continue
        config = [v for v in variables if v.startswith(b"TF_CONFIG=")]
        if ppid == parent and config:
            workers[int(entry)] = json.loads(config[0].partition(b"=")[2])
    return workers


@pytest.mark.slow
def test_local_workers_cannot_be_reached_from_outside():
    run = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "compare",
            *SMALL,
            *("--epochs", "3", "--strategy", "multiworker", "--workers", "2"),
        ],
        cwd=ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = {}  # worker PID: the listeners seen in its network namespace
    ports, private = set(), None
    try:
        while run.poll() is None:
            for pid, config in worker_processes(run.pid).items():
                try:
                    listeners = tcp_listeners(pid)
                    with open(f"/proc/{pid}/net/dev") as table:
                        interfaces = [r.split(":")[0].strip() for r in table][2:]
                except OSError:  # it ended meanwhile
                    continue
                ports = {int(w.rpartition(":")[2]) for w in config["cluster"]["worker"]}
                private = interfaces == ["lo"]
                seen.setdefault(pid, set()).update(listeners)
                if private and {port for _, port in listeners} & ports:
                    for port in ports:  # from here, outside the namespace: nobody
                        with pytest.raises(ConnectionRefusedError):
                            socket.create_connection(("127.0.0.1", port), 5).close()
            time.sleep(0.2)
        stderr = run.stderr.read()
    finally:
        run.kill()
        run.wait()
        run.stderr.close()
    assert run.returncode == 0, stderr
    listening = {port for found in seen.values() for _, port in found}
    assert ports <= listening, (ports, seen)  # TensorFlow's servers were seen
    exposed = {
        port
        for found in seen.values()
        for address, port in found
        if not is_loopback(address)
    }
    if private:  # everything is on loopback, or in a namespace with loopback only
        assert "warning:" not in stderr
    else:  # the run says which ports listen everywhere, and only those do
        assert exposed <= ports, seen
        warning = next(line for line in stderr.splitlines() if "warning:" in line)
        assert all(str(port) in warning for port in ports), warning


def test_the_coordinator_port_in_use_is_named():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(CompareError) as caught:
            check_port_free(f"127.0.0.1:{port}", 0)
    assert str(caught.value) == (
        f"Keras on JAX, process 0: cannot serve the coordinator at 127.0.0.1:{port} "
        "(Address already in use): choose another --coordinator port"
    )


def test_the_jax_coordinator_is_told_where_to_listen(monkeypatch):
    """backends.py passes --coordinator's address as JAX's bind address (JAX's
    default is every interface, "[::]:PORT")."""
    from compare.harness import backends

    seen = {}

    def fake_process(backend, message, env, timeout):
        seen.update(env)
        return subprocess.CompletedProcess([], 0, '{"backend": "jax"}\n', "")

    monkeypatch.setattr(backends, "backend_process", fake_process)
    monkeypatch.setattr(backends, "missing", lambda backend: None)

    from compare.request import Request

    cluster = {
        "coordinator": "127.0.0.1:5123",
        "processes": 2,
        "process_id": 0,
        "timeout": 5,
    }
    request = Request("digits", train_samples=8, test_samples=8, epochs=1, batch_size=8)
    backends.run_on_backend("jax", request, False, cluster=cluster)
    assert seen["JAX_COORDINATOR_BIND_ADDRESS"] == "127.0.0.1:5123"


@pytest.mark.parametrize("index", [True, False, 1.0, "1"])
def test_a_worker_index_must_be_an_integer(monkeypatch, index):
    config = {
        "cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2"]},
        "task": {"type": "worker", "index": index},
    }
    monkeypatch.setenv("TF_CONFIG", json.dumps(config))
    with pytest.raises(CompareError, match='"index": 0 to 1'):
        read_tf_config()


def test_a_huge_cluster_makes_a_short_line():
    workers = [f"{'h' * 10_000}{i}:{i}" for i in range(1000)]
    line = peer_list(workers, 0)
    assert len(line) < 400 and line.endswith("and 996 more")


@pytest.mark.slow
def test_a_coordinator_port_in_use_is_one_line_naming_it():
    """Once a segfault of the Keras-on-JAX process ("failed: no message")."""
    with socket.socket() as holder, socket.socket() as free:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        free.bind(("127.0.0.1", 0))
        port, tf_port = holder.getsockname()[1], free.getsockname()[1]
        free.close()
        tf_config = {
            "cluster": {"worker": [f"127.0.0.1:{tf_port}"]},
            "task": {"type": "worker", "index": 0},
        }
        completed = subprocess.run(
            [sys.executable, "-m", "compare", *SMALL, "--epochs", "1", "--quiet"]
            + ["--strategy", "multiworker", "--only", "keras"]
            + ["--coordinator", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env={**os.environ, "TF_CONFIG": json.dumps(tf_config)},
            capture_output=True,
            text=True,
            timeout=600,
        )
    assert completed.returncode == 1
    assert completed.stderr.strip().splitlines()[-1] == (
        "python -m compare: error: Keras on JAX, process 0: cannot serve the "
        f"coordinator at 127.0.0.1:{port} (Address already in use): choose another "
        "--coordinator port"
    )


PROBE = """
from compare.safety.children import ChildGroup
from compare.safety.network import PrivateNetwork
with ChildGroup() as group:
    network = PrivateNetwork(group)
    print(network.holder or "", network.reason, sep="|")
"""


def test_where_no_private_network_can_be_made_the_run_says_which_ports_listen():
    """Here, or (where this machine allows namespaces) inside a user namespace with no
    uid mapping, where the kernel refuses another: no holder, a reason, and the line
    that names the ports."""
    from compare.harness.local_workers import exposed_ports_line
    from compare.safety.children import ChildGroup
    from compare.safety.network import PrivateNetwork

    with ChildGroup() as group:
        network = PrivateNetwork(group)
        holder, reason = network.holder, network.reason
    if holder:  # namespaces work here: take them away
        probe = subprocess.run(
            ["unshare", "--user", sys.executable, "-c", PROBE],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        holder, _, reason = probe.stdout.strip().partition("|")
    assert not holder and reason
    line = exposed_ports_line([1234, 5678], reason)
    assert "ports 1234, 5678 of every network interface, unauthenticated" in line
    assert reason in line
