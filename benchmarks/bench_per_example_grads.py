"""Per-example gradients for a batch of 256: vmap(grad) vs a NumPy loop (and JAX when installed).

    python benchmarks/bench_per_example_grads.py            # batch 256
    python benchmarks/bench_per_example_grads.py --batch 64 --repeats 5

Two models: logistic regression (100 features, L2 penalty) and a small MLP (32 -> 64 tanh -> 10,
softmax cross-entropy). The baseline is what you would write without vmap: a Python loop over
the examples, each one a hand-written NumPy forward and backward pass. All variants are checked
against that loop before anything is timed.

Prints the median time of each variant and its speed-up over the loop, measured in one run
(the target for ``jit(vmap(grad(loss)))`` is >= 10x). Nothing is asserted.

Why the MLP gains less than logistic regression: the loop's per-example cost there is real
arithmetic (two small matmuls and two outer products), not just Python overhead, and the batched
outer products (256 x 64 x 32 floats) are memory-bound -- real JAX shows the same ratio.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import minijax  # noqa: E402
import minijax.numpy as jnp  # noqa: E402

try:  # the optional oracle
    import jax
    import jax.numpy as rjnp
    jax.config.update("jax_platform_name", "cpu")
except ImportError:  # pragma: no cover
    jax = rjnp = None

D_IN, HIDDEN, CLASSES = 32, 64, 10
FEATURES = 100


# ---------------------------------------------------------------------------
# Logistic regression
# ---------------------------------------------------------------------------
def logreg_init(rng):
    return {"w": (rng.normal(size=FEATURES) * 0.1).astype(np.float32), "b": np.float32(0.1)}


def logreg_make_loss(np_like):
    def loss(params, x, y):
        logit = np_like.dot(x, params["w"]) + params["b"]
        return np_like.logaddexp(0.0, logit) - y * logit + 0.01 * np_like.sum(params["w"] ** 2)
    return loss


def logreg_numpy_loop(params, xs, ys):
    w, b = params["w"], params["b"]
    out = {"w": np.empty((len(xs), FEATURES), np.float32), "b": np.empty(len(xs), np.float32)}
    for i in range(len(xs)):
        p = 1.0 / (1.0 + np.exp(-(xs[i] @ w + b)))
        out["w"][i] = (p - ys[i]) * xs[i] + 0.02 * w
        out["b"][i] = p - ys[i]
    return out


def logreg_data(rng, batch):
    xs = rng.normal(size=(batch, FEATURES)).astype(np.float32)
    return xs, (rng.random(batch) < 0.5).astype(np.float32)


# ---------------------------------------------------------------------------
# MLP
# ---------------------------------------------------------------------------


def mlp_init(rng):
    return {"w1": (rng.normal(size=(D_IN, HIDDEN)) / np.sqrt(D_IN)).astype(np.float32),
            "b1": np.zeros(HIDDEN, np.float32),
            "w2": (rng.normal(size=(HIDDEN, CLASSES)) / np.sqrt(HIDDEN)).astype(np.float32),
            "b2": np.zeros(CLASSES, np.float32)}


def mlp_make_loss(np_like):
    """One example's loss, for minijax.numpy or jax.numpy (the same code)."""
    def loss(params, x, y):
        h = np_like.tanh(x @ params["w1"] + params["b1"])
        logits = h @ params["w2"] + params["b2"]
        logits = logits - np_like.max(logits)
        log_probs = logits - np_like.log(np_like.sum(np_like.exp(logits)))
        return -np_like.sum(log_probs * y)
    return loss


def mlp_numpy_loop(params, xs, ys):
    """The baseline: per-example backprop by hand, one example at a time."""
    w1, b1, w2, b2 = params["w1"], params["b1"], params["w2"], params["b2"]
    out = {k: np.empty((len(xs),) + v.shape, v.dtype) for k, v in params.items()}
    for i in range(len(xs)):
        x, y = xs[i], ys[i]
        h = np.tanh(x @ w1 + b1)
        logits = h @ w2 + b2
        e = np.exp(logits - logits.max())
        d_logits = e / e.sum() * y.sum() - y          # d loss / d logits
        d_h = (w2 @ d_logits) * (1 - h * h)
        out["w2"][i] = np.outer(h, d_logits)
        out["b2"][i] = d_logits
        out["w1"][i] = np.outer(x, d_h)
        out["b1"][i] = d_h
    return out


def mlp_data(rng, batch):
    xs = rng.normal(size=(batch, D_IN)).astype(np.float32)
    return xs, np.eye(CLASSES, dtype=np.float32)[rng.integers(0, CLASSES, batch)]


MODELS = {
    f"logistic regression ({FEATURES} features)":
        (logreg_init, logreg_make_loss, logreg_numpy_loop, logreg_data),
    f"MLP {D_IN}->{HIDDEN}->{CLASSES}": (mlp_init, mlp_make_loss, mlp_numpy_loop, mlp_data),
}


from run import median_time  # noqa: E402  (benchmarks/run.py: one timing method for all benchmarks)


def block(tree):
    for leaf in minijax.tree_util.tree_leaves(tree):
        if hasattr(leaf, "block_until_ready"):
            leaf.block_until_ready()
    return tree


def check(name, got, want):
    for k in want:
        np.testing.assert_allclose(np.asarray(got[k]), want[k], rtol=2e-4, atol=2e-5,
                                   err_msg=f"{name}: gradient of {k}")


def bench(title, model, batch, repeats):
    init, make_loss, numpy_loop, data = model
    rng = np.random.default_rng(0)
    params = init(rng)
    xs, ys = data(rng, batch)

    eager = minijax.vmap(minijax.grad(make_loss(jnp)), in_axes=(None, 0, 0))
    jitted = minijax.jit(eager)
    m_params = {k: jnp.asarray(v) for k, v in params.items()}
    m_xs, m_ys = jnp.asarray(xs), jnp.asarray(ys)

    variants = [("numpy loop (hand-written backprop)", lambda: numpy_loop(params, xs, ys)),
                ("minijax vmap(grad(loss))", lambda: block(eager(m_params, m_xs, m_ys))),
                ("minijax jit(vmap(grad(loss)))", lambda: block(jitted(m_params, m_xs, m_ys)))]
    if jax is not None:
        j_jitted = jax.jit(jax.vmap(jax.grad(make_loss(rjnp)), in_axes=(None, 0, 0)))
        j_params = {k: rjnp.asarray(v) for k, v in params.items()}
        j_xs, j_ys = rjnp.asarray(xs), rjnp.asarray(ys)
        variants.append(("JAX jit(vmap(grad(loss)))",
                         lambda: block(j_jitted(j_params, j_xs, j_ys))))

    want = numpy_loop(params, xs, ys)
    for name, fn in variants[1:]:
        check(name, fn(), want)

    print(f"per-example gradients, {title}, batch {batch}, float32 (medians of >= {repeats} runs)")
    base = None
    for name, fn in variants:
        t = median_time(fn, repeats)
        base = base or t
        print(f"  {name:38s} {t * 1e3:9.3f} ms   {base / t:7.1f}x vs loop")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args(argv)
    for title, model in MODELS.items():
        bench(title, model, args.batch, args.repeats)


if __name__ == "__main__":
    main()
