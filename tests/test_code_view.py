"""The code view (`python -m compare code`), read back from what it prints: every line of the
real files, in its section, wrapped without breaking the code (deeper indentation, breaks
between tokens only, comments go on as comments), coloured as the whole file lexes, one step,
no comments, real line numbers, each part of the extras under its topic. The expectations
come from the files themselves, split and tokenized here, so that a view that drops or alters
a line fails."""

import ast
import io
import re
import tokenize
from functools import cache
from itertools import pairwise

import pytest

from compare.language import set_language
from compare.loc import STEPS
from compare.styles import ROOT, STYLES
from compare.views.code_view import (
    MIN_SIDE_BY_SIDE_WIDTH,
    TOPIC_MARK,
    code_sections,
    implementation_steps,
    render_code,
    shown_sections,
    side_by_side,
    split_steps,
    view_titles,
)

MODELS = ("cnn", "cnn_bn_dropout", "checkpoints", "distributed")
TITLES = view_titles("en")
ANSI = re.compile(r"\x1b\[([0-9;]*)m")
HEADING = re.compile(r"# (?:Step \d+: (\w+)|(Extras):(.*))")
CONTINUATION = re.compile(r"( *)↪ ")
PATH = re.compile(r"(keras_impl|raw_tf_impl)/\w+\.py")
QUIET = {
    tokenize.NL,
    tokenize.NEWLINE,
    tokenize.INDENT,
    tokenize.DEDENT,
    tokenize.ENDMARKER,
    tokenize.COMMENT,
}


# What the files hold ---------------------------------------------------------------
@cache
def real_parts(path):
    """{section: [(topic, [(number, text), ...]), ...]}: a file split at its `# Step N:
    name` and `# Extras: topic` headings, as a reader splits it, blank lines at the edges
    left out; each extras heading starts a part named by its topic, a step's is ""."""
    sections, current = {"setup": [("", [])]}, "setup"
    for number, text in enumerate(path.read_text().splitlines(), start=1):
        match = HEADING.match(text)
        if match:
            current = match.group(1) or "extras"
            topic = (match.group(3) or "").strip().rstrip("-").strip()
            sections.setdefault(current, []).append((topic, []))
        else:
            sections[current][-1][1].append((number, text))
    for parts in sections.values():
        for _, lines in parts:
            while lines and not lines[0][1].strip():
                lines.pop(0)
            while lines and not lines[-1][1].strip():
                lines.pop()
    return sections


def real_sections(path):
    """{section: [(number, text), ...]} of a file whose sections have one part each."""
    return {section: lines for section, [(_, lines)] in real_parts(path).items()}


def expected_view(model):
    """{style: {section: [(path, lines, topic), ...]}}: what each model's view shows.
    cnn_bn_dropout and checkpoints take step 1 or step 3 from their own file, the rest from
    cnn.py; distributed takes everything from distributed.py; the imports are those of each
    file. The extras, part by part, in the order of their topics (Keras' first)."""
    variant = {"cnn_bn_dropout": "define", "checkpoints": "train"}.get(model)
    view = {}
    for name, style in STYLES.items():
        base = style.path("distributed" if model == "distributed" else "cnn")
        sections = {
            section: [(base, lines, topic) for topic, lines in parts]
            for section, parts in real_parts(base).items()
        }
        if variant:
            path = style.path(model)
            own = {
                section: [(path, lines, topic) for topic, lines in parts]
                for section, parts in real_parts(path).items()
            }
            sections[variant] = own[variant]
            sections["setup"] = [*sections["setup"], *own["setup"]]
        view[name] = sections
    order = [
        topic
        for name in STYLES
        for _, _, topic in view[name].get("extras", [])
        if topic
    ]  # a topic's place is where it comes first (order.index)
    for name in STYLES:
        if "extras" in view[name]:
            view[name]["extras"].sort(key=lambda block: order.index(block[2]))
    return view


def expected_blocks(view, name, section):
    """The blocks a style shows in a section: those with lines."""
    return [block for block in view[name].get(section, []) if block[1]]


