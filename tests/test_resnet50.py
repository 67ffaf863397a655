"""ResNet50 transfer learning: the raw tf.nn ResNet50 against keras.applications.ResNet50.

Tolerances: float32 is ~1e-6 relative per op and ResNet50 chains ~50 convolutions, so a drift of
50 * 1e-6 of each output's scale would be honest. Measured: outputs, stage outputs and the
head-training and fine-tuning trajectories are bit-identical (same TF kernels, same order), so
the tests demand that 50e-6 bound, and exact equality where a variable must not move at all.
"""

import h5py
import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_impl
import raw_tf_impl
from keras_impl import resnet50_transfer as keras_resnet
from raw_tf_impl import resnet50_transfer as raw_resnet
from raw_tf_impl.cnn import sparse_categorical_crossentropy

pytestmark = pytest.mark.slow  # ResNet50: 25 million parameters per style

DRIFT = 50 * 1e-6  # ~50 float32 ops deep, 1e-6 each, relative to the output's scale
# Adam's first steps are m / sqrt(v) ~ sign(gradient) x lr, whatever the gradient's size:
# an entry whose gradient is rounding noise in both styles (a conv bias before batch norm
# has a true gradient of 0) may step +lr in one and -lr in the other. Trained weights are
# therefore compared as whole tensors, the norm of the difference against the tensor's
# norm, with DRIFT: a few such entries do not move it, a wrong update would.
STAGES = (
    "pool1_pool",
    "conv2_block3_out",
    "conv3_block4_out",
    "conv4_block6_out",
    "conv5_block3_out",
)


def random_images(count, size, seed=0):
    return (
        np.random.default_rng(seed)
        .uniform(0, 255, (count, size, size, 3))
        .astype("float32")
    )


def randomise_batch_norms(keras_model, seed=0):
    """Non-trivial batch-norm state (Keras starts at gamma 1, beta 0, mean 0, variance 1), so the
    inference-mode normalisation really is tested."""
    rng = np.random.default_rng(seed)
    for layer in keras_model.layers:
        if layer.name.endswith("_bn"):
            gamma, beta, mean, variance = (weight.shape for weight in layer.weights)
            layer.set_weights(
                [
                    rng.uniform(0.5, 1.5, gamma),
                    rng.normal(0, 0.1, beta),
                    rng.normal(0, 0.1, mean),
                    rng.uniform(0.5, 1.5, variance),
                ]
            )


def keras_and_raw(size=32, seed=0):
    """A Keras transfer model with random weights and a raw one given all of them: the base by the
    raw side's own mapping from the Keras object, the head copied here."""
    keras_model = keras_resnet.build_model(seed, (size, size, 3), weights=None)
    randomise_batch_norms(keras_model, seed)
    raw_model = raw_resnet.build_model(seed + 1, (size, size, 3), weights=keras_model)
    for raw_layer, keras_layer in [
        (raw_model.hidden, keras_model.layers[-2]),
        (raw_model.classifier, keras_model.layers[-1]),
    ]:
        raw_layer.kernel.assign(keras_layer.kernel.numpy())
        raw_layer.bias.assign(keras_layer.bias.numpy())
    return keras_model, raw_model


def stage_outputs(keras_model, images, training=False):
    probe = keras.Model(
        keras_model.input, [keras_model.get_layer(name).output for name in STAGES]
    )
    return [np.asarray(output) for output in probe(images, training=training)]


def assert_close(raw, keras, what):
    scale = float(np.abs(keras).max())
    difference = float(np.abs(np.asarray(raw) - keras).max())
    assert difference <= DRIFT * scale, (
        f"{what}: max abs difference {difference} on a scale of {scale}"
    )


def test_preprocessing_is_keras_preprocess_input_exactly():
    images = random_images(3, 8)
    original = images.copy()
    np.testing.assert_array_equal(
        raw_resnet.prepare_images(images), keras_resnet.prepare_images(images)
    )
    np.testing.assert_array_equal(images, original)  # neither edits the caller's array
    # and keras_resnet's copy is needed: Keras' own function edits a float32 array in place
    from keras.applications.resnet50 import preprocess_input

    preprocess_input(images)
    assert not np.array_equal(images, original)


def test_the_raw_network_has_keras_resnet50s_layers_and_parameters():
    keras_model, raw_model = keras_and_raw()
    for kind in (
        "_conv",
        "_bn",
    ):  # 53 of each, in Keras' order of that kind (what .weights.h5 files follow)
        keras_names = [
            layer.name for layer in keras_model.layers if layer.name.endswith(kind)
        ]
        assert [
            name for name in raw_model.base.layers if name.endswith(kind)
        ] == keras_names
        assert len(keras_names) == 53
    assert (
        sum(np.prod(v.shape) for v in raw_model.variables)
        == keras_model.count_params()
        == 25_696_138
    )


