MUTATIONS = [
    (
        "fan_in, fan_out = shape[-2] * window, shape[-1] * window",
        "fan_in, fan_out = shape[-2], shape[-1]",
        "a convolution's fans count its window: fan_in = 3 * 3 * channels in, "
        "fan_out = 3 * 3 * channels out",
    ),
    (
        "limit = math.sqrt(6.0 / (fan_in + fan_out))",
        "limit = math.sqrt(6.0 / fan_in)",
        "Glorot counts both fans: limit = sqrt(6 / (fan_in + fan_out)), not "
        "sqrt(6 / fan_in)",
    ),
    (
        "limit = math.sqrt(6.0 / (fan_in + fan_out))",
        "limit = math.sqrt(2.0 / (fan_in + fan_out))",
        "sqrt(2 / (fan_in + fan_out)) is the standard deviation of Glorot's normal; "
        "the uniform's limit is sqrt(6 / (fan_in + fan_out))",
    ),
    (
        "minval=-limit",
        "minval=0.0",
        "the range is symmetric: from -limit to limit, not from 0",
    ),
]
