"""The exact finite-L optimum of the softmax regression layer of Boursier & Boyer (2025) on the valley
``A = sqrt(t) Sigma^-1`` (isotropic Sigma: the optimum over all A, by rotation invariance), by quadrature.

Whitening along the query reduces the excess to one-dimensional self-normalised sums: for ``u_i`` i.i.d.
``N(0, 1)`` and ``p_i ~ exp(alpha u_i)`` (``alpha = sqrt(t) |g|``, ``|g|^2 ~ chi^2_d``), the moments
``m1 = E[S1]``, ``m2 = E[S1^2]`` (``S1 = sum p_i u_i``) and ``pi2 = E[sum p_i^2]`` are exact integrals through
``1/D = int_0^inf e^{-s D} ds`` and ``1/D^2 = int_0^inf s e^{-s D} ds`` with ``D = sum_j e^{alpha u_j}``:

* ``m1 = L int psi_11 phi^{L-1} ds``, ``pi2 = L int s psi_20 phi^{L-1} ds``,
* ``m2 = int s (L psi_22 phi^{L-1} + L(L-1) psi_11^2 phi^{L-2}) ds``,

with ``phi(s) = E e^{-s e^{alpha u}}`` and ``psi_kj(s) = E[u^j e^{k alpha u} e^{-s e^{alpha u}}]``. The u- and
log(s)-integrals are trapezoid rules (integrands analytic in a strip: errors ~1e-11 at the default grids), the
query radius a Gauss-Legendre rule. Then ``excess = s_w (T - P^2/R)`` and ``b sqrt(t) = sqrt(t) P / R`` with
``P = T/(d sqrt t) E[alpha m1]``, ``R = (T/d) E[m2] + (T(d-1)/d + sigma_e^2) E[pi2]``. No expansion in 1/L:
this is the reference the trained layer is compared with at the run's own L.

Reference: Boursier & Boyer (2025), arXiv 2512.11784, Sec. 5 (the finite-L risk R_L of Thm 5.1); the quadrature is
ours, derived in the docs page "softmax_as_linear", section "What is checked and why".
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

U_GRID = (-12.0, 12.0, 300)     # u-range and nodes
S_GRID = (-36.0, 8.0, 160)      # log(s L e^{alpha^2/2})-range and nodes
RADIUS_NODES = 32               # Gauss-Legendre nodes of the query radius
RADIUS_MAX = 6.5                # |g| / sqrt(2) range (chi^2_d tail beyond it < 1e-9 for d <= 20)


def radius_rule(d: int, nodes: int = RADIUS_NODES) -> tuple[np.ndarray, np.ndarray]:
  """Nodes and weights for ``E f(|g|)``, ``g ~ N(0, I_d)``: Gauss-Legendre in ``w = |g|/sqrt 2`` on
  ``[0, RADIUS_MAX]`` against the density ``2 w^{d-1} e^{-w^2} / Gamma(d/2)``.

  Args:
    d: dimension.
    nodes: number of nodes.

  Returns:
    ``(radii, weights)`` (weights sum to 1 up to the truncated tail).

  Reference: Boursier & Boyer (2025), Sec. 5 (the query x ~ N(0, Sigma), whitened).
  """
  x, w = np.polynomial.legendre.leggauss(nodes)
  v = (x + 1) * RADIUS_MAX / 2
  dens = 2 * np.exp((d - 1) * np.log(v) - v * v - math.lgamma(d / 2))
  return math.sqrt(2.0) * v, w * RADIUS_MAX / 2 * dens


def snis_moments(alpha: jax.Array, L: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
  """Exact ``E[S1]``, ``E[S1^2]`` and ``E[sum p_i^2]`` of the one-dimensional self-normalised sum (float64).

  Args:
    alpha: (n,) tilts ``alpha >= 0``.
    L: number of tokens (scalar, may be traced).

  Returns:
    ``(m1, m2, pi2)``, each (n,).

  Reference: Boursier & Boyer (2025), Sec. 2-3 (softmax attention as a self-normalised sum over the prompt);
  derived in the theorem's docs page.
  """
  alpha = alpha[:, None, None]
  u = jnp.linspace(*U_GRID)[None, None, :]
  log_w = -u**2 / 2 - 0.5 * math.log(2 * math.pi) + math.log((U_GRID[1] - U_GRID[0]) / (U_GRID[2] - 1))
  ell = jnp.linspace(*S_GRID)[None, :, None]
  log_s = ell - jnp.log(L) - alpha**2 / 2
  se = jnp.exp(alpha * u + log_s)
  base = log_w - se
  one_minus_phi = jnp.sum(jnp.exp(log_w) * -jnp.expm1(-se), -1)
  log_phi = jnp.where(one_minus_phi < 0.5, jnp.log1p(-jnp.minimum(one_minus_phi, 0.5)),
                      jnp.log(jnp.maximum(jnp.sum(jnp.exp(base), -1), 1e-300)))
  psi11 = jnp.sum(u * jnp.exp(base + alpha * u), -1)
  psi20 = jnp.sum(jnp.exp(base + 2 * alpha * u), -1)
  psi22 = jnp.sum(u * u * jnp.exp(base + 2 * alpha * u), -1)
  s = jnp.exp(log_s[..., 0])
  ds = s * (S_GRID[1] - S_GRID[0]) / (S_GRID[2] - 1)
  phi1, phi2 = jnp.exp((L - 1) * log_phi), jnp.exp((L - 2) * log_phi)
  m1 = jnp.sum(L * psi11 * phi1 * ds, -1)
  pi2 = jnp.sum(s * L * psi20 * phi1 * ds, -1)
  m2 = jnp.sum(s * (L * psi22 * phi1 + L * (L - 1) * psi11**2 * phi2) * ds, -1)
  return m1, m2, pi2


@functools.partial(jax.jit, static_argnames=("d",))
def _valley(ts: jax.Array, L: jax.Array, d: int, trace: jax.Array, noise_ratio: jax.Array,
            radii: jax.Array, weights: jax.Array) -> tuple[jax.Array, jax.Array]:
  def one(t):
    alpha = jnp.sqrt(t) * radii
    m1, m2, pi2 = snis_moments(alpha, L)
    p = trace / (d * jnp.sqrt(t)) * jnp.sum(weights * alpha * m1)
    r = trace / d * jnp.sum(weights * m2) + (trace * (d - 1) / d + noise_ratio) * jnp.sum(weights * pi2)
    return trace - p * p / r, jnp.sqrt(t) * p / r
  return jax.lax.map(one, ts)


def valley(ts: np.ndarray, L: int, d: int, trace: float, noise_ratio: float = 0.0,
           prior_var: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
  """Exact excess and end-to-end product ``b sqrt(t)`` at the optimal b on the valley ``A = sqrt(t) Sigma^-1``.

  Args:
    ts: squared inverse temperatures (any shape).
    L: tokens per prompt, >= 2.
    d: token dimension.
    trace: ``tr Sigma``.
    noise_ratio: ``sigma^2 / s_w``.
    prior_var: s_w.

  Returns:
    ``(excess, product)`` of the shape of ``ts``.

  Reference: Boursier & Boyer (2025), Sec. 5 (the finite-L risk R_L of Thm 5.1); derived in the theorem's docs page.
  """
  radii, weights = radius_rule(d)
  with jax.enable_x64(True):
    ts64 = np.asarray(ts, np.float64)
    ex, prod = _valley(jnp.asarray(ts64.ravel()), jnp.float64(L), d, jnp.float64(trace), jnp.float64(noise_ratio),
                       jnp.asarray(radii), jnp.asarray(weights))
    return prior_var * np.asarray(ex).reshape(ts64.shape), np.asarray(prod).reshape(ts64.shape)


def finite_optimum(L: int, d: int, trace: float, noise_ratio: float = 0.0, prior_var: float = 1.0,
                   bracket: tuple[float, float] = (0.005, 0.9), rounds: int = 4) -> dict[str, float]:
  """The exact finite-L optimum on the valley: ``t_L``, the product ``b sqrt(t_L)`` and the excess.

  Each round evaluates 9 points and keeps the two intervals around the best one (4 rounds: spacing 4e-4 on the
  default bracket); a parabola through the best point and its neighbours gives ``t_L``, evaluated once more.

  Args:
    L: tokens per prompt, >= 2.
    d: token dimension.
    trace: ``tr Sigma``.
    noise_ratio: ``sigma^2 / s_w``.
    prior_var: s_w.
    bracket: search range of t.
    rounds: grid rounds.

  Returns:
    ``{'t': t_L, 'product': ..., 'excess': ...}``.

  Reference: Boursier & Boyer (2025), Sec. 5 (Thm 5.1 at finite L); derived in the theorem's docs page.
  """
  lo, hi = bracket
  for _ in range(rounds):
    grid = np.linspace(lo, hi, 9)
    ex, _ = valley(grid, L, d, trace, noise_ratio, prior_var)
    i = int(np.clip(np.argmin(ex), 1, 7))
    lo, hi = grid[i - 1], grid[i + 1]
  step = grid[1] - grid[0]
  curv = ex[i - 1] - 2 * ex[i] + ex[i + 1]
  t = float(grid[i] + step * (ex[i - 1] - ex[i + 1]) / (2 * curv)) if curv > 0 else float(grid[i])
  ex_t, prod_t = valley(np.full(9, t), L, d, trace, noise_ratio, prior_var)
  return {"t": t, "product": float(prod_t[0]), "excess": float(ex_t[0])}
