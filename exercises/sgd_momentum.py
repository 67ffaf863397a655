"""Exercise: gradient descent with momentum, as Keras' SGD computes it (the reference
solution)."""

import tensorflow as tf


#: SGD with momentum as Keras computes it (keras/src/optimizers/sgd.py). Its __init__
#: gives each variable a velocity of its shape, starting at zero.
class SGD(tf.Module):
    def __init__(self, variables, learning_rate=0.01, momentum=0.9):
        super().__init__()
        self.learning_rate, self.momentum = learning_rate, momentum
        self.velocities = [tf.Variable(tf.zeros_like(v)) for v in variables]

    def apply(self, gradients, variables):
        #: One step of keras.optimizers.SGD(learning_rate, momentum). For each variable,
        #: with its gradient and its velocity (self.velocities, in the same order):
        #: first the velocity becomes momentum * velocity - learning_rate * gradient;
        #: then the variable moves by that new velocity. apply runs inside a
        #: tf.function, as the lesson's train_step calls Adam: change the velocities and
        #: the variables with assign, assign_add or assign_sub.
        # BEGIN SOLUTION
        for gradient, variable, velocity in zip(gradients, variables, self.velocities):
            # The velocity keeps a share of its past steps: steady slopes speed up.
            velocity.assign(self.momentum * velocity - self.learning_rate * gradient)
            variable.assign_add(velocity)
        # END SOLUTION
