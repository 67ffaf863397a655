"""Cross-entropy from logits: the student's loss against the compiled Keras model's loss
on a batch of digits (compute_loss on its softmax output, which Keras turns back into
the logits behind it), then against keras.losses.SparseCategoricalCrossentropy(
from_logits=True) on logits of +-100, where a log taken of a softmax gives inf.

Tolerance: each loss is the mean of B per-example losses, each a log-sum-exp over 10
classes, which another graph may add in another order: reduction(B), that is
sqrt(B) * 6e-8 of the loss, and no less than one rounding per op (1e-6).
"""

import keras
import numpy as np
import tensorflow as tf

import keras_impl.cnn
from compare.data import load_digits_28x28
from compare.exercises.grading import Comparison, Exercise, defined
from compare.exercises.verdict import reduction
from compare.language import N_, _

EXERCISE = Exercise(
    name="cross_entropy",
    title=N_("The loss behind Keras' softmax output, from logits"),
    statement=N_(
        "Write sparse_categorical_crossentropy(labels, logits): the batch's mean loss, "
        "from the logits, as Keras computes it behind the CNN's softmax output."
    ),
    concept=N_(
        "The loss: minus the log of the probability given to the right class, averaged "
        "over the mini-batch; taken from the logits, it stays finite however sure the "
        "model is."
    ),
    lesson="raw_tf_impl/cnn.py: sparse_categorical_crossentropy",
    wanted=("sparse_categorical_crossentropy",),
    hint=N_(
        "each example's loss is minus the log-softmax of its logits at its label; the "
        "batch's loss is the mean of those"
    ),
)

IMAGES = 64  # a batch of digits, as the lesson's
EXTREME_SEED = 3


def crossentropy(labels, logits):
    """Keras' mean loss from logits."""
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    return loss(labels, logits)


def extreme_batch():
    """8 examples whose logits are +-100: the label sits on a +100 (loss near 0, or
    log 2 and more where several are +100) or on a -100 (loss near 200)."""
    rng = np.random.default_rng(EXTREME_SEED)
    logits = np.where(rng.random((8, 10)) < 0.3, 100.0, -100.0).astype(np.float32)
    logits[:, 0] = 100.0  # at least one sure class per row
    labels = rng.integers(0, 10, size=8).astype(np.int32)
    labels[:2] = 0  # two rows sure and right
    return tf.constant(labels), tf.constant(logits)


def compare(student):
    sparse_categorical_crossentropy = defined(
        student, "sparse_categorical_crossentropy"
    )
    digits = load_digits_28x28()
    images, labels = digits.x_train[:IMAGES], tf.constant(digits.y_train[:IMAGES])
    model = keras_impl.cnn.compile_model(keras_impl.cnn.build_model(seed=0))
    probabilities = model(images)  # (64, 10), the softmax output
    logits = probabilities._keras_logits  # what Keras' loss reads behind the softmax
    keras_loss = model.compute_loss(x=images, y=labels, y_pred=probabilities)
    extreme_labels, extreme_logits = extreme_batch()
    batches = ((labels, logits), (extreme_labels, extreme_logits))
    yours = [sparse_categorical_crossentropy(*batch) for batch in batches]
    pairs = [
        (
            _("the loss of 64 digits, from the logits of Keras' CNN"),
            yours[0],
            keras_loss,
            reduction(IMAGES),
        ),
        (
            _("the loss of 8 examples with logits of +-100"),
            yours[1],
            crossentropy(extreme_labels, extreme_logits),
            reduction(len(extreme_labels)),
        ),
    ]

    def mistakes():
        right = [crossentropy(*batch) for batch in batches]
        return [
            (
                N_(
                    "the logits go in as they are: the log-softmax takes the softmax "
                    "itself, and a softmax taken before it is taken twice"
                ),
                [crossentropy(y, tf.nn.softmax(x)) for y, x in batches],
            ),
            (
                N_(
                    "Keras reports the mean loss of the mini-batch, not the sum: its "
                    "size must not change the loss's scale"
                ),
                [loss * len(y) for loss, (y, _x) in zip(right, batches, strict=True)],
            ),
            (
                N_(
                    "average over the examples only: a mean over the whole (B, 10) "
                    "table also divides by the 10 classes"
                ),
                [loss / 10 for loss in right],
            ),
            (
                N_(
                    "the loss is minus the log-probability: a log of a probability is "
                    "negative, the loss positive"
                ),
                [-loss for loss in right],
            ),
            (
                N_(
                    "large logits break log(softmax): a probability rounded to 0 has "
                    "the log -inf. Keras takes the log-softmax in one stable op: the "
                    "logits minus their log-sum-exp"
                ),
                [right[0], None],
            ),
        ]

    return Comparison(pairs, mistakes)


LABELS_AS_ROWS = N_(
    "the labels are class numbers (B,), not one-hot rows: use an op that takes them "
    "as they are, or pick each row's log-probability at its label"
)
ERRORS = (  # (B,) labels where (B, 10) rows were expected: the first batch is 64
    ("logits and labels must be broadcastable", LABELS_AS_ROWS),
    ("Incompatible shapes: [1,64] vs. [64,10]", LABELS_AS_ROWS),
)
