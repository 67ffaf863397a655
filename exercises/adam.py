"""Exercise: Adam's update, as Keras computes it (the reference solution)."""

import tensorflow as tf


#: Adam as Keras computes it (keras/src/optimizers/adam.py). Its __init__ gives
#: self.iterations, the number of steps taken so far, and each variable's m and v
#: (self.momentums and self.velocities), starting at zero.
class Adam(tf.Module):
    def __init__(
        self, variables, learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7
    ):
        super().__init__()
        self.learning_rate, self.beta_1, self.beta_2 = learning_rate, beta_1, beta_2
        self.epsilon = epsilon
        self.iterations = tf.Variable(0, dtype=tf.int64)
        self.momentums = [tf.Variable(tf.zeros_like(v)) for v in variables]
        self.velocities = [tf.Variable(tf.zeros_like(v)) for v in variables]

    def apply(self, gradients, variables):
        #: One step of keras.optimizers.Adam. The step number t is iterations + 1. For
        #: each variable, with its gradient g, its m (self.momentums) and its v
        #: (self.velocities), in the same order: m moves towards g by (1 - beta_1) of
        #: the gap, v towards g squared by (1 - beta_2) of the gap; then the variable
        #: goes down by alpha * m / (sqrt(v) + epsilon), where alpha = learning_rate *
        #: sqrt(1 - beta_2^t) / (1 - beta_1^t): Keras folds the bias correction into
        #: the step size and adds epsilon outside the square root. After all the
        #: variables, iterations goes up by one. apply runs inside a tf.function, as the
        #: lesson's train_step calls it: use TensorFlow ops, and assign, assign_add or
        #: assign_sub.
        # BEGIN SOLUTION
        step = tf.cast(self.iterations + 1, tf.float32)
        # Bias correction folded into the step size rather than applied to m and v.
        correction = tf.sqrt(1 - self.beta_2**step) / (1 - self.beta_1**step)
        alpha = self.learning_rate * correction
        moments = zip(gradients, variables, self.momentums, self.velocities)
        for gradient, variable, m, v in moments:
            m.assign_add((gradient - m) * (1 - self.beta_1))
            v.assign_add((tf.square(gradient) - v) * (1 - self.beta_2))
            # epsilon outside the sqrt, as in Keras (the paper's eps-hat).
            variable.assign_sub(m * alpha / (tf.sqrt(v) + self.epsilon))
        self.iterations.assign_add(1)
        # END SOLUTION
