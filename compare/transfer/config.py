"""The transfer demonstration's settings: light to import, so `--help` answers without TensorFlow."""

import dataclasses


@dataclasses.dataclass(frozen=True)
class TransferConfig:
    """What `python -m compare transfer` runs; its flags have the same names."""

    weights: str = "pretrain"  # pretrain, imagenet, none, or a weights file
    image_size: int = 32
    source_classes: tuple = (0, 1, 2, 3, 4)
    target_classes: tuple = (5, 6, 7, 8, 9)
    pretrain_samples: int | None = (
        None  # None: up to 6000, fewer where the dataset has fewer
    )
    pretrain_epochs: int = 2
    labels: int = 500
    epochs: int = 10
    fine_tune_epochs: int = 0
    fine_tune_lr: float = 1e-5
    fine_tune_stages: tuple = ("conv5",)
    scratch_epochs: int = 10
    test_samples: int | None = None  # None: up to 1000
    batch_size: int = 32
    lr: float = 1e-3
    seed: int = 0


DEFAULT_SAMPLES = {
    "pretrain_samples": 6000,
    "test_samples": 1000,
}  # caps when the flag is not given
