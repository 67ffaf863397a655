"""Regenerate the recorded outputs in the manual: `python -m tools.record_outputs`.

A recorded output sits in a docs/ page between two markers, the first naming the command
that printed it. An excerpt says which lines it keeps, after a line `...`: `(last N
lines)` the end of the output, `(N lines from "TEXT")` N lines from the first that
starts with TEXT:

    <!-- output: python -m compare --epochs 5 transfer -->
    ```text
    $ python -m compare --epochs 5 transfer
    python -m compare: error: ...
    ```
    <!-- output: end -->

This script runs each command again, in the repository's root with this Python, at a
fixed width (COLUMNS=80), stdout and stderr together as a terminal shows them, and
writes the block anew. `--check` runs nothing: it says whether every marker opens a
well-formed block naming a `python -m` command. `--only TEXT` reruns the blocks whose
command contains TEXT (some take minutes: a training run, the transfer example).
"""

import argparse
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
COLUMNS = "80"
OPENING = re.compile(r"<!-- output(?: \((.+?)\))?: (.*?) -->")
BLOCK = re.compile(
    r"(?P<opening><!-- output(?: \((?P<keep>.+?)\))?: (?P<command>.+?) -->\n)"
    r"```text\n(?P<body>.*?)```\n"
    r"(?P<closing><!-- output: end -->)",
    re.DOTALL,
)
END = "<!-- output: end -->"


@dataclass
class Block:
    page: Path
    command: str
    keep: str | None  # which lines an excerpt keeps: "last N lines", 'N lines from "X"'
    body: str


def pages():
    return sorted(DOCS.rglob("*.md"))


def blocks(page):
    text = page.read_text(encoding="utf-8")
    return [
        Block(page, match["command"], match["keep"], match["body"])
        for match in BLOCK.finditer(text)
    ]


KEEP = re.compile(
    r'^last (?P<last>\d+) lines$|^(?P<count>\d+) lines from "(?P<start>.+)"$'
)


def excerpt(lines, keep):
    """The lines an excerpt keeps, after "..." (all of them where `keep` is None)."""
    if keep is None:
        return lines
    match = KEEP.match(keep)
    if match["last"]:
        return ["...", *lines[-int(match["last"]) :]]
    start = next(i for i, line in enumerate(lines) if line.startswith(match["start"]))
    return ["...", *lines[start : start + int(match["count"])]]


def problems(page):
    """What is wrong with the page's markers: one line each, none when all is well."""
    text = page.read_text(encoding="utf-8")
    name = page.relative_to(ROOT)
    found = []
    openings = [m for m in OPENING.finditer(text) if m[0] != END]
    whole = list(BLOCK.finditer(text))
    if len(openings) != len(whole) or text.count(END) != len(whole):
        found.append(
            f"{name}: {len(openings)} markers, {len(whole)} well-formed blocks"
        )
    for match in whole:
        if not match["command"].startswith("python -m "):
            found.append(f"{name}: {match['command']!r} is not a `python -m` command")
        if match["keep"] is not None and not KEEP.match(match["keep"]):
            found.append(f"{name}: {match['keep']!r}: which lines to keep?")
        if not match["body"].startswith(f"$ {match['command']}\n"):
            found.append(f"{name}: the block of {match['command']!r} does not show it")
    return found


def run(command, keep=None):
    """The block's body: the command line, then what it printed."""
    argv = shlex.split(command)
    argv[0] = sys.executable  # `python`: this environment's
    completed = subprocess.run(
        argv,
        cwd=ROOT,
        env={**os.environ, "COLUMNS": COLUMNS},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=3600,
    )
    lines = excerpt(completed.stdout.rstrip("\n").splitlines(), keep)
    return "\n".join([f"$ {command}", *lines]) + "\n"


def rerecorded(text, only=None):
    def write(match):
        if only is not None and only not in match["command"]:
            return match[0]
        print(f"running {match['command']}", file=sys.stderr)
        body = run(match["command"], match["keep"])
        return f"{match['opening']}```text\n{body}```\n{match['closing']}"

    return BLOCK.sub(write, text)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tools.record_outputs")
    parser.add_argument("--check", action="store_true", help="run nothing; check")
    parser.add_argument("--only", metavar="TEXT", help="rerun these commands only")
    arguments = parser.parse_args(argv)
    found = [problem for page in pages() for problem in problems(page)]
    if found or arguments.check:
        print("\n".join(found) or "the recorded outputs are well formed")
        return 1 if found else 0
    for page in pages():
        text = page.read_text(encoding="utf-8")
        if BLOCK.search(text):
            page.write_text(rerecorded(text, arguments.only), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
