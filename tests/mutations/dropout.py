MUTATIONS = [
    (
        "    if not training:\n        return x  # inference: every unit, unscaled\n",
        "",
        "in inference (training=False) dropout does nothing: return x unchanged, every "
        "unit kept and none scaled",
    ),
    (
        "return tf.where(keep, x / (1 - rate), tf.zeros_like(x))",
        "return tf.where(keep, x, tf.zeros_like(x))",
        "divide the surviving units by the keep probability 1 - rate, so that the "
        "expected activation stays the same (inverted dropout, as Keras does it)",
    ),
    (
        "return tf.where(keep, x / (1 - rate), tf.zeros_like(x))",
        "return tf.where(keep, x * (1 - rate), tf.zeros_like(x))",
        "divide the survivors by 1 - rate, don't multiply: a unit kept with "
        "probability 1 - rate must grow to keep its expected value",
    ),
    (
        "seed=seed) >= rate",
        "seed=seed) < rate",
        "`rate` is the probability of dropping a unit, not of keeping it: a unit "
        "survives with probability 1 - rate",
    ),
    (
        "return tf.where(keep, x / (1 - rate), tf.zeros_like(x))",
        "return tf.where(keep, x / rate, tf.zeros_like(x))",
        "divide the survivors by the keep probability 1 - rate, not by rate",
    ),
    (
        "tf.random.stateless_uniform(tf.shape(x), seed=seed)",
        "tf.random.uniform(tf.shape(x))",
        "the same seed must give the same mask: draw it with "
        "tf.random.stateless_uniform(shape, seed), not from a generator that keeps "
        "state",
    ),
    (
        "seed=seed)",
        "seed=7)",
        "a stateless random op takes the seed as a tensor of 2 integers: pass the "
        "`seed` argument as it is",
    ),
]
