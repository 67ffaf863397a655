"""The comparison study: the same data, hyper-parameters and seed for both styles, each
trained and measured by the harness, gathered into one report (a JSON-ready dict).

It takes a plain `Request` (compare/request.py), not command-line arguments: a notebook or a script can run
it as `python -m compare` does.
"""

import contextlib
import dataclasses
import statistics
import sys

from compare import data
from compare.errors import CompareError
from compare.harness.backends import run_on_backend
from compare.harness.distribute import (
    KERAS_ENGINES,
    check_even_shares,
    jax_engine,
    strategy_for,
)
from compare.language import N_, _, language, number
from compare.stats import median_interval, throughput_ratio
from compare.views.i18n import TEXT


def load_and_describe(request, say, batch_sizes=None):
    """The dataset, checked against the batch sizes, and one line saying what it is."""

    dataset = data.load_dataset(
        request.dataset, request.data_dir, request.train_samples, request.test_samples
    )
    flag = "--batch-sizes" if batch_sizes else "--batch-size"
    for batch_size in batch_sizes or [request.batch_size]:
        # A batch beyond the set is a typo (and bench would time a smaller batch).
        if batch_size > len(dataset.x_train):
            raise CompareError(
                _(
                    "{flag} {batch_size} is larger than the {train} training images; "
                    "lower it or train on more images"
                ).format(
                    flag=flag, batch_size=batch_size, train=number(len(dataset.x_train))
                )
            )
    say(
        _("Dataset: {name} from {source} ({train} train / {test} test images)").format(
            name=dataset.name,
            source=_(dataset.source),  # digits' description, translated
            train=number(len(dataset.x_train)),
            test=number(len(dataset.x_test)),
        )
    )
    return dataset


TRAINING = {  # (on a named backend, one of several repeats): the progress line
    (False, False): N_("Training {style}, {model} ..."),
    (True, False): N_("Training {style} on {backend}, {model} ..."),
    (False, True): N_("Training {style}, {model} (run {run} of {runs}) ..."),
    (True, True): N_(
        "Training {style} on {backend}, {model} (run {run} of {runs}) ..."
    ),
}


def compare(request, say, weights=None):
    """Load the data, run the styles, return the report as a dict. A dict passed as
    `weights` receives each style's final weights."""
    import tensorflow as tf

    from compare.harness.checkpointing import (
        StopOnSignal,
        data_record,
        prepare_folder,
        style_folder,
    )
    from compare.harness.training import run

    tf.config.experimental.enable_op_determinism()  # same seed, same numbers
    dataset = load_and_describe(request, say)
    if request.strategy == "mirrored":  # the shares Keras can run, before any training
        strategy = strategy_for(request)
        check_even_shares(
            strategy.num_replicas_in_sync, request.batch_size, len(dataset.x_test)
        )
    # Keras' bar on a terminal (its words are English), else the harness's line per epoch.
    keras_progress = 1 if sys.stderr.isatty() and language() == "en" else 2
    verbose = {
        "keras": 0 if request.quiet else keras_progress,
        "raw_tf": int(not request.quiet),
    }
    # None: Keras here, on TensorFlow; under a strategy also (or only) Keras on JAX.
    keras_backends = request.backends or KERAS_ENGINES[request.strategy]
    runs = {
        (model, style, backend): []
        for model in request.models
        for style in request.styles
        for backend in (keras_backends if style == "keras" else (None,))
    }
    stopper = StopOnSignal(say)
    if request.checkpoint_dir:
        settings = {
            "dataset": dataset.name,
            "train_samples": len(dataset.x_train),
            "batch_size": request.batch_size,
            "lr": request.lr,
            "seed": request.seed,
            "model": request.model,
            "epochs": request.epochs,
            "data": data_record(
                dataset, data.files_read(request.dataset, request.data_dir)
            ),
        }
        trainees = [(style, model) for model, style, backend in runs if not backend]
        prepare_folder(request.checkpoint_dir, request.resume, settings, trainees)
    with stopper if request.checkpoint_dir else contextlib.nullcontext():
        for repeat in range(request.repeats):
            # Interleaved, so that drift of a shared machine hits all alike.
            for model, style, backend in runs:
                say(
                    _(TRAINING[bool(backend), request.repeats > 1]).format(
                        style=TEXT[language()][style],
                        backend=backend,
                        model=model,
                        run=number(repeat + 1),
                        runs=number(request.repeats),
                    )
                )
                if backend:
                    engine = {}
                    if request.strategy != "none":  # keras.distribution on JAX
                        engine = {**jax_engine(request), "weights": weights}
                    result = run_on_backend(
                        backend, request.for_model(model), request.curves, **engine
                    )
                else:
                    folder = request.checkpoint_dir and style_folder(
                        request.checkpoint_dir, style, model
                    )
                    callbacks = (
                        [stopper.training(style, folder, request.epochs)]
                        if folder
                        else []
                    )
                    curves_folder = (  # the first run's: repeats give the same numbers
                        request.tensorboard / style
                        if request.tensorboard and repeat == 0
                        else None
                    )
                    result = run(
                        style,
                        dataset,
                        request.for_model(model),
                        verbose[style],
                        request.curves,
                        weights,
                        callbacks,
                        request.export,
                        curves_folder,
                    )
                runs[model, style, backend].append(result)
    report = report_of(request, dataset, runs, keras_backends)
    if request.seeds > 1:
        report["seeds"] = seed_study(request, dataset, runs, say)
    if pairs_apply(request, dataset):
        report["pairs"] = matched_pairs(request, dataset, say)
    return report


