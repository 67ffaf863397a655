"""An error line that stays one line: a path or a value from the user may hold a newline
(which would start a forged `error:` line), a carriage return or a terminal escape, and a
TF_CONFIG of 85 KB would make a line no one reads."""

from compare.language import _, number

# Long enough for the longest message with its paths (about 400 characters), short enough
# to read on a terminal; the end is kept, since it often says what to do.
MAX_LINE = 600
KEPT_END = 150


def escaped(character):
    """A character the terminal would act on, written as Python writes it: \\n, \\x1b."""
    if character == " " or character.isprintable():
        return character
    return repr(character)[1:-1]


def one_line(text, limit=MAX_LINE):
    """`text` with its control characters escaped, at most about `limit` characters:
    a longer one keeps its start and its end, and says how much it left out."""
    text = "".join(escaped(character) for character in str(text))
    if len(text) <= limit:
        return text
    left_out = len(text) - limit
    marker = _("[… {count} characters left out …]").format(count=number(left_out))
    return text[: limit - KEPT_END] + marker + text[-KEPT_END:]
