"""optax pieces the papers need that optax lacks."""

from __future__ import annotations

from typing import Any

import jax
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
