"""Resource limits checked before TensorFlow starts: under `ulimit -v` or a cap on threads
TensorFlow does not fail, it aborts (a C++ CHECK stack, exit 134) the moment a thread pool
cannot start a thread. Room for it is checked first, and a lack of it is one line naming
the limit; a file-size limit makes a write fail (EFBIG) instead of killing the run.
"""

import os
import resource
import signal
import threading

from compare.errors import CompareError
from compare.language import _, number

GIB = 2**30
# TensorFlow's libraries, its allocator and the data of a small run: a digits run needs
# between 2.9 and 3.3 GiB of address space on 2 cores (measured), and every thread more.
BASE_ADDRESS_SPACE = int(3.1 * GIB)
DEFAULT_THREAD_STACK = 8 * 2**20  # glibc's, where `ulimit -s` is unlimited
PROBE_THREAD_STACK = 64 * 2**10  # the threads that count the room for threads: tiny


def schedulable_cpus():
    """The CPUs TensorFlow sizes its thread pools by."""
    return len(os.sched_getaffinity(0))


def tensorflow_threads():
    """The threads a run starts: an intra-op and an inter-op pool of one per CPU, tf.data
    and Python's (20 measured on 2 CPUs), with room to spare."""
    return 8 + 6 * schedulable_cpus()


def thread_stack():
    soft, _hard = resource.getrlimit(resource.RLIMIT_STACK)
    return DEFAULT_THREAD_STACK if soft == resource.RLIM_INFINITY else soft


def needed_address_space():
    return BASE_ADDRESS_SPACE + tensorflow_threads() * thread_stack()


def check_address_space():
    soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    needed = needed_address_space()
    if soft != resource.RLIM_INFINITY and soft < needed:
        raise CompareError(
            _(
                "out of address space: ulimit -v allows {limit} KiB and TensorFlow "
                "reserves about {needed} KiB for its libraries and threads; raise "
                "ulimit -v (or remove it), and use --train-samples for large datasets"
            ).format(limit=number(soft // 1024), needed=number(needed // 1024))
        )


def check_threads(count=None):
    """Start `count` waiting threads (TensorFlow's count by default) and let them go:
    RLIMIT_NPROC counts every thread of the user, and root may pass it, so only trying
    says whether there is room."""
    count = tensorflow_threads() if count is None else count
    release, started = threading.Event(), []
    previous = threading.stack_size(PROBE_THREAD_STACK)
    try:
        for _index in range(count):
            thread = threading.Thread(target=release.wait, daemon=True)
            thread.start()
            started.append(thread)
    except RuntimeError:  # "can't start new thread": pthread_create said EAGAIN
        pass
    finally:
        threading.stack_size(previous)
        release.set()
        for thread in started:
            thread.join()
    if len(started) < count:
        soft, _hard = resource.getrlimit(resource.RLIMIT_NPROC)
        limit = _("unlimited") if soft == resource.RLIM_INFINITY else number(soft)
        raise CompareError(
            _(
                "cannot start threads: TensorFlow needs about {needed} and only "
                "{started} could start (ulimit -u is {limit}, and counts every process "
                "and thread of the user); raise ulimit -u or end other processes"
            ).format(needed=number(count), started=number(len(started)), limit=limit)
        )


def let_writes_fail():
    """Past `ulimit -f` the kernel sends SIGXFSZ, which kills without a word; ignored,
    the write fails with EFBIG ("File too large") and the run says which file."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def check_room_for_tensorflow():
    """Before TensorFlow is imported: a refusal in one line rather than an abort."""
    check_address_space()
    check_threads()
