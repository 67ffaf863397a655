"""Errors the CLI reports as one line and a non-zero exit, never as a traceback."""


class CompareError(Exception):
    """Something wrong with the user's data, flags or run, explained in the message."""
