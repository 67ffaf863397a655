"""Errors the CLI reports as one line and a non-zero exit, never as a traceback."""

from compare.language import N_, _


class CompareError(Exception):
    """Something wrong with the user's data, flags or run, explained in the message."""


class DataError(CompareError):
    """A dataset that is missing, unreadable or not shaped like 28x28 digits."""


# The system's words for the errors a run may meet (Python gives them in English).
SYSTEM_ERRORS = (
    N_("No such file or directory"),
    N_("Permission denied"),
    N_("No space left on device"),
    N_("Is a directory"),
    N_("Not a directory"),
    N_("File exists"),
    N_("Read-only file system"),
    N_("Disk quota exceeded"),
    N_("File too large"),  # past `ulimit -f` (compare/safety/limits.py)
)


def explained(error):
    """The one line that says what went wrong, in the user's language."""
    if isinstance(error, OSError) and error.strerror:
        return _(error.strerror) + (f": {error.filename}" if error.filename else "")
    return str(error)
