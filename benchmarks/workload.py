"""The benchmark's workload: Goodfellow's RNN, batched and row-major, at four sizes.

    h0 = zeros(B, H);  x: (T, B, D);  y: (T, B) integer labels
    for t in range(T):
        a = x[t] @ U.T + h @ W.T + b;  h = tanh(a);  o = h @ V.T + c
        loss += softmax_cross_entropy(o, y[t])          # mean over the batch
    gradients of loss with respect to U (H,D), W (H,H), V (C,H), b (H,), c (C,)

One iteration = forward + backward. Every implementation gets the same arrays.
"""
import numpy as np

# (B, D, H, C, T), exactly as in the issue.
SIZES = {
    "tiny": (1, 4, 5, 3, 5),        # the sources' example
    "small": (16, 32, 64, 32, 50),
    "medium": (32, 128, 256, 128, 100),
    "long": (1, 8, 16, 8, 5000),
}
SCALING_T = (1_000, 10_000, 100_000)
SCALING_SIZE = (1, 8, 16, 8)        # B, D, H, C for --scaling (B=1, H=16)
PARAMS = ("U", "W", "V", "b", "c")


def problem(B, D, H, C, T, dtype=np.float32, seed=0):
    """Parameters {U, W, V, b, c}, inputs x (T, B, D) and labels y (T, B), all seeded.

    Weights are N(0, 1/fan_in): h stays in tanh's working range and gradients neither
    vanish nor explode over the long sequence, so the float64 agreement check is meaningful.
    """
    rng = np.random.default_rng(seed)
    params = {
        "U": rng.normal(0, 1 / np.sqrt(D), (H, D)),
        "W": rng.normal(0, 0.9 / np.sqrt(H), (H, H)),
        "V": rng.normal(0, 1 / np.sqrt(H), (C, H)),
        "b": rng.normal(0, 0.1, H),
        "c": rng.normal(0, 0.1, C),
    }
    params = {k: v.astype(dtype) for k, v in params.items()}
    x = rng.normal(size=(T, B, D)).astype(dtype)
    y = rng.integers(0, C, size=(T, B))
    return params, x, y
