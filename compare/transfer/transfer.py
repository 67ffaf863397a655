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

import keras_impl
import raw_tf_impl
from compare.data import NUM_CLASSES
from compare.errors import CompareError, DataError
from compare.harness.callbacks import keras_progress
from compare.harness.keras_saves import weights_h5_bytes
from compare.harness.raw_loop import train_raw
from compare.harness.timing import EpochTimer
from compare.harness.training import check_finite, parameter_count
from compare.language import _, number, quantity
from compare.loc import STEPS, count_lines, lines_per_step
from compare.safety import atomic
from compare.styles import STYLES
from compare.transfer.config import DEFAULT_SAMPLES
from keras_impl import resnet50_transfer as keras_resnet
from raw_tf_impl import resnet50_transfer as raw_resnet

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


# The two styles, behind one interface --------------------------------------------------
class KerasStyle:
    name = "keras"
    prepare = staticmethod(keras_resnet.prepare_images)
    freeze_base = staticmethod(keras_resnet.freeze_base)
    unfreeze_top = staticmethod(keras_resnet.unfreeze_top)

    def build(self, config, weights):
        return keras_resnet.build_model(
            config.seed, (config.image_size, config.image_size, 3), NUM_CLASSES, weights
        )

    def train(self, model, lr, x, y, epochs, config, verbose, timer):
        keras_impl.compile_model(
            model, lr
        )  # after any change to `trainable`, as Keras requires
        verbose, progress = keras_progress(verbose, epochs)
        return keras_impl.train(
            model, x, y, epochs, config.batch_size, verbose, [timer, *progress]
        )

    def evaluate(self, model, x, y, config):
        return keras_impl.evaluate(model, x, y, config.batch_size)

    def trainable(self, model):
        return model.trainable_weights

    def all_weights(self, model):
        return model.weights


class RawStyle:
    name = "raw_tf"
    prepare = staticmethod(raw_resnet.preprocess_input)
    freeze_base = staticmethod(raw_resnet.freeze_base)
    unfreeze_top = staticmethod(raw_resnet.unfreeze_top)

    def build(self, config, weights):
        return raw_resnet.build_model(
            config.seed, (config.image_size, config.image_size, 3), NUM_CLASSES, weights
        )

    def train(self, model, lr, x, y, epochs, config, verbose, timer):
        # Adam over the variables trainable now.
        optimizer = raw_tf_impl.compile_model(model, lr)
        options = {"verbose": verbose, "callbacks": [timer]}
        return train_raw(
            model, optimizer, x, y, epochs, config.batch_size, config.seed, options
        )

    def evaluate(self, model, x, y, config):
        return raw_tf_impl.evaluate(model, x, y, config.batch_size)

    def trainable(self, model):
        return model.trainable_variables

    def all_weights(self, model):
        return model.variables


ADAPTERS = {"keras": KerasStyle(), "raw_tf": RawStyle()}


def train_and_score(
    style,
    model,
    lr,
    epochs,
    data,
    config,
    verbose,
    train="target_train",
    test="target_test",
):
    """One phase: compile (over the variables trainable now), train, then score on the test set.
    `data` holds this style's preprocessed arrays. A NaN or infinite loss stops the run."""
    (x, y), (x_test, y_test) = data[train], data[test]
    timer = EpochTimer(len(x), config.batch_size)
    trainable_params = parameter_count(style.trainable(model))
    history = style.train(model, lr, x, y, epochs, config, verbose, timer)
    train_seconds = timer.train_seconds
    scores = style.evaluate(model, x_test, y_test, config)
    loss = [float(value) for value in history["loss"]]
    check_finite(style.name, {"loss": loss}, float(scores["loss"]), lr)
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


def prepared(style, data):
    """The images as this style preprocesses them (each style does it its own way), once."""
    return {
        name: (style.prepare(images), labels) for name, (images, labels) in data.items()
    }


def transfer_lines(implementation):
    """Lines of code: the transfer file's own steps, plus compile/train/evaluate reused from cnn.py."""
    own = count_lines(STYLES[implementation].path("resnet50_transfer").read_text())
    reused = lines_per_step(STYLES[implementation].path("cnn"))
    lines = {
        "define": own["define"] + own["setup"],
        "freeze": own.get("freeze", 0),
        "load": own.get("load", 0),
        "compile_train_evaluate": sum(reused[step] for step in STEPS[1:]),
    }
    return {**lines, "total": sum(lines.values())}


def run_style(style, data, weights, config, verbose):
    """Transfer (head, then optional fine-tuning) and from scratch, for one style."""
    data = prepared(style, data)
    model = style.build(config, weights)
    style.freeze_base(model)
    transfer = {
        "head": train_and_score(
            style, model, config.lr, config.epochs, data, config, verbose
        )
    }
    if config.fine_tune_epochs:
        style.unfreeze_top(model, config.fine_tune_stages)
        transfer["fine_tune"] = train_and_score(
            style,
            model,
            config.fine_tune_lr,
            config.fine_tune_epochs,
            data,
            config,
            verbose,
        )
    scratch_model = style.build(config, None)
    scratch = train_and_score(
        style, scratch_model, config.lr, config.scratch_epochs, data, config, verbose
    )
    return {
        "implementation": style.name,
        "loc": transfer_lines(style.name),
        "params": parameter_count(style.all_weights(model)),
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
    style = ADAPTERS["keras"]
    model = style.build(config, None)
    phase = train_and_score(
        style,
        model,
        config.lr,
        config.pretrain_epochs,
        prepared(style, data),
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


def transfer(dataset, config, implementations, say, verbose=0, save_pretrained=None):
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
        for implementation in implementations:
            say(
                _("Transfer and from-scratch training, {implementation} ...").format(
                    implementation=implementation
                )
            )
            try:
                results.append(
                    run_style(ADAPTERS[implementation], data, weights, config, verbose)
                )
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
