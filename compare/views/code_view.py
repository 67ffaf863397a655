"""`python -m compare code`: the two styles side by side, step by step.

The code is read from the real files (never a copy that can drift) and split at their
`# Step N: name` headings, so each Keras block stands next to the raw TensorFlow block that does
the same job; what comes before the first heading (the docstring and the imports, which the
lines-of-code total counts) is a section of its own. The extras may have several `# Extras:
topic` headings: each topic is a part of its own, under its name, beside the other style's
part of the same topic. Side by side when the terminal is wide enough, else one above the
other, each step's Keras block directly followed by its raw twin.
Long lines wrap as compare/views/code_lines.py says: indented deeper than the line they
continue, never inside a token, comments as comments.
"""

import dataclasses

from compare.language import _, speaking
from compare.loc import EXTRAS, STEPS, heading_section
from compare.styles import ROOT, STYLES
from compare.views.code_lines import Painter, read_lines, without_comments, wrap
from compare.views.i18n import step_titles

MIN_SIDE_BY_SIDE_WIDTH = 100  # two columns of 48 and a separator, at the least
SEPARATOR = " │ "
SETUP = "setup"  # the section before the first heading: `--step imports`
NAMES = ("keras", "raw_tf")
NOTHING = "—"  # a style with no code in a section, or in one topic of the extras
TOPIC_MARK = "· "  # starts the row that names a topic of the extras


@dataclasses.dataclass(frozen=True)
class Block:
    """Consecutive lines of one file: a style's part of a section. A part of the extras
    keeps its `# Extras: topic` heading line (code_lines.Line), which names its topic."""

    path: object
    lines: tuple
    heading: object = None

    @property
    def label(self):
        return self.path.relative_to(ROOT).as_posix()

    @property
    def topic(self):
        """What the extras' heading names ("the loop inside the graph"), else ""."""
        return extras_topic(self.heading.text) if self.heading else ""


def extras_topic(heading):
    """The words of an `# Extras: topic ----` heading after the colon, without the rule."""
    return heading.split(":", 1)[1].strip().rstrip("-─").strip()


def file_blocks(path):
    """{"setup": [Block of the lines before the first heading], "define": [Block], ...}:
    the file's lines (code_lines.Line), split at its heading comments, blank edges
    trimmed. Each `# Extras:` heading starts a Block of its own: a file may have several."""
    parts, section = {SETUP: [(None, [])]}, SETUP
    for line in read_lines(path):
        heading = (
            heading_section(line.text)
            if [kind for _, _, kind in line.atoms] == ["comment"]
            else None
        )
        if heading:
            section = heading
            parts.setdefault(section, []).append(
                (line if section == EXTRAS else None, [])
            )
        else:
            parts[section][-1][1].append(line)
    return {
        name: [
            Block(path, tuple(trim_blank_edges(lines)), heading)
            for heading, lines in blocks
        ]
        for name, blocks in parts.items()
    }


def trim_blank_edges(lines):
    def blank(line):
        return not getattr(line, "text", line).strip()

    start = next((i for i, line in enumerate(lines) if not blank(line)), len(lines))
    end = len(lines) - next(
        (i for i, line in enumerate(reversed(lines)) if not blank(line)), len(lines)
    )
    return list(lines[start:end])


def split_steps(source):
    """{"setup": lines before the first heading, "define": [...], ...}, blank edges trimmed:
    the text of a file's sections (the view itself reads the file's lines with their tokens).
    The extras keep their `# Extras: topic` headings, each above what it names, so that a
    file's extras are its lines from the first of them on, as they stand in the file."""
    sections, step = {SETUP: []}, SETUP
    for line in source.splitlines():
        heading = heading_section(line)
        if heading and heading != step:
            step = heading
            sections[step] = []
        if heading == EXTRAS or not heading:
            sections[step].append(line.rstrip())
    return {step: trim_blank_edges(lines) for step, lines in sections.items()}


