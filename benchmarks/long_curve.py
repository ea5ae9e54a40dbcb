"""The learner of the long-curve early-stopping benchmark (issue 21): up to 243 epochs.

The same model, search space and data as :mod:`benchmarks.early_stopping`'s 81-epoch
benchmark (a one-hidden-layer perceptron trained with adam on the synthetic 4-class set,
6,000 training and 2,000 validation rows), written in numpy so that an epoch costs a few
milliseconds instead of scikit-learn's ~15 ms of per-call overhead: 243 epochs per trial
(η = 3 then has 6 rungs: 1, 3, 9, 27, 81, 243) fit on this machine. The updates follow
scikit-learn's ``MLPClassifier`` (Glorot-uniform start, adam with β = 0.9 / 0.999, L2
penalty ``alpha`` / batch size, softmax cross-entropy, rows shuffled every epoch), seeded,
so a configuration's learning curve is deterministic.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

BETAS = (0.9, 0.999)
EPS = 1e-8


def _activate(name: str, z: np.ndarray) -> np.ndarray:
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "tanh":
        return np.tanh(z)
    return 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))


def _slope(name: str, a: np.ndarray) -> np.ndarray:
    """The activation's derivative, from its output ``a``."""
    if name == "relu":
        return (a > 0).astype(a.dtype)
    if name == "tanh":
        return 1.0 - a * a
    return a * (1.0 - a)


def train(params: dict[str, Any], data: tuple[np.ndarray, ...], epochs: int,
          after_epoch: Callable[[int, float], bool]) -> float:
    """Train up to ``epochs`` epochs; ``after_epoch(epoch, validation accuracy)`` returns True
    to stop. Returns the last epoch's validation accuracy."""
    Xa, Xb, ya, yb = data
    classes = int(max(ya.max(), yb.max())) + 1
    rng = np.random.default_rng(0)
    act, hidden, batch = params["activation"], int(params["hidden"]), int(params["batch_size"])
    lr, alpha = float(params["learning_rate_init"]), float(params["alpha"])
    factor = 2.0 if act == "logistic" else 6.0
    d = Xa.shape[1]
    sizes = [d * hidden, hidden, hidden * classes, classes]
    flat = np.empty(sum(sizes))  # every weight in one vector: adam updates it in a few calls
    views, at = [], 0
    for size in sizes:
        views.append(flat[at:at + size])
        at += size
    W1, b1, W2, b2 = (views[0].reshape(d, hidden), views[1],
                      views[2].reshape(hidden, classes), views[3])
    for w, (fan_in, fan_out) in ((W1, (d, hidden)), (b1, (d, hidden)), (W2, (hidden, classes)),
                                 (b2, (hidden, classes))):
        bound = np.sqrt(factor / (fan_in + fan_out))
        w[...] = rng.uniform(-bound, bound, w.shape)
    first, second = np.zeros_like(flat), np.zeros_like(flat)
    onehot = np.eye(classes)[ya]
    step, acc, n = 0, 0.0, len(Xa)
    for epoch in range(1, epochs + 1):
        order = rng.permutation(n)
        for start in range(0, n, batch):
            rows = order[start:start + batch]
            x, t = Xa[rows], onehot[rows]
            a = _activate(act, x @ W1 + b1)
            z = a @ W2 + b2
            p = np.exp(z - z.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            dz = (p - t) / len(rows)
            da = (dz @ W2.T) * _slope(act, a)
            grad = np.concatenate([(x.T @ da + alpha * W1 / len(rows)).ravel(), da.sum(axis=0),
                                   (a.T @ dz + alpha * W2 / len(rows)).ravel(), dz.sum(axis=0)])
            step += 1
            rate = lr * np.sqrt(1 - BETAS[1] ** step) / (1 - BETAS[0] ** step)
            first *= BETAS[0]
            first += (1 - BETAS[0]) * grad
            second *= BETAS[1]
            second += (1 - BETAS[1]) * grad * grad
            flat -= rate * first / (np.sqrt(second) + EPS)
        acc = float(np.mean(np.argmax(_activate(act, Xb @ W1 + b1) @ W2 + b2, axis=1) == yb))
        if after_epoch(epoch, acc):
            break
    return acc