def pairs_apply(request, dataset):
    """The matched pairs need both styles, the lecture's CNN on one device, on
    TensorFlow, and at least one full batch."""
    return (
        request.pair_rounds > 0
        and len(request.styles) == 2
        and "cnn" in request.models
        and request.strategy == "none"
        and not request.backends
        and len(dataset.x_train) >= request.batch_size
    )


def matched_pairs(request, dataset, say):
    """compare/harness/pairs.py's three pairs, interleaved, on the training images."""
    from compare.harness.pairs import PairSettings, measure_pairs

    batches = len(dataset.x_train) // request.batch_size
    say_if_fewer_pairs(request.pair_steps, batches, say)
    steps = min(request.pair_steps, batches)
    settings = PairSettings(
        steps, request.pair_rounds, request.batch_size, request.seed
    )
    say(
        _(
            "Timing the matched pairs: {rounds} interleaved rounds of {steps} batches "
            "per style and pair ..."
        ).format(rounds=number(settings.rounds), steps=number(settings.steps))
    )
    return measure_pairs(dataset.x_train, dataset.y_train, settings)


def say_if_fewer_pairs(asked, batches, say):
    """The pairs time at most the batches the training set holds: say so where
    --pair-steps asked for more."""
    if asked and asked > batches:
        say(
            _(
                "--pair-steps {asked}: the training set holds {batches} batches; the "
                "pairs time {batches}"
            ).format(asked=asked, batches=batches)
        )


def seed_study(request, dataset, runs, say):
    """--seeds N: the first seed's runs (the table's) and N - 1 more initialisations
    per style, interleaved; per style the test accuracies and the training seconds to
    reach `target_accuracy` on the test set (None where a run never reached it)."""
    from compare.harness.training import run

    model = request.models[0]
    per_style = {style: [runs[model, style, None][0]] for style in request.styles}
    for offset in range(1, request.seeds):
        seeded = dataclasses.replace(
            request.for_model(model), seed=request.seed + offset
        )
        for style in request.styles:
            say(
                _("Training {style}, seed {seed} ...").format(
                    style=TEXT[language()][style], seed=seeded.seed
                )
            )
            per_style[style].append(run(style, dataset, seeded, 0, curves=True))
    return {
        "target_accuracy": request.target_accuracy,
        "seeds": list(range(request.seed, request.seed + request.seeds)),
        "styles": {
            style: seed_summary(results, request.target_accuracy)
            for style, results in per_style.items()
        },
    }


def seed_summary(results, target):

    accuracies = [result["test_accuracy"] for result in results]
    times = [time_to_accuracy(result, target) for result in results]
    reached = [seconds for seconds in times if seconds is not None]
    return {
        "test_accuracy": accuracies,
        "test_accuracy_mean": statistics.mean(accuracies),
        "test_accuracy_std": statistics.stdev(accuracies),
        "seconds_to_target": times,
        "seconds_to_target_mean": statistics.mean(reached) if reached else None,
        "seconds_to_target_std": statistics.stdev(reached)
        if len(reached) > 1
        else None,
    }


def time_to_accuracy(result, target):
    """Training seconds (the test scoring left out) at the end of the first epoch whose
    test accuracy reached `target`; None if none did."""
    for seconds, accuracy in zip(
        result["epoch_end_seconds"], result["history"]["val_accuracy"], strict=True
    ):
        if accuracy >= target:
            return seconds
    return None


def report_of(request, dataset, runs, keras_backends):
    from compare.harness.training import median_of_runs

    report = {
        "dataset": {
            "name": dataset.name,
            "source": dataset.source,
            "train_size": len(dataset.x_train),
            "test_size": len(dataset.x_test),
        },
        "config": request.reported(),
        "results": [median_of_runs(model_runs) for model_runs in runs.values()],
    }
    if request.strategy != "none":
        report["config"]["replicas"] = strategy_for(request).num_replicas_in_sync
    # Keras for the ratio: on TensorFlow where it ran there, else the first backend.
    reference = "tensorflow" if "tensorflow" in keras_backends else keras_backends[0]
    keras_runs = runs.get((request.models[0], "keras", reference))
    if len(request.styles) == 2 and keras_runs and "unavailable" not in keras_runs[0]:
        ratios = {
            model: throughput_ratio(
                runs[model, "raw_tf", None], runs[model, "keras", reference]
            )
            for model in request.models
        }
        report["raw_over_keras_steady_throughput"] = ratios[request.models[0]]
        pairwise = [
            raw["steady_samples_per_second"] / keras["steady_samples_per_second"]
            for raw, keras in zip(
                runs[request.models[0], "raw_tf", None], keras_runs, strict=True
            )
            if raw["steady_samples_per_second"] and keras["steady_samples_per_second"]
        ]
        if len(pairwise) >= 3:  # enough runs for an interval
            report["raw_over_keras_steady_throughput_interval"] = {
                **median_interval(pairwise),
                "runs": pairwise,
            }
        if len(request.models) > 1:
            report["raw_over_keras_steady_throughput_by_model"] = ratios
    return report