def shown(model):
    view = expected_view(model)
    extras = any(view[name].get("extras") for name in view)
    return ["setup", *STEPS, *(["extras"] if extras else [])]


@cache
def file_tokens(path):
    """{line number: [(start, end, token), ...]} for every token of the file, a token that
    spans lines cut into its part on each; an f-string is one token, as before Python 3.12
    (which tokenizes its parts)."""
    text = path.read_text()
    lines = text.splitlines()
    spans, depth, opened = {}, 0, None
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        kind = tokenize.tok_name[token.type]
        if kind in ("FSTRING_START", "TSTRING_START"):
            depth, opened = depth + 1, opened if depth else token
            continue
        if depth:
            if kind in ("FSTRING_END", "TSTRING_END"):
                depth -= 1
                if not depth:
                    row = lines[opened.start[0] - 1]
                    string = row[opened.start[1] : token.end[1]]
                    token = tokenize.TokenInfo(
                        tokenize.STRING, string, opened.start, token.end, opened.line
                    )
            if depth:
                continue
        if token.type in QUIET - {tokenize.COMMENT}:
            continue
        for row in range(token.start[0], token.end[0] + 1):
            start = token.start[1] if row == token.start[0] else 0
            end = token.end[1] if row == token.end[0] else len(lines[row - 1])
            spans.setdefault(row, []).append((start, end, token))
    return spans


