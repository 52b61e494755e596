"""Closed forms of in-context denoising (Smart, Bietti & Sengupta 2025): Bayes-optimal denoisers and risks, the exact
with the sphere's risk by Gauss quadrature.

Conventions: n ambient dimension, L clean context tokens, risks are TOTAL squared errors ``E||f(x) - X||^2`` (the
paper's plots show them divided by n). ``gamma = alpha beta`` for scaled identities ``W_PV = alpha I``,
``W_KQ = beta I``. The finite-L softmax valleys and the Monte-Carlo optima are in
``icljax.theory.icl_denoising_mc``, the energies of Section 4 in ``icljax.theory.icl_denoising_energy``, linear
attention's finite-L optimum and the balanced weights of plain GD in ``icljax.theory.icl_denoising_linear``.

Reference: Smart, Bietti & Sengupta (2025), arXiv 2502.05164, Props. 1-4 (Sections 2.2.1-2.2.3, App. C); the
quadrature is derived in the docs page "icl_denoising".
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

# Depth of the backward continued fraction of the Bessel ratio; its tail starts from Amos's approximation, so the
# ratio is exact to float64 rounding up to kappa ~ 1e4 (tests compare with scipy).
BESSEL_TERMS = 400


def bessel_ratio(p: float, kappa: jax.Array, terms: int = BESSEL_TERMS) -> jax.Array:
  """``A_p(kappa) = I_{p/2}(kappa) / I_{p/2-1}(kappa)``, the mean resultant length of the von Mises-Fisher law on
  ``S^{p-1}`` (a backward continued fraction, ``I_{v-1} - I_{v+1} = (2v/x) I_v``).

  Args:
    p: dimension of the space carrying the sphere (p/2 - 1 >= -1/2).
    kappa: arguments >= 0 (any shape).
    terms: depth of the continued fraction.

  Returns:
    The ratio, same shape as ``kappa`` (0 at kappa = 0).

  Reference: Smart, Bietti & Sengupta (2025), Prop. 3, eq. (6) (the posterior-mean shrink factor on spheres).
  """
  x = jnp.asarray(kappa)
  nu = p / 2.0
  top = nu + terms
  t = x / (top - 0.5 + jnp.sqrt(x * x + (top + 0.5) ** 2))   # Amos's approximation of I_top / I_{top-1}

  def body(i, t):
    k = terms - 1 - i
    return x / (2.0 * (nu + k) + x * t)

  return jax.lax.fori_loop(0, terms, body, t)


def subspace_bayes_denoiser(query: jax.Array, basis: jax.Array, sigma0_sq: float, sigma_z_sq: float) -> jax.Array:
  """The posterior mean of the linear-subspace family, ``sigma0^2/(sigma0^2+sigma_z^2) P x``.

  Args:
    query: corrupted queries (B, n).
    basis: orthonormal bases U of the subspaces (B, n, d), ``P = U U^T``.
    sigma0_sq: token variance per coordinate.
    sigma_z_sq: noise variance per coordinate.

  Returns:
    ``(B, n)``.

  Reference: Smart, Bietti & Sengupta (2025), Prop. 2 (Section 2.2.1).
  """
  proj = jnp.einsum("bnd,bd->bn", basis, jnp.einsum("bnd,bn->bd", basis, query))
  return sigma0_sq / (sigma0_sq + sigma_z_sq) * proj


def subspace_bayes_risk(d: int, sigma0_sq: float, sigma_z_sq: float) -> float:
  """The Bayes risk of the linear-subspace family, ``d sigma0^2 sigma_z^2 / (sigma0^2 + sigma_z^2)``.

  Args:
    d: subspace dimension.
    sigma0_sq: token variance per coordinate.
    sigma_z_sq: noise variance per coordinate.

  Returns:
    The total risk (eq. (4) prints this value as the risk of the plain projection ``P x``).

  Reference: Smart, Bietti & Sengupta (2025), Prop. 2 and its proof in App. C.1.
  """
  return d * sigma0_sq * sigma_z_sq / (sigma0_sq + sigma_z_sq)


def projection_risk(d: int, sigma_z_sq: float) -> float:
  """The risk of the plain projection ``P x`` onto the true subspace, ``d sigma_z^2`` (the noise left inside it).

  Args:
    d: subspace dimension.
    sigma_z_sq: noise variance per coordinate.

  Returns:
    The total risk.

  Reference: Smart, Bietti & Sengupta (2025), eq. (4)'s left-hand side (the value printed there is the Bayes risk
  of Prop. 2, not this one).
  """
  return d * sigma_z_sq


def sphere_bayes_denoiser(query: jax.Array, basis: jax.Array, radius: float, sigma_z_sq: float,
                          order: float | None = None) -> jax.Array:
  """The posterior mean on a radius-R sphere ``S^d``: ``A_{d+1}(kappa) R x_par / ||x_par||``, ``x_par`` the query's
  part in the sphere's (d+1)-dimensional subspace and ``kappa = R ||x_par|| / sigma_z^2``.

  Args:
    query: corrupted queries (B, n).
    basis: orthonormal bases of the (d+1)-dimensional subspaces (B, n, d+1).
    radius: R.
    sigma_z_sq: noise variance per coordinate.
    order: the ``p`` of the Bessel ratio ``A_p``; None: the posterior's ``d + 1``.

  Returns:
    ``(B, n)``.

  Reference: Smart, Bietti & Sengupta (2025), Prop. 3, eq. (6).
  """
  coords = jnp.einsum("bnd,bn->bd", basis, query)
  norm = jnp.linalg.norm(coords, axis=-1, keepdims=True)
  shrink = bessel_ratio(basis.shape[-1] if order is None else order, radius * norm / sigma_z_sq)
  return jnp.einsum("bnd,bd->bn", basis, shrink * radius * coords / norm)


def sphere_code_baseline(query: jax.Array, basis: jax.Array, radius: float, sigma_z_sq: float) -> jax.Array:
  """The sphere "Bayes" baseline of the authors' code: the same shrinkage with the Bessel orders
  ``I_{d-1/2}/I_{d-3/2}`` (i.e. ``A_{2d-1}``) instead of ``I_{(d+1)/2}/I_{(d-1)/2}``; equal to the posterior mean
  only at d = 2.

  Args:
    query: corrupted queries (B, n).
    basis: orthonormal bases of the (d+1)-dimensional subspaces (B, n, d+1).
    radius: R.
    sigma_z_sq: noise variance per coordinate.

  Returns:
    ``(B, n)``.

  Reference: Smart, Bietti & Sengupta (2025), Fig. 3's case-2 baseline as computed by the authors' code
  (github.com/mattsmart/in-context-denoising, ``nn_loss_baselines.py``); the correct orders are Prop. 3's.
  """
  d = basis.shape[-1] - 1
  return sphere_bayes_denoiser(query, basis, radius, sigma_z_sq, order=2 * d - 1)


def _gauss_laguerre(m: int, a: float) -> tuple[np.ndarray, np.ndarray]:
  """Nodes and normalised weights of the weight ``v^a e^{-v}`` on (0, inf) (Golub-Welsch)."""
  k = np.arange(m, dtype=np.float64)
  off = np.sqrt(k[1:] * (k[1:] + a))
  vals, vecs = np.linalg.eigh(np.diag(2 * k + a + 1) + np.diag(off, 1) + np.diag(off, -1))
  return vals, vecs[0] ** 2


def sphere_bayes_risk(d: int, radius: float, sigma_z_sq: float, nodes: int = 64) -> float:
  """The Bayes risk on a radius-R sphere ``S^d``, ``R^2 (1 - E[A_{d+1}(kappa)^2])``, by Gauss quadrature:
  ``||x_par||^2 = (R + sigma_z z)^2 + sigma_z^2 u`` with ``z ~ N(0, 1)`` and ``u ~ chi^2_d`` independent.

  The identity ``risk = E||X||^2 - E||f||^2`` holds for the posterior mean only (Prop. 1), so a wrong shrink factor
  shows as a mismatch with the Monte-Carlo risk of :func:`sphere_bayes_denoiser`.

  Args:
    d: the sphere's dimension, >= 1.
    radius: R.
    sigma_z_sq: noise variance per coordinate.
    nodes: quadrature nodes per dimension.

  Returns:
    The total risk (float64).

  Reference: Smart, Bietti & Sengupta (2025), Props. 1 and 3; the quadrature is derived in the theorem's docs page.
  """
  z, wz = np.polynomial.hermite_e.hermegauss(nodes)
  wz = wz / wz.sum()
  v, wv = _gauss_laguerre(nodes, d / 2.0 - 1.0)
  sz = math.sqrt(sigma_z_sq)
  norm_sq = (radius + sz * z[:, None]) ** 2 + sigma_z_sq * 2.0 * v[None, :]
  with jax.enable_x64(True):
    a = np.asarray(bessel_ratio(d + 1, jnp.asarray(radius * np.sqrt(norm_sq) / sigma_z_sq, jnp.float64)))
  return float(radius**2 * (1.0 - np.einsum("i,j,ij->", wz, wv, a**2)))


def mixture_bayes_denoiser(query: jax.Array, centres: jax.Array, log_weights: jax.Array, sigma0_sq: float,
                           sigma_z_sq: float) -> jax.Array:
  """The posterior mean of an isotropic Gaussian mixture ``sum_a w_a N(mu_a, sigma0^2 I)`` under
  ``N(0, sigma_z^2 I)`` noise: ``(sigma0^2 x + sigma_z^2 sum_a pi_a mu_a) / (sigma0^2 + sigma_z^2)`` with
  ``pi = softmax_a((<mu_a, x> - ||mu_a||^2/2) / (sigma0^2 + sigma_z^2) + log w_a)``.

  Args:
    query: corrupted queries (B, n).
    centres: mu (B, K, n).
    log_weights: log w (K,) or (B, K).
    sigma0_sq: cluster variance.
    sigma_z_sq: noise variance per coordinate.

  Returns:
    ``(B, n)``; with equal norms ``||mu_a|| = R`` this is Prop. 4, and at sigma0 = 0 eq. (8).

  Reference: Smart, Bietti & Sengupta (2025), Prop. 4 and eq. (8).
  """
  s = sigma0_sq + sigma_z_sq
  logits = jnp.einsum("bkn,bn->bk", centres, query) - 0.5 * jnp.sum(centres**2, -1)
  logits = logits / s + jnp.broadcast_to(log_weights, logits.shape)
  mean = jnp.einsum("bk,bkn->bn", jax.nn.softmax(logits, axis=-1), centres)
  return (sigma0_sq * query + sigma_z_sq * mean) / s


def mixture_tweedie_denoiser(query: jax.Array, centres: jax.Array, log_weights: jax.Array, sigma0_sq: float,
                             sigma_z_sq: float) -> jax.Array:
  """Tweedie's formula for the same mixture, ``x + sigma_z^2 grad log p(x)`` with
  ``p = sum_a w_a N(mu_a, (sigma0^2 + sigma_z^2) I)`` differentiated by autodiff: an independent route to the
  posterior mean of :func:`mixture_bayes_denoiser`.

  Args:
    query: corrupted queries (B, n).
    centres: mu (B, K, n).
    log_weights: log w (K,) or (B, K).
    sigma0_sq: cluster variance.
    sigma_z_sq: noise variance per coordinate.

  Returns:
    ``(B, n)``.

  Reference: Smart, Bietti & Sengupta (2025), Prop. 1 (the posterior mean); Tweedie's formula (Efron 2011, JASA
  106(496), eq. (1.4)).
  """
  s = sigma0_sq + sigma_z_sq
  lw = jnp.broadcast_to(log_weights, centres.shape[:2])

  def log_density(x, mu, w):
    return jax.nn.logsumexp(w - jnp.sum((x[None, :] - mu) ** 2, -1) / (2 * s))

  return query + sigma_z_sq * jax.vmap(jax.grad(log_density))(query, centres, lw)
