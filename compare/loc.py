"""Lines of code per step, counted from the lesson files themselves.

A line is a *logical* line (one statement, however many physical lines it wraps over),
counted with `tokenize`; blank lines, comments and docstrings do not count. Steps are the
`# Step N: name` headings both styles use; each `# Extras: topic` heading starts a part of
what a file adds beyond the core steps (a file may have several: every part counts in
"extras", apart from the steps). Lines before the first heading (the imports) count in the
total only.
"""

import io
import re
import tokenize

from compare.styles import STYLES

STEPS = ("define", "compile", "train", "evaluate")
EXTRAS = "extras"
HEADING = re.compile(r"#\s*(?:Step\s+\d+:\s*(\w+)|(Extras):)")
NOT_CODE = {
    tokenize.NL,
    tokenize.NEWLINE,
    tokenize.COMMENT,
    tokenize.INDENT,
    tokenize.DEDENT,
    tokenize.STRING,
    tokenize.ENCODING,
    tokenize.ENDMARKER,
}


def heading_section(text):
    """The section a heading comment starts ("define", ..., "extras"), or None."""
    match = HEADING.match(text.strip())
    if not match:
        return None
    return match.group(1) or EXTRAS


def count_lines(source):
    """Logical lines per section; lines before the first heading go to "setup". A
    heading met again (a second `# Extras:`) adds to its section's count."""
    counts = {"setup": 0}
    section, line_has_code = "setup", False
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        heading = (
            heading_section(token.string) if token.type == tokenize.COMMENT else None
        )
        if heading:
            section = heading
            counts.setdefault(section, 0)
        elif token.type == tokenize.NEWLINE:  # end of a logical line
            counts[section] += line_has_code  # only strings: a docstring
            line_has_code = False
        elif token.type not in NOT_CODE:
            line_has_code = True
    return counts


def lines_per_step(path):
    """{"define", "compile", "train", "evaluate", "extras", "total"} for a file with
    all four step headings (cnn.py)."""
    counts = count_lines(path.read_text())
    missing = [step for step in STEPS if step not in counts]
    if missing:
        raise ValueError(f"{path}: no '# Step N: {missing[0]}' heading")
    return {
        **{step: counts[step] for step in STEPS},
        EXTRAS: counts.get(EXTRAS, 0),
        "total": sum(counts.values()),
    }


def lesson_lines(
    style, model="cnn", strategy="none", checkpoints=False, distributed=None
):
    """The lines a run of one style reads, per step. cnn_bn_dropout: step 1 is its own
    file's, the other steps cnn.py's. Under a strategy every step is distributed.py's
    (or the file `distributed` names: distributed_jax for Keras on JAX).
    With checkpoints, cnn.py's step 3 stays the core and checkpoints.py's step 3 joins
    the extras (what resuming costs beyond it). The total counts every file read."""
    files = STYLES[style]
    lines = lines_per_step(files.path("cnn"))
    if strategy != "none":
        steps = lines_per_step(files.path(distributed or "distributed"))
        return {**steps, "total": lines["total"] + steps["total"]}
    if model != "cnn":
        variant = count_lines(files.path(model).read_text())
        lines = {
            **lines,
            "define": variant["define"],
            "total": lines["total"] + sum(variant.values()),
        }
    if checkpoints:
        saving = count_lines(files.path("checkpoints").read_text())
        lines = {
            **lines,
            EXTRAS: lines[EXTRAS] + saving["train"],
            "total": lines["total"] + sum(saving.values()),
        }
    return lines
