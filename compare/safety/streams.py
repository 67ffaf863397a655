"""Standard streams the shell closed (`>&-`, `2>&-`).

A closed descriptor 0, 1 or 2 is the next one a file opens: TensorFlow's C++ logs or a
report would then write into whatever file landed there. Each closed one is held open on
/dev/null first. Then, where the results would go to a closed stdout, the run is refused
at once (on stderr) instead of training for nothing; with stderr closed the run goes on
without its progress lines, and an error line, the only thing the user must not lose,
goes to stdout.
"""

import os
import sys

from compare.errors import CompareError
from compare.language import _

STANDARD = (0, 1, 2)


def is_open(descriptor):
    try:
        os.fstat(descriptor)
    except OSError:
        return False
    return True


class Streams:
    def __init__(self):
        self.closed = {descriptor for descriptor in STANDARD if not is_open(descriptor)}
        for descriptor in sorted(self.closed):
            # os.open takes the lowest free descriptor: this one
            opened = os.open(os.devnull, os.O_RDWR)
            if opened != descriptor:  # cannot happen, but never dup over a real file
                os.close(opened)
                self.closed.discard(descriptor)
        # Python made them None: a stray print goes nowhere rather than raising
        if 1 in self.closed:
            sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
        if 2 in self.closed:
            sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115

    @property
    def stdout_closed(self):
        return 1 in self.closed

    def errors(self):
        """Where an error line goes: stderr, else stdout while it is open, else nowhere."""
        return sys.stdout if 2 in self.closed and 1 not in self.closed else sys.stderr

    def check_results_have_a_place(self, args):
        """Refuse a run whose results would go to a closed stdout: one that names no file
        (--output; convert's model is its result, named by its --output, `destination`)."""
        named = getattr(args, "output", None) or getattr(args, "destination", None)
        if self.stdout_closed and not named:
            raise CompareError(
                _(
                    "standard output is closed, and the results would be lost: "
                    "redirect it (> FILE) or give --output FILE"
                )
            )


_guarded = None


def guard():
    """Check and hold the standard streams, once per process and before any file opens."""
    global _guarded
    if _guarded is None:
        _guarded = Streams()
    return _guarded


def errors():
    """The stream an error line goes to (see Streams.errors)."""
    return guard().errors()
