"""Inputs that were read wrong without a word: a transparent PNG digit, and an idx header
declaring a size too long to write (compare/saved/predict.py, compare/language.py)."""

import numpy as np
import pytest
import tensorflow as tf

from compare.errors import DataError
from compare.language import number, speaking
from compare.safety.dataset_files import read_idx
from compare.saved.predict import read_images


def digit_strokes():
    """A 28x28 stroke mask: a vertical bar, 0..255."""
    ink = np.zeros((28, 28), np.uint8)
    ink[4:24, 12:16] = 255
    return ink


def write_png(path, pixels):
    tf.io.write_file(str(path), tf.io.encode_png(pixels))
    return path


@pytest.mark.parametrize("channels", [2, 4])
def test_ink_on_transparency_is_read_from_the_opacity(tmp_path, channels):
    """Black ink on a transparent canvas: the colour is black everywhere, so reading
    the colour gave an all-black image, classified without a word."""
    ink = digit_strokes()
    pixels = np.zeros((28, 28, channels), np.uint8)  # black, transparent
    pixels[..., -1] = ink
    path = write_png(tmp_path / "drawn.png", pixels)
    images, _labels, names = read_images([path])
    np.testing.assert_array_equal(images[0, ..., 0], ink / 255.0)
    assert names == [f"{path} (transparent: ink read from its opacity)"]
    with speaking("pt"):
        assert "transparente" in read_images([path])[2][0]


def test_an_opaque_png_is_read_by_its_colour_without_a_note(tmp_path):
    ink = digit_strokes()
    pixels = np.stack([ink, ink, ink, np.full_like(ink, 255)], axis=-1)
    path = write_png(tmp_path / "opaque.png", pixels)
    images, _labels, names = read_images([path])
    np.testing.assert_array_equal(images[0, ..., 0], ink / 255.0)
    assert names == [str(path)]


def test_a_size_of_more_than_28_digits_is_written(tmp_path):
    """dims 2^32-1 x 3: 7.9 x 10^28 bytes raised decimal.InvalidOperation in Babel."""
    size = (2**32 - 1) ** 3
    assert number(size) == f"{size:,}"
    with speaking("pt"):
        assert number(size) == f"{size:,}".replace(",", ".")
    path = tmp_path / "huge"
    path.write_bytes(bytes([0, 0, 8, 3]) + (2**32 - 1).to_bytes(4, "big") * 3)
    with pytest.raises(DataError, match=f"{size:,} bytes"):
        read_idx(path)
