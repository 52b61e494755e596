"""The concentration of the finite-prompt attention operator on its infinite-prompt limit (Prop. 3.1), no training.

For tokens ``N(0, Sigma)``, queries ``z ~ N(0, I)``, ``U = sqrt(lambda) Sigma^{-1/2}`` and ``V = I``, the error
``E|T[mu_L](z) - Sigma U z|^2`` is ``C1/L + C2/L^2 + ...`` when ``lambda < 1/6`` (light tails,
``icljax.theory.softmax_as_linear.output_error_expansion``) and decays more slowly than 1/L when ``lambda > 1/2``
(the softmax weights' variance ``E e^{2 a^T x}/(E e^{a^T x})^2 = e^{lambda |z|^2}`` has no mean over the query).
At L = 1 the error is ``tr Sigma + |Sigma U|_F^2 > 0``, where the bound of Prop. 3.1 (``ln L`` times constants) is 0.

Reference: Boursier & Boyer (2025), arXiv 2512.11784, Prop. 3.1 and Prop. 3.4.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from icljax._pytree import filter_jit
from icljax.experiment.checks import Checker
from icljax.models import softmax_as_linear as model
from icljax.results.softmax_as_linear.setup import SalSetup
from icljax.tasks import softmax_as_linear as task
from icljax.theory import softmax_as_linear as theory

SLOPE_FROM = 16       # the slopes are fitted on L >= 16
HEAVY_MARGIN = 0.1    # heavy tails: the slope lies in [-1 + margin, -margin]


def inv_sqrt(cov: np.ndarray) -> np.ndarray:
  """The symmetric ``Sigma^{-1/2}``.

  Args:
    cov: a symmetric positive definite matrix.

  Returns:
    Its symmetric inverse square root.

  Reference: docs page "softmax_as_linear", section "What is checked and why" (U = sqrt(lambda) Sigma^-1/2).
  """
  evals, evecs = np.linalg.eigh(cov)
  return (evecs / np.sqrt(evals)) @ evecs.T


@filter_jit
def _error_stats(key: jax.Array, spec: task.TokenSpec, U: jax.Array, n: int, L: int) -> tuple[jax.Array, jax.Array]:
  """Mean and standard error of ``|T[mu_L](z) - Sigma U z|^2`` over ``n`` prompt-query pairs (one program per
  ``(n, L)``, shared by every lambda)."""
  k_x, k_z = jax.random.split(key)
  x = task.sample_tokens(k_x, spec, (n, L))
  z = jax.random.normal(k_z, (n, spec.d))
  err = model.operator(U, jnp.eye(spec.d, dtype=x.dtype), x, z) - z @ U.T @ spec.cov.T
  e = jnp.sum(err * err, -1)
  return jnp.mean(e), jnp.std(e) / np.sqrt(n)


def _errors(setup: SalSetup, U: np.ndarray, L: int, key: jax.Array) -> tuple[float, float]:
  """Mean and standard error of the error over ``concentration_pairs / L`` (at least 64) pairs."""
  n = max(setup.concentration_pairs // L, 64)
  mean, se = _error_stats(key, setup.task, jnp.asarray(U, jnp.result_type(float)), n, L)
  return float(mean), float(se)


def wls_slope(lengths: np.ndarray, y: np.ndarray, sd: np.ndarray) -> tuple[float, float]:
  """Weighted least-squares slope of ``y`` on ``log L`` (weights ``1/sd^2``) and its standard error.

  Args:
    lengths: prompt lengths.
    y: the log errors.
    sd: their standard deviations (the error's s.e. over its mean, by the delta method).

  Returns:
    ``(slope, its standard error)``.

  Reference: docs page "softmax_as_linear", section "What is checked and why" (concentration_slope).
  """
  x, w = np.log(lengths), 1 / sd**2
  xc = x - np.sum(w * x) / np.sum(w)
  return float(np.sum(w * xc * y) / np.sum(w * xc * xc)), float(1 / np.sqrt(np.sum(w * xc * xc)))


def curves(setup: SalSetup, key: jax.Array) -> dict[float, np.ndarray]:
  """The error curves: lambda -> rows ``(L, mean, se)``.

  Args:
    setup: the run's specs.
    key: key of the tokens and queries.

  Returns:
    One (len(concentration_lengths), 3) array per lambda.

  Reference: Boursier & Boyer (2025), Prop. 3.1 (the error it bounds);
  docs page "softmax_as_linear", section "What is checked and why".
  """
  root = inv_sqrt(np.asarray(setup.task.cov, np.float64))
  out = {}
  for i, lam in enumerate(setup.concentration_lambdas):
    rows = [(L, *_errors(setup, np.sqrt(lam) * root, L, jax.random.fold_in(key, 1000 * i + L)))
            for L in setup.concentration_lengths]
    out[lam] = np.array(rows, np.float64)
  return out


def concentration_checks(c: Checker, setup: SalSetup, key: jax.Array) -> dict[str, Any]:
  """The concentration checks of each lambda (Gaussian tokens only: the limits are Lemma 2.1's).

  Args:
    c: the checker.
    setup: the run's specs.
    key: key of the tokens and queries.

  Returns:
    Arrays ``concentration_lambda_<lam>`` (rows L, mean, se) for the figures.

  Reference: Boursier & Boyer (2025), Prop. 3.1; docs page "softmax_as_linear", section "What is checked and why".
  """
  spec = setup.task
  cov = np.asarray(spec.cov, np.float64)
  d, trace = spec.d, float(np.trace(cov))
  arrays = {}
  for lam, rows in curves(setup, key).items():
    arrays[f"concentration_lambda_{lam:g}"] = rows
    lengths, mean, se = rows[:, 0], rows[:, 1], rows[:, 2]
    fit = lengths >= SLOPE_FROM
    if 1 in lengths and lam == setup.concentration_lambdas[0]:
      U = np.sqrt(lam) * inv_sqrt(cov)
      one = int(np.argmax(lengths == 1))
      c("one_token_error", "E|T[mu_1](z) - T[mu](z)|^2 at L = 1: tr Sigma + |Sigma U|_F^2",
        theory.error_at_one_token(cov, U, np.eye(d)), mean[one], se=se[one])
      c("prop31_at_one", "Prop. 3.1 at L = 1: error <= c1 sigma^6 ln(1) / 1 = 0", 0.0, mean[one])
    if np.sum(fit) < 2:
      continue
    slope, slope_se = wls_slope(lengths[fit], np.log(mean[fit]), se[fit] / mean[fit])
    c1, c2 = theory.output_error_expansion(d, trace, lam)
    if lam < 1 / 6:   # light tails: the second-order term exists (decided from lambda, not from the theory's output)
      top = int(np.argmax(lengths))
      c("concentration_constant", f"lambda = {lam:g}: L E|T_L - T|^2 at L = {int(lengths[top])} vs C1 + C2/L",
        c1 + c2 / lengths[top], lengths[top] * mean[top], se=lengths[top] * se[top])
      predicted, _ = wls_slope(lengths[fit], np.log(c1 / lengths[fit] + c2 / lengths[fit] ** 2), se[fit] / mean[fit])
      c("concentration_slope", f"lambda = {lam:g}: log-log slope of the error (L >= {SLOPE_FROM}) vs C1/L + C2/L^2",
        predicted, slope, se=slope_se)
    elif lam > 0.5:
      c("heavy_slower", f"lambda = {lam:g} > 1/2: slope + 1 (slower than 1/L)", HEAVY_MARGIN, slope + 1)
      c("heavy_decays", f"lambda = {lam:g} > 1/2: -slope (the error still decays)", HEAVY_MARGIN, -slope)
  return arrays
