"""Closed forms of Boursier & Boyer (2025), "Softmax as linear attention in the large-prompt regime": the
Gaussian operator identity (Lemma 2.1) and its quadrature, the first-order concentration constant (Sec. 3), the
infinite-prompt risk and its balanced end point (Sec. 5, Thm 5.1), and the linear-attention optimum at equal L.

The finite-L optimum (t*, kappa, F) is in ``icljax.theory.softmax_as_linear_finite``. Every function is NumPy
float64 unless it says otherwise (``population_risk`` is a JAX training objective).

Reference: Boursier & Boyer (2025), arXiv 2512.11784, Lemma 2.1, Prop. 3.1, Sec. 5 and Thm 5.1; the derivations
of the constants are in the docs page "softmax_as_linear", section "What is checked and why".
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np


def mean_map(tokens: str, c: np.ndarray) -> np.ndarray:
  """``grad Lambda(c)`` of one unit-variance coordinate law: the mean of the law tilted by ``exp(c u)``.

  Gaussian: ``c``; Rademacher: ``tanh c``; uniform on ``[-sqrt 3, sqrt 3]``: ``sqrt 3 (coth(sqrt 3 c) -
  1/(sqrt 3 c))`` (the Langevin function, ``c - c^3/5`` near 0).

  Args:
    tokens: ``'gaussian'``, ``'uniform'`` or ``'rademacher'``.
    c: tilts (any shape).

  Returns:
    The tilted means, elementwise.

  Reference: Boursier & Boyer (2025), Lemma 2.1 (Gaussian case: the tilted law is N(m + Gamma a, Gamma)); the
  non-Gaussian laws are the negative controls derived in the theorem's docs page.
  """
  c = np.asarray(c, np.float64)
  if tokens == "gaussian":
    return c
  if tokens == "rademacher":
    return np.tanh(c)
  x = math.sqrt(3.0) * c
  small = np.abs(x) < 1e-3
  safe = np.where(small, 1.0, x)
  return np.where(small, c - c**3 / 5, math.sqrt(3.0) * (1 / np.tanh(safe) - 1 / safe))


def operator_limit(tokens: str, mean: np.ndarray, root: np.ndarray, U: np.ndarray, V: np.ndarray,
                   z: np.ndarray) -> np.ndarray:
  """The infinite-prompt attention operator ``T[mu](z) = V grad Lambda_mu(U z)`` for tokens ``x = m + R u``.

  For Gaussian ``u`` this is Lemma 2.1: ``V (m + Gamma U z)`` with ``Gamma = R R^T``, linear in ``z``.

  Args:
    tokens: the coordinate law of ``u``.
    mean: (D,) token mean ``m``.
    root: (D, k) factor ``R`` (``Gamma = R R^T``; may be singular).
    U: (D, D) merged key-query matrix.
    V: (D', D) value matrix.
    z: (..., D) queries.

  Returns:
    (..., D') limits.

  Reference: Boursier & Boyer (2025), Lemma 2.1 and Sec. 2.
  """
  a = np.asarray(z, np.float64) @ np.asarray(U, np.float64).T
  tilt = mean_map(tokens, a @ root) @ np.asarray(root, np.float64).T
  return (np.asarray(mean, np.float64) + tilt) @ np.asarray(V, np.float64).T


def gauss_hermite(degree: int) -> tuple[np.ndarray, np.ndarray]:
  """Probabilists' Gauss-Hermite rule: nodes and weights with ``sum w f(x) ~ E f(G)``, ``G ~ N(0, 1)``.

  Args:
    degree: number of nodes (exact for polynomials of degree < 2 degree).

  Returns:
    ``(nodes, weights)``, weights summing to 1.

  Reference: Boursier & Boyer (2025), Lemma 2.1 (the Gaussian integrals the rule evaluates).
  """
  x, w = np.polynomial.hermite_e.hermegauss(degree)
  return x, w / math.sqrt(2 * math.pi)


def tilt_by_quadrature(mean: np.ndarray, root: np.ndarray, a: np.ndarray,
                       degree: int = 40) -> tuple[np.ndarray, np.ndarray]:
  """Mean and covariance of ``N(m, R R^T)`` tilted by ``exp(a^T x)``, by tensor Gauss-Hermite quadrature of
  ``E[x e^{a^T x}] / E[e^{a^T x}]`` over ``x = m + R g`` (``g`` standard normal in ``k`` dimensions).

  Args:
    mean: (D,) mean ``m``.
    root: (D, k) factor, k <= 4 (``degree^k`` nodes).
    a: (D,) tilt.
    degree: nodes per dimension.

  Returns:
    ``(tilted mean (D,), tilted covariance (D, D))``.

  Reference: Boursier & Boyer (2025), Lemma 2.1 (the reweighted tokens are Gaussian with mean m + Gamma a and
  covariance Gamma).
  """
  root = np.asarray(root, np.float64)
  nodes, w = gauss_hermite(degree)
  k = root.shape[1]
  g = np.stack(np.meshgrid(*[nodes] * k, indexing="ij"), -1).reshape(-1, k)
  weight = np.prod(np.stack(np.meshgrid(*[w] * k, indexing="ij"), -1).reshape(-1, k), -1)
  x = np.asarray(mean, np.float64) + g @ root.T
  logit = x @ np.asarray(a, np.float64)
  p = weight * np.exp(logit - logit.max())
  p = p / p.sum()
  m = p @ x
  return m, (x - m).T @ (p[:, None] * (x - m))


def output_error_constant(cov: np.ndarray, U: np.ndarray, V: np.ndarray) -> float:
  """``lim_L L E|T[mu_L](z) - T[mu](z)|^2`` for tokens ``N(0, Gamma)`` and queries ``z ~ N(0, I)``: the
  delta-method variance ``e^{a^T Gamma a} (tr(V Gamma V^T) + |V Gamma a|^2) / L`` of the self-normalised sum at
  ``a = U z``, averaged over ``z``:
  ``det(I - 2M)^{-1/2} [tr(V Gamma V^T) + tr(N (I - 2M)^{-1})]``, ``M = U^T Gamma U``,
  ``N = U^T Gamma V^T V Gamma U``; finite iff ``lambda_max(M) < 1/2``. Isotropic (``Gamma = s^2 I``, ``U = u I``,
  ``V = I``, ``lambda = s^2 u^2``): ``s^2 d (1 - 2 lambda)^{-d/2} (1 - lambda) / (1 - 2 lambda)``.

  Args:
    cov: (D, D) token covariance Gamma.
    U: (D, D) merged key-query matrix.
    V: (D', D) value matrix.

  Returns:
    The constant (inf when ``lambda_max(M) >= 1/2``).

  Reference: Boursier & Boyer (2025), Prop. 3.1 (the rate it bounds); the constant is derived in the theorem's
  docs page.
  """
  cov, U, V = (np.asarray(m, np.float64) for m in (cov, U, V))
  m = U.T @ cov @ U
  if np.linalg.eigvalsh((m + m.T) / 2).max() >= 0.5:
    return math.inf
  inner = np.linalg.inv(np.eye(len(m)) - 2 * m)
  n = U.T @ cov @ V.T @ V @ cov @ U
  return float(np.linalg.det(inner) ** 0.5 * (np.trace(V @ cov @ V.T) + np.trace(n @ inner)))


def chi2_tilt_moment(j: int, k: int, t: float, d: int) -> float:
  """``E[alpha^{2j} e^{k alpha^2}]`` for ``alpha^2 = t r^2``, ``r^2 ~ chi^2_d``: ``t^j 2^j (d/2)_j (1-2kt)^{-d/2-j}``.

  Args:
    j: power of ``alpha^2``.
    k: exponent multiple.
    t: scale, with ``2 k t < 1``.
    d: degrees of freedom.

  Returns:
    The moment (inf when ``2 k t >= 1``).

  Reference: Boursier & Boyer (2025), Sec. 3 (Gaussian queries z ~ N(0, I) weighting e^{a^T Gamma a}).
  """
  if 2 * k * t >= 1:
    return math.inf
  rising = math.exp(math.lgamma(d / 2 + j) - math.lgamma(d / 2))
  return t**j * 2**j * rising * (1 - 2 * k * t) ** (-d / 2 - j)


# Delta-method coefficients of the one-dimensional self-normalised error (u_i i.i.d. N(0, 1), p ~ exp(alpha u),
# S1 = sum p_i u_i): E(S1 - alpha)^2 + (d - 1) E sum p_i^2 = sum_n L^-n sum (j, k, c) c alpha^{2j} e^{k alpha^2}
# (the d - 1 part carried by the flag 1 in the fourth slot).
_ERROR_TERMS = ([(0, 1, 1, 0), (1, 1, 1, 0), (0, 1, 1, 1)],
                [(1, 3, -8, 0), (0, 3, -2, 0), (1, 2, 9, 0), (0, 2, 3, 0), (1, 1, -1, 0), (0, 1, -1, 0),
                 (0, 3, -2, 1), (0, 2, 3, 1), (0, 1, -1, 1)])


def output_error_expansion(d: int, trace: float, lam: float) -> tuple[float, float]:
  """``E|T[mu_L](z) - T[mu](z)|^2 = C1/L + C2/L^2 + ...`` for tokens ``N(0, Sigma)``, queries ``z ~ N(0, I)``,
  ``U = sqrt(lam) Sigma^{-1/2}`` and ``V = I`` (the tilt is isotropic in whitened coordinates, so only
  ``tr Sigma`` enters): ``C1 = tr Sigma (1-2 lam)^{-d/2} (1 - lam)/(1 - 2 lam)`` (finite iff ``lam < 1/2``), ``C2``
  from the second-order expansion of the self-normalised sums (finite iff ``lam < 1/6``).

  Args:
    d: dimension.
    trace: ``tr Sigma``.
    lam: ``lambda = lambda_max(U^T Sigma U)``.

  Returns:
    ``(C1, C2)`` (inf where the moments diverge).

  Reference: Boursier & Boyer (2025), Prop. 3.1 (the rate it bounds); the expansion is derived in the theorem's
  docs page.
  """
  out = []
  for terms in _ERROR_TERMS:
    vals = [c * (d - 1 if flag else 1) * chi2_tilt_moment(j, k, lam, d) for j, k, c, flag in terms]
    out.append(math.inf if any(math.isinf(v) for v in vals) else trace / d * sum(vals))
  return out[0], out[1]


def error_at_one_token(cov: np.ndarray, U: np.ndarray, V: np.ndarray) -> float:
  """``E|T[mu_1](z) - T[mu](z)|^2`` at ``L = 1`` (one token ``x ~ N(0, Gamma)``, ``z ~ N(0, I)``): the single
  token's value ``V x`` against ``V Gamma U z``, i.e. ``tr(V Gamma V^T) + |V Gamma U|_F^2``.

  Args:
    cov: (D, D) token covariance Gamma.
    U: (D, D) merged key-query matrix.
    V: (D', D) value matrix.

  Returns:
    The mean squared error.

  Reference: Boursier & Boyer (2025), Prop. 3.1 (its bound c1 sigma^6 ln(L) / L^{c2/sigma^2} is 0 at L = 1).
  """
  cov, U, V = (np.asarray(m, np.float64) for m in (cov, U, V))
  return float(np.trace(V @ cov @ V.T) + np.sum((V @ cov @ U) ** 2))


def population_risk(A: jnp.ndarray, b: jnp.ndarray, cov: jnp.ndarray, prior_var: float | jnp.ndarray) -> jnp.ndarray:
  """The infinite-prompt regression risk ``R_inf = 1/2 s_w tr((b Sigma A - I) Sigma (b Sigma A - I)^T)``: by
  Lemma 2.1 the L = inf layer predicts ``b w^T Sigma A x``, and ``w ~ N(0, s_w I)`` (JAX, differentiable).

  Args:
    A: (d, d) key-query block.
    b: value scalar.
    cov: (d, d) Sigma (context tokens and query).
    prior_var: s_w.

  Returns:
    The risk (scalar).

  Reference: Boursier & Boyer (2025), Sec. 5, the risk of Thm 5.1 (noiseless, Eq. 7).
  """
  m = b * cov @ A - jnp.eye(cov.shape[0], dtype=cov.dtype)
  return 0.5 * prior_var * jnp.trace(m @ cov @ m.T)


def balanced_endpoint(cov: np.ndarray, level: float = 0.0) -> tuple[np.ndarray, float]:
  """The limit of gradient flow on ``R_inf`` from the balanced initialisation: ``b A = Sigma^{-1}`` on the level
  set ``|A|_F^2 - b^2 = level`` of the conserved quantity (0 from Eq. (9)): ``b^2 = sqrt(|Sigma^-1|_F^2 +
  level^2/4) - level/2``; at level 0, ``A = tr(Sigma^-2)^{-1/4} Sigma^-1`` and ``b = tr(Sigma^-2)^{1/4}``.

  Args:
    cov: (d, d) Sigma.
    level: the conserved ``|A|_F^2 - b^2`` (a discrete GD run drifts from 0 by O(lr)).

  Returns:
    ``(A*, b*)``.

  Reference: Boursier & Boyer (2025), Thm 5.1 (v2: Thm 5.2) with the initialisation of Eq. (9).
  """
  inv = np.linalg.inv(np.asarray(cov, np.float64))
  b = math.sqrt(math.sqrt(float(np.sum(inv * inv)) + level**2 / 4) - level / 2)
  return inv / b, b


def linear_attention_optimum(cov: np.ndarray, L: int, noise_ratio: float,
                             prior_var: float = 1.0) -> tuple[np.ndarray, float]:
  """The optimal ``B = b A`` of linear attention ``y_hat = (1/L) sum_i y_i x_i^T B x`` at ``L`` tokens, and its
  excess risk ``E(y_hat - w^T x)^2``: ``B = [(1 + 1/L) Sigma + ((tr Sigma + sigma_e^2)/L) I]^{-1}`` with
  ``sigma_e^2 = sigma^2 / s_w``; isotropic: ``eta* = L / (L + d + 1 + sigma_e^2)``.

  Args:
    cov: (d, d) Sigma.
    L: tokens per prompt.
    noise_ratio: ``sigma^2 / s_w``.
    prior_var: s_w.

  Returns:
    ``(B, excess)``, excess ``= s_w (tr Sigma - tr(B Sigma^2))``.

  Reference: Boursier & Boyer (2025), Sec. 5 (the linear-attention comparison at equal L); the optimum is Mahankali,
  Hashimoto & Ma (2023) Thm 1 and its anisotropic form (Zhang, Frei & Bartlett 2024).
  """
  cov = np.asarray(cov, np.float64)
  d = len(cov)
  b = np.linalg.inv((1 + 1 / L) * cov + (np.trace(cov) + noise_ratio) / L * np.eye(d))
  return b, float(prior_var * (np.trace(cov) - np.trace(b @ cov @ cov)))
