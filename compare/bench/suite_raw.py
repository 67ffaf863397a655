"""The raw style's side of the GPU suite (compare/bench/suite.py), written in the
harness, not in the lesson: RawMixedFloat16Step, the lesson's step in mixed float16
with Keras' dynamic loss scale (the lesson is float32 only), and the lesson's loops
rebound to another train step (XLA)."""

import types

from compare.styles import STYLES


class RawMixedFloat16Step:
    """Harness-side, not in the lesson: the raw train step in mixed float16, the twin
    of Keras' "mixed_float16" policy with compile's LossScaleOptimizer. Called as the
    lesson calls train_step, (model, optimizer, images, labels) -> (loss, correct).

    The lesson's own forward pass (CNN.__call__), loss and accuracy run on float16
    casts of the images and of the float32 variables (the casts are in the tape, so
    the gradients reach the float32 variables in float32); the logits are cast to
    float32 before the loss. The loss is multiplied by a dynamic scale before the
    gradients; where they are all finite they are divided by it and the lesson's
    float32 Adam applies them, else the step is skipped and the scale halved; after
    `growth_steps` finite steps in a row the scale doubles. That is Keras'
    LossScaleOptimizer (keras/src/optimizers/loss_scale_optimizer.py), same defaults.
    One instance per model: it holds that model's scale."""

    def __init__(self, jit_compile=False, initial_scale=2.0**15, growth_steps=2000):
        import tensorflow as tf

        self.scale = tf.Variable(initial_scale, dtype=tf.float32, trainable=False)
        self.finite_steps = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.growth_steps = growth_steps
        self.lesson = STYLES["raw_tf"].module("cnn")  # looked up once, not traced
        self.step = tf.function(self.python_step, jit_compile=jit_compile)

    def __call__(self, model, optimizer, images, labels):
        return self.step(model, optimizer, images, labels)

    @staticmethod
    def float16_model(model):
        """The lesson's model as a float16 callable: its forward pass on an object
        holding float16 casts of its float32 variables, logits back in float32."""
        import tensorflow as tf

        def half(value):
            is_float32 = isinstance(value, tf.Variable) and value.dtype == tf.float32
            return tf.cast(value, tf.float16) if is_float32 else value

        view = types.SimpleNamespace(**{k: half(v) for k, v in vars(model).items()})

        def forward(images, training=False):
            logits = type(model).__call__(view, tf.cast(images, tf.float16), training)
            return tf.cast(logits, tf.float32)

        return forward

    def python_step(self, model, optimizer, images, labels):
        import tensorflow as tf

        variables = model.trainable_variables
        with tf.GradientTape() as tape:
            half_model = self.float16_model(model)
            loss, correct = self.lesson.loss_and_correct(
                half_model, images, labels, True
            )
            scaled_loss = loss * self.scale
        scaled_gradients = tape.gradient(scaled_loss, variables)
        finite = tf.reduce_all(
            [tf.reduce_all(tf.math.is_finite(g)) for g in scaled_gradients]
        )

        def apply():
            optimizer.apply([g / self.scale for g in scaled_gradients], variables)
            due = tf.equal(self.finite_steps, self.growth_steps - 1)
            tf.cond(due, lambda: self.rescale(2.0), self.count_finite)

        tf.cond(finite, apply, lambda: self.rescale(0.5))
        return loss, correct

    def rescale(self, factor):
        self.finite_steps.assign(0)
        self.scale.assign(self.scale * factor)

    def count_finite(self):
        self.finite_steps.assign_add(1)


def raw_step(cell):
    """The raw train step of the cell, called as the lesson calls train_step; a new
    one per model (a mixed step holds its model's loss scale)."""
    import tensorflow as tf

    raw = STYLES["raw_tf"].module("cnn")
    if cell.mixed_precision:
        return RawMixedFloat16Step(jit_compile=cell.xla)
    if cell.xla:
        return tf.function(raw.train_step.python_function, jit_compile=True)
    return raw.train_step


def raw_step_name(cell):
    if cell.mixed_precision:
        return "RawMixedFloat16Step" + (" (jit_compile)" if cell.xla else "")
    return "train_step" + (" (jit_compile)" if cell.xla else "")


def rebound(function, **names):
    """A copy of a lesson function whose module globals `names` (train_step,
    train_batches) are the given objects: its code as written, calling our step. The
    module itself is left as it is."""
    namespace = {**function.__globals__, **names}
    copy = types.FunctionType(
        function.__code__,
        namespace,
        function.__name__,
        function.__defaults__,
        function.__closure__,
    )
    copy.__kwdefaults__, copy.__doc__ = function.__kwdefaults__, function.__doc__
    return copy


def raw_one_epoch(step, fused):
    """The lesson's train_epoch (fused: train_epoch_in_graph) calling `step` as its
    train step; the lesson's own functions where `step` is the lesson's."""
    import tensorflow as tf

    raw = STYLES["raw_tf"].module("cnn")
    if step is raw.train_step:
        return raw.train_epoch_in_graph if fused else raw.train_epoch
    if not fused:
        return rebound(raw.train_epoch, train_step=step)
    batches = tf.function(rebound(raw.train_batches.python_function, train_step=step))
    return rebound(raw.train_epoch_in_graph, train_batches=batches)
