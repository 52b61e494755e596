"""The lsa theorem on the exact population loss (``estimator='exact'``): the loss at the trained parameters against
L*, and the exact landscape of the B-quadratic at the optimum (its Hessian's spectrum and condition number).

Reference: docs page "lsa", section "What is checked and why" (the exact population loss).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from icljax._pytree import filter_jit
from icljax.experiment.checks import Checker
from icljax.models import lsa
from icljax.results.lsa.plan import Theory
from icljax.results.lsa.setup import LsaSetup
from icljax.tasks import regression
from icljax.theory import lsa_exact


def _b_loss(vec_b: jax.Array, task: regression.RegressionSpec, d: int, n: int) -> jax.Array:
  """The exact loss of the predictor ``x^T B g``: the LSA with ``u = e_{d+1}``, ``M_11 = B^T`` (1/n convention)."""
  b = vec_b.reshape(d, d)
  u = jnp.zeros(d + 1, b.dtype).at[d].set(1.0)
  m = jnp.zeros((d + 1, d + 1), b.dtype).at[:d, :d].set(b.T)
  return lsa_exact.population_loss({"w": u, "M": m}, lsa.LsaSpec(d, n, parameterization="reduced"), task)


_hessian = filter_jit(jax.hessian(_b_loss))
_path = filter_jit(jax.vmap(_b_loss, in_axes=(0, None, None, None)))


def b_hessian(setup: LsaSetup, b: np.ndarray) -> np.ndarray:
  """Hessian of the exact loss of the predictor ``x^T B g`` with respect to vec(B), at ``b`` (d^2 x d^2).

  The predictor is the LSA with ``u = e_{d+1}``, ``M_11 = B^T`` (1/n convention), so the loss is quadratic in B:
  its Hessian is the same everywhere, and its condition number says how flat the slowest direction is.

  Args:
    setup: the run's specs (task and context length).
    b: the point (any point gives the same Hessian).

  Returns:
    The Hessian (float64 when the run is).

  Reference: docs page "lsa", section "What is checked and why" (the exact landscape).
  """
  dtype = jnp.float64 if setup.run.x64 else jnp.float32
  return np.asarray(_hessian(jnp.asarray(b, dtype).reshape(-1), setup.task, setup.task.d, setup.task.n))


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

  Reference: docs page "lsa", section "What is checked and why" (the exact landscape).
  """
  d = setup.task.d
  dtype = jnp.float64 if setup.run.x64 else jnp.float32
  t = np.linspace(-0.5, 1.5, points)
  bs = jnp.asarray((1 - t)[:, None, None] * b_trained[None] + t[:, None, None] * b_theory[None], dtype)
  return t, np.asarray(_path(bs.reshape(points, d * d), setup.task, d, setup.task.n), np.float64)


def checks(c: Checker, setup: LsaSetup, th: Theory, params: Any) -> list[str]:
  """Adds the exact-loss check; returns notes on the landscape at the optimum.

  Args:
    c: the run's checker.
    setup: the run's specs.
    th: the theory.
    params: trained parameters.

  Returns:
    Notes for the summary.

  Reference: Mahankali et al. (2023), Theorems 1-2 (L*); docs page "lsa", section "What is checked and why".
  """
  value = float(lsa_exact.population_loss(params, setup.model, setup.task))
  if th.L_star is not None:
    c("exact_loss", "exact population loss at the trained parameters vs L*", th.L_star, value)
  eig = np.linalg.eigvalsh(b_hessian(setup, th.B))
  return [f"exact landscape at the optimum: the B-quadratic's Hessian has eigenvalues {eig.min():.4g} .. "
          f"{eig.max():.4g}, condition number {eig.max() / eig.min():.4g} (flat directions take that many more "
          "steps of a fixed-rate first-order method)."]
