"""Listen only where told: local workers in a private network namespace.

TensorFlow's gRPC server cannot be bound to an address: it listens on "0.0.0.0:PORT"
whatever host TF_CONFIG names (tensorflow/core/distributed_runtime/rpc/
grpc_server_lib.cc), and it is unauthenticated. So `--workers N` runs its workers in a
network namespace of their own, made here without privileges (a user namespace owns
it), where the only interface is loopback: nothing outside the run can reach them.
Where the kernel refuses (user namespaces disabled or restricted), the run says which
ports listen on every interface. JAX's coordinator can be bound
(JAX_COORDINATOR_BIND_ADDRESS), and is.

`python -m compare.safety.network hold` makes the namespace and keeps it while its
stdin stays open; `python -m compare.safety.network enter PID -- COMMAND...` runs
COMMAND in the namespace that process PID holds.
"""

import ctypes
import fcntl
import os
import select
import socket
import struct
import subprocess
import sys

from compare.safety.children import die_with_parent

CLONE_NEWUSER, CLONE_NEWNET = 0x10000000, 0x40000000
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
LISTEN = "0A"  # the TCP state in /proc/net/tcp
# Set for local workers: their parent has said where they listen (no worker need repeat it).
EXPOSURE_SAID = "COMPARE_EXPOSURE_SAID"
HOLDER_START_SECONDS = 60  # a loaded machine starts Python slowly


def libc_call(name, *arguments):
    libc = ctypes.CDLL(None, use_errno=True)
    if getattr(libc, name)(*arguments) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{name}: {os.strerror(error)}")


def make_private_network():
    """Move this (single-threaded) process into a new user and network namespace, the
    user keeping its own uid and gid, and bring the namespace's loopback up."""
    uid, gid = os.getuid(), os.getgid()
    libc_call("unshare", CLONE_NEWUSER | CLONE_NEWNET)
    for path, text in (
        ("/proc/self/setgroups", "deny"),
        ("/proc/self/uid_map", f"{uid} {uid} 1"),
        ("/proc/self/gid_map", f"{gid} {gid} 1"),
    ):
        with open(path, "w") as file:
            file.write(text)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH", b"lo", 0)
        flags = struct.unpack("16sH", fcntl.ioctl(sock, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sH", b"lo", flags | IFF_UP))


def enter_network(holder_pid):
    """Join the user and network namespaces of process `holder_pid` (user first: it
    grants the right to join the other)."""
    for kind in ("user", "net"):
        descriptor = os.open(f"/proc/{holder_pid}/ns/{kind}", os.O_RDONLY)
        try:
            libc_call("setns", descriptor, 0)
        finally:
            os.close(descriptor)


def hold():
    """The namespace's holder: "ready" or "unavailable: REASON" on stdout, then wait
    until stdin closes (the parent is gone or done)."""

    die_with_parent()
    try:
        make_private_network()
    except OSError as error:
        print(f"unavailable: {error.strerror or error}", flush=True)
        return
    print("ready", flush=True)
    sys.stdin.read()


def enter(holder_pid, command):
    enter_network(holder_pid)
    os.execv(command[0], command)  # the same PID: the parent's child, in its group


class PrivateNetwork:
    """A private network namespace for the children of `group` (compare.safety.children
    .ChildGroup): `holder` is the process holding it, None where none could be made
    (`reason` says why); `command(argv)` is argv run inside it (argv itself without)."""

    def __init__(self, group):
        self.holder, self.reason = None, ""
        process = group.popen(
            [sys.executable, "-m", "compare.safety.network", "hold"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        ready, _, _ = select.select([process.stdout], [], [], HOLDER_START_SECONDS)
        answer = (
            process.stdout.readline().strip() if ready else "unavailable: no answer"
        )
        if answer == "ready":
            self.holder = process.pid
        else:
            self.reason = answer.partition(": ")[2] or answer or "no answer"

    def command(self, argv):
        if not self.holder:
            return argv
        return [
            sys.executable,
            "-m",
            "compare.safety.network",
            "enter",
            str(self.holder),
            "--",
            *argv,
        ]


def tcp_listeners(pid="self"):
    """(address, port) of every TCP socket listening in the network namespace of process
    `pid`, read from /proc/PID/net/tcp and tcp6 (IPv4-mapped IPv6 shown as IPv6)."""
    found = []
    for name, family in (("tcp", socket.AF_INET), ("tcp6", socket.AF_INET6)):
        try:
            with open(f"/proc/{pid}/net/{name}") as table:
                rows = table.read().splitlines()[1:]
        except FileNotFoundError:  # no IPv6 here
            continue
        for row in rows:
            local, state = row.split()[1], row.split()[3]
            if state != LISTEN:
                continue
            address, port = local.split(":")
            raw = bytes.fromhex(address)
            # /proc prints each 32-bit word in host (little-endian) order
            raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            found.append((socket.inet_ntop(family, raw), int(port, 16)))
    return found


def is_loopback(address):
    return address == "::1" or address.startswith("127.")


def interfaces(pid="self"):
    """The network interfaces of process `pid`'s namespace (/proc/PID/net/dev)."""
    with open(f"/proc/{pid}/net/dev") as table:
        return [row.split(":")[0].strip() for row in table.read().splitlines()[2:]]


def main(argv):
    if argv[:1] == ["hold"]:
        hold()
    elif argv[:1] == ["enter"] and argv[2:3] == ["--"]:
        enter(int(argv[1]), argv[3:])
    else:
        raise SystemExit(
            "usage: python -m compare.safety.network hold | enter PID -- COMMAND..."
        )


if __name__ == "__main__":
    main(sys.argv[1:])
