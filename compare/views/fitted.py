"""Tables and paragraphs that fit a width, for a terminal or a projector (100 columns by
default): the widest column gives up a column at a time, its cells wrapping between
words, until the table fits or every column is as narrow as its longest word.

`python -m compare --width N` sets the width; without it, the terminal's
(shutil.get_terminal_size: COLUMNS, else the terminal), else 100.
"""

import shutil
import textwrap

from tabulate import tabulate

DEFAULT_WIDTH = 100  # a projector at a readable size; also where stdout is no terminal
MIN_WIDTH = 72  # narrower, the pairs table's columns hold one word a line
MAX_WIDTH = 1000
CONTINUATION = "  "  # indents a wrapped row label, so it reads as one label
HEADER_PADDING = 2  # tabulate's MIN_PADDING: a column is 2 wider than its header


def terminal_width():
    """The terminal's columns (COLUMNS first), else DEFAULT_WIDTH; never below MIN_WIDTH."""
    columns = shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
    return min(max(columns or DEFAULT_WIDTH, MIN_WIDTH), MAX_WIDTH)


def wrapped(cell, width, indent=""):
    """`cell` wrapped between words to `width`, its own line breaks kept; every line
    after the first starts with `indent`."""
    return "\n".join(
        textwrap.fill(
            line,
            width,
            initial_indent=indent if number else "",
            subsequent_indent=indent,
            break_long_words=False,
            break_on_hyphens=False,
        )
        or line
        for number, line in enumerate(cell.split("\n"))
    )


def longest_word(cell, indent=""):
    return max((len(word) for word in cell.split()), default=0) + len(indent)


def widest_line(cell):
    return max(len(line) for line in cell.split("\n"))


def column_widths(headers, rows, room):
    """Each column's width: as wide as its widest line, the widest column narrowed a
    column at a time (never below its longest word) until they add up to `room`.
    tabulate keeps HEADER_PADDING columns beside a header: counted here."""
    columns = list(zip(headers, *rows, strict=True))
    widths = [
        max(widest_line(column[0]) + HEADER_PADDING, *map(widest_line, column[1:]))
        for column in columns
    ]
    floors = [
        max(
            longest_word(column[0]) + HEADER_PADDING,
            *(
                longest_word(cell, CONTINUATION if i == 0 else "")
                for cell in column[1:]
            ),
        )
        for i, column in enumerate(columns)
    ]
    while sum(widths) > room:
        narrowable = [i for i, width in enumerate(widths) if width > floors[i]]
        if not narrowable:
            break
        widest = max(narrowable, key=lambda i: widths[i])
        widths[widest] -= 1
    return widths


def fitted_cells(headers, rows, widths):
    """The headers (padded, not indented) and the rows, each cell wrapped to its width."""

    def fit(row, padding=0):
        return [
            wrapped(cell, widths[i] - padding, "" if i or padding else CONTINUATION)
            for i, cell in enumerate(row)
        ]

    return fit(headers, HEADER_PADDING), [fit(row) for row in rows]


def height(headers, rows):
    return sum(max(cell.count("\n") + 1 for cell in row) for row in [headers, *rows])


def fitting_widths(headers, rows, room):
    """The widths to wrap the cells to: the widest column narrowed first (balanced), or
    the first column, the labels, given more and the others narrowed; whichever gives
    the shortest table. Either way, the room the wrapped cells leave goes to the labels."""
    candidates = [column_widths(headers, rows, room)]
    labels = column_widths(headers, rows, 10**6)[0]
    others = [row[1:] for row in rows]
    for width in range(candidates[0][0] + 1, labels + 1):
        rest = column_widths(headers[1:], others, room - width)
        if width + sum(rest) <= room:
            candidates.append([width, *rest])
    fitted = []
    for widths in candidates:
        shown = column_widths(*fitted_cells(headers, rows, widths), room)
        widths = [max(widths[0], room - sum(shown[1:])), *shown[1:]]
        fitted.append((height(*fitted_cells(headers, rows, widths)), widths))
    return min(fitted, key=lambda found: found[0])[1]  # a tie: the balanced one


def fitted_table(rows, headers, width=None):
    """A rounded table (tabulate's rounded_outline) at most `width` columns wide where its
    words allow; None: each cell on one line, as wide as it is."""
    if width:
        # rounded_outline: "│ " before each cell, " │" after the last, " │ " between
        room = width - 3 * len(headers) - 1
        widths = fitting_widths(headers, rows, room)
        headers, rows = fitted_cells(headers, rows, widths)
    return tabulate(
        rows,
        headers,
        tablefmt="rounded_outline",
        disable_numparse=True,  # the numbers are already written in the user's language
    )


def paragraph(text, width=None, indent=""):
    """`text`, one line a paragraph, each wrapped to `width` (None: as it is)."""
    if not width:
        return text
    return "\n".join(
        textwrap.fill(line, width, subsequent_indent=indent, break_on_hyphens=False)
        or line
        for line in text.split("\n")
    )
