"""Population-loss estimators: Monte Carlo over fresh prompts, over a fixed sample, or a fixed finite set.

Every estimator is built from a per-batch loss ``loss_fn(params, batch) -> scalar`` and a sampler
``sampler(key, batch_size) -> batch``; the objectives returned are pure functions ``(params, key) -> scalar`` that
jit, vmap (over parameters and keys) and differentiate.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from icljax.theory import nearest_neighbor as nn_theory

Batch = Any
LossFn = Callable[[Any, Batch], jax.Array]
Sampler = Callable[[jax.Array, int], Batch]


def squared_error(predict: Callable[[Any, Batch], jax.Array], target_key: str = "y_query") -> LossFn:
  """Mean squared error (no factor 1/2) of ``predict(params, batch)`` against ``batch[target_key]``.

  Args:
    predict: ``(params, batch) -> predictions``.
    target_key: the batch field holding the targets.

  Returns:
    ``loss(params, batch) -> scalar``.

  Reference: squared-error loss; Hastie, Tibshirani & Friedman, The Elements of Statistical Learning (2nd ed.,
  2009), section 2.4.
  """

  def loss(params, batch):
    return jnp.mean((predict(params, batch) - batch[target_key]) ** 2)

  return loss


def fresh(loss_fn: LossFn, sampler: Sampler, batch_size: int) -> Callable[[Any, jax.Array], jax.Array]:
  """Unbiased estimate of the population loss on ``batch_size`` fresh prompts drawn from ``key``.

  Args:
    loss_fn: ``(params, batch) -> scalar``.
    sampler: ``(key, batch_size) -> batch``.
    batch_size: prompts per evaluation.

  Returns:
    ``objective(params, key) -> scalar``.

  Reference: Monte Carlo estimate of the population risk; Shalev-Shwartz & Ben-David, Understanding Machine
  Learning (2014), ch. 14 (SGD on fresh samples minimises the population risk).
  """

  def objective(params, key):
    return loss_fn(params, sampler(key, batch_size))

  return objective


def fixed(loss_fn: LossFn, batch: Batch) -> Callable[[Any, jax.Array], jax.Array]:
  """Empirical loss on one fixed sample of prompts (the key is ignored).

  Args:
    loss_fn: ``(params, batch) -> scalar``.
    batch: the sample.

  Returns:
    ``objective(params, key) -> scalar``.

  Reference: empirical risk; Shalev-Shwartz & Ben-David, Understanding Machine Learning (2014), ch. 2.
  """

  def objective(params, key):
    del key
    return loss_fn(params, batch)

  return objective


def nn_reduced(tau: jax.Array) -> Callable[[jax.Array, jax.Array], jax.Array]:
  """``(xi, key) -> loss`` of the reduced 1-NN system on a fixed sample of inner products (B, N), prepared once.

  Reference: Li et al. (2024), Lemma 2 (the two-parameter reduction of W to (xi1, xi2)); docs page "nearest_neighbor".

  Args:
    tau: inner products (B, N).

  Returns:
    ``objective(xi, key) -> scalar``.
  """
  tau_blocks = nn_theory.prepare_tau(tau)
  return lambda xi, key: nn_theory.reduced_loss(xi, tau_blocks)


def fixed_minibatch(loss_fn: LossFn, data: Batch, batch_size: int,
                    replace: bool = False) -> Callable[[Any, jax.Array], jax.Array]:
  """Loss on ``batch_size`` examples of a fixed finite set, drawn afresh from each key.

  Each step sees a uniformly random subset (without replacement within the batch unless ``replace``, independent
  across steps); over ``M / batch_size`` steps that is one epoch in expectation. Without replacement the draw is a
  permutation of all M indices (O(M) per step); with replacement it is ``batch_size`` uniform indices, which is what
  makes SGD on a large set cheap (20x faster at M = 1e4, batch 128).

  Args:
    loss_fn: ``(params, batch) -> scalar``.
    data: the finite set (leading axis M).
    batch_size: examples per step (<= M).
    replace: draw the batch's indices with replacement.

  Returns:
    ``objective(params, key) -> scalar``.

  Reference: minibatch SGD on the empirical risk of a finite training set; Bottou, Curtis & Nocedal (2018),
  "Optimization methods for large-scale machine learning", SIAM Review 60(2).
  """
  size = jax.tree.leaves(data)[0].shape[0]

  def objective(params, key):
    if replace:
      idx = jax.random.randint(key, (batch_size,), 0, size)
    else:
      idx = jax.random.choice(key, size, (batch_size,), replace=False)
    return loss_fn(params, jax.tree.map(lambda a: a[idx], data))

  return objective
