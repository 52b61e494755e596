"""Monte-Carlo means with their standard errors over fresh prompts (shared by theory and estimators)."""

from __future__ import annotations

import functools
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
    ``(mean, standard_error)``, each of the trailing shape of ``stat_fn``'s output; the error is
    ``sqrt(var / N)`` with the (ddof 0) variance over all N prompts drawn.

  Reference: the Monte Carlo standard error of a sample mean; Robert & Casella, Monte Carlo Statistical Methods
  (2nd ed., 2004), ch. 3.2; docs page "concepts/checks", section "Error bars computed in the run".
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

  Reference: docs page "concepts/checks", section "Error bars computed in the run".
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

  Reference: standard error of a sample mean; Cochran, Sampling Techniques (3rd ed., 1977), ch. 2.
  """
  values = np.asarray(values, np.float64)
  n = values.shape[axis]
  se = values.std(axis, ddof=1) / math.sqrt(n) if n > 1 else np.zeros_like(values.mean(axis))
  return values.mean(axis), se


def batch_means(values: Any, num_batches: int) -> tuple[float, float, int]:
  """Mean of a correlated series (a Markov chain's path, an optimiser's oscillation) with its batch-means standard
  error.

  The series is cut into ``num_batches`` contiguous batches of equal length (the first ``len % num_batches`` values
  are dropped); when a batch is longer than the series' correlation time the batch means are nearly independent, so
  their spread gives the error of the overall mean without modelling the correlation.

  Args:
    values: the series (1-D).
    num_batches: number of batches, >= 2.

  Returns:
    ``(mean, se, dof)``: the mean of the batches used, ``sd(batch means, ddof 1) / sqrt(num_batches)``, and the
    standard error's degrees of freedom ``num_batches - 1`` (for :func:`t_factor`).

  Raises:
    ValueError: if ``num_batches < 2`` or the series has fewer than ``num_batches`` values.

  Reference: batch means; Flegal & Jones (2010), Ann. Statist. 38(2), "Batch means and spectral variance estimators
  in Markov chain Monte Carlo"; docs page "concepts/checks", section "Error bars computed in the run".
  """
  x = np.asarray(values, np.float64).ravel()
  if num_batches < 2 or x.size < num_batches:
    raise ValueError(f"batch_means: {x.size} values cannot make {num_batches} (>= 2) batches")
  size = x.size // num_batches
  means = x[x.size - size * num_batches:].reshape(num_batches, size).mean(1)
  return float(means.mean()), float(means.std(ddof=1) / math.sqrt(num_batches)), num_batches - 1


@functools.cache
def t_factor(dof: int, k: float = 4.0) -> float:
  """The Student-t critical value with the two-sided tail of ``k`` normal standard errors, for a standard error
  estimated from ``dof`` degrees of freedom (e.g. R - 1 for the spread of R replicas).

  Cached: each value costs ~100 eager incomplete-beta evaluations (~0.1 s), and a run asks for the same few values
  many times.

  Args:
    dof: degrees of freedom, >= 1.
    k: the normal multiple whose tail probability is kept (4: 6.3e-5).

  Returns:
    The factor (32.6 at dof = 3, 8.47 at 7, 4.18 at 100; k as dof -> infinity).

  Raises:
    ValueError: if ``dof < 1``.

  Reference: Student t quantile, its tail as a regularised incomplete beta; Abramowitz & Stegun (1964), 26.7;
  Cochran, Sampling Techniques, ch. 2; docs page "concepts/checks", section "Error bars computed in the run".
  """
  if dof < 1:
    raise ValueError(f"dof={dof}: a standard error needs at least 2 samples")
  tail = math.erfc(k / math.sqrt(2.0)) / 2
  with jax.enable_x64(True):
    return _invert_upper_tail(lambda t: float(0.5 * jax.scipy.special.betainc(dof / 2, 0.5, dof / (dof + t * t))),
                              tail, k, k)


def _invert_upper_tail(upper: Callable[[float], float], tail: float, lo: float, hi: float) -> float:
  """The point where a decreasing upper-tail function crosses ``tail``: ``hi`` doubles until it brackets the
  crossing, then 100 bisection steps (``lo`` must satisfy ``upper(lo) > tail`` or be the left end of the domain)."""
  while upper(hi) > tail:
    lo, hi = hi, 2 * hi
  for _ in range(100):
    mid = (lo + hi) / 2
    lo, hi = (mid, hi) if upper(mid) > tail else (lo, mid)
  return hi


def chi2_isf(dof: float, tail: float) -> float:
  """The value a chi-square variable with ``dof`` (real, > 0) degrees of freedom exceeds with probability ``tail``.

  Args:
    dof: degrees of freedom, > 0 (need not be an integer).
    tail: the upper tail probability, in (0, 1).

  Returns:
    ``x`` with ``P(chi2_dof > x) = tail`` (bisection on the regularised upper incomplete gamma, float64).

  Raises:
    ValueError: unless ``dof > 0`` and ``0 < tail < 1``.

  Reference: chi-square upper tail as the regularised incomplete gamma ``Q(dof/2, x/2)``; Abramowitz & Stegun
  (1964), 26.4.
  """
  if not (dof > 0 and 0 < tail < 1):
    raise ValueError(f"chi2_isf(dof={dof}, tail={tail}): expected dof > 0 and 0 < tail < 1")
  with jax.enable_x64(True):
    return _invert_upper_tail(lambda x: float(jax.scipy.special.gammaincc(dof / 2, x / 2)), tail, 0.0,
                              max(float(dof), 1.0))


def quadratic_form_quantile(weights: Any, k: float = 4.0) -> float:
  """The upper quantile of ``Q = sum_i w_i z_i^2`` (``z_i`` i.i.d. N(0, 1), ``w_i >= 0``) whose tail is that of
  ``k`` normal standard errors, two-sided (6.3e-5 at k = 4): the false-alarm rate of a ``k`` s.e. check.

  Liu, Tang & Zhang's (2009) chi-square approximation: a chi-square with ``c2^3 / c3^2`` degrees of freedom,
  shifted and scaled to Q's mean, variance and skewness (``c_j = sum_i w_i^j``). Exact when the weights are equal;
  tested against Monte Carlo for unequal ones.

  Args:
    weights: the non-negative weights (eigenvalues of the quadratic form's covariance); zeros are ignored.
    k: the normal multiple whose two-sided tail probability is kept.

  Returns:
    The quantile (0 when every weight is 0).

  Reference: Liu, Tang & Zhang (2009), Comput. Stat. Data Anal. 53(4), the central case.
  """
  w = np.asarray(weights, np.float64).ravel()
  if np.any(w < -1e-12 * max(1.0, float(np.max(np.abs(w), initial=0.0)))):
    raise ValueError(f"quadratic_form_quantile: negative weight {float(w.min())}")
  w = w[w > 0]
  if w.size == 0:
    return 0.0
  c1, c2, c3 = float(w.sum()), float((w**2).sum()), float((w**3).sum())
  dof = c2**3 / c3**2
  x = chi2_isf(dof, math.erfc(k / math.sqrt(2.0)))
  return c1 + math.sqrt(2 * c2) * (x - dof) / math.sqrt(2 * dof)


def sandwich_covariance(per_example_loss: Callable[[jax.Array, Batch], jax.Array], theta: jax.Array, data: Batch,
                        size: int, chunk: int = 1000) -> np.ndarray:
  """First-order covariance of the minimiser of a sample average of ``size`` i.i.d. losses: ``H^+ V H^+ / size``.

  An estimate that minimises ``(1/M) sum_i l(theta; z_i)`` differs from the population minimiser by about
  ``-H^-1 (1/M) sum_i grad l(theta*; z_i)`` (an M-estimator), whose covariance is ``H^-1 V H^-1 / M`` with ``H``
  the mean Hessian and ``V`` the covariance of per-example gradients. Both are estimated at ``theta`` on ``data``,
  examples independent of the training sample; ``H``'s pseudo-inverse leaves directions the loss does not see at 0.

  Args:
    per_example_loss: ``(theta (p,), batch) -> (B,)`` losses, vectorised over the batch.
    theta: the flat parameters (p,), e.g. a trained minimiser.
    data: a batch (pytree with a leading example axis, a multiple of ``chunk`` when larger than it).
    size: M, the number of examples the minimised objective averaged.
    chunk: examples per step of the per-example Jacobian (memory: p x chunk tangents).

  Returns:
    (p, p) covariance, float64.

  Raises:
    ValueError: if the number of examples is not a multiple of ``chunk``.

  Reference: sandwich covariance of an M-estimator; Huber (1967), Proc. Fifth Berkeley Symp. 1; White (1980),
  Econometrica 48(4); van der Vaart, Asymptotic Statistics (1998), ch. 5.3.
  """
  batch = jax.tree.leaves(data)[0].shape[0]
  chunk = min(chunk, batch)
  if batch % chunk:
    raise ValueError(f"sandwich_covariance: {batch} examples is not a multiple of the chunk {chunk}")
  blocks = jax.tree.map(lambda a: a.reshape((batch // chunk, chunk) + a.shape[1:]), data)
  mean_loss = lambda t, b: jnp.mean(per_example_loss(t, b))
  with jax.enable_x64(True):
    theta = jnp.asarray(theta, jnp.float64)
    blocks = jax.tree.map(lambda a: jnp.asarray(a, jnp.float64) if jnp.issubdtype(a.dtype, jnp.floating) else a,
                          blocks)
    grads, hessians = jax.jit(lambda t, bl: jax.lax.map(
        lambda b: (jax.jacfwd(per_example_loss)(t, b), jax.hessian(mean_loss)(t, b)), bl))(theta, blocks)
    grads = np.asarray(grads, np.float64).reshape(batch, -1)
    hessian = np.asarray(hessians, np.float64).mean(0)
  inv = np.linalg.pinv((hessian + hessian.T) / 2, rcond=1e-10, hermitian=True)
  return inv @ np.cov(grads, rowvar=False) @ inv / size
