"""From an exercise's reference solution (exercises/NAME.py) to what a student starts
from: the part between BEGIN SOLUTION and END SOLUTION left out, the `#:` comments said
in the student's language (through the catalog), and a header with the statement."""

import re
import textwrap
from pathlib import Path

import exercises
from compare.language import _

SOURCES = Path(exercises.__file__).parent
WIDTH = 88  # the lessons' slide width
BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"
MESSAGE = re.compile(r"^(\s*)#: ?(.*)$")
CHECK_LINE = re.compile(r"python -m compare exercise check (\w+)")


def reference(name):
    """The reference solution's source."""
    return (SOURCES / f"{name}.py").read_text(encoding="utf-8")


def body(source):
    """The source without its module docstring (the header replaces it)."""
    docstring = re.match(r'\s*""".*?"""\n+', source, flags=re.DOTALL)
    return source[docstring.end() :] if docstring else source


def comment_blocks(source):
    """(indent, message, number of lines) for each run of `#:` lines: one message each,
    its lines joined by spaces."""
    lines, blocks, index = source.splitlines(), [], 0
    while index < len(lines):
        found = MESSAGE.match(lines[index])
        if not found:
            index += 1
            continue
        indent, words, start = found.group(1), [found.group(2)], index
        index += 1
        while index < len(lines) and (more := MESSAGE.match(lines[index])):
            if more.group(1) != indent:
                break
            words.append(more.group(2))
            index += 1
        blocks.append((start, indent, " ".join(words), index - start))
    return blocks


def comment_messages(source):
    """The messages of the `#:` comments, for the catalog."""
    return [message for _start, _indent, message, _count in comment_blocks(source)]


def translated_comments(source):
    """`#:` comments in the current language, rewrapped to the slide width."""
    lines = source.splitlines()
    for start, indent, message, count in reversed(comment_blocks(source)):
        wrapped = textwrap.wrap(_(message), WIDTH - len(indent) - 2)
        lines[start : start + count] = [f"{indent}# {line}" for line in wrapped]
    return "\n".join(lines) + "\n"


def without_solutions(source):
    """Each solution block replaced by a line to write and a NotImplementedError."""
    out, inside = [], False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == BEGIN:
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out += [
                f"{indent}# {_('YOUR CODE HERE')}",
                f"{indent}raise NotImplementedError",
            ]
        elif stripped == END:
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out) + "\n"


def header(exercise, number, total, command):
    """The starter's docstring: title, statement, concept, where to look, how to check."""
    title = _("Exercise {number} of {total}: {title}").format(
        number=number, total=total, title=_(exercise.title)
    )
    paragraphs = [
        title,
        _(exercise.statement),
        _("Concept: {concept}").format(concept=_(exercise.concept)),
        _("In the lesson: {where}").format(where=exercise.lesson),
    ]
    text = "\n\n".join(textwrap.fill(paragraph, WIDTH - 3) for paragraph in paragraphs)
    text += "\n\n" + _("Check it:") + "\n    " + command  # one line, to copy whole
    return f'"""{text}\n"""\n\n'


def starter(exercise, number, total, command):
    """The starter file's text for `exercise`, in the current language; `command`
    checks it (its header names it)."""
    code = translated_comments(without_solutions(body(reference(exercise.name))))
    return header(exercise, number, total, command) + code


def solution_code(exercise):
    """The reference solution's code in the current language, markers kept (for the
    notebooks' grading bundle, which strips the solutions itself)."""
    return translated_comments(body(reference(exercise.name)))


def exercise_named_in(text):
    """The exercise a starter file names in its check line, or None."""
    found = CHECK_LINE.search(text)
    return found.group(1) if found else None
