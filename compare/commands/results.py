"""Where a command's results go: to --output (written beside it, then renamed into
place) or to stdout, then its figures; its progress lines go to stderr."""

import sys

from compare.language import _
from compare.safety import atomic


def sayer(quiet):
    """The progress lines' printer: stderr, nothing with --quiet."""

    def say(message):
        if not quiet:
            print(message, file=sys.stderr, flush=True)

    return say


def deliver(args, text, say):
    """The results to --output (beside it, then renamed into place) or stdout, then the
    figures."""
    if getattr(args, "output", None):
        atomic.replace(args.output, text, args.flags.get("output", "--output"))
        say(_("Wrote {path}").format(path=args.output))
    else:
        sys.stdout.write(text)
    for write_next in getattr(args, "then", ()):  # figures: after the results
        write_next()
