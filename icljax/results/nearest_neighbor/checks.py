"""Result 2's evaluation: the family structure, monotone trajectories, the reference rows, rates and shifted tests.

Reference: Li et al. (2024), arXiv 2411.10830; docs page "nearest_neighbor", section "What is checked and why".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jax.numpy as jnp
import numpy as np

from icljax.experiment.api import Evaluation
from icljax.experiment.checks import Checker
from icljax.models import nearest_neighbor as model
from icljax.results.nearest_neighbor import ensemble, extras, references, sphere
from icljax.results.nearest_neighbor.plan import NNContext, shift_stats
from icljax.results.nearest_neighbor.setup import NNSetup
from icljax.results.nearest_neighbor.tolerances import TOLERANCES
from icljax.theory import nearest_neighbor as theory
from icljax.theory import nearest_neighbor_shift as shift_theory

Rows = Sequence[Mapping[str, float]]


def column(rows: Rows, key: str) -> np.ndarray:
  """The values of one metric over the logged steps that have it.

  Args:
    rows: the metric rows.
    key: the metric.

  Returns:
    The values (float64), in step order.

  Reference: docs page "nearest_neighbor", section "Setting" (the logged metrics).
  """
  return np.array([r[key] for r in rows if key in r], dtype=np.float64)


def _full_w(c: Checker, setup: NNSetup, params: Any, rows: Rows, out: dict) -> None:
  w = np.asarray(params["W"], np.float64)
  xi1, xi2 = model.from_W(w)
  out["arrays"].update(W=w, W_xi=np.array([xi1, xi2]))
  label_col = float(np.max(column(rows, "label_column")))
  off = float(np.max(column(rows, "off_family")))
  c("label_column", "label column of W, max over logged steps", 0.0, label_col)
  if setup.estimator == "symmetrized":
    c("off_family", "off-family norm of W / max(1, |W|_F), max over steps", 0.0,
      off / max(1.0, float(np.linalg.norm(w))))
  else:
    out["notes"].append(f"estimator (c) minibatch SGD: off-family norm of W reached {off:.3g} (max over logged "
                        "steps); it vanishes only in expectation.")
  out["scalars"].update(W_xi1=xi1, W_xi2=xi2, W_off_family_max=off, W_label_column_max=label_col)
  if "xi" in params:
    xi = np.asarray(params["xi"], np.float64)
    out["arrays"]["xi_same_sample"] = xi
    c("same_prompts", "xi1: full-W GD vs reduced GD on the same prompts", xi[0], xi1)
    c("same_prompts", "xi2: full-W GD vs reduced GD on the same prompts", xi[1], xi2)
  if "xi_pop" in params:
    pop = np.asarray(params["xi_pop"], np.float64)
    out["scalars"].update(W_vs_population_rel_gap_xi1=abs(xi1 / pop[0] - 1), W_vs_population_rel_gap_xi2=abs(
        xi2 / pop[1] - 1))
    out["notes"].append(f"full-W GD on {setup.sample_size} prompts (x their symmetry images) vs the population "
                        f"system: xi1 {xi1:.4f} vs {pop[0]:.4f}, xi2 {xi2:.4f} vs {pop[1]:.4f}.")


def _trajectory(c: Checker, setup: NNSetup, ctx: NNContext, params: Any, rows: Rows, out: dict) -> str:
  pop = "xi_pop" in params
  prefix = "pop_" if pop else "W_"
  xi_final = np.asarray(params["xi_pop"] if pop else out["arrays"]["W_xi"], np.float64)
  xi1_t, xi2_t = column(rows, prefix + "xi1"), column(rows, prefix + "xi2")
  out["arrays"].update(xi1=np.float64(xi_final[0]), xi2=np.float64(xi_final[1]), xi1_t=xi1_t, xi2_t=xi2_t)
  c("xi2_monotone", "min step of xi2 along the run (nondecreasing)", 0.0,
    float(np.min(np.diff(np.concatenate([[float(ctx.xi0[1])], xi2_t])))))
  if pop:
    loss_t, q_t = column(rows, "pop_loss"), column(rows, "q_star")
    start = [theory.loss_at_zero(setup.task.N, float(ctx.xi0[1]))] if setup.model.init == "paper" else []
    train_t = np.concatenate([start, column(rows, "pop_loss_train")])
    c("loss_monotone", "max step of the loss on the GD sample (nonincreasing)", 0.0,
      float(np.max(np.diff(train_t))) if len(train_t) > 1 else 0.0)
    c("q_star_increasing", "min step of E[q_i*] (increasing)", 0.0, float(np.min(np.diff(q_t))) if len(q_t) > 1
      else 0.0)
    out["scalars"].update(final_loss=float(loss_t[-1]), final_q_star=float(q_t[-1]),
                          final_q_self=float(column(rows, "q_self")[-1]))
    out["arrays"].update(loss_t=loss_t, q_star_t=q_t)
  out["scalars"].update(xi1=float(xi_final[0]), xi2=float(xi_final[1]), loss_at_init_closed_form=(
      theory.loss_at_zero(setup.task.N, setup.model.sigma) if setup.model.init == "paper" else None))
  return prefix


def _slopes(c: Checker, setup: NNSetup, rows: Rows, prefix: str, out: dict) -> None:
  if "slopes" not in setup.extras or prefix != "pop_":
    return
  t_min = setup.run.steps / 10
  steps, xi1_t, loss_t = column(rows, "step"), column(rows, "pop_xi1"), column(rows, "pop_loss")
  s_xi, s_l = extras.late_slope(steps, xi1_t, t_min), extras.late_slope(steps, loss_t, t_min)
  c("slope", f"P7 slope of log xi1 vs log t (t >= {t_min:g})", 1 / 3, s_xi)
  c("slope", f"P7 slope of log L vs log t (t >= {t_min:g})", -1 / 3, s_l)
  out["scalars"].update(slope_log_xi1=s_xi, slope_log_loss=s_l, loss_times_xi1=float(loss_t[-1] * xi1_t[-1]))


def _shifts(c: Checker, setup: NNSetup, ctx: NNContext, rows: Rows, out: dict) -> None:
  r = jnp.float32(setup.R)
  for name, batch in ctx.tests.items():
    mse_t = column(rows, f"shift_mse[{name}]")
    init = [float(v) for v in shift_stats(ctx.xi0, batch, r)]
    out["arrays"][f"shift_mse[{name}]"] = np.concatenate([[init[0]], mse_t])
    out["arrays"][f"shift_agree[{name}]"] = np.concatenate([[init[1]], column(rows, f"shift_agree[{name}]")])
    se_final = column(rows, f"shift_mse_se[{name}]")[-1]
    c("shift_falls", f"shift {name}: final - initial MSE vs the 1-NN label", 0.0, mse_t[-1] - init[0],
      se=float(np.hypot(init[3], se_final)), note=f"initial {init[0]:.4f}")
    c("p11_bound", f"shift {name}: max(|y_hat - y_i*| - P11 bound)", 0.0,
      float(np.max(column(rows, f"bound_violation[{name}]"))))
    out["scalars"][f"shift_final_mse[{name}]"] = float(mse_t[-1])
    out["scalars"][f"shift_final_agreement[{name}]"] = float(out["arrays"][f"shift_agree[{name}]"][-1])
    if name.startswith("appendix_b") and setup.model.init == "paper":
      se = float(np.std(np.asarray(batch["y"])[:, 0] ** 2) / np.sqrt(setup.test_prompts))
      c("p9_at_zero", f"P9 shift {name}: MSE at xi1 = 0 (closed form)",
        shift_theory.shift_mse_at_zero(setup.task.N, setup.model.sigma), init[0], se=se, floor=1e-3)


def evaluate(setup: NNSetup, ctx: NNContext, params: Any, rows: Rows) -> Evaluation:
  """Checks of a trained result-2 run.

  Args:
    setup: the run's specs.
    ctx: initial xi, population and evaluation samples, test sets.
    params: trained ``W``, ``xi``, ``xi_pop`` (those trained).
    rows: the metric rows (the trajectory).

  Returns:
    The evaluation.

  Reference: docs page "nearest_neighbor", section "What is checked and why".
  """
  c = Checker(TOLERANCES)
  task_, m = setup.task, setup.model
  out: dict[str, Any] = {"notes": list(setup.skipped), "arrays": {"step": column(rows, "step")}, "scalars": {
      "setting": f"d={task_.d}, N={task_.N}, sigma={m.sigma}, eta={setup.eta}, model={setup.systems}, "
                 f"estimator={setup.estimator}"}}
  if "W" in params:
    _full_w(c, setup, params, rows, out)
  prefix = _trajectory(c, setup, ctx, params, rows, out)
  infl = references.row_influences(setup, ctx, rows)
  references.p6_rows(c, setup, ctx, rows, infl, out)
  _slopes(c, setup, rows, prefix, out)
  _shifts(c, setup, ctx, rows, out)
  references.shift_rows(c, setup, ctx, rows, infl)
  if "sigma_ratio" in setup.extras:
    extras.sigma_ratio(c, setup, ctx, out, rows)
  if "landscape" in setup.extras:
    extras.landscape(c, setup, ctx, out)
  if "sphere" in setup.extras:
    sphere.checks(c, setup, ctx, out)
  if "ensemble" in setup.extras and setup.estimator == "symmetrized":
    ensemble.checks(c, setup, ctx, out)
  return Evaluation(checks=c.checks, scalars=out["scalars"], arrays=out["arrays"], notes=out["notes"])