@cache
def docstrings(path):
    """{(first line, column) of each docstring: last line}."""
    found = {}
    for node in ast.walk(ast.parse(path.read_text())):
        body = getattr(node, "body", None)
        if (
            isinstance(
                node,
                (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef),
            )
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            found[(body[0].lineno, body[0].col_offset)] = body[0].end_lineno
    return found


# What the view prints, read back ---------------------------------------------------
def cells(row):
    """A printed row as [(character, its colour codes)]: what a terminal shows."""
    out, style, position = [], "", 0
    for match in ANSI.finditer(row):
        out += [(char, style) for char in row[position : match.start()]]
        codes = match.group(1)
        style = "" if codes in ("", "0", "39;49;00", "00") else style + codes + ";"
        position = match.end()
    return out + [(char, style) for char in row[position:]]


def text_of(row_cells):
    return "".join(char for char, _ in row_cells)


def read_back(output, width):
    """{section heading: {"keras": [(label, rows, topic)], "raw_tf": [...]}}, rows as
    cells, topic the extras' part the block stands under ("" in a step), and whether the
    view stood in columns. Fails on a row it cannot place."""
    rows = [cells(row) for row in output.splitlines()]
    if not text_of(rows[0]).startswith("── "):
        return read_back_columns(rows, width), True
    return read_back_stacked(rows), False


def read_back_columns(rows, width):
    """read_back's sections of a view in two columns."""
    sections, current, topic = {}, None, ""
    column = (width - 3) // 2
    assert text_of(rows[0][column : column + 3]) == " │ "
    for row in rows[1:]:
        if text_of(row).startswith("── "):
            current = sections[text_of(row).strip("─ ")] = {
                "keras": [],
                "raw_tf": [],
            }
            topic = ""
            continue
        if text_of(row).startswith(TOPIC_MARK):  # across both columns
            topic = text_of(row)[len(TOPIC_MARK) :]
            continue
        assert text_of(row[column : column + 3]) == " │ ", text_of(row)
        for name, part in (("keras", row[:column]), ("raw_tf", row[column + 3 :])):
            add_row(current[name], part, topic)
    # The shorter column of each part is padded with blank rows.
    for section in sections.values():
        for blocks in section.values():
            for _, block_rows, _ in blocks:
                while block_rows and not text_of(block_rows[-1]).strip():
                    block_rows.pop()
    return sections


def read_back_stacked(rows):
    """read_back's sections of a view with one style under the other."""
    sections, current, topic, name = {}, None, "", None
    names = {f"[{TITLES[name]}]": name for name in ("keras", "raw_tf")}
    for index, row in enumerate(rows):
        text = text_of(row)
        if text.startswith(("── ", TOPIC_MARK)):
            first_topic = text.startswith(TOPIC_MARK) and name is None
            if current and not first_topic:
                assert not text_of(rows[index - 1]), "a blank row before each heading"
                blocks = current[name]  # the blank row went to the part before, if any
                if blocks and blocks[-1][2] == topic and blocks[-1][1]:
                    assert not text_of(blocks[-1][1].pop())
            if text.startswith("── "):
                current = sections[text.strip("─ ")] = {"keras": [], "raw_tf": []}
                topic = ""
            else:
                topic = text[len(TOPIC_MARK) :]
            name = None
            continue
        label = next((title for title in names if text.startswith(title)), None)
        if label:
            name = names[label]
            rest = row[len(label) + 1 :]
            if text_of(rest):  # "—": no code in this section, or in this topic
                add_row(current[name], rest, topic)
            continue
        add_row(current[name], row, topic)
    return sections


def add_row(blocks, row, topic):
    """A column's row: a file's label starts a block, anything else is the block's code."""
    text = text_of(row).rstrip()
    if PATH.fullmatch(text):
        blocks.append((text, [], topic))
    elif text == "—":
        assert not [block for block in blocks if block[2] == topic]
    else:
        assert blocks or not text, f"code before a file's label: {text!r}"
        if blocks and blocks[-1][2] == topic:
            blocks[-1][1].append(row)
        else:
            assert not text, f"code of {topic!r} before its file's label: {text!r}"


def check_block(path, expected, rows, room, gutter, exact, colour):
    """The rows of one block are the file's `expected` lines, in order, each whole: its
    pieces rejoin to the line, breaks fall between tokens (or words of a comment or a
    docstring; inside a token only where the token is longer than the room a
    continuation has), continuations go deeper, a comment goes on with "#", line numbers
    are the file's, and a docstring's later lines have the colour of its quotes."""
    tokens, docs = file_tokens(path), docstrings(path)
    doc_lines = {
        number: (first, column)
        for (first, column), last in docs.items()
        for number in range(first + 1, last + 1)
    }
    groups = grouped(rows, gutter)
    assert len(groups) == len(expected), (
        f"{path.name}: {len(groups)} lines shown, {len(expected)} in the file"
    )
    for (number, source), (first, continuations) in zip(expected, groups, strict=True):
        where = f"{path.name}:{number}"
        if gutter:
            shown_number = text_of(first[:gutter]).strip()
            assert shown_number == str(number), where
        first_text = text_of(first[gutter:])
        assert source.startswith(first_text if exact else first_text.rstrip()), where
        position = len(first_text) if exact else len(first_text.rstrip())
        indent = len(source) - len(source.lstrip())
        for body in continuations:
            text = text_of(body)
            marker = CONTINUATION.match(text)
            assert len(marker.group(1)) > indent, f"{where}: not indented deeper"
            rest = text[marker.end() :]
            rest = rest if exact else rest.rstrip()
            start = position
            if not exact:
                start += len(source[position:]) - len(source[position:].lstrip(" "))
            added = not source.startswith(rest, start)
            if added:  # "# " where a comment goes on
                assert rest.startswith("# ") and source.startswith(rest[2:], start), (
                    f"{where}: {rest!r} is not the line's next piece"
                )
            piece = rest[2:] if added else rest
            in_comment = [
                t
                for s, e, t in tokens.get(number, [])
                if t.type == tokenize.COMMENT and s <= start < e
            ]
            if in_comment:
                assert rest.startswith("#"), f"{where}: a comment goes on without #"
            assert added == bool(in_comment and in_comment[0].start[1] < start), where
            prefix = marker.end() + 2 * added
            check_break(
                source,
                start,
                tokens.get(number, []),
                docs,
                room - gutter - prefix,
                where,
            )
            if colour and added:
                assert body[marker.end()][1] == body[marker.end() + 2][1] != "", where
            position = start + len(piece)
        assert position == len(source), f"{where}: the line's end is missing"
        if colour and number in doc_lines:
            quote_colour = quote_colours[(path, *doc_lines[number])]
            check_doc_colour(first[gutter:], continuations, quote_colour, where)


def grouped(rows, gutter):
    """[(first row, [its continuations' bodies])] for each line of code shown."""
    groups = []
    for row in rows:
        body = row[gutter:]
        if CONTINUATION.match(text_of(body)):
            assert groups, "a continuation with no line to continue"
            groups[-1][1].append(body)
        else:
            groups.append((row, []))
    return groups


def check_doc_colour(first, continuations, quote_colour, where):
    """A docstring's later line is all in its quotes' colour."""
    pieces = [first] + [
        body[CONTINUATION.match(text_of(body)).end() :] for body in continuations
    ]
    styles = {style for piece in pieces for char, style in piece if char.strip()}
    assert styles <= {quote_colour}, f"{where}: a docstring line not in string colour"


quote_colours = {}  # (path, line, column) of a docstring's quotes: their colour


def check_break(source, start, spans, docs, room, where):
    """A piece starts where a token starts, or between two words of a comment or a
    docstring, or inside a token too long for the room a continuation has."""
    if any(s == start for s, _, _ in spans):
        return
    token = next((t for s, e, t in spans if s < start < e), None)
    assert token is not None, f"{where}: a break at column {start}, between no tokens"
    prose = token.type == tokenize.COMMENT or token.start in docs
    if prose and source[start - 1] == " ":
        return
    length = len(token.string.splitlines()[0]) if token.string else 0
    assert length > room, f"{where}: {token.string!r} split though it fits in {room}"


def check_view(model, output, width, line_numbers, colour, only=None):
    """All of a model's view (or its section `only`) read back against the files."""
    assert max(len(text_of(cells(row))) for row in output.splitlines()) <= width
    sections, columns = read_back(output, width)
    names = [only] if only else shown(model)
    assert list(sections) == [TITLES[name] for name in names]
    expected = expected_view(model)
    gutter = 0
    if line_numbers:
        numbers = [
            number
            for name in STYLES
            for section in names
            for _, lines, _ in expected[name].get(section, [])
            for number, _ in lines
        ]
        gutter = len(str(max(numbers))) + 1
    column = (width - 3) // 2
    rooms = {"keras": column, "raw_tf": width - 3 - column} if columns else None
    for section in names:
        printed = sections[TITLES[section]]
        for name in STYLES:
            blocks = expected_blocks(expected, name, section)
            assert [(label, topic) for label, _, topic in printed[name]] == [
                (p.relative_to(ROOT).as_posix(), topic) for p, _, topic in blocks
            ]
            for (path, lines, _), (_, rows, _) in zip(
                blocks, printed[name], strict=True
            ):
                if colour:
                    record_quotes(path, lines, rows, gutter)
                room = rooms[name] if rooms else width
                exact = not columns or name == "raw_tf"
                check_block(path, lines, rows, room, gutter, exact, colour)
    return sections, columns


def record_quotes(path, lines, rows, gutter):
    """The colour of each docstring's opening quotes, read from the rows that show them:
    the first row of each line is the one that does not start with a continuation."""
    firsts = [row for row in rows if not CONTINUATION.match(text_of(row[gutter:]))]
    by_number = {number: row for (number, _), row in zip(lines, firsts, strict=True)}
    for (first, column), _last in docstrings(path).items():
        if first in by_number:
            row = by_number[first][gutter:]
            quote_colours[(path, first, column)] = row[column][1]


# Every model's view, read back -----------------------------------------------------
@pytest.mark.parametrize("line_numbers", [False, True], ids=["plain", "numbered"])
@pytest.mark.parametrize("colour", [False, True], ids=["no-colour", "colour"])
@pytest.mark.parametrize("width", [40, 60, 80, 100, 120, 160])
@pytest.mark.parametrize("model", MODELS)
def test_the_view_shows_every_line_whole_and_fits(model, width, colour, line_numbers):
    output = render_code(
        TITLES, width, colour, code_sections(model), line_numbers=line_numbers
    )
    assert ("\x1b[" in output) == colour
    check_view(model, output, width, line_numbers, colour)


def rebuilt_lines(rows, gutter, exact):
    """(number, text) of each line a block shows, its pieces joined again (with a space
    where the padding of a left column hides what stood between them)."""
    lines = []
    for row in rows:
        body = text_of(row[gutter:])
        marker = CONTINUATION.match(body)
        if marker:
            number, text = lines[-1]
            rest = body[marker.end() :]
            lines[-1] = (number, text + rest if exact else text.rstrip() + " " + rest)
        else:
            lines.append((int(text_of(row[:gutter])), body))
    return lines


def code_tokens(text):
    """(type, string) of each token of `text` but comments and layout."""
    return [
        (token.type, token.string)
        for token in tokenize.generate_tokens(io.StringIO(text).readline)
        if token.type not in QUIET
    ]


# --no-comments --------------------------------------------------------------------
@pytest.mark.parametrize("width", [80, 160])
@pytest.mark.parametrize("model", MODELS)
def test_no_comments_keeps_every_token_of_the_code(model, width):
    """Without comments, each block tokenizes to its section's tokens in the file less the
    comments and the docstrings, and each line shown is its numbered file line up to where
    a comment began."""
    output = render_code(
        TITLES, width, sections=code_sections(model, comments=False), line_numbers=True
    )
    assert max(len(row) for row in output.splitlines()) <= width
    sections, columns = read_back(output, width)
    expected = expected_view(model)
    for section in shown(model):
        for name in STYLES:
            blocks = expected_blocks(expected, name, section)
            printed = sections[TITLES[section]][name]
            assert len(printed) == len(blocks)
            for (path, lines, _), (_, rows, _) in zip(blocks, printed, strict=True):
                exact = not columns or name == "raw_tf"
                shown_lines = rebuilt_lines(rows, gutter_of(rows), exact)
                text = "\n".join(line for _, line in shown_lines) + "\n"
                kept = code_tokens(text)
                assert tokenize.COMMENT not in {
                    t.type for t in tokenize.generate_tokens(io.StringIO(text).readline)
                }
                first, last = lines[0][0], lines[-1][0]
                docs = docstrings(path)
                source = [
                    (token.type, token.string)
                    for token in tokenize.generate_tokens(
                        io.StringIO(path.read_text()).readline
                    )
                    if first <= token.start[0] <= last
                    and token.type not in QUIET
                    and not (token.type == tokenize.STRING and token.start in docs)
                ]
                assert kept == source, f"{path.name}, {section}"
                file_lines = path.read_text().splitlines()
                for number, line in shown_lines:
                    original = file_lines[number - 1]
                    if exact:
                        assert original.startswith(line), f"{path.name}:{number}"
                        rest = original[len(line) :].strip()
                        assert not rest or rest.startswith("#"), f"{path.name}:{number}"


def gutter_of(rows):
    """The width of the line numbers' column: right-aligned numbers, then a space."""
    return re.match(r" *\d+ ", text_of(rows[0])).end()


# --step -----------------------------------------------------------------------------
@pytest.mark.parametrize("width", [80, 160])
@pytest.mark.parametrize("model", MODELS)
def test_one_step_shows_that_section_only(model, width):
    sections = code_sections(model)
    for section in shown(model):
        output = render_code(TITLES, width, sections=sections, step=section)
        check_view(model, output, width, line_numbers=False, colour=False, only=section)


@pytest.fixture
def english():
    """main() sets the language of the run; the next test starts in English again."""
    yield
    set_language("en")


def code_command(capsys, *args):
    """`python -m compare code ARGS` in this process: (exit status, stdout, stderr)."""
    from compare.cli import main

    try:
        status = main(["code", "--color", "never", *args])
    except SystemExit as exit:
        status = exit.code
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize(
    "names, section",
    [
        (("1", "define"), "define"),
        (("2", "compile"), "compile"),
        (("3", "train", "Train"), "train"),
        (("4", "evaluate"), "evaluate"),
        (("imports",), "setup"),
        (("extras",), "extras"),
    ],
)
def test_step_takes_a_number_or_a_name(capsys, english, names, section):
    outputs = set()
    for name in names:
        status, out, err = code_command(capsys, "--width", "80", "--step", name)
        assert (status, err) == (0, "")
        outputs.add(out)
    (out,) = outputs
    headings = [row.strip("─ ") for row in out.splitlines() if row.startswith("── ")]
    assert headings == [TITLES[section]]


@pytest.mark.parametrize("value", ["0", "5", "step3", ""])
def test_a_bad_step_is_one_line_and_exit_2(capsys, english, value):
    status, out, err = code_command(capsys, "--step", value)
    assert status == 2 and out == "" and len(err.splitlines()) == 1
    assert "--step" in err and repr(value) in err


def test_a_model_without_extras_refuses_step_extras(capsys, english):
    status, out, err = code_command(
        capsys, "--lesson", "distributed", "--step", "extras"
    )
    assert status == 1 and out == "" and len(err.splitlines()) == 1
    assert "distributed" in err and "imports, 1, 2, 3, 4" in err


def test_step_errors_speak_portuguese(capsys, english):
    status, _, err = code_command(capsys, "--lang", "pt", "--step", "9")
    assert status == 2 and len(err.splitlines()) == 1 and "must be" not in err
    status, _, err = code_command(
        capsys, "--lang", "pt", "--model", "distributed", "--step", "extras"
    )
    assert status == 1 and len(err.splitlines()) == 1 and "has no" not in err


def test_the_command_passes_its_options_on(capsys, english):
    status, out, err = code_command(
        capsys, "--width", "80", "--step", "3", "--no-comments", "--line-numbers"
    )
    expected = render_code(
        TITLES,
        80,
        sections=code_sections(comments=False),
        step="train",
        line_numbers=True,
    )
    assert (status, err, out) == (0, "", expected)
    assert "#" not in out and '"""' not in out


def test_portuguese_headings(capsys, english):
    status, out, _ = code_command(capsys, "--width", "160", "--lang", "pt")
    titles = view_titles("pt")
    assert status == 0 and titles["raw_tf"] in out.splitlines()[0]
    assert all(titles[section] in out for section in shown("cnn"))
    assert TITLES["setup"] != titles["setup"]


# Layout -----------------------------------------------------------------------------
def test_80_columns_put_each_keras_block_right_above_its_raw_twin():
    """One heading per section, then [Keras] and its code, then at once [Pure
    TensorFlow] and its code: no blank row, no other heading between. In the extras, the
    same under each topic's name, a blank row before the next topic."""
    output = render_code(TITLES, 80)
    assert "│" not in output
    rows = output.splitlines()
    headings = [i for i, row in enumerate(rows) if row.startswith("── ")]
    assert len(headings) == len(shown("cnn"))
    for section, (start, end) in zip(
        shown("cnn"), pairwise([*headings, None]), strict=True
    ):
        rows = output.splitlines()[start:end]
        rows = rows[:-1] if end else rows  # the blank row before the next heading
        assert rows[0].startswith(f"── {TITLES[section]} ")
        assert not any(row.startswith("── ") for row in rows[1:])
        topics = [i for i, row in enumerate(rows) if row.startswith(TOPIC_MARK)]
        assert bool(topics) == (section == "extras")
        parts = [rows[1:]] if not topics else []
        for first, after in pairwise([*topics, None]):
            assert first == 1 or not rows[first - 1]
            parts.append(rows[first + 1 : after - 1 if after else None])
        for part in parts:
            assert part[0].startswith(f"[{TITLES['keras']}] keras_impl/")
            raw = [
                i
                for i, row in enumerate(part)
                if row.startswith(f"[{TITLES['raw_tf']}]")
            ]
            assert len(raw) == 1 and part[raw[0] - 1].strip()
            assert all(row.strip() for row in part[:1] + part[raw[0] :][:1])


def test_the_extras_show_each_topic_beside_its_twin():
    """Each `# Extras:` heading of the lesson files is a topic of the view: the loop
    inside the graph, Keras' run_in_graph beside the raw train_batches and
    train_epoch_in_graph; the raw loop's batch order, Keras' alone."""
    sections = code_sections()
    topics = {
        name: [block.topic for block in sections[name]["extras"]] for name in STYLES
    }
    assert topics == {
        "keras": ["the loop inside the graph", "the raw loop's batch order"],
        "raw_tf": ["the loop inside the graph"],
    }
    text = render_code(TITLES, 170, step="extras")
    rows = text.splitlines()
    assert side_by_side(sections, 170)
    (graph,) = [i for i, row in enumerate(rows) if row == "· the loop inside the graph"]
    (order,) = [
        i for i, row in enumerate(rows) if row == "· the raw loop's batch order"
    ]
    beside = rows[graph + 2]  # the labels' row, then the first lines
    assert beside.startswith("def run_in_graph(model, steps):")
    assert beside.endswith("│ @tf.function")
    inside = "\n".join(rows[graph:order])
    assert "model.steps_per_execution = steps" in inside
    assert "def train_epoch_in_graph(" in inside and "def seeded_batches(" not in inside
    assert rows[order + 1].split("│")[1].strip() == "—"
    assert "def seeded_batches(" in rows[order + 2]


def test_side_by_side_where_it_takes_fewer_rows():
    """Two columns from MIN_SIDE_BY_SIDE_WIDTH on, where they take fewer rows than one
    above the other; cnn.py's view: stacked at 120, in columns at 160."""
    from compare.views.code_view import Painter, in_columns, stacked

    sections = code_sections()
    every = shown_sections(sections, imports=True)
    assert not side_by_side(sections, MIN_SIDE_BY_SIDE_WIDTH - 1)
    assert not side_by_side(sections, 120) and side_by_side(sections, 160)
    for width in range(MIN_SIDE_BY_SIDE_WIDTH, 220, 8):
        rows = [
            len(layout(TITLES, width, Painter(False), sections, every, 0))
            for layout in (in_columns, stacked)
        ]
        assert side_by_side(sections, width) == (rows[0] < rows[1]), width


def test_every_step_of_both_files_is_shown_from_the_real_source():
    """Each line of each step section, in both files, appears in the side-by-side view."""
    text = render_code(TITLES, width=400)
    for path in [style.path("cnn") for style in STYLES.values()]:
        sections = split_steps(path.read_text())
        for step in ("setup", *STEPS):
            assert sections[step], f"{path.name} has an empty {step} step"
            for line in sections[step]:
                assert line in text


def test_wide_terminal_puts_the_steps_side_by_side_in_order():
    text = render_code(TITLES, width=160)
    positions = [text.index(TITLES[step]) for step in ("setup", *STEPS)]
    assert positions == sorted(positions)
    build_line = next(line for line in text.splitlines() if "def build_model" in line)
    assert "│" in build_line  # Keras' build_model sits beside raw's first define line


def test_colour_only_when_asked():
    assert "\x1b[" not in render_code(TITLES, 120, colour=False)
    assert "\x1b[" in render_code(TITLES, 120, colour=True)


def test_the_report_still_reads_the_steps_as_text():
    """compare/views/html_report.py shows implementation_steps' text, section by section."""
    steps = implementation_steps("checkpoints")
    assert shown_sections(steps) == (*STEPS, "extras")
    assert steps["raw_tf"]["train"] == [
        text for _, text in real_sections(STYLES["raw_tf"].path("checkpoints"))["train"]
    ]
    assert (
        steps["keras"]["define"]
        == split_steps(STYLES["keras"].path("cnn").read_text())["define"]
    )
    # Each part of the extras under its own heading, as the file has it.
    for name, style in STYLES.items():
        extras = implementation_steps()[name]["extras"]
        headings = [text for text in extras if text.startswith("# Extras:")]
        source = style.path("cnn").read_text()
        assert headings == [
            line for line in source.splitlines() if line.startswith("# Extras:")
        ]
        assert extras[0] == headings[0]
        text = "\n".join(split_steps(source)["extras"])
        assert text.startswith(headings[0]) and text in source


# The models' views ------------------------------------------------------------------
def test_code_view_of_the_batch_norm_dropout_model():
    """--lesson cnn_bn_dropout shows that model's step 1 beside its twin, and the shared steps."""
    text = render_code(TITLES, 200, sections=code_sections("cnn_bn_dropout"))
    assert (
        "layers.BatchNormalization()" in text and "class BatchNorm(tf.Module):" in text
    )
    assert (
        "def dropout(x, rate, seed):" in text
        and "def train_epoch(model, optimizer, x_train" in text
    )


def test_code_view_of_the_distributed_model():
    """--lesson distributed: strategy.scope() in Keras beside strategy.run and reduce in raw TF."""
    text = render_code(TITLES, 200, sections=code_sections("distributed"))
    assert "with strategy.scope():" in text and "strategy.run(replica_step" in text
    assert "return cnn.train(model, x_train" in text
    assert "tf.nn.compute_average_loss" in text
    assert text.count("kept = len(x_train) - len(x_train) %") == 2  # both keep the same


def test_code_view_of_checkpointed_training():
    """--lesson checkpoints: step 3 is BackupAndRestore beside tf.train.Checkpoint; the other steps stay cnn.py's."""
    text = render_code(TITLES, 200, sections=code_sections("checkpoints"))
    assert (
        "keras.callbacks.BackupAndRestore(" in text and "tf.train.Checkpoint(" in text
    )
    assert (
        "def seeded_batches(x, y, batch_size, seed, epochs, first_epoch=0):" in text
        and "tf.train.CheckpointManager(" in text
    )
    assert "def run_in_graph(model, steps):" in text
    assert (
        "layers.Conv2D(32, (3, 3)" in text
        and "def evaluate(model, x_test, y_test, batch_size):" in text
    )


@pytest.mark.slow
def test_code_command_fits_120_columns_without_colour_in_a_pipe():
    """`python -m compare code` reads no TensorFlow, fits the width asked for, and does not colour
    a pipe (stdout is not a terminal)."""
    from helpers import run_cli

    completed = run_cli("code", "--width", "120", "--lang", "pt", timeout=120)
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert max(len(line) for line in lines) <= 120 and "\x1b[" not in completed.stdout
    assert view_titles("pt")["evaluate"] in completed.stdout
    assert "TensorFlow puro" in completed.stdout


# Colours a light terminal reads too ------------------------------------------------------
def test_the_theme_comes_from_colorfgbg_else_reads_on_both():
    from compare.views.themes import terminal_theme

    for value, theme in {
        "15;0": "dark",
        "15;default;0": "dark",  # rxvt's three fields: the background last
        "0;15": "light",
        "0;7": "light",
        "": "both",
        "default": "both",
    }.items():
        assert terminal_theme({"COLORFGBG": value}) == theme, value
    assert terminal_theme({}) == "both"


ESCAPE = re.compile(r"\x1b\[([0-9;]+)m")
GREY_ON_WHITE = {"37", "97", "33", "93"}  # grey, white, yellow: faint on a light screen
DIM_ON_BLACK = {"30", "34", "90"}  # black, blue, grey: faint on a dark screen


@pytest.mark.parametrize(
    "theme, unreadable",
    [("light", GREY_ON_WHITE), ("both", GREY_ON_WHITE | DIM_ON_BLACK)],
)
def test_comments_and_code_are_readable_on_the_themes_background(
    theme, unreadable, capsys, monkeypatch
):
    """The code's colours (marks around it aside) avoid what the background swallows;
    the comments are green, as --theme makes them from the command line."""
    from compare.cli import main
    from compare.views.code_view import Painter

    painter, sections = Painter(theme), code_sections()
    lines = [
        line
        for blocks in sections.values()
        for block in blocks["compile"]
        for line in block.lines
    ]
    coloured = "".join(painter.code(line, 0, len(line.text)) for line in lines)
    codes = {code for found in ESCAPE.findall(coloured) for code in found.split(";")}
    assert codes and not codes & unreadable, codes
    assert any(line.kinds() == {"comment"} for line in lines)
    flags = ["--color", "always", "--step", "2", "--width", "100"]
    monkeypatch.delenv("COLORFGBG", raising=False)  # auto: both
    assert main(["code", *flags, "--theme", theme.replace("both", "auto")]) == 0
    assert "\x1b[32m# " in capsys.readouterr().out  # a comment, in green
