"""The defences, in one room: what keeps a run from losing the user's files or leaving
processes behind when something goes wrong (a signal, a full disk, a path swapped during
the run, a second run on the same folder, a network that could reach the workers).

The teaching path never needs to open this package.
"""
