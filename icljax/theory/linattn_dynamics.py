"""Training dynamics of multi-head linear attention (Zhang, Singh, Latham, Saxe 2025): closed forms.

Both parameterisations (merged key-query ATTN_M, separate rank-R key and query ATTN_S) predict
``y_hat = beta^T Gamma x_q`` with ``beta = (1/n) sum_i y_i x_i`` (the query excluded) and an effective matrix
``Gamma`` (Eqs. M and S). The loss ``E (y_q - y_hat)^2`` (MSE, no 1/2) is therefore a quadratic in
``g = vec(Gamma)`` (row-major) through the feature ``z = vec(beta x_q^T)`` (the paper's Eqs. 6-7)::

    L(Gamma) = c - 2 b^T g + g^T H g,    c = E y_q^2,  b = E[y_q z],  H = E[z z^T].

Population moments (Wishart moments; the paper's Eq. 15 at ``Om = I``, ``sigma = 0``; the label noise and the
prior ``Om = Lam^-1`` are our extension, derived in the theorem's docs page and checked against Monte Carlo in the
tests): for ``x ~ N(0, Lam)``, ``w ~ N(0, Om)`` (``Om = I`` or ``Lam^-1``) and noise ``sigma``::

    c = tr(Lam Om) + sigma^2,   b = vec(Lam Om Lam),   H = K (x) Lam,
    K = E[beta beta^T] = (1 + 1/n) Lam Om Lam + ((tr(Lam Om) + sigma^2)/n) Lam.

Full-batch GD on a fixed sample is the same quadratic with the sample's moments (:func:`sample_moments`), so the
paper's protocol (P fixed prompts, full batch) runs at the cost of a 16 x 16 matrix product per step.

In the eigenbasis ``e_d`` of ``Lam`` (``a_d = lam_d^2 om_d``, ``K_d`` the eigenvalues of K) the fixed point
``M_m`` learns the top ``m`` directions (the paper's Eqs. 19 and 22 at ``Om = I``, ``sigma = 0``; their extension
derived in the theorem's docs page)::

    gamma_d = a_d / (lam_d K_d),   r_d = a_d^2 / (lam_d K_d),   L(M_m) = c - sum_{d <= m} r_d,

with the directions ordered by decreasing ``a_d`` (the order of the ATTN_S staircase, Sec. 4, Eq. 20).
``L(M_d)`` is the global minimum, ``Gamma* = sum_d gamma_d e_d e_d^T`` (for ``Om = I`` the toolkit's ``gamma_star``).

Reference: Zhang, Singh, Latham, Saxe (2025), arXiv 2501.16265, Eqs. 5-22 (Secs. 2-5).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from icljax import validation
from icljax.theory import lsa as lsa_theory

# ``(c, b, H)``: the population's on the host (float64 numpy) or a sample's (JAX arrays, traceable).
Moments = tuple[np.float64, np.ndarray, np.ndarray] | tuple[jax.Array, jax.Array, jax.Array]


def _omega(lam: np.ndarray, prior: str) -> np.ndarray:
  validation.choice("prior", prior, ("identity", "inv_cov"))
  return np.ones_like(lam) if prior == "identity" else 1.0 / lam


def staircase(lam: Any, n: int, sigma: float, prior: str = "identity") -> dict[str, np.ndarray]:
  """The saddle-to-saddle staircase of ATTN_S: plateau losses, learned entries, drop sizes (float64).

  Args:
    lam: eigenvalues of the covariance (any order).
    n: context examples.
    sigma: label-noise std.
    prior: ``'identity'`` (w ~ N(0, I), the paper) or ``'inv_cov'`` (w ~ N(0, Lam^-1)).

  Returns:
    ``order`` (indices of ``lam`` in the order they are learned: decreasing ``a_d``), and in that order ``lam``,
    ``a``, ``K``, ``gamma`` and ``drops`` (r_d); ``levels`` (d + 1 plateau losses ``L(M_0) ... L(M_d)``).

  Reference: Zhang, Singh, Latham, Saxe (2025), Eqs. 19 and 22 (Sec. 4), extended to sigma and Om = Lam^-1.
  """
  lam = np.asarray(lam, np.float64)
  om = _omega(lam, prior)
  a = lam**2 * om
  c = float(np.sum(lam * om)) + sigma**2
  k = (1 + 1 / n) * a + c * lam / n
  order = np.argsort(-a, kind="stable")
  lam, a, k = lam[order], a[order], k[order]
  drops = a**2 / (lam * k)
  return {"order": order, "lam": lam, "a": a, "K": k, "gamma": a / (lam * k), "drops": drops,
          "levels": c - np.concatenate([[0.0], np.cumsum(drops)])}


def population_moments(cov: Any, n: int, sigma: float,
                       prior: str = "identity") -> tuple[np.float64, np.ndarray, np.ndarray]:
  """``(c, b, H)`` of the population loss (module docstring), float64 numpy.

  Args:
    cov: the covariance Lam (d, d).
    n: context examples.
    sigma: label-noise std.
    prior: ``'identity'`` or ``'inv_cov'``.

  Returns:
    ``c`` (scalar), ``b`` (d^2,), ``H`` (d^2, d^2).

  Reference: Zhang, Singh, Latham, Saxe (2025), Eq. 15 (E[Lam_hat^2]), extended to sigma and Om = Lam^-1.
  """
  cov = np.asarray(cov, np.float64)
  validation.choice("prior", prior, ("identity", "inv_cov"))
  lom = cov if prior == "identity" else np.eye(cov.shape[0])   # Lam Om
  lol = lom @ cov                                               # Lam Om Lam
  c = float(np.trace(lom)) + sigma**2
  k = (1 + 1 / n) * lol + c / n * cov
  return np.float64(c), lol.reshape(-1), np.kron(k, cov)


def features(prompts: dict[str, jax.Array]) -> jax.Array:
  """The cubic feature ``z = vec(beta x_q^T)`` (row-major), (B, d^2); ``beta = (1/n) X^T y``.

  Args:
    prompts: raw prompts.

  Returns:
    z (B, d^2).

  Reference: Zhang, Singh, Latham, Saxe (2025), Eqs. 4 and 6-7 (z = vec(beta x_q^T)).
  """
  beta = lsa_theory.gd_statistic(prompts)
  return (beta[:, :, None] * prompts["x_query"][:, None, :]).reshape(beta.shape[0], -1)


def sample_moments(prompts: dict[str, jax.Array]) -> tuple[jax.Array, jax.Array, jax.Array]:
  """``(c, b, H)`` of the mean squared error over a fixed sample of prompts (full-batch GD's loss).

  Args:
    prompts: raw prompts (``regression.sample``).

  Returns:
    ``c = mean y_q^2``, ``b = mean y_q z``, ``H = mean z z^T``.

  Reference: Zhang, Singh, Latham, Saxe (2025), Eqs. 6-7 and Sec. 2 (full-batch GD on a fixed training set).
  """
  z, y = features(prompts), prompts["y_query"]
  return jnp.mean(y**2), jnp.mean(y[:, None] * z, axis=0), z.T @ z / z.shape[0]


def quadratic_loss(gamma: jax.Array | np.ndarray, moments: Moments) -> jax.Array | np.ndarray:
  """``c - 2 b^T g + g^T H g`` at ``g = vec(gamma)``: the MSE of ``y_hat = beta^T gamma x_q`` under ``moments``.

  Args:
    gamma: the effective matrix (d, d).
    moments: ``(c, b, H)``.

  Returns:
    The loss.

  Reference: Zhang, Singh, Latham, Saxe (2025), Eqs. 5 and 14 (the loss as a quadratic in Gamma).
  """
  c, b, h = moments
  g = gamma.reshape(-1)
  return c - 2 * b @ g + g @ (h @ g)


def population_loss(gamma: Any, cov: Any, n: int, sigma: float, prior: str = "identity") -> float:
  """The exact population loss of ``y_hat = beta^T gamma x_q`` (float64).

  Args:
    gamma: the effective matrix (d, d).
    cov: Lam.
    n: context examples.
    sigma: label-noise std.
    prior: ``'identity'`` or ``'inv_cov'``.

  Returns:
    ``L(Gamma)``.

  Reference: Zhang, Singh, Latham, Saxe (2025), Eqs. 5, 14 and 15.
  """
  c, b, h = population_moments(cov, n, sigma, prior)
  g = np.asarray(gamma, np.float64).reshape(-1)
  return float(c - 2 * b @ g + g @ h @ g)


def escape_rate(cov: Any, prior: str = "identity") -> float:
  """``||Lam Om Lam||_F``: the linear growth rate (per tau) of ATTN_M's aligned mode at small init (R4), so the
  half-drop time grows as ``ln(1/s) / ||Lam Om Lam||_F`` (the escape slope in tau per e-fold of the init).

  Args:
    cov: the covariance Lam.
    prior: ``'identity'`` or ``'inv_cov'``.

  Returns:
    The rate (per tau).

  Reference: Zhang, Singh, Latham, Saxe (2025), Sec. 3 (escape time ~ tau ln(1/w_init)/||Lam^2||,
    Frobenius norm), extended to Om = Lam^-1.
  """
  cov = np.asarray(cov, np.float64)
  lol = cov @ cov if prior == "identity" else cov
  return float(np.linalg.norm(lol))


def escape_slope_gd(rate: float, learning_rate: float) -> float:
  """The escape slope of plain GD (tau per e-fold of init, ``t = 2 lr step``): the aligned mode grows by
  ``1 + 2 lr rate`` per step on the MSE, so one e-fold of growth takes ``1/ln(1 + 2 lr rate)`` steps; the flow's
  ``1/rate`` is the limit ``lr -> 0`` (at lr = 5e-4 and rate 16.5 the two differ by 0.8%).

  Args:
    rate: ``||Lam Om Lam||_F``.
    learning_rate: the GD step.

  Returns:
    The slope (tau per e-fold).

  Reference: Zhang, Singh, Latham, Saxe (2025), Sec. 3 and Eq. 5 (GD on the MSE is the Euler step of Eq. 5
    with dt/tau = 2 lr; derived in the theorem's docs page).
  """
  return 2 * learning_rate / float(np.log1p(2 * learning_rate * rate))


def merged_sigmoid(t: Any, d: int, n: int, sigma: float, w_init: float) -> np.ndarray:
  """Eq. 10 (Lam = I, aligned balanced init of norm ``w_init``): ``y_hat = g(t) beta^T x_q`` with
  ``g(t) = e^{2 sqrt(d) t} / [a (e^{2 sqrt(d) t} - 1) + sqrt(d)/w_init^2]``, ``a = 1 + (1 + d + sigma^2)/n``
  (t in units of tau; the noise term is our extension, derived in the theorem's docs page);
  ``g(inf) = n/(n + d + 1 + sigma^2)``.

  Args:
    t: times (units of tau).
    d: dimension.
    n: context examples.
    sigma: label-noise std.
    w_init: initial norm of each layer.

  Returns:
    g(t).

  Reference: Zhang, Singh, Latham, Saxe (2025), Eq. 10 (Sec. 3), extended to label noise.
  """
  t = np.asarray(t, np.float64)
  a = 1 + (1 + d + sigma**2) / n
  e = np.exp(2 * np.sqrt(d) * t)
  return e / (a * (e - 1) + np.sqrt(d) / w_init**2)


def merged_aligned_gd(d: int, n: int, sigma: float, w_init: float, learning_rate: float, steps: int
                      ) -> np.ndarray:
  """Eq. 10's scalar ``g`` under plain GD instead of the flow (Lam = Om = I, the aligned balanced init of norm
  ``w_init``): the parameters stay aligned and balanced, ``Gamma = g I``, and GD on the MSE maps
  ``g -> g (1 + 2 lr sqrt(d) (1 - a g))^2`` with ``a = 1 + (1 + d + sigma^2)/n``, ``g_0 = w_init^2/sqrt(d)`` (the
  flow limit ``lr -> 0`` at ``t = 2 lr step`` is :func:`merged_sigmoid`; derived in the theorem's docs page).

  Args:
    d: dimension.
    n: context examples.
    sigma: label-noise std.
    w_init: initial norm of each layer.
    learning_rate: the GD step.
    steps: number of steps.

  Returns:
    ``g_t`` for t = 0..steps (float64).

  Reference: Zhang, Singh, Latham, Saxe (2025), Eq. 10 (Sec. 3) and Eq. 5, discretised as plain GD.
  """
  a, rate = 1 + (1 + d + sigma**2) / n, 2 * learning_rate * np.sqrt(d)
  g = np.empty(steps + 1)
  g[0] = w_init**2 / np.sqrt(d)
  for t in range(steps):
    g[t + 1] = g[t] * (1 + rate * (1 - a * g[t])) ** 2
  return g


def merged_half_time(d: int, n: int, sigma: float, w_init: float) -> float:
  """Eq. 10's half-drop time: ``g(t_half) = g(inf)/2`` at ``t_half = ln(sqrt(d)/(a w_init^2) - 1)/(2 sqrt(d))`` tau,
  ``a = 1 + (1 + d + sigma^2)/n`` (3.5909 tau at d = 4, n = 32, w_init = 1e-3).

  Args:
    d: dimension.
    n: context examples.
    sigma: label-noise std.
    w_init: initial norm of each layer.

  Returns:
    t_half (units of tau).

  Reference: Zhang, Singh, Latham, Saxe (2025), Eq. 10 (Sec. 3), solved for g = g(inf)/2.
  """
  a = 1 + (1 + d + sigma**2) / n
  return float(np.log(np.sqrt(d) / (a * w_init**2) - 1) / (2 * np.sqrt(d)))


def gd_curve(loss: Callable[[Any], jax.typing.ArrayLike], params: Any, learning_rate: float,
             steps: int) -> tuple[Any, jax.Array]:
  """Plain GD on a deterministic loss, recording the loss before every step: the theory trajectory a trained run
  is compared with (population moments: the exact-gradient "flow" at ``t = 2 lr step``).

  Args:
    loss: params -> scalar.
    params: initial parameters.
    learning_rate: the step.
    steps: number of steps.

  Returns:
    The final parameters and the losses (steps,), ``losses[t]`` at step t.

  Reference: Zhang, Singh, Latham, Saxe (2025), Eq. 5 (gradient flow; GD with t/tau = 2 lr step).
  """
  def step(p, _):
    value, grad = jax.value_and_grad(loss)(p)
    return jax.tree.map(lambda x, g: x - learning_rate * g, p, grad), value

  return jax.lax.scan(step, params, None, length=steps)
