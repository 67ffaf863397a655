"""`python -m compare transfer`: the lecture's ResNet50 transfer learning in both styles, offline.

When no pretrained weights are given, a pretrained base is made honestly: the same network is
pretrained once, the Keras way, on the source classes (Fashion-MNIST 0-4 by default) and its base
saved as a Keras weights file. Both styles then load that file, freeze the base, train the lecture's
head on a few labelled images of the target classes (5-9), optionally fine-tune the top stage,
and are compared with the same network trained from scratch on the same few labels.
"""

import dataclasses
import tempfile
from pathlib import Path

import keras
import numpy as np

from compare.data import NUM_CLASSES
from compare.errors import CompareError, DataError
from compare.harness.keras_saves import weights_h5_bytes
from compare.harness.timing import EpochTimer
from compare.harness.trainers import trainer
from compare.harness.training import check_finite, parameter_count
from compare.language import _, number, quantity
from compare.loc import STEPS, count_lines, lines_per_step
from compare.safety import atomic
from compare.styles import STYLES
from compare.transfer.config import DEFAULT_SAMPLES

# Where keras.applications.ResNet50(weights="imagenet", include_top=False) downloads from and caches
# (keras/src/applications/resnet.py): the same call, so the file lands where Keras looks for it.
IMAGENET_WEIGHTS = {
    "fname": "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
    "origin": "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
    "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
    "cache_subdir": "models",
    "file_hash": "4d473c1dd8becc155b73f8504c6f6626",
}
BASE_OUTPUT = "conv5_block3_out"  # the last layer of ResNet50(include_top=False)


class WeightsError(CompareError):
    """Pretrained weights that cannot be had or do not fit."""


# Data ------------------------------------------------------------------------------
def to_rgb(images, size):
    """Grey 28x28 images in [0, 1] as ResNet's input: size x size, 0-255, the channel stacked 3 times."""
    import tensorflow as tf

    resized = tf.image.resize(
        images * 255.0, (size, size)
    ).numpy()  # bilinear, (N, size, size, 1)
    return np.repeat(resized, 3, axis=-1)  # (N, size, size, 3)


def task(images, labels, classes, count, flag):
    """The first `count` images whose label is in `classes`; count None: up to the flag's default."""
    keep = np.flatnonzero(np.isin(labels, classes))
    wanted = count or min(DEFAULT_SAMPLES.get(flag, len(keep)), len(keep))
    if not 0 < wanted <= len(keep):
        raise DataError(
            _(
                "{flag}: {wanted} images of classes {classes} wanted, the dataset has "
                "{available}"
            ).format(
                flag="--" + flag.replace("_", "-"),
                wanted=wanted,  # the flag's value, as given
                classes=", ".join(map(str, classes)),
                available=number(len(keep)),
            )
        )
    return images[keep[:wanted]], labels[keep[:wanted]]


def tasks(dataset, config):
    """The target task's few labelled images and its test images, plus the source task's train and
    test images when pretraining here; RGB at the configured size."""
    sets = {
        "target_train": task(
            dataset.x_train,
            dataset.y_train,
            config.target_classes,
            config.labels,
            "labels",
        ),
        "target_test": task(
            dataset.x_test,
            dataset.y_test,
            config.target_classes,
            config.test_samples,
            "test_samples",
        ),
    }
    if config.weights == "pretrain":
        sets["source_train"] = task(
            dataset.x_train,
            dataset.y_train,
            config.source_classes,
            config.pretrain_samples,
            "pretrain_samples",
        )
        sets["source_test"] = task(
            dataset.x_test,
            dataset.y_test,
            config.source_classes,
            config.test_samples,
            "test_samples",
        )
    return {
        name: (to_rgb(images, config.image_size), labels)
        for name, (images, labels) in sets.items()
    }


# The two styles: the harness's Trainer, and each lesson's resnet50_transfer ------------
def resnet(name):
    """The ResNet50 file of the style named `name`: build_model, prepare_images,
    freeze_base, unfreeze_top."""
    return STYLES[name].module("resnet50_transfer")


def build(name, config, weights):
    shape = (config.image_size, config.image_size, 3)
    return resnet(name).build_model(config.seed, shape, NUM_CLASSES, weights)


def train_and_score(
    name,
    model,
    lr,
    epochs,
    data,
    config,
    verbose,
    train="target_train",
    test="target_test",
):
    """One phase: compile (over the variables trainable now, as Keras requires after a
    change to `trainable`), train, then score on the test set. `data` holds this style's
    prepared arrays. A NaN or infinite loss stops the run."""
    (x, y), (x_test, y_test) = data[train], data[test]
    style = trainer(name)
    timer = EpochTimer(len(x), config.batch_size)
    trainable_params = parameter_count(style.trainable(model))
    optimizer = style.compile(model, lr)
    verbose, progress = style.progress(verbose, epochs)
    history = style.fit(
        model,
        optimizer,
        x,
        y,
        epochs,
        config.batch_size,
        config.seed,
        verbose=verbose,
        callbacks=[timer, *progress],
        lesson_order=True,
    )
    train_seconds = timer.train_seconds
    scores = style.evaluate(model, x_test, y_test, config.batch_size)
    loss = [float(value) for value in history["loss"]]
    check_finite(name, {"loss": loss}, float(scores["loss"]), lr)
    return {
        "epochs": epochs,
        "trainable_params": trainable_params,
        "trace_seconds": timer.trace_seconds,
        "trace_noise_seconds": timer.trace_noise_seconds,
        "train_seconds": train_seconds,
        "loss": loss,
        "test_loss": float(scores["loss"]),
        "test_accuracy": float(scores["accuracy"]),
    }


