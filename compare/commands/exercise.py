"""`python -m compare exercise`: exercises on the lesson that Keras grades. `list` names
them, `start NAME` writes a starter file, `check NAME` grades the student's file against
Keras from the same weights and batches (compare/exercises/), `check --all DIR` grades a
class's folder."""

import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from compare.commands.options import at_most
from compare.errors import CompareError
from compare.exercises.catalog import ORDER, check_module, position
from compare.exercises.runner import TIME_LIMIT, grade_file
from compare.exercises.starter import exercise_named_in, starter
from compare.exercises.verdict import STATUS_WORDS
from compare.language import _, language
from compare.quiet import load_tensorflow_quietly
from compare.views.fitted import fitted_table, terminal_width

NAME = "exercise"
INPUTS = OUTPUTS = ()  # `start` checks its own file: it never overwrites one


def add_parser(commands):
    exercise = commands.add_parser(
        "exercise",
        help="exercises on the lesson, graded against Keras",
        description="Exercises on the lesson, from easy to hard, each a file with one "
        "part to write. `list` names them; `start NAME` writes the starter (to NAME.py, "
        "or --file; never over an existing file); `check NAME` runs your file beside "
        "Keras from the same weights and batches and says where it first differs, with "
        "a hint; `check --all DIR` grades every .py file under DIR (one folder per "
        "student). Options go after `exercise`.",
    )
    exercise.add_argument("action", choices=("list", "start", "check"))
    exercise.add_argument("name", nargs="?", metavar="NAME", help="an exercise's name")
    exercise.add_argument(
        "--file",
        type=Path,
        metavar="PATH",
        help="the student's file (default: NAME.py in the current folder)",
    )
    exercise.add_argument(
        "--all",
        type=Path,
        metavar="DIR",
        dest="folder",
        help="check: every .py file under DIR, one row each (the exercise named in the "
        "file's header, else by its name; the student by the folder under DIR)",
    )
    exercise.add_argument(
        "--time-limit",
        type=at_most(3600),
        default=TIME_LIMIT,
        metavar="SECONDS",
        help=f"check: stop a file's check after this long (default {TIME_LIMIT})",
    )
    exercise.set_defaults(run=run)


def run(args, say):
    if args.action in ("list", "start"):
        load_tensorflow_quietly()  # the exercises' texts sit beside their checks
    if args.action == "list":
        return listing()
    if args.action == "check" and args.folder:
        return class_table(args.folder, args.time_limit)
    if not args.name and not (args.action == "check" and args.file):
        raise CompareError(
            _("name an exercise: python -m compare exercise list shows them")
        )
    if args.action == "start":
        return start(args.name, args.file or Path(f"{args.name}.py"), say)
    return check(args.name, args.file, args.time_limit)


def listing():
    rows = []
    for name in ORDER:
        exercise = check_module(name).EXERCISE
        rows.append((str(position(name)), name, _(exercise.title), exercise.lesson))
    headers = ("#", _("name"), _("exercise"), _("in the lesson"))
    return fitted_table(rows, headers, terminal_width()) + "\n"


def start(name, path, say):
    """Write the starter at `path`, atomically and never over an existing file."""
    exercise = check_module(name).EXERCISE
    text = starter(exercise, position(name), len(ORDER), path)
    if path.exists() or path.is_symlink():
        raise CompareError(
            _(
                "{path} exists: start never overwrites a file; name another with --file"
            ).format(path=path)
        )
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise CompareError(_("folder {folder} does not exist").format(folder=folder))
    handle, temporary = tempfile.mkstemp(
        dir=folder, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.link(temporary, path)  # fails if `path` appeared meanwhile: nothing replaced
    except FileExistsError:
        raise CompareError(
            _(
                "{path} exists: start never overwrites a file; name another with --file"
            ).format(path=path)
        ) from None
    finally:
        os.unlink(temporary)
    say(_("Wrote {path}").format(path=path))
    return (
        _(
            "Write the part marked YOUR CODE HERE in {path}, then check it: python -m "
            "compare exercise check {name} --file {path}"
        ).format(path=path, name=name)
        + "\n"
    )


def readable(path):
    """The student's file as text, or one line saying why not."""
    if not path.is_file():
        raise CompareError(_("{path} is not a file").format(path=path))
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CompareError(_("{path} is not UTF-8 text").format(path=path)) from None


def check(name, path, time_limit):
    """One file's verdict, exit code 0 when right, 1 otherwise."""
    if name and name not in ORDER:
        check_module(name)  # one line naming the exercises
    path = path or Path(f"{name}.py")
    named = exercise_named_in(readable(path))
    name = name or named
    if not name:
        raise CompareError(
            _(
                "{path} names no exercise: give its name, as in check adam --file {path}"
            ).format(path=path)
        )
    if name not in ORDER:
        check_module(name)  # one line naming the exercises
    verdict = grade_file(name, path, language(), time_limit)
    heading = _("Exercise {name} ({path})").format(name=name, path=path)
    return verdict.text(heading) + "\n", 0 if verdict.passed else 1


def students_files(folder):
    """(student, exercise, path) for every .py file under `folder`, sorted."""
    if not folder.is_dir():
        raise CompareError(_("{path} is not a folder").format(path=folder))
    found = []
    for path in sorted(folder.rglob("*.py")):
        relative = path.relative_to(folder)
        student = relative.parts[0] if len(relative.parts) > 1 else path.stem
        try:
            named = exercise_named_in(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            named = None
        name = named or (path.stem if path.stem in ORDER else None)
        found.append((student, name, path))
    return found


def class_table(folder, time_limit):
    """A row per student's file: student, exercise, result, first difference."""
    files = students_files(folder)
    if not files:
        raise CompareError(_("{path} holds no .py file").format(path=folder))

    def row(entry):
        student, name, path = entry
        if name is None:
            return (student, path.name, _("not an exercise"), "")
        verdict = grade_file(name, path, language(), time_limit)
        detail = "" if verdict.passed else verdict.detail
        return (student, name, _(STATUS_WORDS[verdict.status]), detail)

    with ThreadPoolExecutor(
        max_workers=max(1, min(4, (os.cpu_count() or 2) // 2))
    ) as pool:
        rows = list(pool.map(row, files))
    headers = (_("student"), _("exercise"), _("result"), _("first difference"))
    passed = sum(row[2] == _(STATUS_WORDS["right"]) for row in rows)
    summary = _("{passed} of {total} right").format(passed=passed, total=len(rows))
    return fitted_table(rows, headers, terminal_width()) + "\n" + summary + "\n"
