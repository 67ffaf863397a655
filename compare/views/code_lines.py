"""Lines of a lesson file that wrap without breaking the code, for `python -m compare code`.

Each file is read once. `tokenize` says where its tokens start and end, so a line breaks only
between tokens, never inside a name, a string or a number; comments and docstrings are prose
and break between words. pygments lexes the whole file once, so the second line of a docstring
keeps the string colour; a wrapped piece is a slice of its line, coloured from those tokens,
never lexed again alone. The one exception: a token longer than the room a continuation has
(at 80 columns, raw cnn.py's 68-character f-string indented by 12) is cut inside, at a space
outside its {fields} where there is one, else where the room ends.
"""

import dataclasses
import io
import tokenize
from collections import defaultdict
from functools import cache

MARKER = "↪ "  # starts every continuation, indented deeper than the line it continues
COMMENT_MARK = "# "  # and then this, where the continuation goes on inside a comment

# Where a line may break, best first: before an end-of-line comment (it moves down whole),
# after a comma or an opening bracket, at a space (around an operator, between two words of
# prose), between two other tokens, inside a dotted name or before its call's bracket.
BEFORE_COMMENT, AFTER_COMMA, AT_SPACE, BETWEEN_TOKENS, IN_NAME_CHAIN = range(5)
OPENING, CLOSING = {"(", "[", "{"}, {")", "]", "}"}
SKIPPED = {
    tokenize.NL,
    tokenize.NEWLINE,
    tokenize.INDENT,
    tokenize.DEDENT,
    tokenize.ENDMARKER,
    tokenize.ENCODING,
}
# Python 3.12 tokenizes an f-string into its parts; one string here, as before 3.12.
STRING_STARTS = {
    getattr(tokenize, name, None) for name in ("FSTRING_START", "TSTRING_START")
}
STRING_ENDS = {getattr(tokenize, name, None) for name in ("FSTRING_END", "TSTRING_END")}
STRING_STARTS.discard(None)
STRING_ENDS.discard(None)


@dataclasses.dataclass(frozen=True)
class Line:
    """One physical line of a file: its number there, its text, its tokens' spans on it
    as (start, end, kind), kind "code", "string", "comment" or "doc" (a docstring), and
    where it may break, as (column, rank, depth) by column."""

    path: object
    number: int
    text: str
    atoms: tuple
    breaks: tuple

    def cut(self, end):
        """The line up to column `end`, right-stripped (a comment taken away)."""
        text = self.text[:end].rstrip()
        return Line(
            self.path,
            self.number,
            text,
            tuple((s, min(e, len(text)), k) for s, e, k in self.atoms if s < len(text)),
            tuple(point for point in self.breaks if point[0] < len(text)),
        )

    def kinds(self):
        return {kind for _, _, kind in self.atoms}


@dataclasses.dataclass(frozen=True)
class Piece:
    """A slice [start, end) of a line, shown after `prefix` (empty on the first piece)."""

    start: int
    end: int
    prefix: str


def token_spans(source):
    """((row, col), (row, col), kind) for each token that shows on the page."""
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    spans, depth, opened = [], 0, None
    for index, token in enumerate(tokens):
        if token.type in STRING_STARTS:
            opened = opened if depth else token.start
            depth += 1
        elif token.type in STRING_ENDS:
            depth -= 1
            if not depth:
                spans.append((opened, token.end, "string"))
        elif not depth and token.type not in SKIPPED:
            kind = "code"
            if token.type == tokenize.COMMENT:
                kind = "comment"
            elif token.type == tokenize.STRING:
                kind = "doc" if is_docstring(tokens, index) else "string"
            spans.append((token.start, token.end, kind))
    return spans


def is_docstring(tokens, index):
    """A string that is a statement by itself: a docstring (or a bare string, prose too)."""
    quiet = {tokenize.NL, tokenize.COMMENT}
    before = next((t for t in reversed(tokens[:index]) if t.type not in quiet), None)
    after = next((t for t in tokens[index + 1 :] if t.type not in quiet), None)
    starts_statement = before is None or before.type in {
        tokenize.NEWLINE,
        tokenize.INDENT,
        tokenize.DEDENT,
        tokenize.ENCODING,
    }
    return starts_statement and (
        after is None or after.type in {tokenize.NEWLINE, tokenize.ENDMARKER}
    )


def rank_of(kind, before, this, spaced):
    """How good a break before the token `this` is, after the token `before`."""
    if kind == "comment":
        return BEFORE_COMMENT
    if before in {",", *OPENING}:
        return AFTER_COMMA
    if before == "." or this == "." or (this in {"(", "["} and not spaced):
        return IN_NAME_CHAIN
    return AT_SPACE if spaced else BETWEEN_TOKENS


def break_points(text, atoms):
    """(column, rank, depth) where the line may break: only at the start of a token, or of a
    word inside a comment or a docstring, never inside the indentation; depth counts the
    brackets open there (since the line's start), so a break prefers the outer level."""
    first = len(text) - len(text.lstrip())
    points, previous, depth = {}, None, 0
    for start, end, kind in atoms:
        this = text[start:end]
        if kind == "code" and this in CLOSING:
            depth = max(0, depth - 1)
        if start > first and previous is not None:
            before = text[previous[0] : previous[1]]
            points[start] = (rank_of(kind, before, this, start > previous[1]), depth)
        if kind in {"comment", "doc"}:  # prose: also between its words
            for column in range(max(start + 1, first + 1), end):
                if text[column - 1] == " " and text[column] != " ":
                    points.setdefault(column, (AT_SPACE, depth))
        if kind == "code" and this in OPENING:
            depth += 1
        previous = (start, end)
    return tuple((column, *points[column]) for column in sorted(points))


