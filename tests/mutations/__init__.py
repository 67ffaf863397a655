"""Typical mistakes, one module per exercise: MUTATIONS holds (the reference solution's
text, the same text with the mistake, the hint the grader must give, in English)."""
