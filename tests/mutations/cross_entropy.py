MUTATIONS = [
    (
        "log_probabilities = tf.nn.log_softmax(logits)",
        "log_probabilities = tf.nn.log_softmax(tf.nn.softmax(logits))",
        "the logits go in as they are: the log-softmax takes the softmax itself, and a "
        "softmax taken before it is taken twice",
    ),
    (
        "return -tf.reduce_mean(picked)",
        "return -tf.reduce_sum(picked)",
        "Keras reports the mean loss of the mini-batch, not the sum: its size must not "
        "change the loss's scale",
    ),
    (
        "log_probabilities = tf.nn.log_softmax(logits)",
        "log_probabilities = tf.math.log(tf.nn.softmax(logits))",
        "large logits break log(softmax): a probability rounded to 0 has the log -inf. "
        "Keras takes the log-softmax in one stable op: the logits minus their "
        "log-sum-exp",
    ),
    (
        "return -tf.reduce_mean(picked)",
        "return tf.reduce_mean(picked)",
        "the loss is minus the log-probability: a log of a probability is negative, "
        "the loss positive",
    ),
    (
        "tf.gather(log_probabilities, labels, axis=1, batch_dims=1)",
        "log_probabilities * tf.one_hot(labels, 10)",
        "average over the examples only: a mean over the whole (B, 10) table also "
        "divides by the 10 classes",
    ),
    (
        "tf.gather(log_probabilities, labels, axis=1, batch_dims=1)",
        "-tf.nn.softmax_cross_entropy_with_logits(labels, logits)",
        "the labels are class numbers (B,), not one-hot rows: use an op that takes "
        "them as they are, or pick each row's log-probability at its label",
    ),
]
