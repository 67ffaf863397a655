"""One module per exercise: its EXERCISE (the texts) and `compare(student)`, which runs
the student's code beside Keras and returns the pairs to compare and the mistaken twins."""
