"""How the tables show a tracing estimate: a number only where it stands above its noise.

Tracing is the first graph call minus the same work at steady speed, a difference of two
noisy timings (compare/harness/timing.py); its noise level comes with it. An estimate that
is not above its noise, or not above zero, is shown as "< noise (±X s)", never as a
negative time.
"""

from compare.language import _, number


def stands_above_noise(trace, noise):
    """Whether a tracing estimate is a measurement: positive, and above its noise level
    where that is known."""
    return trace is not None and trace > 0 and (noise is None or trace > noise)


def tracing_cell(trace, noise=None):
    """`trace` seconds as a table cell: "n/a" when not measured, its value (2 decimals)
    when it stands above `noise`, otherwise "< noise (±X s)" with the noise level."""
    if trace is None:
        return _("n/a")
    if stands_above_noise(trace, noise) and trace >= 0.005:  # not printed as 0.00
        return number(trace, 2)
    level = max(noise or 0.0, -trace)  # a negative estimate is noise of its own size
    if level < 0.005:  # would print as ±0.00
        return _("< noise")
    return _("< noise (±{noise} s)").format(noise=number(level, 2))
