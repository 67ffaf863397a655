"""The epoch timer's tracing estimate and its noise level, fed with a fake clock (no
training), and how the main table and bench show them: a number only where the estimate
stands above its noise, "< noise (±X s)" otherwise, never a negative time."""

import re
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compare.bench.bench import summarise
from compare.harness.timing import EpochTimer
from compare.harness.training import median_of_runs
from compare.language import speaking
from compare.views.bench_view import bench_row
from compare.views.i18n import TEXT
from compare.views.report import table_rows
from compare.views.tracing import tracing_cell

SAMPLES, BATCH = 60_000, 100  # 600 batches per epoch
NEGATIVE_NUMBER = re.compile(r"-\s*\d")


class Clock:
    """time.perf_counter, moved by hand."""

    def __init__(self, monkeypatch):
        self.now = 100.0
        monkeypatch.setattr(time, "perf_counter", lambda: self.now)

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


def raw_loop(clock, epoch_seconds):
    """The raw loop's default: one graph call per epoch, only on_epoch_end heard."""
    timer = EpochTimer(SAMPLES, BATCH)
    for epoch, seconds in enumerate(epoch_seconds):
        clock.advance(seconds)
        timer.on_epoch_end(epoch)
    return timer


def keras_fit(clock, first_call, batch_seconds, epochs):
    """Keras' default: one graph call per batch; the first call also traces."""
    timer = EpochTimer(SAMPLES, BATCH)
    for epoch in range(epochs):
        for batch in range(SAMPLES // BATCH):
            timer.on_train_batch_begin(batch)
            clock.advance(
                first_call if (epoch, batch) == (0, 0) else batch_seconds[epoch]
            )
        timer.on_epoch_end(epoch)
    return timer


def result_of(timer):
    """The timer's fields as compare.harness.training.run puts them in a result."""
    return {
        "implementation": "raw_tf",
        "loc": {"define": 1, "compile": 1, "train": 1, "evaluate": 1, "total": 4},
        "params": 54_410,
        "trace_seconds": timer.trace_seconds,
        "trace_noise_seconds": timer.trace_noise_seconds,
        "first_epoch_seconds": timer.first_epoch_seconds,
        "steady_samples_per_second": timer.steady_samples_per_second,
        "train_seconds": timer.train_seconds,
        "test_loss": 0.3,
        "test_accuracy": 0.9,
    }


def table_cell(result, lang="en"):
    """The main table's tracing cell for `result`."""
    label = TEXT[lang]["trace"]
    (row,) = [row for row in table_rows([result], lang) if row[0] == label]
    return row[1]


def bench_cell(runs, lang="en"):
    """bench's tracing cell for the runs of one variant (summarise, then bench_row)."""
    runs = [{**run, "inference_samples_per_second": 1000.0} for run in runs]
    row = summarise("raw", BATCH, runs, 900.0, 1e6)
    with speaking(lang):
        return bench_row(row)[2]


# The estimate and its noise level --------------------------------------------------------
def test_a_first_epoch_faster_than_the_steady_ones_is_noise_not_a_negative_time(clock):
    """The issue's -0.40 s: the whole first epoch (tracing included) took less than the
    steady epochs' mean. The JSON keeps the estimate; its noise level is at least its size."""
    timer = raw_loop(clock, [2.0, 2.5, 2.3])
    assert timer.trace_seconds == pytest.approx(-0.4)
    assert timer.trace_noise_seconds == pytest.approx(0.4)
    for cell in (table_cell(result_of(timer)), bench_cell([result_of(timer)])):
        assert cell == "< noise (±0.40 s)"
        assert not NEGATIVE_NUMBER.search(cell)
    assert table_cell(result_of(timer), "pt") == "< ruído (±0,40 s)"


def test_an_estimate_within_the_spread_of_the_steady_epochs_is_noise(clock):
    timer = raw_loop(
        clock, [2.5, 2.5, 2.1]
    )  # steady mean 2.3: estimate 0.2, spread 0.4
    assert timer.trace_seconds == pytest.approx(0.2)
    assert timer.trace_noise_seconds == pytest.approx(0.4)
    assert table_cell(result_of(timer)) == "< noise (±0.40 s)"
    assert bench_cell([result_of(timer)]) == "< noise (±0.40 s)"


def test_a_clear_estimate_prints_as_a_number(clock):
    timer = raw_loop(clock, [4.0, 2.4, 2.2])
    assert timer.trace_seconds == pytest.approx(1.7)
    assert timer.trace_noise_seconds == pytest.approx(0.2)
    assert table_cell(result_of(timer)) == "1.70"
    assert bench_cell([result_of(timer)]) == "1.70"
    assert table_cell(result_of(timer), "pt") == "1,70"  # as Brazil writes it


def test_keras_first_call_is_one_batch_so_its_noise_is_one_batchs_share(clock):
    """The first call is one batch of 600: the steady epochs' spread (600 x 1 ms = 0.6 s)
    scaled to it is 1 ms, far below the 0.9 s it cost beyond a steady batch."""
    timer = keras_fit(clock, 0.9 + 0.010, [0.010, 0.010, 0.011], epochs=3)
    assert timer.first_call_samples == BATCH
    assert timer.trace_seconds == pytest.approx(0.9 - 0.0005, abs=1e-6)
    assert timer.trace_noise_seconds == pytest.approx(0.6 / 600)
    assert table_cell(result_of(timer)) == "0.90"


def test_two_epochs_give_no_spread_a_positive_estimate_stays_a_number(clock):
    """One steady epoch cannot measure the noise: a positive estimate is shown as it is,
    with the noise level null in the JSON; a negative one is noise of its own size."""
    timer = raw_loop(clock, [3.0, 2.0])
    assert timer.trace_seconds == pytest.approx(1.0)
    assert timer.trace_noise_seconds is None
    assert table_cell(result_of(timer)) == "1.00"
    timer = raw_loop(clock, [1.8, 2.0])
    assert timer.trace_noise_seconds == pytest.approx(0.2)
    assert table_cell(result_of(timer)) == "< noise (±0.20 s)"


def test_nothing_to_subtract_is_not_available(clock):
    timer = raw_loop(clock, [3.0])  # one epoch in one call: no steady speed
    assert timer.trace_seconds is None and timer.trace_noise_seconds is None
    assert table_cell(result_of(timer)) == "n/a"


def test_repeats_count_how_far_their_estimates_spread(clock):
    """--repeats and bench take the median estimate; its noise level is the larger of the
    runs' median level and the farthest run from the median."""
    runs = [
        result_of(raw_loop(clock, epochs))
        for epochs in ([3.0, 2.0, 2.0], [2.6, 2.0, 2.0], [4.0, 2.0, 2.0])
    ]  # estimates 1.0, 0.6, 2.0; no spread within a run
    merged = median_of_runs(runs)
    assert merged["trace_seconds"] == pytest.approx(1.0)
    assert merged["trace_noise_seconds"] == pytest.approx(1.0)  # 2.0 is 1.0 away
    assert [run["trace_seconds"] for run in merged["runs"]] == pytest.approx(
        [1.0, 0.6, 2.0]
    )
    assert table_cell(merged) == "< noise (±1.00 s)"
    assert bench_cell(runs) == "< noise (±1.00 s)"
    close = [
        result_of(raw_loop(clock, epochs))
        for epochs in ([3.0, 2.0, 2.0], [3.1, 2.0, 2.0], [2.95, 2.0, 2.0])
    ]
    assert table_cell(median_of_runs(close)) == "1.00"
    assert bench_cell(close) == "1.00"


def test_cells_written_directly():
    assert tracing_cell(None) == "n/a"
    assert tracing_cell(0.5, None) == "0.50"
    assert tracing_cell(0.5, 0.1) == "0.50"
    assert tracing_cell(0.5, 0.5) == "< noise (±0.50 s)"
    assert (
        tracing_cell(-0.3, None) == "< noise (±0.30 s)"
    )  # old reports: no noise field
    assert tracing_cell(0.0, None) == "< noise"
    with speaking("pt"):
        assert not NEGATIVE_NUMBER.search(tracing_cell(-0.4, 0.1))
        assert "0,40" in tracing_cell(-0.4, 0.1)


@given(
    first=st.floats(0.01, 10.0),
    steady=st.lists(st.floats(0.5, 5.0), min_size=1, max_size=4),
)
def test_no_fake_clock_prints_a_negative_tracing_time(first, steady):
    """Whatever the epochs take, the cell is a positive number above its noise level, or
    "< noise", or "n/a"; never negative."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        timer = raw_loop(Clock(monkeypatch), [first, *steady])
        result = result_of(timer)
    for lang in ("en", "pt"):
        for cell in (table_cell(result, lang), bench_cell([result], lang)):
            assert not NEGATIVE_NUMBER.search(cell), cell
            if not cell.startswith("<"):
                value = float(cell.replace(",", "."))
                assert value > 0
                noise = timer.trace_noise_seconds
                assert noise is None or timer.trace_seconds > noise
