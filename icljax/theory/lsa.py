"""Theory of one-layer LSA on in-context regression: one step of (preconditioned) GD.

Convention: unless a name says otherwise, step sizes are for the 1/n-normalised empirical risk
``L_hat(w) = (1/2n) sum_i (w^T x_i - y_i)^2``, so one step from 0 predicts
``y_hat = (eta/n) sum_i y_i x_i^T Gamma x_{n+1} = x_{n+1}^T (eta Gamma) g`` with ``g = (1/n) X^T y``.
The *odd-part matrix* ``B`` of an LSA (see ``icljax.structure``) is compared with ``eta * Gamma``.
Losses are mean squared errors without the factor 1/2, on a query whose label is noisy.

Reference: Mahankali, Hashimoto, Ma (2023), arXiv 2307.03576, Theorems 1-3 (the closed forms are derived on the
docs page "lsa", section "What is checked and why").
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from icljax import validation

# ---------------------------------------------------------------------------------------------------------------
# Closed forms
# ---------------------------------------------------------------------------------------------------------------

def eta_star(n: int, d: int, sigma: float, convention: str = "mean") -> float:
  """Optimal one-step GD step size ``n/(n+d+1+sigma^2)`` (``1/(n+d+1+sigma^2)`` for the sum loss).

  Reference: Mahankali et al. (2023), Theorem 1 (and Theorem 2, where the same scalar multiplies Sigma^{-1});
  derived on the docs page "lsa", section "What is checked and why".

  Args:
    n: context length.
    d: dimension.
    sigma: label-noise std.
    convention: ``'mean'`` (1/n-normalised GD) or ``'sum'``.

  Returns:
    eta*.
  """
  validation.choice("convention", convention, ("mean", "sum"))
  denom = n + d + 1 + sigma**2
  return n / denom if convention == "mean" else 1.0 / denom


def optimal_loss(n: int, d: int, sigma: float) -> float:
  """Minimum population MSE ``L* = d + sigma^2 - d n/(n+d+1+sigma^2)`` (isotropic, or Sigma with inv_cov prior).

  Reference: Mahankali et al. (2023), Theorems 1 and 2; derived on the docs page "lsa".

  Args:
    n: context length.
    d: dimension.
    sigma: label-noise std.

  Returns:
    L*.
  """
  return d + sigma**2 - d * eta_star(n, d, sigma)


def loss_at_B(b: np.ndarray, n: int, sigma: float, cov: np.ndarray | None = None) -> float:
  """Population MSE of the predictor ``x^T B g`` (odd part only) for the N(0, Sigma^{-1}) prior.

  ``L(B) = L* + ((n+d+1+sigma^2)/n) |Sigma^{1/2} B Sigma^{1/2} - eta* I|_F^2``.

  Reference: Mahankali et al. (2023), Lemma 2, Eq. (13) (the loss as a quadratic in B; its printed form was not
  read, this one is derived on the docs page "lsa").

  Args:
    b: the (d, d) odd-part matrix.
    n: context length.
    sigma: label-noise std.
    cov: Sigma (default I).

  Returns:
    The population MSE.
  """
  b = np.asarray(b, dtype=np.float64)
  d = b.shape[0]
  root = np.eye(d) if cov is None else _sym_sqrt(np.asarray(cov, np.float64))
  c = (n + d + 1 + sigma**2) / n
  gap = root @ b @ root - eta_star(n, d, sigma) * np.eye(d)
  return optimal_loss(n, d, sigma) + c * float(np.sum(gap**2))


def preconditioner_inv_cov(cov: np.ndarray) -> np.ndarray:
  """Preconditioner ``Sigma^{-1}`` of the optimum for ``w* ~ N(0, Sigma^{-1})``; the optimum is
  ``B = eta* Sigma^{-1}``.

  Reference: Mahankali et al. (2023), Theorem 2.

  Args:
    cov: Sigma.

  Returns:
    Sigma^{-1} (float64).
  """
  return np.linalg.inv(np.asarray(cov, np.float64))


def gamma_star(cov: np.ndarray, n: int, sigma: float) -> np.ndarray:
  """Optimal ``B`` for ``w* ~ N(0, I)`` and ``x ~ N(0, Sigma)``:
  ``Gamma* = [((n+1)/n) Sigma + ((tr Sigma + sigma^2)/n) I]^{-1}``.

  Derivation: ``L(B) = tr(Sigma B K B^T) - 2 tr(Sigma B Sigma) + tr Sigma + sigma^2`` with
  ``K = E[g g^T] = E[S^2] + sigma^2 Sigma/n = ((n+1)/n) Sigma^2 + ((tr Sigma + sigma^2)/n) Sigma`` (Wishart
  moments); the stationarity condition ``Sigma B K = Sigma^2`` gives ``B = Sigma K^{-1} = Gamma*``.

  Reference: Ahn et al. (2023), Theorem 1; Zhang, Frei, Bartlett (2023) (both sigma = 0; sigma > 0 is derived on
  the docs page "lsa").

  Args:
    cov: Sigma.
    n: context length.
    sigma: label-noise std.

  Returns:
    Gamma* (float64).
  """
  cov = np.asarray(cov, np.float64)
  d = cov.shape[0]
  return np.linalg.inv((n + 1) / n * cov + (np.trace(cov) + sigma**2) / n * np.eye(d))


def optimal_loss_identity_prior(cov: np.ndarray, n: int, sigma: float) -> float:
  """Minimum MSE for ``w* ~ N(0, I)``, ``x ~ N(0, Sigma)``:
  ``sum_k l_k + sigma^2 - sum_k l_k^2 / (((n+1)/n) l_k + (sum_j l_j + sigma^2)/n)``.

  Reference: Ahn et al. (2023), Theorem 1 (sigma = 0); derived on the docs page "lsa" (any sigma).

  Args:
    cov: Sigma.
    n: context length.
    sigma: label-noise std.

  Returns:
    The minimum MSE.
  """
  lam = np.linalg.eigvalsh(np.asarray(cov, np.float64))
  denom = (n + 1) / n * lam + (lam.sum() + sigma**2) / n
  return float(lam.sum() + sigma**2 - np.sum(lam**2 / denom))


def optimal_b_general(cov: np.ndarray, prior_cov: np.ndarray, n: int, sigma: float) -> np.ndarray:
  """Optimal ``B`` of ``x^T B g`` for ``x ~ N(0, Sigma)``, ``w* ~ N(0, Psi)``, any symmetric Psi:
  ``B* = Psi Sigma G^{-1}`` with ``G = ((n+1)/n) Sigma Psi Sigma + ((tr(Psi Sigma) + sigma^2)/n) Sigma``.

  Derivation (docs page "lsa", section "What is checked and why"): ``g = S w* + X^T eps / n`` with
  ``S = X^T X / n``; the Wishart moment ``E[S A S] = ((n+1)/n) Sigma A Sigma + (tr(A Sigma)/n) Sigma`` gives
  ``G = E[g g^T]`` above and ``E[g w*^T] = Sigma Psi``, so ``L(B) = tr(Sigma B G B^T) - 2 tr(Sigma B Sigma Psi) +
  tr(Sigma Psi) + sigma^2`` is stationary at ``Sigma B G = Sigma Psi Sigma``. The LSA's even part (terms even in
  the labels) is uncorrelated with the label under ``w* -> -w*`` and vanishes at the optimum, so this is the LSA's
  optimum too. Psi = I gives ``Gamma*`` (eta* I when Sigma = I); Psi = Sigma^-1 gives ``eta* Sigma^-1``. A Psi that
  is not a multiple of Sigma^-1 (a prior that is not rotation invariant after whitening) gives a B that is not
  plain (or Sigma^-1-preconditioned) GD: the lsa theorem's negative control.

  Args:
    cov: Sigma.
    prior_cov: Psi.
    n: context length.
    sigma: label-noise std.

  Returns:
    B* (float64).

  Reference: derived on the docs page "lsa" (the Wishart moments of the proof of Mahankali et al.'s Theorem 2, with
  a general prior); equals Mahankali et al. Theorems 1 and 2 and Ahn et al. Theorem 1 in their settings (tested).
  """
  cov, psi = np.asarray(cov, np.float64), np.asarray(prior_cov, np.float64)
  g = (n + 1) / n * cov @ psi @ cov + (np.trace(psi @ cov) + sigma**2) / n * cov
  return psi @ cov @ np.linalg.inv(g)


def optimal_loss_general(cov: np.ndarray, prior_cov: np.ndarray, n: int, sigma: float) -> float:
  """Minimum MSE of ``x^T B g`` for ``w* ~ N(0, Psi)``: ``tr(Sigma Psi) + sigma^2 - tr(Sigma B* Sigma Psi)``
  (at the optimum ``tr(Sigma B G B^T) = tr(Sigma B Sigma Psi)``; derivation in :func:`optimal_b_general`).

  Args:
    cov: Sigma.
    prior_cov: Psi.
    n: context length.
    sigma: label-noise std.

  Returns:
    The minimum MSE.

  Reference: derived on the docs page "lsa", as :func:`optimal_b_general`.
  """
  cov, psi = np.asarray(cov, np.float64), np.asarray(prior_cov, np.float64)
  b = optimal_b_general(cov, psi, n, sigma)
  return float(np.trace(cov @ psi) + sigma**2 - np.trace(cov @ b @ cov @ psi))


def eta_relu_net(n: int, d: int, sigma: float) -> float:
  """Step size for random ReLU-network targets, ``eta_F = n/(n+2d+3+4 sigma^2)`` (any width).

  Uses ``E|m_f|^2 = d/4`` (Stein) and ``E[f^2 |x|^2] = d(d+2)/2``, x ~ N(0, I).
  Reference: Mahankali et al. (2023), Theorem 3 (eta through expectations over the data); the ReLU-network value
  is derived on the docs page "lsa".

  Args:
    n: context length.
    d: dimension.
    sigma: label-noise std.

  Returns:
    eta_F.
  """
  return n / (n + 2 * d + 3 + 4 * sigma**2)


def optimal_loss_relu_net(n: int, d: int, sigma: float) -> float:
  """Minimum MSE ``E[y^2] - (E|m_f|^2)^2 / E|g|^2`` for the random ReLU-network family (x ~ N(0, I)).

  Reference: Mahankali et al. (2023), Theorem 3; derived on the docs page "lsa".

  Args:
    n: context length.
    d: dimension.
    sigma: label-noise std.

  Returns:
    L*_F.
  """
  m_sq = d / 4.0
  g_sq = (d * (d + 2) / 2.0 + d * sigma**2) / n + (n - 1) / n * m_sq
  return d / 2.0 + sigma**2 - m_sq**2 / g_sq


def _sym_sqrt(a: np.ndarray) -> np.ndarray:
  evals, evecs = np.linalg.eigh(a)
  return (evecs * np.sqrt(evals)) @ evecs.T


# ---------------------------------------------------------------------------------------------------------------
# Reference predictors (pure JAX, batched over prompts)
# ---------------------------------------------------------------------------------------------------------------

def gd_statistic(prompts: dict[str, jax.Array]) -> jax.Array:
  """``g = (1/n) X^T y`` per prompt, shape (B, d).

  Args:
    prompts: raw prompts.

  Returns:
    g.

  Reference: Mahankali et al. (2023), Theorem 1 (one step of GD from zero on the least-squares objective).
  """
  n = prompts["x"].shape[-2]
  return jnp.einsum("bnd,bn->bd", prompts["x"], prompts["y"]) / n


def one_step_gd_predict(prompts: dict[str, jax.Array], eta: float,
                        preconditioner: jax.Array | None = None) -> jax.Array:
  """One (preconditioned) GD step from 0 on the 1/n empirical risk: ``x_{n+1}^T (eta Gamma) g``, shape (B,).

  Args:
    prompts: raw prompts.
    eta: step size (1/n convention).
    preconditioner: Gamma (default I).

  Returns:
    Predictions (B,).

  Reference: Mahankali et al. (2023), Theorems 1 and 2 (one step of plain or preconditioned GD from zero).
  """
  g = gd_statistic(prompts)
  if preconditioner is not None:
    g = g @ jnp.asarray(preconditioner, g.dtype).T
  return eta * jnp.einsum("bd,bd->b", prompts["x_query"], g)


def ridge_predict(prompts: dict[str, jax.Array], lam: float,
                  prior_precision: jax.Array | None = None) -> jax.Array:
  """Ridge / posterior-mean predictor ``x_{n+1}^T (X^T X + lam P)^{-1} X^T y`` (P = I by default), shape (B,).

  With ``lam = sigma^2`` and ``P`` the prior precision this is the Bayes predictor for linear Gaussian targets.

  Args:
    prompts: raw prompts.
    lam: ridge parameter.
    prior_precision: P (default I).

  Returns:
    Predictions (B,).

  Reference: Mahankali et al. (2023), Lemma 1 (the posterior mean).
  """
  x, y = prompts["x"], prompts["y"]
  d = x.shape[-1]
  p = jnp.eye(d, dtype=x.dtype) if prior_precision is None else jnp.asarray(prior_precision, x.dtype)
  a = jnp.einsum("bnd,bne->bde", x, x) + lam * p[None]
  w = jnp.linalg.solve(a, jnp.einsum("bnd,bn->bd", x, y)[..., None])[..., 0]
  return jnp.einsum("bd,bd->b", prompts["x_query"], w)
