"""optax pieces the papers need that optax lacks."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax


def scale_by_tree(scales: Any) -> optax.GradientTransformation:
  """Multiplies each update leaf by a constant of the same (or broadcastable) shape.

  Used for full-matrix GD restricted to the 1-NN family, where the xi1 step is eta/d and the xi2 step is eta
  (Li et al., digest section 4): ``optax.chain(optax.sgd(eta), scale_by_tree({'xi': [1/d, 1]}))``.
  """

  def init_fn(params):
    del params
    return optax.EmptyState()

  def update_fn(updates, state, params=None):
    del params
    return jax.tree.map(lambda u, s: u * s, updates, scales), state

  return optax.GradientTransformation(init_fn, update_fn)


def normalize_per_tensor() -> optax.GradientTransformation:
  """Divides each gradient tensor by its own Frobenius norm; a tensor whose gradient is exactly zero is skipped
  (its update is 0, never NaN). Chain with ``optax.sgd(eta)`` for the paper's normalised GD.

  Reference: Nguyen & Nguyen-Tang (2025) NGD, as in the authors' code (digest sections 3.1 and 6.2).
  """

  def init_fn(params):
    del params
    return optax.EmptyState()

  def update_fn(updates, state, params=None):
    del params

    def one(g):
      # Scale by max|g| first so that tiny nonzero gradients (whose squares underflow) still take a full step.
      top = jnp.max(jnp.abs(g))
      safe = jnp.where(top > 0, top, 1.0)
      unit = g / safe
      return jnp.where(top > 0, unit / jnp.sqrt(jnp.sum(unit * unit)), jnp.zeros_like(g))

    return jax.tree.map(one, updates), state

  return optax.GradientTransformation(init_fn, update_fn)


def normalized_gd(learning_rate: float) -> optax.GradientTransformation:
  """Per-tensor normalised gradient descent: ``theta <- theta - eta g / |g|`` (skip when ``g = 0``)."""
  return optax.chain(normalize_per_tensor(), optax.sgd(learning_rate))
