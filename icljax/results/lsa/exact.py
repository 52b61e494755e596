"""Result 1 on the exact population loss (``estimator='exact'``): the loss at the trained parameters against L*,
and the exact landscape of the B-quadratic at the optimum (its Hessian's spectrum and condition number)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from icljax.experiment.checks import Checker
from icljax.models import lsa
from icljax.results.lsa.plan import Theory
from icljax.results.lsa.setup import LsaSetup
from icljax.theory import lsa_exact


def b_hessian(setup: LsaSetup, b: np.ndarray) -> np.ndarray:
  """Hessian of the exact loss of the predictor ``x^T B g`` with respect to vec(B), at ``b`` (d^2 x d^2).

  The predictor is the LSA with ``u = e_{d+1}``, ``M_11 = B^T`` (1/n convention), so the loss is quadratic in B:
  its Hessian is the same everywhere, and its condition number says how flat the slowest direction is.

  Args:
    setup: the run's specs (task and context length).
    b: the point (any point gives the same Hessian).

  Returns:
    The Hessian (float64 when the run is).
  """
  d = setup.task.d
  model = lsa.LsaSpec(d, setup.task.n, parameterization="reduced")
  dtype = jnp.float64 if setup.run.x64 else jnp.float32
  u = jnp.zeros(d + 1, dtype).at[d].set(1.0)

  def loss(vec_b):
    m = jnp.zeros((d + 1, d + 1), dtype).at[:d, :d].set(vec_b.reshape(d, d).T)
    return lsa_exact.population_loss({"w": u, "M": m}, model, setup.task)

  return np.asarray(jax.hessian(loss)(jnp.asarray(b, dtype).reshape(-1)))


def path_losses(setup: LsaSetup, b_trained: np.ndarray, b_theory: np.ndarray, points: int = 41
                ) -> tuple[np.ndarray, np.ndarray]:
  """The exact loss of ``x^T B_t g`` along ``B_t = (1 - t) B_trained + t B_theory``, t in [-0.5, 1.5].

  Args:
    setup: the run's specs (linear targets).
    b_trained: the trained odd-part matrix.
    b_theory: the theory matrix.
    points: points along the path.

  Returns:
    ``(t, loss)``.
  """
  d = setup.task.d
  model = lsa.LsaSpec(d, setup.task.n, parameterization="reduced")
  dtype = jnp.float64 if setup.run.x64 else jnp.float32
  u = jnp.zeros(d + 1, dtype).at[d].set(1.0)
  t = np.linspace(-0.5, 1.5, points)
  bs = jnp.asarray((1 - t)[:, None, None] * b_trained[None] + t[:, None, None] * b_theory[None], dtype)
  loss = jax.vmap(lambda b: lsa_exact.population_loss(
      {"w": u, "M": jnp.zeros((d + 1, d + 1), dtype).at[:d, :d].set(b.T)}, model, setup.task))(bs)
  return t, np.asarray(loss, np.float64)


def checks(c: Checker, setup: LsaSetup, th: Theory, params: Any) -> list[str]:
  """Adds the exact-loss check; returns notes on the landscape at the optimum.

  Args:
    c: the run's checker.
    setup: the run's specs.
    th: the theory.
    params: trained parameters.

  Returns:
    Notes for the summary.
  """
  value = float(lsa_exact.population_loss(params, setup.model, setup.task))
  if th.L_star is not None:
    c("exact_loss", "exact population loss at the trained parameters vs L*", th.L_star, value)
  eig = np.linalg.eigvalsh(b_hessian(setup, th.B))
  return [f"exact landscape at the optimum: the B-quadratic's Hessian has eigenvalues {eig.min():.4g} .. "
          f"{eig.max():.4g}, condition number {eig.max() / eig.min():.4g} (flat directions take that many more "
          "steps of a fixed-rate first-order method)."]
