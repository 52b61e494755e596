"""Result 2's extra computations on the reduced system: xi1/xi2 against Lemma 12's 7/15 for several sigma, and
the loss landscape of the paper's Fig. 2 with the reference values P1 and P10 (the theorem's docs page).

Reference: Li et al. (2024), Lemma 12, Appendix E and Fig. 2; docs page "nearest_neighbor", section "What is checked and
  why" (P1, P8, P10, lemma12).
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from icljax.experiment.checks import Checker
from icljax.results.nearest_neighbor import noise, references
from icljax.results.nearest_neighbor.plan import NNContext
from icljax.results.nearest_neighbor.setup import NNSetup
from icljax.theory import nearest_neighbor as theory

P1_POINTS = (3.0, 0.0, -2.0)   # xi2 values of P1 at xi1 = 0

def population_runs(tau: jax.Array, sigmas: tuple[float, ...], d: int, eta: float, steps: int,
                    points: int = 200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """Reduced population GD from ``xi = (0, sigma)`` for several sigma, vmapped (one compiled program).

  Args:
    tau: the population sample of inner products.
    sigmas: initial xi2 values.
    d: input dimension (the xi1 step is eta/d).
    eta: the GD step.
    steps: number of steps.
    points: logged points along the run.

  Returns:
    The logged steps (T,), ``xi`` (S, T, 2) and the population loss there (S, T).

  Reference: Li et al. (2024), the reduced dynamics (Lemma 2); the trajectory depends on eta * t only (P8).
  """
  tau_t = theory.prepare_tau(tau)
  log_every = max(1, steps // points)

  def run(xi0, tau_blocks):
    def chunk(xi, _):
      xi = theory.reduced_gd(xi, tau_blocks, eta, d, log_every)
      return xi, (xi, theory.loss_and_grads_blocks(xi, tau_blocks)[0])
    return jax.lax.scan(chunk, xi0, None, length=steps // log_every)[1]

  xi0 = jnp.stack([jnp.array([0.0, s], jnp.float32) for s in sigmas])
  traj, loss = jax.jit(jax.vmap(run, in_axes=(0, None)))(xi0, tau_t)                      # (S, T, 2), (S, T)
  t = (np.arange(traj.shape[1]) + 1) * log_every
  return t, np.asarray(traj, np.float64), np.asarray(loss, np.float64)


def late_slope(t: np.ndarray, v: np.ndarray, t_min: float) -> float:
  """The least-squares slope of log v against log t over ``t >= t_min`` (positive v only).

  Args:
    t: times.
    v: values.
    t_min: the window's start.

  Returns:
    The slope.

  Reference: docs page "nearest_neighbor", section "What is checked and why" (P7's slopes).
  """
  sel = (t >= t_min) & (v > 0)
  return float(np.polyfit(np.log(t[sel]), np.log(v[sel]), 1)[0])


def _eta_t_invariance(c: Checker, setup: NNSetup, eta_t: np.ndarray, xi: np.ndarray, rows) -> None:
  """P8: the run's own trajectory (step eta) and the ratio run from the same sigma (step ratio_eta) at equal eta t."""
  own = {round(float(r["step"]) * setup.eta, 6): (r["pop_xi1"], r["pop_xi2"]) for r in rows}
  pairs = [(own[round(float(e), 6)], x) for e, x in zip(eta_t, xi) if round(float(e), 6) in own]
  if not pairs:
    return
  rel = max(float(np.max(np.abs(np.asarray(a) / b - 1))) for a, b in pairs)
  c("p8_eta_t", f"P8: max relative gap of (xi1, xi2) between eta = {setup.eta:g} and eta = {setup.ratio_eta:g} at "
    f"equal eta t ({len(pairs)} points, up to eta t = {max(eta_t):g})", 0.0, rel)


def sigma_ratio(c: Checker, setup: NNSetup, ctx: NNContext, out: dict[str, Any], rows=()) -> None:
  """Adds xi1/xi2 trajectories (arrays, scalars, a note) for ``setup.ratio_sigmas``, and Lemma 12's 7/15 bound
  as a claim for those at or above its sigma threshold.

  Args:
    c: the run's checker.
    setup: the run's specs.
    ctx: the GD sample and the evaluation prompts.
    out: notes, scalars and arrays of the evaluation.
    rows: the metric rows (for P8).

  Returns:
    None: the checks are added to ``c`` and the values to ``out``.

  Reference: Li et al. (2024), Lemma 12; docs page "nearest_neighbor", section "What is checked and why" (lemma12, P8,
    the sigma_ratio rows).
  """
  n_steps = int(round((setup.ratio_horizon or setup.run.steps * setup.eta) / setup.ratio_eta))
  t, xi, _ = population_runs(ctx.tau_pop, setup.ratio_sigmas, setup.task.d, setup.ratio_eta, n_steps)
  if setup.sigma_references:
    row_sigmas = tuple(sorted({r[0] for r in setup.sigma_references}))
    t2, xi2, _ = population_runs(ctx.tau_pop, row_sigmas, setup.task.d, 2 * setup.ratio_eta, n_steps // 2)
    references.sigma_rows(c, setup, ctx, {
        setup.ratio_eta: (t * setup.ratio_eta, dict(zip(setup.ratio_sigmas, xi))),
        2 * setup.ratio_eta: (t2 * 2 * setup.ratio_eta, dict(zip(row_sigmas, xi2)))}, out)
  ratio = xi[..., 0] / xi[..., 1]
  out["arrays"].update(ratio_t=t * setup.ratio_eta / setup.eta, ratio=ratio, ratio_sigmas=np.array(setup.ratio_sigmas))
  for sigma, r in zip(setup.ratio_sigmas, ratio):
    out["scalars"][f"max_xi1_over_xi2[sigma={sigma:g}]"] = float(np.max(r))
    out["scalars"][f"final_xi1_over_xi2[sigma={sigma:g}]"] = float(r[-1])
  threshold = theory.lemma12_sigma_threshold(setup.task.d, setup.task.N) if setup.task.d > 3 else math.inf
  for sigma, r in zip(setup.ratio_sigmas, ratio):
    if sigma >= threshold:
      c("lemma12", f"Lemma 12: max xi1/xi2 over {n_steps} steps of eta={setup.ratio_eta:g} from sigma={sigma:g} "
        f"(threshold {threshold:.1f})", 7 / 15, float(np.max(r)), note="paper's bound")
  if setup.model.sigma in setup.ratio_sigmas and setup.ratio_eta != setup.eta and "pop_xi1" in rows[-1]:
    _eta_t_invariance(c, setup, t * setup.ratio_eta, xi[setup.ratio_sigmas.index(setup.model.sigma)], rows)
  worst = max(float(np.max(r)) for r in ratio)
  out["notes"].append(f"Li et al. Lemma 12 claims xi1 <= (7/15) xi2 = 0.467 xi2 for large sigma; here max xi1/xi2 = "
                      f"{worst:.3f} over sigma in {setup.ratio_sigmas} (xi_ratio.png; the docs page, section "
                      "'Where the paper and the numbers disagree').")


def _loss_point(xi: jax.Array, tau: jax.Array) -> tuple[float, float]:
  per = np.asarray(theory.per_prompt(xi, tau)["loss"], np.float64)
  return float(per.mean()), float(per.std() / np.sqrt(per.size))


def _p10_limits(c: Checker, ctx: NNContext) -> None:
  """P10's limits: L -> 1/2 as xi1 grows with xi2 fixed (the query's own token wins the attention), and L -> the
  context-only softmax's loss 1/2 E[sum p_j^2 - 2 p_i* + 1], p = softmax(xi1 tau), as xi2 grows (a NumPy transcription
  on the same inner products)."""
  value, _ = _loss_point(jnp.array([1e4, 3.0]), ctx.tau_pop)
  c("p10_limit_xi1", "P10: L(1e4, 3) vs its xi1 -> infinity limit 1/2", 0.5, value)
  tau = np.asarray(ctx.tau_pop, np.float64)
  for x1 in (4.0, 10.0):
    logits = x1 * tau
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    star = np.take_along_axis(p, np.argmax(tau, -1)[:, None], -1)[:, 0]
    limit = float(np.mean(0.5 * (np.sum(p**2, -1) - 2 * star + 1)))
    value, _ = _loss_point(jnp.array([x1, 60.0]), ctx.tau_pop)
    c("p10_limit_xi2", f"P10: L({x1:g}, 60) vs the context-only softmax's loss (xi2 -> infinity)", limit, value)


def landscape(c: Checker, setup: NNSetup, ctx: NNContext, out: dict[str, Any]) -> None:
  """The loss on a grid (arrays), the P10 reference values and P1 at xi1 = 0 (checks), the smallest Hessian
  eigenvalue at the ``hessian_references`` points.

  Args:
    c: the run's checker.
    setup: the run's specs.
    ctx: the population sample.
    out: scalars and arrays of the evaluation.

  Returns:
    None: the checks are added to ``c`` and the values to ``out``.

  Reference: Li et al. (2024), Fig. 2 and Appendix E (nonconvexity); docs page "nearest_neighbor", section "What is
    checked and why" (P1, P10).
  """
  xi1 = np.linspace(*setup.landscape_xi1, setup.landscape_points)
  xi2 = np.linspace(*setup.landscape_xi2, setup.landscape_points)
  grid = jnp.stack(jnp.meshgrid(jnp.asarray(xi1), jnp.asarray(xi2), indexing="ij"), -1).reshape(-1, 2)
  loss = jax.jit(jax.vmap(theory.loss, in_axes=(0, None)))(grid.astype(jnp.float32), ctx.tau_pop)
  out["arrays"].update(grid_xi1=xi1, grid_xi2=xi2, grid_loss=np.asarray(loss, np.float64).reshape(len(xi1), len(xi2)))
  n = ctx.tau_pop.shape[0]
  for (x1, x2), ref in setup.landscape_references:
    value, se = _loss_point(jnp.array([x1, x2]), ctx.tau_pop)
    c("landscape", f"P10 L({x1:g}, {x2:g})", ref[0], value, se=se * np.sqrt(1 + n / noise.REFERENCE_PROMPTS),
      floor=ref[1], note=f"reference's sample of {noise.REFERENCE_PROMPTS} prompts and ours of {n}")
  for x2 in P1_POINTS:
    value, _ = _loss_point(jnp.array([0.0, x2]), ctx.tau_pop)
    c("p1_closed_form", f"P1 L(0, {x2:g}) vs closed form", theory.loss_at_zero(setup.task.N, x2), value)
  _p10_limits(c, ctx)
  if setup.reference_match:
    for (x1, x2), ref in setup.hessian_references:
      value, spread = hessian_min_eig(ctx.tau_pop, (x1, x2))
      out["scalars"][f"hessian_min_eig_at_{x1:g}_{x2:g}"] = value
      c("hessian", f"P10 Hessian min eigenvalue at ({x1:g}, {x2:g}) (nonconvex)", ref[0], value,
        se=spread * np.sqrt(1 / n + 1 / noise.REFERENCE_PROMPTS), floor=ref[1],
        note=f"reference's sample of {noise.REFERENCE_PROMPTS} prompts and ours of {n}")

def hessian_min_eig(tau: jax.Array, xi: tuple[float, float] = (0.0, 0.0)) -> tuple[float, float]:
  """The reduced loss's Hessian at ``xi``: its smallest eigenvalue, and the spread over prompts of the per-prompt
  second derivative along that eigenvector (a simple eigenvalue moves, to first order, by that derivative's mean:
  the standard error of a sample of n prompts is the spread / sqrt(n)).

  Args:
    tau: inner products (B, N).
    xi: the point.

  Returns:
    ``(min eigenvalue, per-prompt standard deviation along its eigenvector)``.

  Reference: Li et al. (2024), Appendix E; docs page "nearest_neighbor", section "What is checked and why" (hessian).
  """
  per = _per_prompt_hessians(jnp.asarray(xi, tau.dtype), tau)
  per = np.asarray(per, np.float64)                                   # (B, 2, 2), forward over forward: 2 x 2 tangents
  evals, evecs = np.linalg.eigh(per.mean(0))
  along = np.einsum("i,bij,j->b", evecs[:, 0], per, evecs[:, 0])
  return float(evals[0]), float(along.std())


@jax.jit
def _per_prompt_hessians(xi: jax.Array, tau: jax.Array) -> jax.Array:
  return jax.jacfwd(jax.jacfwd(lambda x: theory.per_prompt(x, tau)["loss"]))(xi)
