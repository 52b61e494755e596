"""Result 2's reference rows (P6 trajectories, P7's L xi1, P9's shifted-test MSE) against the run, with error bars
computed in the run.

The rows come from an independent float64 computation: population GD on one sample of 8000 prompts (the theorem's
docs page, P6-P9). The run's population system is GD on its own sample of ``tau_samples`` prompts, so both sides
carry sample noise; each check's tolerance is 4 standard errors of the difference, from the per-prompt influences of
``noise.py`` of this folder (the run's sample size and the reference's 8000), plus the reference's printed rounding.
Trajectories are compared as increments from the start (``xi - xi(0)``, so a frozen xi2 fails); the loss and E[q_i*]
on the run's fresh evaluation prompts (their own standard error joins the run's). The reference's evaluation noise
(its loss and E[q_i*] evaluated off its GD sample: a rerun at 64000 prompts moved its L by <= 1%, less than xi; P9's
test sets, whose size is not stated) is left out: the tolerance is then tighter than the truth, never looser.

Reference: Li et al. (2024), arXiv 2411.10830, Sec. 5 and Appendix B (the experiments the rows reproduce).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from icljax.experiment.checks import Checker
from icljax.models import nearest_neighbor as model
from icljax.results.nearest_neighbor import noise
from icljax.results.nearest_neighbor.plan import NNContext
from icljax.results.nearest_neighbor.setup import NNSetup
from icljax.theory import nearest_neighbor as theory

Rows = Sequence[Mapping[str, float]]
REFERENCE_PROMPTS = noise.REFERENCE_PROMPTS


def _loss(xi: jax.Array, tau: jax.Array) -> jax.Array:
  return theory.per_prompt(xi, tau)["loss"]


def _q_star(xi: jax.Array, tau: jax.Array) -> jax.Array:
  return theory.per_prompt(xi, tau)["q_star"]


def shift_sq_err(xi: jax.Array, batch: Mapping[str, jax.Array]) -> jax.Array:
  """Per test prompt ``(sum_j q_j y_j - y_i*)^2`` on the family (what ``plan.shift_stats`` averages).

  Args:
    xi: the point (xi1, xi2).
    batch: a shifted test set.

  Returns:
    Squared errors (B,).

  Reference: Li et al. (2024), Appendix B.
  """
  q = model.reduced_attention(xi, batch["tau"])[:, :-1]
  return (jnp.sum(q * batch["y"], -1) - batch["target"]) ** 2


@jax.jit
def _mse_gradient(xi: jax.Array, batch: Mapping[str, jax.Array]) -> jax.Array:
  return jax.grad(lambda x: shift_sq_err(x, batch).mean())(xi)


def _check(c: Checker, entry: str, quantity: str, ref: tuple[float, float], measured: float, influence: np.ndarray,
           run_prompts: int, extra_se: float = 0.0, floor: float = 0.0, note: str = "") -> None:
  """One row value: 4 s.e. of (run - reference) from the influences (the run's sample and the reference's) and the
  run's own evaluation noise ``extra_se``, plus the reference's rounding and ``floor``."""
  se_run, se_ref = noise.standard_errors(influence, run_prompts)
  se = float(np.sqrt(se_run**2 + extra_se**2 + se_ref**2))
  note = (note + "; " if note else "") + f"s.e. run {np.hypot(se_run, extra_se):.3g}, reference {se_ref:.3g}"
  c(entry, quantity, ref[0], measured, se=se, floor=ref[1] + floor,
    note=note + (f"; discretisation {floor:.2g}" if floor else ""))


def trajectory_row(c: Checker, quantity: str, xi: np.ndarray, xi0: np.ndarray, row: tuple, u: np.ndarray,
                   run_prompts: int, tau_eval: jax.Array, floors: Sequence[float] = (0.0, 0.0, 0.0, 0.0)
                   ) -> dict[str, tuple]:
  """The checks of one P6 row: xi1, xi2 as increments from the start, the loss and E[q_i*] on fresh prompts.

  Args:
    c: the run's checker.
    quantity: the row's label (``'t=1000'``).
    xi: the run's point (2,).
    xi0: its start (2,).
    row: ``(xi1, xi2, L, E[q_i*])`` as ``(value, rounding)`` or None.
    u: the GD sample's influences on xi at the row (M, 2).
    run_prompts: the GD sample's size M.
    tau_eval: fresh evaluation prompts (B, N).
    floors: extra absolute terms (discretisation) for the four values.

  Returns:
    ``'L'`` -> ``(value, influence, evaluation s.e.)`` (for P7).

  Reference: docs page "nearest_neighbor", section "What is checked and why" (reference).
  """
  for k, name in enumerate(("xi1", "xi2")):
    if row[k] is not None:
      ref = (row[k][0] - float(xi0[k]), row[k][1])
      _check(c, "reference", f"P6 {name} - {name}(0) at {quantity}", ref, float(xi[k] - xi0[k]), u[:, k],
             run_prompts, floor=floors[k])
  stats = {}
  for k, (name, stat) in enumerate((("L", _loss), ("E[q_i*]", _q_star)), start=2):
    value, influence, eval_se = noise.statistic_influence(stat, jnp.asarray(xi), tau_eval, u)
    stats[name] = (value, influence, eval_se)
    if row[k] is not None:
      _check(c, "reference", f"P6 {name} at {quantity} ({tau_eval.shape[0]} fresh prompts)", row[k], value,
             influence, run_prompts, extra_se=eval_se, floor=floors[k])
  return stats


def row_influences(setup: NNSetup, ctx: NNContext, rows: Rows) -> dict[float, np.ndarray]:
  """Every prompt's influence on the run's population system at the P6, P7 and P9 rows' eta t (one recursion).

  Args:
    setup: the run's specs.
    ctx: the start and the GD sample.
    rows: the metric rows.

  Returns:
    eta t -> influences (M, 2); empty when there are no rows or no population system.

  Reference: docs page "nearest_neighbor", section "What is checked and why" (influences).
  """
  steps = {t for t, *_ in setup.references} | {t for t, _ in setup.p7_references}
  steps |= {t for t, _, _ in setup.shift_references}
  if not steps or "pop_xi1" not in rows[-1]:
    return {}
  return noise.influences(ctx.xi0, ctx.tau_pop, setup.noise_eta, setup.task.d, [setup.eta * t for t in steps])


def discretisation(setup: NNSetup, ctx: NNContext, steps: Sequence[int]) -> tuple[float, dict[int, np.ndarray]]:
  """The Euler discretisation between the run's step and the rows' (zero when they are equal): the population system
  from the same start at twice the run's step, read at half the row's steps.

  Global Euler error is first order, ``xi(eta) - xi(0) ~ c eta``, so ``xi(eta) - xi(eta_ref) ~ (xi(2 eta) - xi(eta))
  (eta - eta_ref) / eta``: a row value S read from the run carries ``factor |S(xi(2 eta)) - S(xi(eta))|``.

  Args:
    setup: the run's specs (its eta, the rows' eta).
    ctx: the start and the GD sample.
    steps: the run's steps of the rows (even: the run at twice the step takes half as many).

  Returns:
    ``(factor, {step: xi at 2 eta after step / 2 steps})``; ``(0, {})`` at the rows' own step.

  Reference: docs page "nearest_neighbor", section "What is checked and why" (Euler discretisation).
  """
  if setup.eta == setup.reference_eta or not steps:
    return 0.0, {}
  tau = theory.prepare_tau(ctx.tau_pop)
  xi, done, out = ctx.xi0, 0, {}
  for step in sorted(steps):
    xi = theory.reduced_gd(xi, tau, 2 * setup.eta, setup.task.d, step // 2 - done)
    done = step // 2
    out[step] = np.asarray(xi, np.float64)
  return abs(setup.eta - setup.reference_eta) / setup.eta, out


def _stat_floor(factor: float, stat, coarse: np.ndarray | None, fine: np.ndarray, tau: jax.Array) -> float:
  """``factor |S(coarse) - S(fine)|`` for a statistic on fresh prompts (0 without a coarse run)."""
  if coarse is None or not factor:
    return 0.0
  values = [noise.statistic_influence(stat, jnp.asarray(x, jnp.float32), tau, np.zeros((1, 2)))[0] for x in (coarse,
                                                                                                              fine)]
  return factor * abs(values[0] - values[1])


def p6_rows(c: Checker, setup: NNSetup, ctx: NNContext, rows: Rows, infl: Mapping[float, np.ndarray],
            out: dict[str, Any]) -> None:
  """P6 rows of the run's own population system, and P7's L xi1 at the rows that have it.

  Args:
    c: the run's checker.
    setup: the run's specs.
    ctx: the start and the GD sample.
    rows: the metric rows.
    infl: :func:`row_influences`.
    out: notes and scalars of the evaluation.

  Reference: Li et al. (2024), Sec. 5 (the trajectories the rows reproduce); docs page "nearest_neighbor",
  sections P6 and P7 of "What is checked and why".

  Returns:
    None: the checks are added to ``c`` and the values to ``out``.
  """
  p7 = dict(setup.p7_references)
  steps = sorted({t for t, *_ in setup.references} | set(p7))
  if steps and not infl:
    out["notes"].append("P6/P7 rows skipped: they are the population system's, and this run has none")
  if not infl:
    return
  by_step = {int(r["step"]): r for r in rows}
  xi0 = np.asarray(ctx.xi0, np.float64)
  p6 = {t: row for t, *row in setup.references}
  m = ctx.tau_pop.shape[0]
  factor, coarse = discretisation(setup, ctx, steps)
  for t in steps:
    xi = np.array([by_step[t]["pop_xi1"], by_step[t]["pop_xi2"]])
    u = infl[setup.eta * t]
    floors = (0.0, 0.0, 0.0, 0.0)
    if factor:
      floors = (*(factor * np.abs(coarse[t] - xi)), _stat_floor(factor, _loss, coarse[t], xi, ctx.tau_eval),
                _stat_floor(factor, _q_star, coarse[t], xi, ctx.tau_eval))
    stats = trajectory_row(c, setup.row_label(t), xi, xi0, tuple(p6.get(t, (None,) * 4)), u, m, ctx.tau_eval,
                           floors)
    if t in p7:
      loss, influence, eval_se = stats["L"]
      _check(c, "p7_product", f"P7: L xi1 at {setup.row_label(t)} (L on {ctx.tau_eval.shape[0]} fresh prompts)",
             p7[t], loss * xi[0], xi[0] * influence + loss * u[:, 0], m, extra_se=float(xi[0]) * eval_se,
             floor=factor * abs(float(coarse[t][0]) * _loss_value(coarse[t], ctx.tau_eval) - loss * xi[0])
             if factor else 0.0)
      out["scalars"][f"loss_times_xi1[t={t}]"] = loss * float(xi[0])


def _loss_value(xi: np.ndarray, tau: jax.Array) -> float:
  return noise.statistic_influence(_loss, jnp.asarray(xi, jnp.float32), tau, np.zeros((1, 2)))[0]


def shift_rows(c: Checker, setup: NNSetup, ctx: NNContext, rows: Rows, infl: Mapping[float, np.ndarray]) -> None:
  """P9 rows: the run's MSE against the 1-NN label on its shifted test set at t, against the reference's.

  The run's error: its test set's standard error and its sample's noise on xi (influences times the MSE's gradient on
  the test set); the reference's: its sample's noise on xi (8000 prompts); its test set's is not known. A run at
  another step adds the Euler discretisation (:func:`discretisation`).

  Args:
    c: the run's checker.
    setup: the run's specs.
    ctx: the start, the GD sample and the test sets.
    rows: the metric rows.
    infl: :func:`row_influences`.

  Reference: Li et al. (2024), Appendix B (the shifted test set); docs page "nearest_neighbor", section P9 of "What
  is checked and why".

  Returns:
    None: the checks are added to ``c`` and the values to ``out``.
  """
  if not infl:
    return
  by_step = {int(r["step"]): r for r in rows}
  factor, coarse = discretisation(setup, ctx, sorted({int(t) for t, _, _ in setup.shift_references}))
  for t, shift, ref in setup.shift_references:
    row, batch = by_step[int(t)], ctx.tests[shift]
    xi = jnp.array([row["pop_xi1"], row["pop_xi2"]], jnp.float32)
    grad = np.asarray(_mse_gradient(xi, batch), np.float64)
    floor = 0.0
    if factor:
      coarse_mse = float(shift_sq_err(jnp.asarray(coarse[int(t)], jnp.float32), batch).mean())
      floor = factor * abs(coarse_mse - row[f"shift_mse[{shift}]"])
    _check(c, "shift_reference", f"P9 shift {shift}: MSE at {setup.row_label(int(t))}", ref,
           row[f"shift_mse[{shift}]"], infl[setup.eta * t] @ grad, ctx.tau_pop.shape[0],
           extra_se=row[f"shift_mse_se[{shift}]"], floor=floor, note="reference's test-set noise not included")


def sigma_rows(c: Checker, setup: NNSetup, ctx: NNContext,
               runs: Mapping[float, tuple[np.ndarray, Mapping[float, np.ndarray]]], out: dict[str, Any]) -> None:
  """P6 rows of the sigma_ratio runs (reduced population GD at step ``ratio_eta`` on the run's sample).

  A row computed at step ``eta_ref`` and read from a run at ``ratio_eta`` differs by the Euler discretisation: the
  run from the same start at ``2 ratio_eta`` estimates it, ``|xi(2 eta_r) - xi(eta_r)| (eta_r - eta_ref) / eta_r``
  (first-order error), which joins the tolerance.

  Args:
    c: the run's checker.
    setup: the run's specs.
    ctx: the GD sample.
    runs: ``step -> (eta t (T,), {sigma: xi (T, 2)})``, the ratio runs at ``ratio_eta`` and ``2 ratio_eta``.
    out: notes of the evaluation.

  Returns:
    None: the checks are added to ``c`` and the values to ``out``.

  Reference: docs page "nearest_neighbor", section "What is checked and why" (reference, the sigma_ratio rows).
  """
  eta_r = setup.ratio_eta
  for sigma, eta_ref, t, *row in setup.sigma_references:
    target = eta_ref * t
    at = {}
    for step, (eta_t, xi) in runs.items():
      hit = np.flatnonzero(np.isclose(eta_t, target, rtol=1e-9, atol=0.0))
      if hit.size and sigma in xi:
        at[step] = xi[sigma][hit[0]]
    if len(at) < 2:
      out["notes"].append(f"sigma_references: row sigma = {sigma:g}, t = {t} skipped (eta t = {target:g} is not a "
                          f"logged point of both sigma_ratio runs)")
      continue
    xi0 = np.array([0.0, sigma])
    u = noise.influences(jnp.asarray(xi0, jnp.float32), ctx.tau_pop, setup.ratio_noise_eta, setup.task.d,
                         [target])[target]
    factor = abs(eta_r - eta_ref) / eta_r
    coarse = {k: noise.statistic_influence(s, jnp.asarray(at[2 * eta_r]), ctx.tau_eval, u)[0] for k, s in
              ((2, _loss), (3, _q_star))}
    fine = {k: noise.statistic_influence(s, jnp.asarray(at[eta_r]), ctx.tau_eval, u)[0] for k, s in
            ((2, _loss), (3, _q_star))}
    floors = [factor * abs(at[2 * eta_r][k] - at[eta_r][k]) for k in (0, 1)]
    floors += [factor * abs(coarse[k] - fine[k]) for k in (2, 3)]
    trajectory_row(c, f"t={t} (eta {eta_ref:g}) from sigma={sigma:g}, run at eta {eta_r:g}", at[eta_r], xi0,
                   tuple(row), u, ctx.tau_pop.shape[0], ctx.tau_eval, floors)
