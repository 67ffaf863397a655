"""Exercises on the lesson, from easy to hard: each file here is the reference solution
of one, its student's part between the BEGIN SOLUTION and END SOLUTION lines.

`python -m compare exercise list` lists them; `start NAME` writes the starter (the
part left out, the comments in the student's language); `check NAME` grades it against
Keras. compare/exercises/ holds the grader.
"""