def test_same_outputs_at_every_stage_and_at_the_top():
    """2 images of 64x64, random weights and batch-norm state: each stage and the probabilities."""
    keras_model, raw_model = keras_and_raw(size=64)
    images = raw_resnet.prepare_images(random_images(2, 64))
    raw_stages = raw_model.base.stages(tf.constant(images))
    for name, keras_output in zip(
        STAGES, stage_outputs(keras_model, images), strict=True
    ):
        assert raw_stages[name].shape == keras_output.shape
        assert_close(raw_stages[name], keras_output, name)
    assert raw_stages["conv5_block3_out"].shape == (2, 2, 2, 2048)
    raw_probabilities = tf.nn.softmax(raw_model(tf.constant(images)))
    assert_close(raw_probabilities, keras_model(images).numpy(), "probabilities")


def test_training_mode_batch_norm_uses_batch_statistics_in_both():
    keras_model, raw_model = keras_and_raw()
    images = raw_resnet.prepare_images(random_images(4, 32))
    raw_stages = raw_model.base.stages(tf.constant(images), training=True)
    keras_stages = stage_outputs(keras_model, images, training=True)
    for name, keras_output in zip(STAGES, keras_stages, strict=True):
        assert_close(raw_stages[name], keras_output, name)
    inference = raw_model.base.stages(tf.constant(images), training=False)["pool1_pool"]
    assert (
        np.abs(inference - raw_stages["pool1_pool"]).max() > 0.1
    )  # the modes really differ


def test_training_mode_gradients_agree_and_conv_biases_get_only_noise():
    """Training from scratch: every gradient within DRIFT of the largest one (measured: 3e-6, at
    conv1's kernel, the far end of backpropagation). A convolution's bias feeds a training-mode
    batch norm that subtracts the batch mean, so its true gradient is exactly zero: both compute
    rounding noise there (measured: below 2e-7 of the largest gradient), and Adam would turn that
    noise into steps of the learning rate. That is why from-scratch runs drift apart."""
    keras_model, raw_model = keras_and_raw()
    images = raw_resnet.prepare_images(random_images(4, 32))
    labels = np.arange(4)
    with tf.GradientTape() as tape:
        keras_loss = tf.reduce_mean(
            keras.losses.sparse_categorical_crossentropy(
                labels, keras_model(images, training=True)
            )
        )
    keras_gradients = dict(
        zip(
            [weight.path for weight in keras_model.trainable_weights],
            tape.gradient(keras_loss, keras_model.trainable_weights),
            strict=True,
        )
    )
    head = {
        keras_model.layers[-2].name: raw_model.hidden,
        keras_model.layers[-1].name: raw_model.classifier,
    }
    raw_variables = {
        f"{name}/{variable.name.split(':')[0]}": variable
        for name, layer in {**raw_model.base.layers, **head}.items()
        for variable in layer.trainable_variables
    }
    with tf.GradientTape() as tape:
        raw_loss = sparse_categorical_crossentropy(
            labels, raw_model(images, training=True)
        )
    raw_gradients = dict(
        zip(
            raw_variables,
            tape.gradient(raw_loss, list(raw_variables.values())),
            strict=True,
        )
    )
    assert (
        raw_gradients.keys() == keras_gradients.keys()
        and len(raw_gradients) == 53 * 4 + 4
    )
    assert float(raw_loss) == pytest.approx(float(keras_loss), rel=DRIFT)
    largest = max(
        float(np.abs(gradient).max()) for gradient in keras_gradients.values()
    )
    for name, keras_gradient in keras_gradients.items():
        difference = float(np.abs(raw_gradients[name] - keras_gradient).max())
        assert difference <= DRIFT * largest, (
            f"{name}: {difference} against a largest gradient of {largest}"
        )
        if name.endswith("_conv/bias"):
            for gradient in (keras_gradient, raw_gradients[name]):
                assert float(np.abs(gradient).max()) <= 1e-6 * largest, name


@pytest.mark.parametrize("file_format", ["keras3", "legacy_h5"])
def test_weights_files_load_into_both_styles(tmp_path, file_format):
    """A file the test writes: Keras 3's .weights.h5 (layers named by class and position) or the
    legacy .h5 of the ImageNet download (layers named by layer name)."""
    keras_model, _ = keras_and_raw()
    base = keras.Model(
        keras_model.input, keras_model.get_layer("conv5_block3_out").output
    )
    if file_format == "keras3":
        path = tmp_path / "base.weights.h5"
        base.save_weights(path)
    else:
        from keras.src.legacy.saving import legacy_h5_format

        path = tmp_path / "base.h5"
        with h5py.File(path, "w") as file:
            legacy_h5_format.save_weights_to_hdf5_group(file, base)
    images = raw_resnet.prepare_images(random_images(2, 32))
    expected = base(images).numpy()
    raw_model = raw_resnet.build_model(seed=5, weights=str(path))
    np.testing.assert_array_equal(raw_model.base(tf.constant(images)).numpy(), expected)
    keras_loaded = keras_resnet.build_model(seed=5, weights=str(path))
    assert_close(
        stage_outputs(keras_loaded, images)[-1], expected, "Keras from the file"
    )


