"""Training on real data: Fashion-MNIST from the Debian package reaches a real accuracy floor."""

import pytest
from helpers import FASHION_MNIST_DEBIAN

from compare.data import load_named
from compare.harness.training import run
from compare.request import Request

pytestmark = pytest.mark.slow  # a real dataset, trained end to end

pytestmark = pytest.mark.skipif(
    not FASHION_MNIST_DEBIAN.is_dir(),
    reason=f"Fashion-MNIST not installed at {FASHION_MNIST_DEBIAN} (apt-get install dataset-fashion-mnist)",
)


@pytest.fixture(scope="module")
def fashion_mnist():
    dataset = load_named("fashion_mnist", allow_download=False)
    assert (len(dataset.x_train), len(dataset.x_test)) == (60_000, 10_000)
    return dataset


@pytest.mark.parametrize("style", ["keras", "raw_tf"])
def test_one_epoch_of_fashion_mnist_beats_080(fashion_mnist, style):
    """One epoch, batch 128, both styles: test accuracy > 0.80 (a real model, not chance at 0.10)."""
    result = run(style, fashion_mnist, Request(epochs=1, batch_size=128), verbose=0)
    assert result["test_accuracy"] > 0.80
    assert result["history"]["accuracy"][0] > 0.70