@cache
def read_lines(path):
    """Every line of the file at `path`, numbered from 1, with its tokens and breaks."""
    source = path.read_text()
    texts = source.splitlines()
    atoms = defaultdict(list)
    for (start_row, start_col), (end_row, end_col), kind in token_spans(source):
        for row in range(start_row, end_row + 1):
            start = start_col if row == start_row else 0
            end = end_col if row == end_row else len(texts[row - 1])
            if end > start:
                atoms[row].append((start, end, kind))
    return tuple(
        Line(
            path, number, text, tuple(atoms[number]), break_points(text, atoms[number])
        )
        for number, text in enumerate(texts, start=1)
    )


def without_comments(lines):
    """`lines` with comments and docstrings taken out, the code otherwise as it is: a line
    that held only those goes, and so do the blank lines right after a docstring."""
    kept, after_docstring = [], False
    for line in lines:
        kinds = line.kinds()
        if "doc" in kinds and kinds <= {"doc", "comment"}:
            after_docstring = True
            continue
        if not line.text.strip() and after_docstring:
            continue
        after_docstring = False
        comment = next((s for s, _, kind in line.atoms if kind == "comment"), None)
        if comment is not None:
            line = line.cut(comment)
            if not line.text.strip():
                continue
        kept.append(line)
    return kept


def continuation_indent(line, width):
    """Deeper than the line's own indentation: by 4 where the width allows, else by 1."""
    indent = len(line.text) - len(line.text.lstrip())
    return " " * min(indent + 4, max(indent + 1, width // 2))


def in_comment(line, column):
    return any(kind == "comment" and s < column < e for s, e, kind in line.atoms)


def wrap(line, width):
    """The pieces of `line` that fit `width` columns each, prefix included."""
    text = line.text
    if len(text) <= width:
        return [Piece(0, len(text), "")]
    lead = continuation_indent(line, width) + MARKER
    pieces, position = [], 0
    while True:
        prefix = ""
        if position:
            prefix = lead + (COMMENT_MARK if in_comment(line, position) else "")
        room = max(1, width - len(prefix))
        if len(text) - position <= room:
            pieces.append(Piece(position, len(text), prefix))
            return pieces
        end = best_break(line, position, room)
        pieces.append(Piece(position, end, prefix))
        position = end


def best_break(line, position, room):
    """Where the piece that starts at `position` ends: the best-ranked break that fits, at
    the outermost bracket level, the rightmost of those; a break other than before a comment
    only past the piece's first third, where there is one there, so pieces stay full."""
    text, limit = line.text, position + room
    fitting = [
        point
        for point in line.breaks
        if position < point[0] <= limit and text[position : point[0]].strip()
    ]
    if fitting:
        third = position + room // 3
        full = [p for p in fitting if p[1] == BEFORE_COMMENT or p[0] >= third]
        return min(full or fitting, key=lambda p: (p[1], p[2], -p[0]))[0]
    return cut_inside(line, position, limit)


def cut_inside(line, position, limit):
    """A token longer than the room: cut after its last space that fits (outside an
    f-string's {fields} where it can), else at the edge of the room."""
    text = line.text
    spaces = [
        column
        for column in range(position + 1, limit + 1)
        if text[column - 1] == " " and text[position:column].strip()
    ]

    def outside_fields(column):
        start, kind = next(
            ((s, k) for s, e, k in line.atoms if s < column <= e), (column, "code")
        )
        segment = text[start:column]
        return kind != "string" or segment.count("{") == segment.count("}")

    plain = [column for column in spaces if outside_fields(column)]
    return (plain or spaces or [limit])[-1]


@cache
def colour_spans(path):
    """{line number: ((start, end, pygments token type), ...)}: the whole file lexed once."""
    from pygments.lexers import PythonLexer

    spans, row, column = defaultdict(list), 1, 0
    for token_type, value in PythonLexer(stripnl=False).get_tokens(path.read_text()):
        for index, part in enumerate(value.split("\n")):
            if index:
                row, column = row + 1, 0
            if part:
                spans[row].append((column, column + len(part), token_type))
                column += len(part)
    return spans


class Painter:
    """Terminal colours for pieces of lines, headings and the marks around the code, in
    `colour`'s theme (compare/views/themes.py: dark, light, or True: both); with `colour`
    off, the text as it is."""

    def __init__(self, colour):
        self.colour = colour
        if colour:
            from pygments import format as format_tokens
            from pygments.console import ansiformat
            from pygments.token import Comment

            from compare.views.themes import formatter

            self.format_tokens, self.ansiformat = format_tokens, ansiformat
            theme = "both" if colour is True else colour
            self.formatter, self.comment = formatter(theme), Comment

    def code(self, line, start, end):
        if not self.colour:
            return line.text[start:end]
        tokens = [
            (token_type, line.text[max(s, start) : min(e, end)])
            for s, e, token_type in colour_spans(line.path)[line.number]
            if s < end and e > start
        ]
        return self.format_tokens(tokens, self.formatter)

    def prefix(self, prefix):
        """The continuation's indent and arrow, and its "# " inside a comment."""
        if not self.colour or not prefix:
            return prefix
        indent, arrow, rest = prefix.partition(MARKER)
        return (
            indent
            + self.faint(arrow)
            + (
                self.format_tokens([(self.comment, rest)], self.formatter)
                if rest
                else ""
            )
        )

    def faint(self, text):
        return self.ansiformat("brightblack", text) if self.colour and text else text

    def bold(self, text):
        return self.ansiformat("**", text) if self.colour and text else text
