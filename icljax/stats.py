"""Monte-Carlo means with their standard errors over fresh prompts (shared by theory and estimators)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

Batch = Any


def monte_carlo(stat_fn: Callable[[Batch], jax.Array], sampler: Callable[[jax.Array, int], Batch], key: jax.Array,
                num_prompts: int, chunk: int = 10_000) -> tuple[jax.Array, jax.Array]:
  """Mean and standard error of a per-prompt statistic over at least ``num_prompts`` fresh prompts.

  Prompts are drawn in chunks inside ``jax.lax.map`` so memory stays bounded whatever ``num_prompts`` is.

  Args:
    stat_fn: maps a batch to per-prompt values of shape (B, ...).
    sampler: ``(key, batch_size) -> batch``.
    key: PRNG key.
    num_prompts: number of prompts (rounded up to a multiple of ``chunk``).
    chunk: prompts per chunk.

  Returns:
    ``(mean, standard_error)``, each of the trailing shape of ``stat_fn``'s output.
  """
  chunk = min(chunk, num_prompts)
  num_chunks = -(-num_prompts // chunk)

  def one(k):
    s = stat_fn(sampler(k, chunk))
    return s.mean(0), (s**2).mean(0)

  mean, sq = jax.lax.map(one, jax.random.split(key, num_chunks))
  m = mean.mean(0)
  var = jnp.maximum(sq.mean(0) - m**2, 0.0)
  return m, jnp.sqrt(var / (num_chunks * chunk))


def prompts_used(num_prompts: int, chunk: int = 10_000) -> int:
  """The number of prompts :func:`monte_carlo` actually draws for ``num_prompts`` (a multiple of the chunk).

  Args:
    num_prompts: the requested number.
    chunk: prompts per chunk.

  Returns:
    The number drawn.
  """
  chunk = min(chunk, num_prompts)
  return -(-num_prompts // chunk) * chunk


def mean_se(values: Any, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
  """Mean over independent replicas (seeds, chains, samples) and its standard error, in float64.

  Args:
    values: the replicas' values.
    axis: the replica axis.

  Returns:
    ``(mean, sd / sqrt(n))`` with the sample sd (ddof 1), each of the remaining shape; the error is 0 for one
    replica.
  """
  values = np.asarray(values, np.float64)
  n = values.shape[axis]
  se = values.std(axis, ddof=1) / math.sqrt(n) if n > 1 else np.zeros_like(values.mean(axis))
  return values.mean(axis), se


def t_factor(dof: int, k: float = 4.0) -> float:
  """The Student-t critical value with the two-sided tail of ``k`` normal standard errors, for a standard error
  estimated from ``dof`` degrees of freedom (e.g. R - 1 for the spread of R replicas).

  Args:
    dof: degrees of freedom, >= 1.
    k: the normal multiple whose tail probability is kept (4: 6.3e-5).

  Returns:
    The factor (32.6 at dof = 3, 8.47 at 7, 4.18 at 100; k as dof -> infinity).
  """
  if dof < 1:
    raise ValueError(f"dof={dof}: a standard error needs at least 2 samples")
  tail = math.erfc(k / math.sqrt(2.0)) / 2
  with jax.enable_x64(True):
    upper = lambda t: float(0.5 * jax.scipy.special.betainc(dof / 2, 0.5, dof / (dof + t * t)))
    lo, hi = k, k
    while upper(hi) > tail:
      hi *= 2
    for _ in range(100):   # bisection on the decreasing upper tail
      mid = (lo + hi) / 2
      lo, hi = (mid, hi) if upper(mid) > tail else (lo, mid)
  return hi
