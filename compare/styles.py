"""The two styles, in one place: their names, their flags and their lesson files.

Everything else in `compare` asks this module which packages and files make a style and
what its flag is; the harness still knows how each of the two styles trains.
"""

import dataclasses
import importlib
from pathlib import Path

ROOT = (
    Path(__file__).resolve().parents[1]
)  # compare, keras_impl, raw_tf_impl side by side


@dataclasses.dataclass(frozen=True)
class Style:
    name: str  # in reports and JSON: "keras" or "raw_tf"
    flag: str  # on the command line (--only, --to): "keras" or "raw"
    package: str  # the lesson package

    def path(self, lesson):
        """A lesson file: cnn, cnn_bn_dropout, checkpoints, distributed, export, ..."""
        return ROOT / self.package / f"{lesson}.py"

    def module(self, lesson):
        return importlib.import_module(f"{self.package}.{lesson}")


KERAS = Style("keras", "keras", "keras_impl")
RAW_TF = Style("raw_tf", "raw", "raw_tf_impl")
STYLES = {style.name: style for style in (KERAS, RAW_TF)}
FLAGS = {style.flag: style.name for style in STYLES.values()}  # --only raw -> "raw_tf"
MODEL_NAMES = ("cnn", "cnn_bn_dropout")  # the networks both styles define


def chosen(flag=None):
    """The style names an `--only` value selects: one, or both (keras first)."""
    return [FLAGS[flag]] if flag else list(STYLES)
