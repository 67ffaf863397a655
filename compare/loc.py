"""Lines of code per step, counted from the implementations' own source files.

A line is a *logical* line (one statement, however many physical lines it wraps over),
counted with `tokenize`; blank lines, comments and docstrings do not count. Steps are the
`# Step N: name` headings both implementations use.
"""

import io
import re
import tokenize
from pathlib import Path

STEPS = ("define", "compile", "train", "evaluate")
PACKAGES = (
    Path(__file__).resolve().parents[1]
)  # where compare, keras_impl and raw_tf_impl sit side by side
IMPLEMENTATION_FILES = {
    "keras": PACKAGES / "keras_impl" / "cnn.py",
    "raw_tf": PACKAGES / "raw_tf_impl" / "cnn.py",
}
MODEL_NAMES = ("cnn", "cnn_bn_dropout")
VARIANT_FILES = {  # cnn_bn_dropout: step 1 only
    "keras": PACKAGES / "keras_impl" / "cnn_bn_dropout.py",
    "raw_tf": PACKAGES / "raw_tf_impl" / "cnn_bn_dropout.py",
}
DISTRIBUTED_FILES = {  # --strategy mirrored / multiworker
    "keras": PACKAGES / "keras_impl" / "distributed.py",
    "raw_tf": PACKAGES / "raw_tf_impl" / "distributed.py",
}
CHECKPOINT_FILES = {  # --checkpoint-dir: step 3 with checkpoints
    "keras": PACKAGES / "keras_impl" / "checkpoints.py",
    "raw_tf": PACKAGES / "raw_tf_impl" / "checkpoints.py",
}
STEP_HEADING = re.compile(r"#\s*Step\s+\d+:\s*(\w+)")
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


def count_lines(source):
    """Logical lines per step heading; lines before the first heading go to "setup"."""
    counts = {"setup": 0}
    step, line_has_code = "setup", False
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        heading = (
            STEP_HEADING.match(token.string) if token.type == tokenize.COMMENT else None
        )
        if heading:
            step = heading.group(1)
            counts.setdefault(step, 0)
        elif token.type == tokenize.NEWLINE:  # end of a logical line
            counts[step] += (
                line_has_code  # a line of only strings is a docstring or prose
            )
            line_has_code = False
        elif token.type not in NOT_CODE:
            line_has_code = True
    return counts


def lines_per_step(path):
    """{"define", "compile", "train", "evaluate", "total"} for one implementation file."""
    counts = count_lines(Path(path).read_text())
    missing = [step for step in STEPS if step not in counts]
    if missing:
        raise ValueError(f"{path}: no '# Step N: {missing[0]}' heading")
    return {**{step: counts[step] for step in STEPS}, "total": sum(counts.values())}
