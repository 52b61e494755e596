"""Checks that need no training: the attention operator at a large prompt against Lemma 2.1 (and its non-Gaussian
negative controls), Lemma 2.1 by quadrature, and the concentration of the finite-prompt operator (its 1/L rate and
constant, the slower heavy-tail regime, the L = 1 boundary of Prop. 3.1).

Reference: Boursier & Boyer (2025), arXiv 2512.11784, Lemma 2.1, Prop. 3.1.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from icljax import stats
from icljax.experiment.checks import Checker
from icljax.models import softmax_as_linear as model
from icljax.results.softmax_as_linear.setup import SalSetup
from icljax.tasks import softmax_as_linear as task
from icljax.theory import softmax_as_linear as theory

# lambda_max(U^T Gamma U) of the operator check: a^T Gamma a ~ lambda |z|^2 (Gaussian tokens: the delta-method
# variance e^{a^T Gamma a} stays small; non-Gaussian tokens: tilts of order 1 separate the exact limit from the
# linear form)
OPERATOR_LAMBDA = {"gaussian": 0.25, "uniform": 1.0, "rademacher": 1.0}


def operator_instance(setup: SalSetup, key: jax.Array) -> dict[str, np.ndarray]:
  """A random mean, ``U``, ``V`` and queries for the operator check (``lambda_max(U^T Gamma U)`` from
  :data:`OPERATOR_LAMBDA`).

  Args:
    setup: the run's specs (d, Sigma, the token law, the number of queries).
    key: key of the instance.

  Returns:
    ``{'mean', 'U', 'V', 'z'}`` (float64).

  Reference: Boursier & Boyer (2025), Lemma 2.1 (any m, K, Q, V, z);
  docs page "softmax_as_linear", section "What is checked and why".
  """
  d, cov = setup.task.d, np.asarray(setup.task.cov, np.float64)
  rng = np.random.default_rng(np.asarray(jax.random.key_data(key)).ravel().tolist())
  g = rng.standard_normal((d, d))
  g *= np.sqrt(OPERATOR_LAMBDA[setup.task.tokens] / np.linalg.eigvalsh(g.T @ cov @ g).max())
  return {"mean": 0.5 * rng.standard_normal(d), "U": g, "V": rng.standard_normal((d, d)) / np.sqrt(d),
          "z": rng.standard_normal((setup.operator_queries, d))}


@jax.jit
def _snis_program(x: jax.Array, U: jax.Array, V: jax.Array, z: jax.Array) -> tuple[jax.Array, jax.Array]:
  out = jax.vmap(lambda q: model.operator(U, V, x, q))(z)
  p = jax.vmap(lambda q: model.weights(x, U, q))(z)
  resid = x[None] @ V.T - out[:, None, :]
  return out, jnp.einsum("ql,qld,qle->qde", p * p, resid, resid)


def _snis(inst: dict[str, np.ndarray], tokens: jax.Array) -> tuple[np.ndarray, np.ndarray]:
  """Finite-prompt outputs at every query and the delta-method covariance of each (self-normalised sums)."""
  U, V, z, m = (jnp.asarray(inst[k], tokens.dtype) for k in ("U", "V", "z", "mean"))
  out, cov = _snis_program(tokens + m[None, :], U, V, z)
  return np.asarray(out, np.float64), np.asarray(cov, np.float64)


def operator_checks(c: Checker, setup: SalSetup, key: jax.Array) -> dict[str, Any]:
  """Lemma 2.1 at ``operator_tokens`` tokens per query (the token law's exact limit; for non-Gaussian laws also
  the linear formula as a control) and by tensor Gauss-Hermite quadrature.

  Args:
    c: the checker.
    setup: the run's specs.
    key: key of the instance and the tokens.

  Returns:
    Scalars for the summary.

  Reference: Boursier & Boyer (2025), Lemma 2.1; docs page "softmax_as_linear", section "What is checked and why".
  """
  spec = setup.task
  k_inst, k_tok, k_quad = jax.random.split(key, 3)
  inst = operator_instance(setup, k_inst)
  tokens = task.sample_tokens(k_tok, spec, (setup.operator_tokens,))
  out, cov = _snis(inst, tokens)
  root = np.asarray(spec.root, np.float64)
  limit = theory.operator_limit(spec.tokens, inst["mean"], root, inst["U"], inst["V"], inst["z"])
  linear = theory.operator_limit("gaussian", inst["mean"], root, inst["U"], inst["V"], inst["z"])
  worst = []
  for q in range(len(out)):
    weights = np.linalg.eigvalsh(cov[q])
    quantile = lambda k, w=weights: stats.quadratic_form_quantile(np.maximum(w, 0.0), k)
    err = float(np.sum((out[q] - limit[q]) ** 2))
    c("operator_identity" if spec.tokens == "gaussian" else "operator_law_limit",
      f"query {q}: |T_L(z) - V grad Lambda(U z)|^2 at L = {setup.operator_tokens}", 0.0, err, quantile=quantile)
    gap = float(np.sum((limit[q] - linear[q]) ** 2))
    if spec.tokens != "gaussian" and gap > 4 * quantile(4.0):   # a control only where it is separated
      c("operator_linear_control", f"query {q}: |T_L(z) - V(m + Gamma U z)|^2 (Lemma 2.1's linear form)", 0.0,
        float(np.sum((out[q] - linear[q]) ** 2)), quantile=quantile)
    worst.append(err)
  c("operator_quadrature", "Lemma 2.1 by Gauss-Hermite quadrature: max |tilted mean, covariance - closed form|",
    0.0, quadrature_error(setup, k_quad))
  return {"operator_max_sq_error": max(worst), "operator_tokens": setup.operator_tokens}


def quadrature_error(setup: SalSetup, key: jax.Array) -> float:
  """Tensor Gauss-Hermite tilted mean and covariance of a random ``N(m, B B^T)`` (``B``: D x (D-1), singular,
  ``D = min(d, 3)``; ``D = 1``: rank 1) against Lemma 2.1's ``(m + Gamma a, Gamma)``: the largest absolute gap.

  Args:
    setup: the run's specs (d, the quadrature degree).
    key: key of the instance.

  Returns:
    The largest absolute error.

  Reference: Boursier & Boyer (2025), Lemma 2.1;
  docs page "softmax_as_linear", section "What is checked and why" (operator_quadrature).
  """
  dim = min(setup.task.d, 3)
  rank = max(dim - 1, 1)
  rng = np.random.default_rng(np.asarray(jax.random.key_data(key)).ravel().tolist())
  m = rng.standard_normal(dim)
  b = rng.standard_normal((dim, rank)) / np.sqrt(rank)
  a = rng.standard_normal(dim)
  gamma = b @ b.T
  a *= np.sqrt(1.0 / max(a @ gamma @ a, 1e-12))   # a^T Gamma a = 1
  mean_q, cov_q = theory.tilt_by_quadrature(m, b, a, setup.quadrature_degree)
  return float(max(np.max(np.abs(mean_q - (m + gamma @ a))), np.max(np.abs(cov_q - gamma))))
