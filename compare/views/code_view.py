"""`python -m compare code`: the two implementations side by side, step by step.

The code is read from the real files (never a copy that can drift) and split at their
`# Step N: name` headings, so each Keras block stands next to the raw TensorFlow block that does
the same job. Side by side when the terminal is wide enough, one above the other otherwise.
"""

import textwrap

from compare.loc import EXTRAS, STEPS, heading_section
from compare.styles import STYLES

MIN_SIDE_BY_SIDE_WIDTH = 100  # two columns of 48 characters, and a separator
SEPARATOR = " │ "


def split_steps(source):
    """{"setup": lines before the first heading, "define": [...], ...}, blank edges trimmed."""
    sections, step = {"setup": []}, "setup"
    for line in source.splitlines():
        heading = heading_section(line)
        if heading:
            step = heading
            sections[step] = []
        else:
            sections[step].append(line.rstrip())
    return {step: trim_blank_edges(lines) for step, lines in sections.items()}


def trim_blank_edges(lines):
    start = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    end = len(lines) - next(
        (i for i, line in enumerate(reversed(lines)) if line.strip()), len(lines)
    )
    return lines[start:end]


def implementation_steps(model="cnn"):
    """The sections of both styles: {"keras": {...}, "raw_tf": {...}}. For cnn_bn_dropout,
    step 1 comes from its own file and the others from cnn.py; for checkpoints, step 3
    comes from checkpoints.py (which calls cnn.py's); for distributed (the seed's cnn
    under tf.distribute), every step comes from distributed.py."""
    lesson = "distributed" if model == "distributed" else "cnn"
    steps = {
        name: split_steps(style.path(lesson).read_text())
        for name, style in STYLES.items()
    }
    for name, style in STYLES.items():
        if model == "checkpoints":
            steps[name]["train"] = split_steps(style.path("checkpoints").read_text())[
                "train"
            ]
        elif model == "cnn_bn_dropout":
            steps[name]["define"] = split_steps(style.path(model).read_text())["define"]
    return steps


def shown_sections(steps):
    """The four steps, then the extras where either style has some."""
    has_extras = any(steps[name].get(EXTRAS) for name in steps)
    return (*STEPS, EXTRAS) if has_extras else STEPS


def wrap(line, width):
    """A code line broken at spaces into pieces of at most `width` characters, the continuations
    indented under it and marked with an arrow."""
    if len(line) <= width:
        return [line]
    indent = " " * min(len(line) - len(line.lstrip()) + 4, width // 2)
    return textwrap.wrap(
        line,
        width,
        subsequent_indent=indent + "↪ ",
        replace_whitespace=False,
        break_on_hyphens=False,
    )


def highlighter(colour):
    """A function that colours one piece of Python for a terminal, or leaves it plain."""
    if not colour:
        return lambda text: text
    from pygments import highlight
    from pygments.formatters import TerminalFormatter
    from pygments.lexers import PythonLexer

    lexer, formatter = PythonLexer(), TerminalFormatter()

    def paint(text):
        marker, _, code = text.rpartition("↪ ")  # the continuation arrow is not Python
        return (
            marker + _ + highlight(code, lexer, formatter).rstrip("\n")
            if code.strip()
            else text
        )

    return paint


def heading_line(title, width):
    return f"── {title} " + "─" * max(0, width - len(title) - 4)


def render_code(titles, width, colour=False, steps=None):
    """Both implementations, step by step, side by side if `width` allows, else stacked.
    `titles` maps "keras" / "raw_tf" to column titles and each step to its heading."""
    steps = steps or implementation_steps()
    paint = highlighter(colour)
    names = ("keras", "raw_tf")
    out = []
    if width >= MIN_SIDE_BY_SIDE_WIDTH:
        column = (width - len(SEPARATOR)) // 2
        out.append(titles["keras"].ljust(column) + SEPARATOR + titles["raw_tf"])
        for step in shown_sections(steps):
            out.append(heading_line(titles[step], width))
            left, right = (
                [
                    piece
                    for line in steps[name].get(step, [])
                    for piece in wrap(line, column)
                ]
                for name in names
            )
            for index in range(max(len(left), len(right))):
                left_piece = left[index] if index < len(left) else ""
                right_piece = right[index] if index < len(right) else ""
                out.append(
                    paint(left_piece)
                    + " " * (column - len(left_piece))
                    + SEPARATOR
                    + paint(right_piece)
                )
    else:
        for step in shown_sections(steps):
            out.append(heading_line(titles[step], width))
            for name in names:
                out.append(f"[{titles[name]}]")
                out += [
                    paint(piece)
                    for line in steps[name].get(step, [])
                    for piece in wrap(line, width)
                ]
                out.append("")
    return "\n".join(out) + "\n"
