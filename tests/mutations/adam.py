SWAPPED = (
    "beta_1 goes with m, the gradient's average, and with 1 - beta_1^t; beta_2 with "
    "v, the squared gradient's, and with sqrt(1 - beta_2^t)"
)

MUTATIONS = [
    (
        "tf.sqrt(v) + self.epsilon",
        "tf.sqrt(v + self.epsilon)",
        "Keras adds epsilon outside the square root: sqrt(v) + epsilon, not "
        "sqrt(v + epsilon)",
    ),
    (
        "alpha = self.learning_rate * correction",
        "alpha = self.learning_rate",
        "m and v start at zero, so early on they fall short of the averages: the "
        "bias correction makes up for it, and Keras folds it into the step size "
        "alpha",
    ),
    (
        "variable.assign_sub(m * alpha / (tf.sqrt(v) + self.epsilon))",
        "m_hat = m / (1 - self.beta_1**step)\n"
        "            v_hat = v / (1 - self.beta_2**step)\n"
        "            variable.assign_sub(\n"
        "                self.learning_rate * m_hat / (tf.sqrt(v_hat) + self.epsilon)\n"
        "            )",
        "that is the paper's bias correction, of m and v; Keras folds it into the "
        "step size alpha instead and adds epsilon to the uncorrected sqrt(v): a "
        "large epsilon shows the difference",
    ),
    (
        "self.iterations.assign_add(1)",
        "pass",
        "the step number t is 1 at the first update and must grow by one at every "
        "call: the bias correction depends on it",
    ),
    (
        "m.assign_add((gradient - m) * (1 - self.beta_1))\n"
        "            v.assign_add((tf.square(gradient) - v) * (1 - self.beta_2))",
        "m.assign_add((gradient - m) * (1 - self.beta_2))\n"
        "            v.assign_add((tf.square(gradient) - v) * (1 - self.beta_1))",
        SWAPPED,
    ),
    (
        "tf.sqrt(1 - self.beta_2**step) / (1 - self.beta_1**step)",
        "tf.sqrt(1 - self.beta_1**step) / (1 - self.beta_2**step)",
        SWAPPED,
    ),
    (
        "tf.square(gradient) - v",
        "gradient - v",
        "v is the average of the squared gradient (tf.square), not of the gradient: "
        "with the raw gradient, v goes negative and sqrt(v) is NaN",
    ),
    (
        "variable.assign_sub(m * alpha",
        "variable.assign_sub(gradient * alpha",
        "the variable moves by the average m, not by this step's gradient alone",
    ),
    (
        "            m.assign_add((gradient - m) * (1 - self.beta_1))\n"
        "            v.assign_add((tf.square(gradient) - v) * (1 - self.beta_2))\n"
        "            # epsilon outside the sqrt, as in Keras (the paper's eps-hat).\n"
        "            variable.assign_sub(m * alpha / (tf.sqrt(v) + self.epsilon))\n",
        "            variable.assign_sub(m * alpha / (tf.sqrt(v) + self.epsilon))\n"
        "            m.assign_add((gradient - m) * (1 - self.beta_1))\n"
        "            v.assign_add((tf.square(gradient) - v) * (1 - self.beta_2))\n",
        "update m and v first, then move the variable with the new ones: with the old "
        "ones every step lags one behind",
    ),
    (
        "m.assign_add((gradient - m) * (1 - self.beta_1))",
        "m.assign(self.beta_1 * m + gradient)",
        "m is a moving average: it moves towards the gradient by (1 - beta_1) of the "
        "gap, it does not add the whole gradient",
    ),
    (
        "step = tf.cast(self.iterations + 1, tf.float32)",
        "self.steps_taken = getattr(self, 'steps_taken', 0) + 1\n"
        "        step = float(self.steps_taken)",
        "right when called directly, but inside a tf.function (as the lesson's "
        "train_step runs it) the step number stays at 1: a Python counter is read "
        "once, when traced; compute t from self.iterations",
    ),
    (
        "step = tf.cast(self.iterations + 1, tf.float32)",
        "step = float(self.iterations.numpy() + 1)",
        "apply runs inside a tf.function, as the lesson's train_step calls it: use "
        "TensorFlow ops and the variables' assign methods, not .numpy() or new "
        "tf.Variables",
    ),
    (
        "step = tf.cast(self.iterations + 1, tf.float32)",
        "step = self.iterations + 1",
        "iterations counts in int64: cast the step number to float32 (tf.cast) before "
        "raising beta_1 and beta_2 to it",
    ),
]
