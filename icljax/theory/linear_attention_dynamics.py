"""Training dynamics of multi-head linear attention (Zhang, Singh, Latham, Saxe 2025): closed forms.

Both parameterisations (merged key-query ATTN_M, separate rank-R key and query ATTN_S) predict
``y_hat = beta^T Gamma x_q`` with ``beta = (1/n) sum_i y_i x_i`` (the query excluded) and an effective matrix
``Gamma`` (digest 2.4). The loss ``E (y_q - y_hat)^2`` (MSE, no 1/2) is therefore a quadratic in
``g = vec(Gamma)`` (row-major) through the feature ``z = vec(beta x_q^T)``::

    L(Gamma) = c - 2 b^T g + g^T H g,    c = E y_q^2,  b = E[y_q z],  H = E[z z^T].

Population moments (digest 1.3, 3; [D], checked here against Monte Carlo in the tests): for ``x ~ N(0, Lam)``,
``w ~ N(0, Om)`` (``Om = I`` or ``Lam^-1``) and noise ``sigma``::

    c = tr(Lam Om) + sigma^2,   b = vec(Lam Om Lam),   H = K (x) Lam,
    K = E[beta beta^T] = (1 + 1/n) Lam Om Lam + ((tr(Lam Om) + sigma^2)/n) Lam.

Full-batch GD on a fixed sample is the same quadratic with the sample's moments (:func:`sample_moments`), so the
paper's protocol (P fixed prompts, full batch) runs at the cost of a 16 x 16 matrix product per step.

In the eigenbasis ``e_d`` of ``Lam`` (``a_d = lam_d^2 om_d``, ``K_d`` the eigenvalues of K) the fixed point
``M_m`` learns the top ``m`` directions (digest R7, [D, N])::

    gamma_d = a_d / (lam_d K_d),   r_d = a_d^2 / (lam_d K_d),   L(M_m) = c - sum_{d <= m} r_d,

with the directions ordered by decreasing ``a_d`` (the order of the ATTN_S staircase, R8). ``L(M_d)`` is the
global minimum, ``Gamma* = sum_d gamma_d e_d e_d^T`` (for ``Om = I`` the toolkit's ``gamma_star``).

Reference: Zhang et al. (2025), arXiv 2501.16265, digest ``zhang_2501.16265.md`` sections 1.3, 3, 4 (R2-R8).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from icljax import validation
from icljax.theory import regression as regression_theory

Moments = tuple[jax.Array, jax.Array, jax.Array]


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

  Reference: Zhang, Singh, Latham, Saxe (2025), digest zhang_2501.16265.md.
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


def population_moments(cov: Any, n: int, sigma: float, prior: str = "identity") -> Moments:
  """``(c, b, H)`` of the population loss (module docstring), float64 numpy.

  Args:
    cov: the covariance Lam (d, d).
    n: context examples.
    sigma: label-noise std.
    prior: ``'identity'`` or ``'inv_cov'``.

  Returns:
    ``c`` (scalar), ``b`` (d^2,), ``H`` (d^2, d^2).

  Reference: Zhang, Singh, Latham, Saxe (2025), digest zhang_2501.16265.md.
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

  Reference: Zhang, Singh, Latham, Saxe (2025), digest zhang_2501.16265.md.
  """
  beta = regression_theory.gd_statistic(prompts)
  return (beta[:, :, None] * prompts["x_query"][:, None, :]).reshape(beta.shape[0], -1)


def sample_moments(prompts: dict[str, jax.Array]) -> Moments:
  """``(c, b, H)`` of the mean squared error over a fixed sample of prompts (full-batch GD's loss).

  Args:
    prompts: raw prompts (``regression.sample``).

  Returns:
    ``c = mean y_q^2``, ``b = mean y_q z``, ``H = mean z z^T``.

  Reference: Zhang, Singh, Latham, Saxe (2025), digest zhang_2501.16265.md.
  """
  z, y = features(prompts), prompts["y_query"]
  return jnp.mean(y**2), jnp.mean(y[:, None] * z, axis=0), z.T @ z / z.shape[0]


def quadratic_loss(gamma: jax.Array, moments: Moments) -> jax.Array:
  """``c - 2 b^T g + g^T H g`` at ``g = vec(gamma)``: the MSE of ``y_hat = beta^T gamma x_q`` under ``moments``.

  Args:
    gamma: the effective matrix (d, d).
    moments: ``(c, b, H)``.

  Returns:
    The loss.

  Reference: Zhang, Singh, Latham, Saxe (2025), digest zhang_2501.16265.md.
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

  Reference: Zhang, Singh, Latham, Saxe (2025), digest zhang_2501.16265.md.
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

  Reference: Zhang, Singh, Latham, Saxe (2025), digest zhang_2501.16265.md.
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

  Reference: Zhang, Singh, Latham, Saxe (2025), digest zhang_2501.16265.md.
  """
  return 2 * learning_rate / float(np.log1p(2 * learning_rate * rate))


def merged_sigmoid(t: Any, d: int, n: int, sigma: float, w_init: float) -> np.ndarray:
  """Eq. 10 (Lam = I, aligned balanced init of norm ``w_init``): ``y_hat = g(t) beta^T x_q`` with
  ``g(t) = e^{2 sqrt(d) t} / [a (e^{2 sqrt(d) t} - 1) + sqrt(d)/w_init^2]``, ``a = 1 + (1 + d + sigma^2)/n``
  (t in units of tau; the noise term is the digest's extension). ``g(inf) = n/(n + d + 1 + sigma^2)``.

  Args:
    t: times (units of tau).
    d: dimension.
    n: context examples.
    sigma: label-noise std.
    w_init: initial norm of each layer.

  Returns:
    g(t).

  Reference: Zhang, Singh, Latham, Saxe (2025), digest zhang_2501.16265.md.
  """
  t = np.asarray(t, np.float64)
  a = 1 + (1 + d + sigma**2) / n
  e = np.exp(2 * np.sqrt(d) * t)
  return e / (a * (e - 1) + np.sqrt(d) / w_init**2)


def gd_curve(loss: Callable[[Any], jax.Array], params: Any, learning_rate: float, steps: int) -> tuple[Any, jax.Array]:
  """Plain GD on a deterministic loss, recording the loss before every step: the theory trajectory a trained run
  is compared with (population moments: the exact-gradient "flow" at ``t = 2 lr step``).

  Args:
    loss: params -> scalar.
    params: initial parameters.
    learning_rate: the step.
    steps: number of steps.

  Returns:
    The final parameters and the losses (steps,), ``losses[t]`` at step t.

  Reference: Zhang, Singh, Latham, Saxe (2025), digest zhang_2501.16265.md.
  """
  def step(p, _):
    value, grad = jax.value_and_grad(loss)(p)
    return jax.tree.map(lambda x, g: x - learning_rate * g, p, grad), value

  return jax.lax.scan(step, params, None, length=steps)
