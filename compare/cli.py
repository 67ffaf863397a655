"""`python -m compare [command]`: the parser of every command, and what they share:
outputs checked before any work, one-line errors, exit codes.

With no command it runs the comparison (compare/commands/comparison.py); each other
command is a module in compare/commands/ with its parser (`add_parser`) and its `run`.
"""

import sys

from compare.commands import (
    bench,
    code,
    comparison,
    convert,
    exercise,
    predict,
    record,
    step,
    transfer,
)
from compare.commands.options import add_language_option, choose_language
from compare.commands.results import deliver, sayer
from compare.data import files_read
from compare.errors import CompareError, explained
from compare.language import _, speaking_for_the_process
from compare.quiet import BEFORE_TENSORFLOW
from compare.safety import children, limits, locks, streams, tempdir
from compare.safety.paths import check_paths
from compare.safety.text import one_line

COMMANDS = (bench, code, transfer, predict, convert, step, record, exercise)


def build_parser():
    parser = comparison.root_parser()
    commands = parser.add_subparsers(
        dest="command",
        title="commands",
        metavar="{" + ",".join(command.NAME for command in COMMANDS) + "}",
    )
    parser.set_defaults(flags=flags_of(parser))
    for command in COMMANDS:
        command.add_parser(commands)
        add_language_option(commands.choices[command.NAME])
        commands.choices[command.NAME].set_defaults(
            flags=flags_of(commands.choices[command.NAME])
        )
    return parser


def flags_of(parser):
    """Each argument's flag, by the argument's name (convert's --output is `destination`)."""
    return {
        action.dest: action.option_strings[-1]
        for action in parser._actions  # argparse keeps them there, and says so nowhere else
        if action.option_strings
    }


def check_no_root_flags(argv, command):
    """The options before a command are the comparison's: there they would be silently
    ignored (`--epochs 5 transfer` would train transfer's default epochs)."""
    given = [
        argument for argument in argv[: argv.index(command)] if argument[:1] == "-"
    ]
    if given:
        flag = given[0].split("=")[0]
        raise CompareError(
            _(
                "{flag} before `{command}` has no effect: options go after the "
                "command (python -m compare {command} --help lists them)"
            ).format(flag=flag, command=command)
        )


def main(argv=None):
    children.guard_process()  # SIGTERM as Ctrl-C; a run's child dies with the run
    argv = sys.argv[1:] if argv is None else list(argv)
    streams.guard()  # a closed stdout or stderr, before any file takes its place
    limits.let_writes_fail()
    for stream in (
        sys.stdout,
        sys.stderr,
    ):  # a terminal in ASCII or Latin-1: \xe7, not a crash
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    with speaking_for_the_process(choose_language(argv)):  # argparse speaks it too
        return run_command(argv)


def error_line(parser, message):
    """The one line of a failure: control characters escaped, its length bounded, on
    stderr (on stdout where the shell closed stderr)."""
    print(f"{parser.prog}: {_('error')}: {one_line(message)}", file=streams.errors())


def prepare_for_tensorflow():
    """The limits checked just before TensorFlow loads; AutoGraph's files kept apart."""
    if limits.check_room_for_tensorflow not in BEFORE_TENSORFLOW:
        BEFORE_TENSORFLOW.append(limits.check_room_for_tensorflow)
    tempdir.use_private_tempdir()


def run_command(argv):
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = argv  # --workers starts workers with the same arguments
    say = sayer(args.quiet)
    if args.command:
        try:
            check_no_root_flags(argv, args.command)
        except CompareError as error:  # a usage error, as argparse's (exit 2)
            parser.exit(2, f"{parser.prog}: {_('error')}: {error}\n")
    try:
        module = next((c for c in COMMANDS if args.command == c.NAME), comparison)
        streams.guard().check_results_have_a_place(args)
        if module is not code:  # the code view runs no TensorFlow
            prepare_for_tensorflow()
        check_paths(args, module, args.flags, files_read)
        text = (args.run if args.command else comparison.run)(args, say)
        if text is None:  # nothing to print (a --workers worker reports to its parent)
            return 0
        # (text, exit code): a check that did not pass
        text, exit_code = text if isinstance(text, tuple) else (text, 0)
        deliver(args, text, say)
        return exit_code
    except (CompareError, OSError) as error:
        error_line(parser, explained(error))
        return getattr(error, "exit_code", 1)
    except MemoryError as error:  # NumPy says how much it wanted
        detail = f" ({error})" if str(error) else ""
        error_line(parser, f"{_('out of memory')}{detail}")
        return 1
    except Exception as error:  # not a bug of ours: AutoGraph could not write its code
        if not tempdir.autograph_failed(error):
            raise
        error_line(parser, tempdir.autograph_explained(error))
        return 1
    except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM handled as Ctrl-C is
        message, exit_code = children.how_stopped(stop)
        print(f"{parser.prog}: {message}", file=streams.errors())
        return exit_code
    finally:
        locks.release_all()  # the checkpoint folder's and the export targets'
    return 0
