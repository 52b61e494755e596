"""Monte-Carlo means with their standard errors over fresh prompts (shared by theory and estimators)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

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
