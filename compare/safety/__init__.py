"""The defences, in one room: what keeps a run from losing the user's files or leaving
processes behind when something goes wrong (a signal, a full disk, a path swapped during
the run, a second run on the same folder, a network that could reach the workers), and
what keeps a hostile file (a dataset, a model) from doing more than fail in one line.

The map: atomic.py, writes whole or not at all, where the checks saw them; locks.py, one
run at a time on a folder or target; fingerprint.py, a resume on the data it began with;
dataset_files.py, idx and .npz files read within bounds (a lying header, a bomb, a FIFO);
children.py and watchdog.py, no process outliving its run, no PID signalled by mistake;
network.py, local workers unreachable from outside; limits.py and tempdir.py, ulimits
and a TMPDIR that TensorFlow would die of, said in one line first; streams.py, closed
stdout or stderr; text.py and child_lines.py, an error is one bounded line; paths.py,
no output that is an input or another output, checked before any work (symlinks and
hard links count); model_files/, a SavedModel or .keras file loaded only if this
project's export could have written it (no foreign op, no archive bomb).

The teaching path never needs to open this package.
"""
