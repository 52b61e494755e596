"""Monte-Carlo theory of the lsa theorem (Mahankali et al.) for any target family and covariance: eta_F, the optimal
B by normal equations, and the Bayes (ridge) risk, each with its standard error.

Reference: Mahankali, Hashimoto, Ma (2023), Theorem 3 and Lemma 1; docs page "lsa", section "What is checked and
why".
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from icljax import stats, validation
from icljax.tasks import regression as task
from icljax.theory import lsa as lsa_theory


def _mc(key, spec, num_prompts, chunk, stat):
  sampler = lambda k, b: task.sample(k, spec, b)
  return jax.jit(lambda k: stats.monte_carlo(stat, sampler, k, num_prompts, chunk))(key)


def eta_mc(key: jax.Array, spec: task.RegressionSpec, num_prompts: int = 200_000,
           chunk: int = 10_000) -> tuple[float, float]:
  """Monte-Carlo step size ``eta_F = E[y_{n+1} x_{n+1}^T g] / E|g|^2`` for any isotropic target family.

  Returns the estimate and its delta-method standard error.

  Args:
    key: PRNG key.
    spec: the prompt distribution (isotropic).
    num_prompts: Monte-Carlo prompts.
    chunk: prompts per chunk.

  Returns:
    ``(eta_F, standard error)``.

  Reference: Mahankali et al. (2023), Theorem 3 (eta is defined through expectations over the data); derived on the
  docs page "lsa".
  """
  def stat(p):
    g = lsa_theory.gd_statistic(p)
    a = p["y_query"] * jnp.einsum("bd,bd->b", p["x_query"], g)
    b = jnp.sum(g**2, -1)
    return jnp.stack([a, b, a * a, b * b, a * b], -1)

  mean, _ = _mc(key, spec, num_prompts, chunk, stat)
  ea, eb, eaa, ebb, eab = (float(v) for v in mean)
  ratio = ea / eb
  # Delta method for a ratio of means: Var(a - ratio * b) / (N E[b]^2).
  var = max(eaa - 2 * ratio * eab + ratio**2 * ebb, 0.0)
  count = -(-num_prompts // min(chunk, num_prompts)) * min(chunk, num_prompts)
  return ratio, float(np.sqrt(var / count) / eb)


def optimal_B_mc(key: jax.Array, spec: task.RegressionSpec, num_prompts: int = 200_000,
                 chunk: int = 10_000) -> np.ndarray:
  """The MSE-optimal ``B`` of the predictor class ``x^T B g`` by Monte-Carlo normal equations.

  ``y_hat = vec(B) . vec(x g^T)``, so ``vec(B*) = E[phi phi^T]^{-1} E[phi y]`` with ``phi = vec(x g^T)``. This is a
  numerical theory for any target family and covariance, independent of the closed forms.

  Args:
    key: PRNG key.
    spec: the prompt distribution.
    num_prompts: Monte-Carlo prompts.
    chunk: prompts per chunk.

  Returns:
    The (d, d) matrix (float64).

  Reference: Mahankali et al. (2023), Theorem 3, generalised to any target family and covariance (docs page
  "lsa").
  """
  d = spec.d

  def stat(p):
    phi = (p["x_query"][:, :, None] * lsa_theory.gd_statistic(p)[:, None, :]).reshape(p["x_query"].shape[0], d * d)
    outer = phi[:, :, None] * phi[:, None, :]
    return jnp.concatenate([outer.reshape(-1, d**4), phi * p["y_query"][:, None]], -1)

  mean, _ = _mc(key, spec, num_prompts, chunk, stat)
  mean = np.asarray(mean, np.float64)
  a, b = mean[: d**4].reshape(d * d, d * d), mean[d**4:]
  return np.linalg.solve(a, b).reshape(d, d)


def bayes_risk_mc(key: jax.Array, spec: task.RegressionSpec, num_prompts: int = 200_000,
                  chunk: int = 10_000) -> tuple[float, float]:
  """Bayes risk of linear Gaussian targets (the ridge / posterior-mean predictor), with its standard error.

  Rao-Blackwellised over w* and the noise: ``C = sigma^2 + sigma^2 E tr(Sigma (X^T X + sigma^2 P)^{-1})`` with P
  the prior precision Psi^{-1} (I for w* ~ N(0, I), Sigma for w* ~ N(0, Sigma^{-1})).


  Args:
    key: PRNG key.
    spec: a linear-target prompt distribution.
    num_prompts: Monte-Carlo prompts.
    chunk: prompts per chunk.

  Returns:
    ``(risk, standard error)``.

  Reference: Mahankali et al. (2023), Lemma 1 (the constant C: the loss is C plus a distance to the posterior mean).
  """
  if spec.target != "linear":
    raise validation.ConfigError("target", spec.target, "'linear' (the ridge Bayes risk needs linear targets)")
  sigma = float(spec.sigma)
  if sigma == 0.0:
    if spec.n >= spec.d:
      return 0.0, 0.0
    raise validation.ConfigError("sigma", sigma, "> 0 when n < d (the noiseless posterior is degenerate)")
  cov = spec.cov
  precision = spec.prior_precision()

  def stat(p):
    a = jnp.einsum("bnd,bne->bde", p["x"], p["x"]) + sigma**2 * precision[None]
    return sigma**2 + sigma**2 * jnp.trace(jnp.linalg.solve(a, jnp.broadcast_to(cov, a.shape)), axis1=-2, axis2=-1)

  mean, se = _mc(key, spec, num_prompts, chunk, stat)
  return float(mean), float(se)
