"""`python -m compare exercise`: exercises on the lesson that Keras grades. `list` names
them, `start NAME` writes a starter file, `check NAME` grades the student's file against
Keras from the same weights and batches (compare/exercises/), `check --all DIR` grades a
class's folder."""

import os
import shlex
import tempfile
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from compare.commands.options import between
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
MIN_TIME_LIMIT = 10  # seconds: TensorFlow alone takes several to start


time_limit = between(MIN_TIME_LIMIT, 3600)


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
        "--file",  # a str: Path("") would be ".", which start must not take
        metavar="PATH",
        help="the student's file (default: NAME.py in the current folder)",
    )
    exercise.add_argument(
        "--all",
        type=Path,
        metavar="DIR",
        dest="folder",
        help="check: every .py file under DIR, one row each (the exercise named in the "
        "file's header, else by its name; the student by the folder under DIR); with "
        "NAME, only that exercise's files",
    )
    exercise.add_argument(
        "--time-limit",
        type=time_limit,
        default=TIME_LIMIT,
        metavar="SECONDS",
        help=f"check: stop a file's check after this long ({MIN_TIME_LIMIT} to 3600; "
        f"default {TIME_LIMIT})",
    )
    exercise.set_defaults(run=run)


def run(args, say):
    if args.action in ("list", "start"):
        load_tensorflow_quietly()  # the exercises' texts sit beside their checks
    if args.action == "list":
        return listing()
    if args.name and args.name not in ORDER:
        check_module(args.name)  # one line naming the exercises
    if args.file is not None and not args.file.strip():
        raise CompareError(_("--file needs a file name"))
    if args.action == "check" and args.folder:
        return class_table(args.folder, args.name, args.time_limit)
    if not args.name and not (args.action == "check" and args.file):
        raise CompareError(
            _("name an exercise: python -m compare exercise list shows them")
        )
    path = Path(args.file) if args.file else Path(f"{args.name}.py")
    if args.action == "start":
        return start(args.name, path, say)
    return check(args.name, path, args.time_limit)


def listing():
    rows = []
    for name in ORDER:
        exercise = check_module(name).EXERCISE
        rows.append((str(position(name)), name, _(exercise.title), exercise.lesson))
    headers = ("#", _("name"), _("exercise"), _("in the lesson"))
    return fitted_table(rows, headers, terminal_width()) + "\n"


def check_command(name, path):
    """The command that checks `path`, quoted for a shell, in the current language."""
    words = ["python", "-m", "compare", "exercise", "check", name, "--file", str(path)]
    if language() != "en":
        words += ["--lang", language()]
    return shlex.join(words)


def start(name, path, say):
    """Write the starter at `path`, atomically and never over an existing file."""
    exists = _("{path} exists: start never overwrites a file; name another with --file")
    if path.exists() or path.is_symlink():
        raise CompareError(exists.format(path=path))
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise CompareError(_("folder {folder} does not exist").format(folder=folder))
    exercise = check_module(name).EXERCISE
    text = starter(exercise, position(name), len(ORDER), check_command(name, path))
    try:
        handle, temporary = tempfile.mkstemp(
            dir=folder, prefix=f".{path.name}.", suffix=".tmp"
        )
    except OSError as error:
        raise OSError(error.errno, error.strerror, str(path)) from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(
            temporary, 0o666 & ~umask
        )  # as open() would make it, not mkstemp's 0600
        os.link(temporary, path)  # fails if `path` appeared meanwhile: nothing replaced
    except FileExistsError:
        raise CompareError(exists.format(path=path)) from None
    except OSError as error:  # a full disk: the user's file is named, not the temporary
        raise OSError(error.errno, error.strerror, str(path)) from None
    finally:
        os.unlink(temporary)
    say(_("Wrote {path}").format(path=path))
    return (
        _(
            "Write the part marked YOUR CODE HERE in {path}, then check it: {command}"
        ).format(path=path, command=check_command(name, path))
        + "\n"
    )


def readable(path):
    """The student's file as text, or one line saying why not."""
    if not path.exists():
        raise CompareError(_("{path} does not exist").format(path=path))
    if not path.is_file():
        raise CompareError(_("{path} is not a file").format(path=path))
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CompareError(_("{path} is not UTF-8 text").format(path=path)) from None


def check(name, path, time_limit):
    """One file's verdict, exit code 0 when right, 1 otherwise."""
    source = readable(path)
    name = name or exercise_named_in(source)
    if not name:
        raise CompareError(
            _(
                "{path} names no exercise: give its name, as in check adam --file {path}"
            ).format(path=path)
        )
    if name not in ORDER:
        check_module(name)  # one line naming the exercises
    verdict = grade_file(name, path, source, language(), time_limit)
    heading = _("Exercise {name} ({path})").format(name=name, path=path)
    return wrapped(verdict.text(heading)) + "\n", 0 if verdict.passed else 1


def wrapped(text):
    """Each line wrapped between words to the terminal, continued under its text."""
    width = terminal_width()
    return "\n".join(
        textwrap.fill(
            line,
            width,
            subsequent_indent=" " * (len(line) - len(line.lstrip()) + 2),
            break_long_words=False,
            break_on_hyphens=False,
        )
        for line in text.splitlines()
    )


def students_files(folder, only=None):
    """(student, exercise, path, text) for every .py file under `folder`, sorted; with
    `only`, those of that exercise."""
    if not folder.is_dir():
        raise CompareError(_("{path} is not a folder").format(path=folder))
    found = []
    for path in sorted(folder.rglob("*.py")):
        relative = path.relative_to(folder)
        student = relative.parts[0] if len(relative.parts) > 1 else path.stem
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = None
        named = exercise_named_in(text) if text is not None else None
        name = named or (path.stem if path.stem in ORDER else None)
        if only is None or name == only:
            found.append((student, name, path, text))
    return found


def class_table(folder, only, time_limit):
    """A row per student's file: student, file, exercise, result, first difference;
    exit code 0 when every file is right."""
    files = students_files(folder, only)
    if not files:
        raise CompareError(_("{path} holds no .py file").format(path=folder))

    def row(entry):
        student, name, path, text = entry
        shown = str(path.relative_to(folder))
        if name is None:
            return (student, shown, "", _("not an exercise"), "")
        if text is None:
            return (
                student,
                shown,
                name,
                _(STATUS_WORDS["broken"]),
                _("not UTF-8 text"),
            )
        verdict = grade_file(name, path, text, language(), time_limit)
        detail = "" if verdict.passed else verdict.detail
        return (student, shown, name, _(STATUS_WORDS[verdict.status]), detail)

    with ThreadPoolExecutor(max_workers=max(1, (os.cpu_count() or 2) // 2)) as pool:
        rows = list(pool.map(row, files))
    headers = (
        _("student"),
        _("file"),
        _("exercise"),
        _("result"),
        _("first difference"),
    )
    passed = sum(row[3] == _(STATUS_WORDS["right"]) for row in rows)
    summary = _("{passed} of {total} right").format(passed=passed, total=len(rows))
    table = fitted_table(rows, headers, terminal_width()) + "\n" + summary + "\n"
    return table, 0 if passed == len(rows) else 1