def prepared(name, data):
    """The images as this style prepares them (each style does it its own way), once."""
    prepare = resnet(name).prepare_images
    return {part: (prepare(images), labels) for part, (images, labels) in data.items()}


def transfer_lines(style):
    """Lines of code: the transfer file's own steps, plus compile/train/evaluate reused from cnn.py."""
    own = count_lines(STYLES[style].path("resnet50_transfer").read_text())
    reused = lines_per_step(STYLES[style].path("cnn"))
    lines = {
        "define": own["define"] + own["setup"],
        "freeze": own.get("freeze", 0),
        "load": own.get("load", 0),
        "compile_train_evaluate": sum(reused[step] for step in STEPS[1:]),
    }
    return {**lines, "total": sum(lines.values())}


def run_style(name, data, weights, config, verbose):
    """Transfer (head, then optional fine-tuning) and from scratch, for one style."""
    data, lesson = prepared(name, data), resnet(name)
    model = build(name, config, weights)
    lesson.freeze_base(model)
    phase = lambda model, lr, epochs: train_and_score(  # noqa: E731
        name, model, lr, epochs, data, config, verbose
    )
    transfer = {"head": phase(model, config.lr, config.epochs)}
    if config.fine_tune_epochs:
        lesson.unfreeze_top(model, config.fine_tune_stages)
        transfer["fine_tune"] = phase(
            model, config.fine_tune_lr, config.fine_tune_epochs
        )
    scratch = phase(build(name, config, None), config.lr, config.scratch_epochs)
    return {
        "implementation": name,
        "loc": transfer_lines(name),
        "params": parameter_count(trainer(name).all_weights(model)),
        "transfer": transfer,
        "scratch": scratch,
    }


# Pretrained weights ------------------------------------------------------------------
def imagenet_weights_file():
    """Keras' own download-and-cache path; offline it fails with a message saying what to do."""
    try:
        return keras.utils.get_file(**IMAGENET_WEIGHTS)
    except Exception as error:  # Keras wraps URL and HTTP errors in a plain Exception
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise WeightsError(
            _(
                "--weights imagenet: could not download the ImageNet weights ({reason}); "
                "offline, use --weights pretrain (the default), a local weights file, or none"
            ).format(reason=reason)
        ) from None


def pretrain(data, config, path, verbose):
    """The lecture's network trained from random weights on the source task, the Keras way; its base
    (everything up to conv5_block3_out) saved as a Keras weights file both styles can load."""
    model = build("keras", config, None)
    phase = train_and_score(
        "keras",
        model,
        config.lr,
        config.pretrain_epochs,
        prepared("keras", data),
        config,
        verbose,
        train="source_train",
        test="source_test",
    )
    base = keras.Model(model.input, model.get_layer(BASE_OUTPUT).output)
    atomic.replace(path, weights_h5_bytes(base), "--save-pretrained")  # never half
    return {
        **phase,
        "samples": len(data["source_train"][0]),
        "classes": list(config.source_classes),
        "file": str(path),
    }


def transfer(dataset, config, styles, say, verbose=0, save_pretrained=None):
    """The whole demonstration; returns the report as a dict."""
    data = tasks(dataset, config)
    pretraining = None
    with tempfile.TemporaryDirectory() as folder:
        if config.weights == "pretrain":
            path = save_pretrained or Path(folder) / "pretrained_base.weights.h5"
            say(
                _(
                    "Pretraining ResNet50 on classes {classes} ({images}, {epochs}), "
                    "the Keras way ..."
                ).format(
                    classes=", ".join(map(str, config.source_classes)),
                    images=quantity(
                        len(data["source_train"][1]), "{count} image", "{count} images"
                    ),
                    epochs=quantity(
                        config.pretrain_epochs, "{count} epoch", "{count} epochs"
                    ),
                )
            )
            pretraining = pretrain(data, config, path, verbose)
            say(
                _(
                    "Pretrained in {seconds} s: source-task test accuracy {accuracy}; "
                    "base saved to {path}"
                ).format(
                    seconds=number(pretraining["train_seconds"]),
                    accuracy=number(pretraining["test_accuracy"], 3),
                    path=path,
                )
            )
            weights = str(path)
        elif config.weights == "imagenet":
            weights = imagenet_weights_file()
        else:
            weights = None if config.weights == "none" else config.weights
        results = []
        for style in styles:
            say(
                _("Transfer and from-scratch training, {style} ...").format(style=style)
            )
            try:
                results.append(run_style(style, data, weights, config, verbose))
            except (
                ValueError,
                OSError,
            ) as error:  # a weights file that is unreadable or does not fit
                if weights is None:
                    raise
                raise WeightsError(
                    _("weights {weights}: {error}").format(
                        weights=weights, error=str(error).splitlines()[0]
                    )
                ) from None
    return {
        "dataset": {"name": dataset.name, "source": dataset.source},
        "config": dataclasses.asdict(config),
        "sizes": {name: len(labels) for name, (_images, labels) in data.items()},
        "pretraining": pretraining,
        "results": results,
    }