def code_sections(model="cnn", comments=True):
    """{"keras": {section: [Block, ...]}, "raw_tf": {...}}. For cnn_bn_dropout, step 1 comes
    from its own file and the others from cnn.py; for checkpoints, step 3 comes from
    checkpoints.py (which calls cnn.py's); for distributed (the lecture's CNN under
    tf.distribute), every step comes from distributed.py. The imports are those of every
    file shown, cnn.py's first. Without `comments`, no comment and no docstring."""
    variant = {"cnn_bn_dropout": "define", "checkpoints": "train"}.get(model)
    views = {}
    for name, style in STYLES.items():
        base = style.path("distributed" if model == "distributed" else "cnn")
        sections = file_blocks(base)
        if variant:
            path = style.path(model)
            own = file_blocks(path)
            sections[variant] = own[variant]
            sections[SETUP] = [*sections[SETUP], *own[SETUP]]
        if not comments:
            sections = {
                section: [
                    Block(
                        block.path,
                        tuple(trim_blank_edges(without_comments(block.lines))),
                        block.heading,
                    )
                    for block in blocks
                ]
                for section, blocks in sections.items()
            }
        views[name] = {
            section: [block for block in blocks if block.lines]
            for section, blocks in sections.items()
        }
    return views


def implementation_steps(model="cnn"):
    """The sections of both styles as text: {"keras": {"define": [line, ...], ...},
    "raw_tf": {...}} (the report shows them; the imports of two files, a blank line apart;
    each part of the extras under its `# Extras:` heading)."""
    return {
        name: {
            section: [
                text
                for index, block in enumerate(blocks)
                for text in ([""] if index else [])
                + ([block.heading.text] if block.heading else [])
                + [line.text for line in block.lines]
            ]
            for section, blocks in sections.items()
        }
        for name, sections in code_sections(model).items()
    }


def shown_sections(steps, imports=False):
    """The four steps, then the extras where either style has some; with `imports`, the
    imports first."""
    has_extras = any(steps[name].get(EXTRAS) for name in steps)
    return (*((SETUP,) if imports else ()), *STEPS, *((EXTRAS,) if has_extras else ()))


def section_names(sections):
    """What `--step` may choose for a view: "imports", the step numbers, "extras" where
    shown, each with its section."""
    names = {
        "imports": SETUP,
        **{str(n): step for n, step in enumerate(STEPS, start=1)},
    }
    if EXTRAS in shown_sections(sections):
        names[EXTRAS] = EXTRAS
    return names


def view_titles(lang):
    """The headings of the code view: compare/views/i18n.py's, and the imports'."""

    with speaking(lang):
        return {**step_titles(lang), SETUP: _("Imports (and the file's docstring)")}


def heading_line(title, width):
    if len(title) > width - 4:
        title = title[: max(1, width - 5)] + "…"
    return f"── {title} " + "─" * max(0, width - len(title) - 4)


@dataclasses.dataclass(frozen=True)
class Row:
    """One row of a column: its text with colours, and how many columns it shows."""

    text: str
    width: int


def gutter_width(sections, shown, line_numbers):
    """Room for the line numbers (and a space), or 0 without them."""
    if not line_numbers:
        return 0
    numbers = [
        line.number
        for name in NAMES
        for section in shown
        for block in sections[name].get(section, [])
        for line in block.lines
    ]
    return len(str(max(numbers, default=1))) + 1


def block_rows(block, width, paint, gutter, label=None):
    """A block as rows of at most `width` columns: its label (the file), then each line's
    pieces, the first after its line number where there is a gutter."""
    rows = label_rows(label, block.label, width, paint)
    for line in block.lines:
        for index, piece in enumerate(wrap(line, width - gutter)):
            number = (f"{line.number} " if gutter and index == 0 else "").rjust(gutter)
            shown = len(piece.prefix) + piece.end - piece.start
            rows.append(
                Row(
                    paint.faint(number)
                    + paint.prefix(piece.prefix)
                    + paint.code(line, piece.start, piece.end),
                    gutter + shown,
                )
            )
    return rows


def label_rows(title, path, width, paint):
    """The label, as "[Keras] keras_impl/cnn.py", in one row where it fits, else two."""
    if title is None:
        return [Row(paint.faint(path), len(path))]
    title = f"[{title}]"
    if len(title) + 1 + len(path) <= width:
        return [
            Row(f"{paint.bold(title)} {paint.faint(path)}", len(title) + 1 + len(path))
        ]
    return [Row(paint.bold(title), len(title)), Row(paint.faint(path), len(path))]


