"""Finite-L optima of the one-layer denoisers on scaled identities, by Monte Carlo on the theory's own prompts.

At ``W_PV = alpha I``, ``W_KQ = beta I`` the layer's output is ``alpha g`` with ``g`` a pooled context token
(softmax: ``g = sum_t softmax_t(beta <X_t, x>) X_t``; linear: ``g = (beta/L) sum_t X_t <X_t, x>``), so its risk is
the quadratic ``E||x0||^2 - 2 alpha E<g, x0> + alpha^2 E||g||^2`` and, at fixed beta, the best alpha is the
"valley" ``alpha*(beta) = E<g, x0> / E||g||^2``. Everything here draws its own prompts in the coordinates of the
subspace that carries the tokens (the subspace family's d coordinates, the sphere's d+1; the mixture in R^n): the
scaled-identity layer and its error never leave that subspace, and the noise outside it never enters the scores.
This shares no code with the task samplers (``icljax.tasks.icl_denoising``) or the models.

Reference: Smart, Bietti & Sengupta (2025), arXiv 2502.05164, Section 3 and App. G (Fig. 6's valleys); the finite-L
valley is derived in the docs page "icl_denoising" (entry softmax_valley).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
import numpy.typing as npt

from icljax import prng
from icljax._pytree import filter_jit


@dataclasses.dataclass(frozen=True)
class Valley:
  """First and second moments of ``(a, b, c) = (<g, x0>, ||g||^2, ||x0||^2)`` at each beta.

  Attributes:
    betas: the inverse temperatures (m,).
    mean: ``E[(a, b, c)]`` (m, 3), float64.
    cov: their per-prompt covariance (m, 3, 3), float64.
    prompts: the number of prompts M.

  Reference: docs page "icl_denoising", entry softmax_valley.
  """

  betas: np.ndarray
  mean: np.ndarray
  cov: np.ndarray
  prompts: int

  def alpha_star(self) -> np.ndarray:
    """The valley ``alpha*(beta) = E a / E b``.

    Returns:
      ``(m,)``.

    Reference: docs page "icl_denoising", entry softmax_valley.
    """
    return self.mean[:, 0] / self.mean[:, 1]

  def alpha_se(self) -> np.ndarray:
    """Delta-method standard error of :meth:`alpha_star`, ``sqrt(Var(a - alpha* b) / M) / E b``.

    Returns:
      ``(m,)``.

    Reference: docs page "icl_denoising", entry softmax_valley.
    """
    r = self.alpha_star()
    var = self.cov[:, 0, 0] - 2 * r * self.cov[:, 0, 1] + r**2 * self.cov[:, 1, 1]
    return np.sqrt(np.maximum(var, 0.0) / self.prompts) / self.mean[:, 1]

  def risk(self, alpha: np.ndarray) -> np.ndarray:
    """The risk ``E c - 2 alpha E a + alpha^2 E b`` at each beta.

    Args:
      alpha: the value scale at each beta (m,).

    Returns:
      ``(m,)``.

    Reference: docs page "icl_denoising", entry softmax_valley.
    """
    return self.mean[:, 2] - 2 * alpha * self.mean[:, 0] + alpha**2 * self.mean[:, 1]

  def risk_se(self, alpha: np.ndarray) -> np.ndarray:
    """Standard error of :meth:`risk`; at ``alpha*`` the estimate of alpha does not add to it (first order).

    Args:
      alpha: the value scale at each beta (m,).

    Returns:
      ``(m,)``.

    Reference: docs page "icl_denoising", entry softmax_valley.
    """
    w = np.stack([-2 * alpha, alpha**2, np.ones_like(alpha)], -1)
    return np.sqrt(np.maximum(np.einsum("mi,mij,mj->m", w, self.cov, w), 0.0) / self.prompts)


@prng.sampler
def reduced_prompts(key: jax.Array, family: str, L: int, dim: int, sigma0_sq: float, sigma_z_sq: float,
                    radius: float, K: int, batch: int) -> dict[str, jax.Array]:
  """Prompts in the coordinates of the tokens' subspace: ``context (B, L, dim)``, ``target``, ``query (B, dim)``.

  Args:
    key: PRNG key.
    family: ``'subspace'`` (dim = d, tokens ``N(0, sigma0^2 I)``), ``'sphere'`` (dim = d+1, uniform on the
      radius-R sphere) or ``'mixture'`` (dim = n, K centres uniform on the radius-R sphere, cluster variance
      sigma0^2).
    L: clean context tokens.
    dim: the coordinates' dimension.
    sigma0_sq: token or cluster variance.
    sigma_z_sq: noise variance per coordinate.
    radius: R.
    K: mixture components.
    batch: prompts B.

  Returns:
    The prompts.

  Reference: Smart, Bietti & Sengupta (2025), Sections 2.1 and 2.2.1-2.2.3.
  """
  k_x, k_c, k_z = jax.random.split(key, 3)
  if family == "subspace":
    x = math.sqrt(sigma0_sq) * jax.random.normal(k_x, (batch, L + 1, dim))
  elif family == "sphere":
    g = jax.random.normal(k_x, (batch, L + 1, dim))
    x = radius * g / jnp.sqrt(jnp.sum(g * g, -1, keepdims=True))
  else:
    c = jax.random.normal(k_c, (batch, K, dim))
    c = radius * c / jnp.sqrt(jnp.sum(c * c, -1, keepdims=True))
    k_a, k_e = jax.random.split(k_x)
    onehot = jax.nn.one_hot(jax.random.randint(k_a, (batch, L + 1), 0, K), K)
    x = onehot @ c + math.sqrt(sigma0_sq) * jax.random.normal(k_e, (batch, L + 1, dim))
  target = x[:, L]
  return {"context": x[:, :L], "target": target,
          "query": target + math.sqrt(sigma_z_sq) * jax.random.normal(k_z, target.shape)}


def pooled(prompts: dict[str, jax.Array], betas: jax.Array, pool: str) -> jax.Array:
  """The pooled token ``g`` of the scaled-identity layer at ``alpha = 1`` for each beta.

  Args:
    prompts: ``context (B, L, m)`` and ``query (B, m)``.
    betas: inverse temperatures (nb,).
    pool: ``'softmax'`` (``sum_t softmax_t(beta <X_t, x>) X_t``) or ``'linear'`` (``(beta/L) sum_t X_t <X_t, x>``).

  Returns:
    ``(B, nb, m)``.

  Reference: Smart, Bietti & Sengupta (2025), eqs. (11), (12) at ``(I, beta I)``.
  """
  s = jnp.einsum("blm,bm->bl", prompts["context"], prompts["query"])
  if pool == "softmax":
    w = jax.nn.softmax(betas[None, :, None] * s[:, None, :], axis=-1)
  else:
    w = betas[None, :, None] * s[:, None, :] / s.shape[-1]
  return jnp.einsum("bkl,blm->bkm", w, prompts["context"])


def valley(key: jax.Array, family: str, L: int, dim: int, sigma0_sq: float, sigma_z_sq: float, radius: float,
           K: int, betas: Sequence[float] | np.ndarray, *, pool: str = "softmax", prompts: int = 20_000,
           chunk: int = 2000) -> Valley:
  """The moments behind the finite-L valley ``alpha*(beta)`` and its risk, on ``prompts`` fresh prompts.

  Args:
    key: PRNG key.
    family: ``'subspace'``, ``'sphere'`` or ``'mixture'``.
    L: clean context tokens.
    dim: the tokens' subspace dimension (d, d+1 or n).
    sigma0_sq: token or cluster variance.
    sigma_z_sq: noise variance per coordinate.
    radius: R.
    K: mixture components.
    betas: inverse temperatures (any sequence).
    pool: ``'softmax'`` or ``'linear'`` (then ``alpha*(1)`` is linear attention's optimal gamma).
    prompts: number of prompts (rounded up to a multiple of ``chunk``).
    chunk: prompts per step.

  Returns:
    The moments (:class:`Valley`).

  Reference: Smart, Bietti & Sengupta (2025), Section 3 and App. G (Fig. 6, the valley of the (beta, alpha)
  landscape); the finite-L valley is derived in the theorem's docs page.
  """
  betas = np.atleast_1d(np.asarray(betas, np.float64))
  chunk = min(chunk, prompts)
  chunks = -(-prompts // chunk)
  moments = _moments(key, family, L, dim, float(sigma0_sq), float(sigma_z_sq), float(radius), K,
                     jnp.asarray(betas, jnp.float32), pool, chunk, chunks)
  return Valley(betas, *_combine(*moments), chunk * chunks)


@filter_jit
def _moments(key, family, L, dim, sigma0_sq, sigma_z_sq, radius, K, betas, pool, chunk, chunks):
  """Per-chunk means and covariances of (a, b, c) at each beta, combined into the total ones (float64 outside)."""

  def one(k):
    p = reduced_prompts(k, family, L, dim, sigma0_sq, sigma_z_sq, radius, K, chunk)
    g = pooled(p, betas, pool)
    x0 = p["target"][:, None, :]
    v = jnp.stack([jnp.sum(g * x0, -1), jnp.sum(g * g, -1), jnp.broadcast_to(jnp.sum(x0 * x0, -1), g.shape[:2])], -1)
    dev = v - v.mean(0)[None]
    return v.mean(0), jnp.einsum("bki,bkj->kij", dev, dev) / chunk

  return jax.lax.map(one, jax.random.split(key, chunks))


def _combine(means: npt.ArrayLike, covs: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
  means, covs = np.asarray(means, np.float64), np.asarray(covs, np.float64)
  mean = means.mean(0)
  dev = means - mean
  return mean, covs.mean(0) + np.einsum("cki,ckj->kij", dev, dev) / means.shape[0]   # the total covariance
