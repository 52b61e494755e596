"""Result 2's sampling noise of population GD on one fixed sample, by the infinitesimal jackknife.

The reduced population system runs GD on one fixed sample of M prompts (their inner products), and so does the
independent reference computation its rows are compared with (8000 prompts, float64; the theorem's docs page). Both
values carry the noise of their samples. Weight prompt i by ``1 + e_i``; its influence on the trajectory,
``U_i(t) = M dxi(t)/de_i``, follows the linearised GD recursion (derived in the theorem's docs page)::

    U_i <- U_i - D (H(xi) U_i + g_i(xi) - g(xi)),   D = diag(eta/d, eta),

with ``g_i`` prompt i's gradient, ``g`` their mean and ``H`` the mean Hessian. To first order, xi(t) over independent
samples of M prompts has the standard deviation ``sd_i(U_i(t)) / sqrt(M)``, and a statistic read at xi(t) on fresh
prompts (the loss, E[q_i*]) the influence ``grad S . U_i`` plus its own evaluation noise. The influences are computed
once, on the run's own sample, so the same numbers give the standard error of the run (its M) and of the reference
(its 8000).
``tests/test_nearest_neighbor.py`` checks ``U`` against forward-mode derivatives in the sample weights and the
standard error against the scatter of independent samples.

The recursion runs at its own step (``noise_eta``, the trajectory depends on eta t only; Li et al. 2024 Sec. 5,
P8 in the docs page): the standard deviations at eta = 0.05, 0.5 and 5 agree within 5% (tests).

Reference: Li et al. (2024), the GD recursion on the two-parameter family (Lemma 2); Jaeckel (1972) and Efron (1982)
for the infinitesimal jackknife.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from icljax.models import nearest_neighbor as model
from icljax.theory import nearest_neighbor as theory

REFERENCE_PROMPTS = 8000   # the reference computation's sample (population GD on one sample of 8000 prompts)


def _prompt_loss(xi: jax.Array, tau: jax.Array) -> jax.Array:
  return theory.per_prompt(xi, tau)["loss"]


@functools.partial(jax.jit, static_argnames=("d", "marks"))
def influence_path(xi0: jax.Array, tau: jax.Array, eta: float, d: int, marks: tuple[int, ...]) -> dict[str, jax.Array]:
  """GD on the sample ``tau`` from ``xi0`` with every prompt's influence, read at the steps ``marks``.

  Args:
    xi0: the start ``(xi1, xi2)``.
    tau: the sample's inner products (M, N).
    eta: the GD step on W (xi1 moves by eta/d).
    d: input dimension.
    marks: increasing step counts at which to read the state.

  Returns:
    Stacked over the marks: ``xi`` (K, 2) and the influences ``U`` (K, M, 2).

  Reference: Li et al. (2024), Lemma 2 (the GD recursion); docs page "nearest_neighbor", section "What is checked and
    why" (influences).
  """
  step_scale = model.family_step(eta, d).astype(tau.dtype)

  def step(carry, _):
    xi, u = carry
    per = jax.jacfwd(_prompt_loss)(xi, tau)                                   # (M, 2) per-prompt gradients
    mean = per.mean(0)
    hess = jax.jacfwd(lambda x: jax.jacfwd(_prompt_loss)(x, tau).mean(0))(xi)  # (2, 2)
    return (xi - step_scale * mean, u - (u @ hess.T + per - mean[None]) * step_scale[None]), None

  carry, out, done = (xi0.astype(tau.dtype), jnp.zeros((tau.shape[0], 2), tau.dtype)), [], 0
  for mark in marks:
    carry, _ = jax.lax.scan(step, carry, None, length=mark - done)
    out.append(carry)
    done = mark
  return {"xi": jnp.stack([c[0] for c in out]), "U": jnp.stack([c[1] for c in out])}


def influences(xi0: jax.Array, tau: jax.Array, eta: float, d: int, eta_times: list[float]) -> dict[float, np.ndarray]:
  """Every prompt's influence on xi at each ``eta t`` (the recursion at step ``eta``; steps rounded).

  Args:
    xi0: the start.
    tau: the run's sample (M, N).
    eta: the recursion's step.
    d: input dimension.
    eta_times: the values of eta t needed.

  Returns:
    eta t -> ``U`` (M, 2), float64.

  Reference: docs page "nearest_neighbor", section "What is checked and why" (influences).
  """
  steps = {e: max(1, round(e / eta)) for e in eta_times}
  marks = tuple(sorted(set(steps.values())))
  if not marks:
    return {}
  u = np.asarray(influence_path(jnp.asarray(xi0), tau, eta, d, marks)["U"], np.float64)
  return {e: u[marks.index(s)] for e, s in steps.items()}


def statistic_influence(stat, xi: jax.Array, tau: jax.Array, u: np.ndarray) -> tuple[float, np.ndarray, float]:
  """A statistic ``mean_i s_i(xi)`` over fresh prompts ``tau`` at the run's point ``xi``: its value, the influence of
  the GD sample on it through xi (``grad . U_i``) and its own standard error over ``tau``.

  Args:
    stat: ``(xi, tau) -> (B,)`` per-prompt values.
    xi: where the statistic is read (the run's logged point).
    tau: the evaluation prompts (B, N), independent of the GD sample.
    u: the GD sample's influences on xi (M, 2).

  Returns:
    ``(value, influence (M,), standard error over tau)``.

  Reference: docs page "nearest_neighbor", section "What is checked and why" (influences).
  """
  per, grad = (np.asarray(a, np.float64) for a in _values_and_gradient(stat, jnp.asarray(xi, tau.dtype), tau))
  return float(per.mean()), u @ grad, float(per.std() / np.sqrt(per.size))


@functools.partial(jax.jit, static_argnums=0)
def _values_and_gradient(stat, xi: jax.Array, tau: jax.Array) -> tuple[jax.Array, jax.Array]:
  return stat(xi, tau), jax.grad(lambda x: stat(x, tau).mean())(xi)


def standard_errors(influence: np.ndarray, run_prompts: int, reference_prompts: int = REFERENCE_PROMPTS
                    ) -> tuple[float, float]:
  """The standard errors of a statistic with per-prompt ``influence`` on samples of the run's and the reference's
  sizes (first order; the O(1/M) biases are O(1/sqrt(M)) of these).

  Args:
    influence: per-prompt influences (M,).
    run_prompts: the run's sample size.
    reference_prompts: the reference computation's sample size.

  Returns:
    ``(se of the run, se of the reference)``.

  Reference: docs page "nearest_neighbor", section "What is checked and why" (influences).
  """
  sd = float(np.std(influence))
  return sd / np.sqrt(run_prompts), sd / np.sqrt(reference_prompts)