def test_a_file_that_is_not_resnet50_weights_is_refused_clearly(tmp_path):
    path = tmp_path / "cnn.weights.h5"
    keras_impl.build_model().save_weights(path)
    refusal = r"layer conv1_conv: the weights have shapes \[\(3, 3, 1, 32\), \(32,\)\], the model expects"
    with pytest.raises(ValueError, match=refusal):
        raw_resnet.build_model(weights=str(path))


def variables_by_name(raw_model):
    layers = {
        **raw_model.base.layers,
        "hidden": raw_model.hidden,
        "classifier": raw_model.classifier,
    }
    return {
        f"{name}/{variable.name.split(':')[0]}": variable.numpy()
        for name, layer in layers.items()
        for variable in layer.variables
    }


def keras_variables_by_name(keras_model):
    names = {
        keras_model.layers[-2].name: "hidden",
        keras_model.layers[-1].name: "classifier",
    }
    return {
        f"{names.get(layer.name, layer.name)}/{weight.name}": weight.numpy()
        for layer in keras_model.layers
        for weight in layer.weights
    }


@pytest.fixture(scope="module")
def two_phases():
    """Both styles from the same weights through the same two phases, one epoch of 4 batches each:
    head only (base frozen), then fine-tuning (conv5's convolutions unfrozen, batch norm frozen)."""
    keras_model, raw_model = keras_and_raw()
    rng = np.random.default_rng(1)
    images = raw_resnet.prepare_images(random_images(16, 32, seed=1))
    labels = rng.integers(0, 10, 16).astype("int32")
    snapshots = [(keras_variables_by_name(keras_model), variables_by_name(raw_model))]
    histories = []
    for phase in ("head", "fine_tune"):
        if phase == "head":
            keras_resnet.freeze_base(keras_model)
            raw_resnet.freeze_base(raw_model)
        else:
            keras_resnet.unfreeze_top(keras_model)
            raw_resnet.unfreeze_top(raw_model)
        keras_impl.compile_model(keras_model, 1e-3)
        optimizer = raw_tf_impl.compile_model(raw_model, 1e-3)
        histories.append(
            (
                # The same batches in both styles: the raw loop's seeded order.
                keras_impl.cnn.train_in_seeded_order(
                    keras_model, images, labels, 1, 4, seed=0, verbose=0
                ),
                raw_tf_impl.train(
                    raw_model, optimizer, images, labels, 1, 4, seed=0, verbose=0
                ),
            )
        )
        snapshots.append(
            (keras_variables_by_name(keras_model), variables_by_name(raw_model))
        )
    return snapshots, histories


def moved(before, after):
    return {name for name in before if not np.array_equal(before[name], after[name])}


def test_the_phases_train_exactly_the_unfrozen_variables(two_phases):
    (keras_start, raw_start), (keras_head, raw_head), (keras_tuned, raw_tuned) = (
        two_phases[0]
    )
    head = {name for name in raw_start if name.startswith(("hidden/", "classifier/"))}
    conv5_convolutions = {
        name for name in raw_start if name.startswith("conv5_") and "_conv/" in name
    }
    assert (
        moved(raw_start, raw_head) == moved(keras_start, keras_head) == head
    )  # the base did not move
    assert (
        moved(raw_head, raw_tuned)
        == moved(keras_head, keras_tuned)
        == head | conv5_convolutions
    )
    assert (
        len(conv5_convolutions) == 2 * 10
    )  # 3 blocks x 3 convolutions + 1 projection, kernel and bias


def test_both_styles_follow_the_same_trajectory_through_both_phases(two_phases):
    snapshots, histories = two_phases
    for keras_history, raw_history in histories:
        np.testing.assert_allclose(
            raw_history["loss"], keras_history["loss"], rtol=DRIFT
        )
    for keras_variables, raw_variables in snapshots[1:]:
        assert raw_variables.keys() == keras_variables.keys()
        for name in raw_variables:
            difference = np.linalg.norm(raw_variables[name] - keras_variables[name])
            size = np.linalg.norm(keras_variables[name])
            assert difference <= DRIFT * size, f"{name}: {difference} against {size}"
