"""What a failed child process said, in one line: its last meaningful line (not a C++
stack frame or an abort's banner), and the signal that ended it where one did."""

import re
import signal

from compare.language import _

LONGEST = 300  # characters of a child's line kept in an error line
# A native stack frame ("@ 0x7fa43d4a71f5 (unknown)", "#3 0x..."), a Python frame or
# faulthandler's dump, which say nothing to the user.
JUNK = re.compile(
    r"^\s*(@\s+0x|#\d+\s+0x|\*\*\* |Current thread|Thread 0x|File \"|Extension modules)"
)
ABSL_PREFIX = re.compile(
    r"^[FEWI]\d{4} [\d:.]+\s+\d+\s+\S+\]\s*"
)  # F0101 12:00:00 42 x.cc:7]
# After a crash, only a line that names an error explains it; the rest is the dump.
SAYS_WHY = re.compile(r"Check failed|Error|error:|Terminating|DEADLINE|UNAVAILABLE")


def signal_name(code):
    """'SIGSEGV (-11)' for a return code -11 (or 139, as a shell reports it)."""
    number = -code if code < 0 else code - 128
    try:
        return f"{signal.Signals(number).name} ({code})"
    except ValueError:
        return str(code)


def bounded(line):
    return line if len(line) <= LONGEST else line[:LONGEST] + "..."


def first_line(message):
    """An exception's first line, bounded (TensorFlow's go on with gRPC's details)."""
    return bounded((message.strip().splitlines() or [""])[0])


def meaningful_line(text, code=None):
    """The last line of `text` that says something, bounded; for a process a signal
    ended (`code` -N, or 128+N for SIGABRT, SIGKILL, SIGSEGV), that signal too."""
    lines = [
        ABSL_PREFIX.sub("", line).strip()
        for line in text.splitlines()
        if line.strip() and not JUNK.match(line)
    ]
    if code is not None and (code < 0 or code in (134, 137, 139)):
        why = [line for line in lines if SAYS_WHY.search(line)]
        if why:
            return _("{line} (ended by {signal})").format(
                line=bounded(why[-1]), signal=signal_name(code)
            )
        return _("ended by {signal}").format(signal=signal_name(code))
    return bounded(lines[-1]) if lines else _("no message")
