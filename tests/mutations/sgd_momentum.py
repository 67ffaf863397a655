MUTATIONS = [
    (
        "self.momentum * velocity - self.learning_rate * gradient",
        "self.momentum * velocity - (1 - self.momentum) * self.learning_rate * "
        "gradient",
        "Keras' velocity takes the whole learning_rate * gradient, with no (1 - "
        "momentum) factor: it is not a moving average",
    ),
    (
        "variable.assign_add(velocity)",
        "variable.assign_sub(self.learning_rate * gradient)",
        "the velocity keeps momentum times its last value: assign the new velocity to "
        "its tf.Variable, or momentum plays no part",
    ),
    (
        "velocity.assign(self.momentum * velocity - self.learning_rate * gradient)",
        "velocity = self.momentum * velocity - self.learning_rate * gradient",
        "the velocity keeps momentum times its last value: assign the new velocity to "
        "its tf.Variable, or momentum plays no part",
    ),
    (
        "            velocity.assign(self.momentum * velocity - self.learning_rate * "
        "gradient)\n            variable.assign_add(velocity)",
        "            variable.assign_add(velocity)\n"
        "            velocity.assign(self.momentum * velocity - self.learning_rate * "
        "gradient)",
        "update the velocity first, then move the variable by the new velocity: moved "
        "by the old one, every step lags one behind",
    ),
    (
        "variable.assign_add(velocity)",
        "variable.assign_add(self.momentum * velocity - self.learning_rate * gradient)",
        "that is Nesterov's momentum (SGD(nesterov=True)); Keras' default moves the "
        "variable by the new velocity alone",
    ),
    (
        "variable.assign_add(velocity)",
        "variable.assign_sub(velocity)",
        "the step goes downhill, against the gradient: the velocity subtracts "
        "learning_rate * gradient and the variable adds the velocity",
    ),
    (
        "self.momentum * velocity - self.learning_rate * gradient",
        "velocity - self.learning_rate * gradient",
        "the old velocity is multiplied by momentum: without it, the velocity adds up "
        "every gradient and never forgets",
    ),
    (
        "        for gradient, variable, velocity in zip(gradients, variables, "
        "self.velocities):",
        "        for index, (gradient, variable) in enumerate(zip(gradients, "
        "variables)):\n"
        "            velocity = self.velocities[index]\n"
        "            self.velocities[index] = (\n"
        "                self.momentum * velocity - self.learning_rate * gradient\n"
        "            )\n"
        "            variable.assign_add(self.velocities[index])\n"
        "            continue",
        "right when called directly, but inside a tf.function (as the lesson's "
        "train_step runs it) the velocities never change: Python values are read once, "
        "when traced; keep them in their tf.Variables and change them with assign",
    ),
    (
        "variable.assign_add(velocity)",
        "variable.assign_add(velocity.numpy())",
        "apply runs inside a tf.function, as the lesson's train_step calls it: use "
        "TensorFlow ops and the variables' assign methods, not .numpy() or new "
        "tf.Variables",
    ),
]
