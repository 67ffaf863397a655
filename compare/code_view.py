"""`python -m compare code`: the two implementations side by side, step by step.

The code is read from the real files (never a copy that can drift) and split at their
`# Step N: name` headings, so each Keras block stands next to the raw TensorFlow block that does
the same job. Side by side when the terminal is wide enough, one above the other otherwise.
"""

import textwrap

from compare.loc import (
    CHECKPOINT_FILES,
    DISTRIBUTED_FILES,
    IMPLEMENTATION_FILES,
    STEP_HEADING,
    STEPS,
    VARIANT_FILES,
)

MIN_SIDE_BY_SIDE_WIDTH = 100  # two columns of 48 characters, and a separator
SEPARATOR = " │ "


def split_steps(source):
    """{"setup": lines before the first heading, "define": [...], ...}, blank edges trimmed."""
    sections, step = {"setup": []}, "setup"
    for line in source.splitlines():
        heading = STEP_HEADING.match(line.strip())
        if heading:
            step = heading.group(1)
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
    """The step sections of both implementations: {"keras": {...}, "raw_tf": {...}}. For
    cnn_bn_dropout, step 1 comes from its own file and the others from cnn.py; for checkpoints, step 3
    comes from checkpoints.py (which calls cnn.py's); for distributed (the seed's cnn under
    tf.distribute), every step comes from distributed.py."""
    if model == "distributed":
        return {
            name: split_steps(path.read_text())
            for name, path in DISTRIBUTED_FILES.items()
        }
    steps = {
        name: split_steps(path.read_text())
        for name, path in IMPLEMENTATION_FILES.items()
    }
    if model == "checkpoints":
        for name, path in CHECKPOINT_FILES.items():
            steps[name]["train"] = split_steps(path.read_text())["train"]
    elif model != "cnn":
        for name, path in VARIANT_FILES.items():
            steps[name]["define"] = split_steps(path.read_text())["define"]
    return steps


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
        for step in STEPS:
            out.append(heading_line(titles[step], width))
            left, right = (
                [piece for line in steps[name][step] for piece in wrap(line, column)]
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
        for step in STEPS:
            out.append(heading_line(titles[step], width))
            for name in names:
                out.append(f"[{titles[name]}]")
                out += [
                    paint(piece)
                    for line in steps[name][step]
                    for piece in wrap(line, width)
                ]
                out.append("")
    return "\n".join(out) + "\n"
