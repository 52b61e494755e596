"""Sufficient statistics of in-context regression prompts, and samplers that draw them directly.

A one-layer *linear* attention sees the context only through the token Gram matrix ``sum_i v_i v_i^T``
(``models.lsa.apply`` on statistics), so a batch of statistics ``{'gram', 'x_query', 'y_query'}`` is all a loss
needs. ``sample_statistics`` draws them through the Wishart law (Bartlett's decomposition) without the tokens.

Reference: Bartlett's decomposition of the Wishart law (e.g. Muirhead 1982, Theorem 3.2.14); docs page "lsa",
section "Setting" (the estimators).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from icljax import prng, validation
from icljax.tasks.regression import RegressionSpec, sample

SAMPLERS = ("auto", "direct", "wishart")


def statistics(prompts: dict[str, jax.Array]) -> dict[str, jax.Array]:
  """Sufficient statistics of raw prompts: ``gram = sum_{i<=n} v_i v_i^T`` (B, d+1, d+1), ``v_i = [x_i; y_i]``,
  with the query ``x_query`` (B, d) and its label ``y_query`` (B,).

  Args:
    prompts: raw prompts from :func:`sample`.

  Returns:
    ``{'gram', 'x_query', 'y_query'}``.

  Reference: docs page "lsa", section "Setting" (a linear attention sees the context through its Gram matrix).
  """
  v = jnp.concatenate([prompts["x"], prompts["y"][..., None]], axis=-1)
  return {"gram": outer_sum(v, v, axis=1), "x_query": prompts["x_query"], "y_query": prompts["y_query"]}


def outer_sum(a: jax.Array, b: jax.Array, axis: int) -> jax.Array:
  """``sum_k a[..., k, ..., i] b[..., k, ..., j]`` over ``axis``, as one fused elementwise product and reduction.

  XLA's CPU backend runs a batched dot of many small matrices as one small GEMM call per batch element; for
  (d+1) x (d+1) Gram matrices this broadcast-and-reduce form is faster (with the Bartlett factor placed by two
  constant GEMMs, the Wishart statistics of 4096 prompts at d = 5 took 4.8 ms instead of 12.0 ms).

  Args:
    a: array with the summed axis and a trailing axis i.
    b: array with the summed axis and a trailing axis j.
    axis: the summed axis.

  Returns:
    The summed outer products, trailing shape (i, j).

  Reference: plumbing (a faster form of ``einsum``); docs page "lsa", section "Setting".
  """
  return jnp.sum(a[..., :, None] * b[..., None, :], axis=axis)


def resolve_sampler(spec: RegressionSpec, method: str) -> str:
  """The statistics sampler ``'direct'`` or ``'wishart'`` that ``method`` means for ``spec``.

  ``'wishart'`` needs linear targets (Gaussian tokens) and ``n >= d + 1`` (Bartlett's decomposition of a
  non-singular Wishart matrix); ``'auto'`` takes it from ``n >= 3 (d + 1)`` on, where it is the faster one: it
  draws ``d(d+1)/2 + 2d + 1`` normals and ``d + 1`` chi-squares per prompt instead of ``(n+1)(d+1) + d``
  normals. Measured at d = 5 (``benchmarks/lsa_step.py``, whole training step): Wishart/direct = 0.54 at n = 6,
  0.77 at n = 12, 1.11 at n = 20, 1.36 at n = 24, 2.1 at n = 48 and 6.7 at n = 200.

  Args:
    spec: the prompt distribution.
    method: ``'auto'``, ``'direct'`` or ``'wishart'``.

  Returns:
    ``'direct'`` or ``'wishart'``; a Wishart request that cannot be met raises ``ConfigError``.

  Reference: docs page "lsa", section "Setting" (the estimators).
  """
  validation.choice("sampler", method, SAMPLERS)
  ok = spec.target == "linear" and spec.n >= spec.d + 1
  if method == "wishart" and not ok:
    raise validation.ConfigError("sampler", method, "'direct' or 'auto' unless targets are linear and n >= d + 1")
  if method == "auto":
    return "wishart" if ok and spec.n >= 3 * (spec.d + 1) else "direct"
  return method


@prng.sampler
def chi_square(key: jax.Array, dof: jax.Array) -> jax.Array:
  """Exact chi-square variates of the given (positive) degrees of freedom, one per entry of ``dof``.

  ``chi^2(k) = 2 Gamma(k/2)``, with Gamma drawn by Marsaglia & Tsang (2000) for shape ``a >= 1`` and the boost
  ``Gamma(a) = Gamma(a + 1) U^{1/a}`` for ``a < 1``. Every entry proposes ``d v``, ``v = (1 + c z)^3``, and is
  accepted if ``log u < z^2/2 + d - d v + d log v``; all entries are re-proposed while any is still rejected and
  each keeps its first accepted proposal, so the law is exact. The acceptance rate is >= 95%, so a batch needs a
  few rounds: ~4x the throughput of ``jax.random.gamma`` on the 2-core CPU (24,576 draws of dof 15..20: 1.5 ms
  against 5.7 ms). Re-drawing only the rejected entries (gather, re-propose, scatter) was tried and was no faster
  at these sizes. Moments and a Kolmogorov-Smirnov test against scipy are in ``tests/test_tasks_regression.py``.

  Args:
    key: PRNG key.
    dof: degrees of freedom (> 0), any shape.

  Returns:
    Variates of the shape of ``dof``.

  Reference: Marsaglia and Tsang (2000), "A simple method for generating gamma variables", ACM TOMS 26(3).
  """
  key, k_boost = jax.random.split(key)
  shape = dof / 2.0
  boost = shape < 1.0
  a = jnp.where(boost, shape + 1.0, shape)
  d = a - 1.0 / 3.0
  c = 1.0 / jnp.sqrt(9.0 * d)

  def propose(k):
    k_z, k_u = jax.random.split(k)
    z = jax.random.normal(k_z, a.shape)
    u = jax.random.uniform(k_u, a.shape)
    v = (1.0 + c * z) ** 3
    ok = (v > 0) & (jnp.log(u) < 0.5 * z * z + d - d * v + d * jnp.log(jnp.where(v > 0, v, 1.0)))
    return d * v, ok

  def body(state):
    x, ok, i = state
    x_new, ok_new = propose(jax.random.fold_in(key, i))
    return jnp.where(ok, x, x_new), ok | ok_new, i + 1

  x, _, _ = jax.lax.while_loop(lambda s: ~jnp.all(s[1]), body, (*propose(jax.random.fold_in(key, 0)), 1))
  u = jax.random.uniform(k_boost, a.shape, minval=jnp.finfo(a.dtype).tiny)
  x = jnp.where(boost, x * u ** (1.0 / jnp.where(boost, shape, 1.0)), x)
  return 2.0 * x


@prng.sampler
def sample_statistics(key: jax.Array, spec: RegressionSpec, batch_size: int,
                      method: str = "auto") -> dict[str, jax.Array]:
  """Draws the sufficient statistics of ``batch_size`` independent prompts (see :func:`statistics`).

  ``'direct'`` is ``statistics(sample(key, ...))``. ``'wishart'`` draws the same law without the tokens: given
  w*, a token is ``v = L xi`` with ``xi ~ N(0, I_{d+1})`` and ``L = [[S^1/2, 0], [(S^1/2 w*)^T, sigma]]``
  (``L L^T = Cov(v | w*)``; sigma = 0 is allowed), so ``gram = L W L^T`` with ``W ~ Wishart(I_{d+1}, n)``,
  drawn by Bartlett's decomposition ``W = A A^T``: A lower triangular, ``A_jj^2 ~ chi^2(n - j)`` (j = 0..d),
  ``A_jk ~ N(0, 1)`` below the diagonal, all independent. The query is drawn directly with the same w*. The
  law is exact (tested against the direct sampler's first and second moments, and E[gram] in closed form).

  Args:
    key: PRNG key.
    spec: the prompt distribution.
    batch_size: number of prompts B.
    method: ``'auto'``, ``'direct'`` or ``'wishart'`` (:func:`resolve_sampler`).

  Returns:
    ``{'gram' (B, d+1, d+1), 'x_query' (B, d), 'y_query' (B,)}``.

  Reference: Bartlett's decomposition (Muirhead 1982, Theorem 3.2.14); docs page "lsa", section "Setting".
  """
  method = resolve_sampler(spec, method)
  if method == "direct":
    return statistics(sample(key, spec, batch_size))
  d, n, p = spec.d, spec.n, spec.d + 1
  k_task, k_chi, k_tri, k_q, k_noise = jax.random.split(key, 5)
  w = spec.task_weights(jax.random.normal(k_task, (batch_size, d)))
  dof = (n - jnp.arange(p)).astype(jnp.float32)
  diag = jnp.sqrt(chi_square(k_chi, jnp.broadcast_to(dof, (batch_size, p))))
  # Bartlett factor A, (B, p, p): exactly p(p-1)/2 normals below the diagonal, placed by constant 0/1 matrices
  # (two dense GEMMs instead of a scatter or a masked p x p draw).
  rows, cols = np.tril_indices(p, -1)
  below = np.zeros((rows.size, p * p), np.float32)
  below[np.arange(rows.size), rows * p + cols] = 1.0
  on_diag = np.zeros((p, p * p), np.float32)
  on_diag[np.arange(p), np.arange(p) * (p + 1)] = 1.0
  a = (jax.random.normal(k_tri, (batch_size, rows.size)) @ below + diag @ on_diag).reshape(batch_size, p, p)
  # L A with L = [[S^1/2, 0], [(S^1/2 w)^T, sigma]]: rows 0..d-1 are S^1/2 A[:d], row d is b^T A[:d] + sigma A[d].
  top = jnp.einsum("ij,bjk->bik", spec.sqrt_cov, a[:, :d])
  bottom = jnp.sum((w @ spec.sqrt_cov)[:, :, None] * a[:, :d], 1) + spec.sigma * a[:, d]
  la = jnp.concatenate([top, bottom[:, None, :]], 1)
  x_query = jax.random.normal(k_q, (batch_size, d)) @ spec.sqrt_cov
  y_query = jnp.sum(x_query * w, -1) + spec.sigma * jax.random.normal(k_noise, (batch_size,))
  gram = jnp.sum(la[:, :, None, :] * la[:, None, :, :], -1)    # (L A)(L A)^T, fused as in outer_sum
  return {"gram": gram, "x_query": x_query, "y_query": y_query}
