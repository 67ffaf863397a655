"""Whole lines of code, as the concept map quotes them (compare/views/concepts.py).

A whole line is one of:
- a statement, whole: one written over several lines is quoted as its one logical line
  (the lines joined, the formatter's trailing comma left out), never by its first line;
- the header of a compound statement, up to its colon (`for epoch in range(epochs):`),
  or a decorator (`@tf.function`);
- one element of a list or call written one element per line, whole, as
  `layers.Conv2D(32, (3, 3), activation="relu")` in `Sequential([...])`.
A snippet the file holds more than once is written (snippet, the def or class it is in).
"""

import ast
import dataclasses
import io
import tokenize
from functools import cache

from compare.styles import ROOT, STYLES

OPENING, CLOSING = "([{", ")]}"
NOT_CODE = {
    tokenize.COMMENT,
    tokenize.NL,
    tokenize.NEWLINE,
    tokenize.INDENT,
    tokenize.DEDENT,
    tokenize.ENDMARKER,
}


class ConceptMapError(ValueError):
    """A quoted snippet that is not one whole line of its file."""


@dataclasses.dataclass(frozen=True)
class Unit:
    """A whole line of code of a file, as the map may quote it."""

    text: str  # its one logical line
    first: int  # its first and last physical lines
    last: int
    scope: str  # the def or class it is in (dotted: "Adam.apply"), "" at module level


@dataclasses.dataclass(frozen=True)
class Quote:
    """A snippet found in its file."""

    text: str
    path: str  # from the repository root: "raw_tf_impl/cnn.py"
    first: int
    last: int

    @property
    def where(self):
        """file:line, or file:first-last for a statement over several lines."""
        lines = (
            str(self.first) if self.first == self.last else f"{self.first}-{self.last}"
        )
        return f"{self.path}:{lines}"


# Whole lines, from tokenize and ast ------------------------------------------------------
def joined(tokens):
    """Tokens as one logical line: the spacing of each physical line kept, the lines
    joined (nothing after an opening or before a closing bracket, one space elsewhere),
    the trailing comma of a bracket closed on a later line left out."""
    text, previous = "", None
    for index, token in enumerate(tokens):
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if (
            token.string == ","
            and following is not None
            and following.string in CLOSING
            and following.start[0] > token.end[0]
        ):
            continue
        if previous is None:
            text = token.string
        elif token.start[0] == previous.end[0]:
            text += " " * (token.start[1] - previous.end[1]) + token.string
        else:
            gap = previous.string in OPENING or token.string in CLOSING
            text += ("" if gap else " ") + token.string
        previous = token
    return text


@cache
def units_in(source):
    """Every whole line of code of `source` (see the module's docstring)."""
    return tuple(Units(source).walk(ast.parse(source).body, ""))


class Units:
    """A source's tokens and lines, and the whole lines of code found in them."""

    def __init__(self, source):
        self.tokens = [
            token
            for token in tokenize.generate_tokens(io.StringIO(source).readline)
            if token.type not in NOT_CODE
        ]
        self.lines = source.splitlines()

    def between(self, start, end):
        return [
            token for token in self.tokens if start <= token.start and token.end <= end
        ]

    def unit(self, span, scope):
        return Unit(joined(span), span[0].start[0], span[-1].end[0], scope)

    def header(self, node):
        """A compound statement's tokens up to the colon that ends its header."""
        start, depth = (node.lineno, node.col_offset), 0
        span = []
        for token in self.tokens:
            if token.start < start:
                continue
            span.append(token)
            if token.string in OPENING:
                depth += 1
            elif token.string in CLOSING:
                depth -= 1
            elif token.string == ":" and depth == 0:
                return span
        raise AssertionError(f"no colon after line {node.lineno}")  # not Python

    def stands_alone(self, node):
        """Whether `node` fills its physical lines, bar indentation, a comma, a comment."""
        before = self.lines[node.lineno - 1][: node.col_offset]
        after = self.lines[node.end_lineno - 1][node.end_col_offset :].strip()
        after = after.removeprefix(",").strip()
        return not before.strip() and (not after or after.startswith("#"))

    def elements(self, statement, scope):
        """The arguments and items of `statement` that stand on lines of their own."""
        for node in ast.walk(statement):
            if isinstance(node, ast.Call):
                parts = [*node.args, *node.keywords]
            elif isinstance(node, (ast.List, ast.Tuple, ast.Set)):
                parts = node.elts
            else:
                continue
            for part in parts:
                if part.lineno > statement.lineno and self.stands_alone(part):
                    span = self.between(
                        (part.lineno, part.col_offset),
                        (part.end_lineno, part.end_col_offset),
                    )
                    yield self.unit(span, scope)

    def decorators(self, statement, scope):
        """A definition's scope and its decorators' lines (none for other statements)."""
        if not isinstance(
            statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
        ):
            return scope, []
        inner = f"{scope}.{statement.name}" if scope else statement.name
        return inner, [
            self.unit(
                self.between(
                    (decorator.lineno, 0),
                    (decorator.end_lineno, decorator.end_col_offset),
                ),
                inner,
            )
            for decorator in statement.decorator_list
        ]

    def walk(self, body, scope):
        for statement in body:
            inner, decorators = self.decorators(statement, scope)
            yield from decorators
            children = [
                getattr(statement, field, None)
                for field in ("body", "orelse", "finalbody")
            ]
            handlers = getattr(statement, "handlers", [])
            if not (any(children) or handlers):  # a simple statement
                end = (statement.end_lineno, statement.end_col_offset)
                yield self.unit(
                    self.between((statement.lineno, statement.col_offset), end), scope
                )
                yield from self.elements(statement, scope)
                continue
            yield self.unit(self.header(statement), inner)
            for child in children:
                yield from self.walk(child or [], inner)
            for handler in handlers:
                yield self.unit(self.header(handler), inner)
                yield from self.walk(handler.body, inner)


def snippet_and_scope(quoted):
    """A CONCEPTS snippet as (text, scope): a plain string has no scope."""
    return quoted if isinstance(quoted, tuple) else (quoted, None)


def locate(style, quoted, lesson="cnn", file=None):
    """The Quote of `quoted` in `style`'s lesson file (or in `file`, a path from the
    repository root); ConceptMapError unless it is exactly one whole line of it (in its
    scope, when one is given)."""
    text, scope = snippet_and_scope(quoted)
    path = ROOT / file if file else STYLES[style].path(lesson)
    name = file or f"{path.parent.name}/{path.name}"
    units = [
        unit
        for unit in units_in(path.read_text())
        if scope is None or unit.scope == scope
    ]
    matches = [unit for unit in units if unit.text == text]
    where = f"{name}" + (f", in {scope}" if scope else "")
    if len(matches) > 1:
        lines = ", ".join(str(unit.first) for unit in matches)
        raise ConceptMapError(
            f"{text!r} is {len(matches)} lines of {where} (lines {lines}): write it as "
            f"(snippet, the def or class it is in)"
        )
    if not matches:
        partial = any(text in unit.text for unit in units)
        raise ConceptMapError(
            f"{text!r} is only part of a line of {where}: quote the whole statement"
            if partial
            else f"{text!r} is not in {where}"
        )
    (unit,) = matches
    return Quote(text, name, unit.first, unit.last)
