"""Every child dies with its parent: one process group per run, a parent-death signal in
every child, SIGTERM handled as Ctrl-C is.

A run's children (--workers' workers, --backends' and Keras-on-JAX processes, bench's
workers, a watchdog) are started with `ChildGroup.popen` (or call `die_with_parent` first
thing), so that:
- the parent's exit, however it comes (an exception, Ctrl-C, SIGTERM), kills the group;
- the parent's death by SIGKILL, which runs no code of the parent's, kills each child
  anyway: the kernel sends it PR_SET_PDEATHSIG's signal.
"""

import contextlib
import ctypes
import os
import signal
import subprocess
import threading

from compare.language import _

PARENT_VARIABLE = "COMPARE_PARENT_PID"  # set for a child that must die with its parent
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C's KeyboardInterrupt would be: the same clean-up runs
    (finally blocks, the children's group killed), then exit 143 instead of 130."""


def raise_terminated(signal_number, frame):
    raise Terminated


def handle_sigterm_as_interrupt():
    """From now on SIGTERM stops this process as Ctrl-C does (compare/cli.py says
    which). A handler set later (a checkpointed run's) takes over while it is set."""
    if threading.current_thread() is threading.main_thread():  # where Python allows it
        signal.signal(signal.SIGTERM, raise_terminated)


def guard_process():
    """What `python -m compare` does first: die with the run that started it, if one
    did; take SIGTERM as Ctrl-C."""
    die_with_parent()
    handle_sigterm_as_interrupt()


def how_stopped(stop):
    """(the line, the exit code) for a KeyboardInterrupt: Ctrl-C's, or SIGTERM's
    (Terminated). The shell's convention: 128 + the signal's number."""
    if isinstance(stop, Terminated):
        return _("stopped by SIGTERM"), 128 + signal.SIGTERM
    return _("interrupted"), 128 + signal.SIGINT


def die_with_parent(parent_pid=None):
    """Ask the kernel for SIGKILL when this process's parent dies, then check that the
    parent is still the one that started it (it may have died before the request). The
    parent is `parent_pid`, else COMPARE_PARENT_PID's (taken out of the environment,
    so that this process's own children do not inherit it); neither: nothing to do."""
    if parent_pid is None:
        parent_pid = os.environ.pop(PARENT_VARIABLE, None)
        if parent_pid is None:
            return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the group kill still holds
        return
    if os.getppid() != int(parent_pid):
        os._exit(128 + signal.SIGKILL)  # orphaned before it asked: go as a kill would


def child_environment(environment=None):
    """`environment` (default: this process's) telling a `python -m compare...` child
    whose death its own should follow: this process's."""
    return {
        **(os.environ if environment is None else environment),
        PARENT_VARIABLE: str(os.getpid()),
    }


class ChildGroup:
    """The children of one run, in one process group of their own: the first child
    leads it, the others join it. A terminal's Ctrl-C reaches only the parent, which
    then kills the group (`kill`), grandchildren included."""

    def __init__(self):
        self.leader = None
        self.processes = []

    def popen(self, command, **options):
        """subprocess.Popen in this group, with COMPARE_PARENT_PID in its environment
        (the child calls `die_with_parent`)."""
        options["env"] = child_environment(options.get("env"))
        process = subprocess.Popen(command, process_group=self.leader or 0, **options)
        self.leader = self.leader or process.pid
        self.processes.append(process)
        return process

    def kill(self):
        """SIGKILL to the whole group, then reap the children started here. Only while
        the leader is unreaped (a zombie at worst) does its PID surely still name this
        group; after, each child is killed by its own handle."""
        leader = self.processes[0] if self.processes else None
        if leader and leader.returncode is None:
            kill_group(leader.pid)
        for process in self.processes:
            if process.returncode is None:
                process.kill()
            process.wait()
            for stream in (process.stdin, process.stdout, process.stderr):
                if stream:
                    stream.close()

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        self.kill()


def kill_group(group_id):
    with contextlib.suppress(ProcessLookupError, PermissionError):  # all gone already
        os.killpg(group_id, signal.SIGKILL)


def group_members(group_id):
    """The PIDs of the live processes in `group_id`, read from /proc (zombies left out)."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rpartition(")")[2].split()
        except OSError:  # gone while we looked
            continue
        if fields[0] != "Z" and int(fields[2]) == group_id:
            members.append(int(entry))
    return members
