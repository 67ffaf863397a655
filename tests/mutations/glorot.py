MUTATIONS = [
    (
        "fan_in, fan_out = shape[-2] * window, shape[-1] * window",
        "fan_in, fan_out = shape[-2], shape[-1]",
        "a convolution's fans count its 3x3 window as well as its channels: an "
        "output sees the whole window of every channel in, an input feeds the whole "
        "window of every channel out",
    ),
    (
        "limit = math.sqrt(6.0 / (fan_in + fan_out))",
        "limit = math.sqrt(6.0 / fan_in)",
        "Glorot's limit counts both fans, in and out; counting fan_in alone gives "
        "He's initialiser",
    ),
    (
        "limit = math.sqrt(6.0 / (fan_in + fan_out))",
        "limit = math.sqrt(2.0 / (fan_in + fan_out))",
        "sqrt(2 / (fan_in + fan_out)) is the standard deviation of Glorot's normal; "
        "a uniform of the same spread reaches sqrt(3) times as far",
    ),
    (
        "minval=-limit",
        "minval=0.0",
        "the range is symmetric: from -limit to limit, not from 0",
    ),
]
