"""optax pieces the papers need that optax lacks."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax


def scale_by_tree(scales: Any) -> optax.GradientTransformation:
  """Multiplies each update leaf by a constant of the same (or broadcastable) shape.

  Used for full-matrix GD restricted to the 1-NN family, where the xi1 step is eta/d and the xi2 step is eta
  (Li et al. 2024, Lemma 2): ``optax.chain(optax.sgd(eta), scale_by_tree({'xi': [1/d, 1]}))``.

  Args:
    scales: a pytree of the updates' structure whose leaves multiply the matching update leaves.

  Returns:
    A stateless transformation (``optax.stateless``).

  Reference: Li et al. (2024), Lemma 2 (the two-parameter reduction of W to (xi1, xi2)); docs page
  "nearest_neighbor".
  """
  return optax.stateless(lambda updates, params: jax.tree.map(lambda u, s: u * s, updates, scales))


def normalize_per_tensor() -> optax.GradientTransformation:
  """Divides each gradient tensor by its own Frobenius norm; a tensor whose gradient is exactly zero is skipped
  (its update is 0, never NaN). Chain with ``optax.sgd(eta)`` for the paper's normalised GD.

  Returns:
    The transformation.

  Reference: Nguyen & Nguyen-Tang (2025), Thm 3.2's normalised GD as the authors' released code implements it (per
  tensor, zero gradients skipped); docs page "recall", section "Setting".
  """

  def one(g):
    # Scale by max|g| first so that tiny nonzero gradients (whose squares underflow) still take a full step.
    top = jnp.max(jnp.abs(g))
    unit = g / jnp.where(top > 0, top, 1.0)
    return jnp.where(top > 0, unit / jnp.sqrt(jnp.sum(unit * unit)), jnp.zeros_like(g))

  return optax.stateless(lambda updates, params: jax.tree.map(one, updates))


def normalized_gd(learning_rate: float) -> optax.GradientTransformation:
  """Per-tensor normalised gradient descent: ``theta <- theta - eta g / |g|`` (skip when ``g = 0``).

  Args:
    learning_rate: the step eta.

  Returns:
    The transformation.

  Reference: Nguyen & Nguyen-Tang (2025), Thm 3.2 (normalised GD); docs page "recall", section "Setting".
  """
  return optax.chain(normalize_per_tensor(), optax.sgd(learning_rate))


def scale_by_adam(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> optax.GradientTransformation:
  """``optax.scale_by_adam`` with the same state and the same update in exact arithmetic, written so that XLA
  compiles it to the same float operations in every program.

  optax divides the moments by the scalar bias correction ``1 - b**t``. XLA's algebraic simplifier rewrites
  ``x / broadcast(c)`` into ``x * broadcast(1 / c)`` in some programs and not in others (it did in the 1-device
  and not in the 8-device ``shard_map`` program of a sweep), which changes the last bit of the update. Here the
  reciprocals are taken explicitly on scalars, so the array arithmetic is multiplications only, whatever the
  program around it; the sweep's 1-vs-8-device results are then bitwise identical (``tests/test_sweep.py``).

  Args:
    b1: decay rate of the first moment.
    b2: decay rate of the second moment.
    eps: added to the bias-corrected root second moment in the denominator.

  Returns:
    The transformation (``optax.ScaleByAdamState`` state, as optax's).

  Reference: Kingma & Ba (2015), Adam, Algorithm 1; docs page "concepts/runs", section "Sweeps" (results bitwise
  identical on 1 and 8 devices).
  """
  base = optax.scale_by_adam(b1, b2, eps)

  def update_fn(updates, state, params=None):
    del params
    mu = jax.tree.map(lambda m, g: (1 - b1) * g + b1 * m, state.mu, updates)
    nu = jax.tree.map(lambda v, g: (1 - b2) * (g * g) + b2 * v, state.nu, updates)
    count = optax.safe_increment(state.count)
    t = count.astype(jnp.float32)
    inv_c1 = 1.0 / (1.0 - jnp.power(jnp.float32(b1), t))
    inv_c2 = 1.0 / (1.0 - jnp.power(jnp.float32(b2), t))
    out = jax.tree.map(lambda m, v: (m * inv_c1.astype(m.dtype)) / (jnp.sqrt(v * inv_c2.astype(v.dtype)) + eps),
                       mu, nu)
    return out, optax.ScaleByAdamState(count=count, mu=mu, nu=nu)

  return optax.GradientTransformation(base.init, update_fn)


def adam(learning_rate: optax.ScalarOrSchedule) -> optax.GradientTransformation:
  """Adam with :func:`scale_by_adam` (device-count independent arithmetic) and optax's learning-rate scaling.

  Args:
    learning_rate: a constant step or an optax schedule.

  Returns:
    The transformation (default ``b1``, ``b2``, ``eps`` of :func:`scale_by_adam`).

  Reference: Kingma & Ba (2015), Adam, Algorithm 1.
  """
  return optax.chain(scale_by_adam(), optax.scale_by_learning_rate(learning_rate))
