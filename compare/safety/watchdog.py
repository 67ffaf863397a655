"""`python -m compare.safety.watchdog PID SECONDS MESSAGE`: print MESSAGE and SIGKILL
the parent, process PID, in SECONDS, unless the parent kills this first.

It can never signal a process it was not started by: it dies with its parent (the
kernel's parent-death signal), and it holds a pidfd of the parent, which names that
process and no other one that later gets its PID.
"""

import contextlib
import os
import signal
import sys
import time

from compare.safety.children import die_with_parent


def main(parent, seconds, message):
    die_with_parent(parent)  # exits here if the parent is already gone
    try:
        target = os.pidfd_open(parent)
    except (AttributeError, OSError):  # a kernel before 5.3: the death signal alone
        target = None
    if os.getppid() != parent:  # the pidfd may name a newcomer: the parent is gone
        return
    time.sleep(seconds)
    print(message, file=sys.stderr, flush=True)
    if target is None:
        os.kill(parent, signal.SIGKILL)  # still our parent: we would be dead otherwise
    else:
        with contextlib.suppress(
            ProcessLookupError
        ):  # it ended meanwhile, with no help
            signal.pidfd_send_signal(target, signal.SIGKILL)


if __name__ == "__main__":
    main(int(sys.argv[1]), float(sys.argv[2]), sys.argv[3])