def column_rows(blocks, width, paint, gutter, title=None):
    """A style's part of a section: its blocks' rows, or a dash where it has none."""
    if not blocks:
        label = [] if title is None else [f"[{title}]"]
        text = " ".join([*label, NOTHING])
        return [Row(paint.faint(text), len(text))]
    return [
        row
        for block in blocks
        for row in block_rows(block, width, paint, gutter, title)
    ]


def render_code(
    titles, width, colour=False, sections=None, step=None, line_numbers=False
):
    """Both styles, section by section (or only `step`), side by side if
    `side_by_side` says so, else stacked. `titles` maps "keras" / "raw_tf" to column titles
    and each section to its heading (view_titles); `sections` is code_sections' (cnn.py's
    by default)."""
    sections = sections or code_sections()
    shown = (step,) if step else shown_sections(sections, imports=True)
    gutter = gutter_width(sections, shown, line_numbers)
    layout = in_columns if side_by_side(sections, width, line_numbers) else stacked
    return (
        "\n".join(layout(titles, width, Painter(colour), sections, shown, gutter))
        + "\n"
    )


def side_by_side(sections, width, line_numbers=False):
    """Two columns where they take fewer rows than one above the other: from
    MIN_SIDE_BY_SIDE_WIDTH columns on, where the columns are wide enough that the lines
    they wrap cost fewer rows than the pairing saves (cnn.py's view: from 147 columns, 125
    without comments). Counted over the whole view, so every --step of it has the same
    layout."""
    if width < MIN_SIDE_BY_SIDE_WIDTH:
        return False
    shown = shown_sections(sections, imports=True)
    gutter = gutter_width(sections, shown, line_numbers)
    titles = dict.fromkeys((*NAMES, *shown), "")
    rows = (
        len(layout(titles, width, Painter(False), sections, shown, gutter))
        for layout in (in_columns, stacked)
    )
    return next(rows) < next(rows)


def by_topic(sections, section):
    """A section's blocks as [(topic, {"keras": [Block, ...], "raw_tf": [...]}), ...]: the
    parts of the extras that name the same topic together, in the order the Keras file
    gives them (then the raw file's others); one part, topic "", for a step."""
    parts = {}
    for name in NAMES:
        for block in sections[name].get(section, []):
            parts.setdefault(block.topic, {other: [] for other in NAMES})
            parts[block.topic][name].append(block)
    return list(parts.items()) or [("", {name: [] for name in NAMES})]


def topic_line(topic, width):
    """The row that names a topic of the extras, cut to `width`."""
    text = TOPIC_MARK + topic
    return text if len(text) <= width else text[: max(1, width - 1)] + "…"


def in_columns(titles, width, paint, sections, shown, gutter):
    """Keras on the left, raw TensorFlow on the right, each section's blocks aligned (in
    the extras, topic by topic)."""
    column = (width - len(SEPARATOR)) // 2
    widths = (column, width - len(SEPARATOR) - column)
    out = [
        paint.bold(titles["keras"])
        + " " * (column - len(titles["keras"]))
        + SEPARATOR
        + paint.bold(titles["raw_tf"])
    ]
    blank = Row("", 0)
    for section in shown:
        out.append(paint.bold(heading_line(titles[section], width)))
        for topic, blocks in by_topic(sections, section):
            if topic:
                out.append(paint.bold(topic_line(topic, width)))
            left, right = (
                column_rows(blocks[name], room, paint, gutter)
                for name, room in zip(NAMES, widths, strict=True)
            )
            for index in range(max(len(left), len(right))):
                left_row = left[index] if index < len(left) else blank
                right_row = right[index] if index < len(right) else blank
                out.append(
                    left_row.text
                    + " " * (column - left_row.width)
                    + paint.faint(SEPARATOR)
                    + right_row.text
                )
    return out


def stacked(titles, width, paint, sections, shown, gutter):
    """Under each section's heading, the Keras block directly followed by its raw twin (in
    the extras, under each topic's name, a blank row before the next)."""
    out = []
    for index, section in enumerate(shown):
        if index:
            out.append("")
        out.append(paint.bold(heading_line(titles[section], width)))
        for number, (topic, blocks) in enumerate(by_topic(sections, section)):
            if topic:
                out += [""] * bool(number) + [paint.bold(topic_line(topic, width))]
            for name in NAMES:
                out += [
                    row.text
                    for row in column_rows(
                        blocks[name], width, paint, gutter, titles[name]
                    )
                ]
    return out
