"""The lsa evaluation: the trained LSA against one step of (preconditioned) GD, every check naming an entry of the
tolerance table.

Reference: docs page "lsa", section "What is checked and why".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from icljax import stats, structure
from icljax.experiment.api import Evaluation
from icljax.experiment.checks import Checker
from icljax.models import lsa
from icljax.results.lsa import exact
from icljax.results.lsa.plan import LsaContext, Theory
from icljax.results.lsa.setup import LsaSetup
from icljax.results.lsa.tolerances import TOLERANCES
from icljax.tasks import regression
from icljax.theory import lsa as theory


def _eval_stats(setup: LsaSetup, params: Any, th: Theory, key: jax.Array) -> tuple[np.ndarray, np.ndarray]:
  """Means and standard errors over fresh raw prompts: model MSE, theory-predictor MSE, prediction gap, theory
  power, the paired difference of the two MSEs, and the Bayes (ridge) MSE for noisy linear targets."""
  task = setup.task
  b_theory = jnp.asarray(th.B, jnp.float32)
  sigma = float(task.sigma)
  precision = task.prior_precision()
  bayes = task.target == "linear" and sigma > 0

  def stat(p, batch):
    y, yhat = batch["y_query"], lsa.apply(p, batch, setup.model)
    yth = jnp.einsum("bd,de,be->b", batch["x_query"], b_theory, theory.gd_statistic(batch))
    cols = [(yhat - y) ** 2, (yth - y) ** 2, (yhat - yth) ** 2, yth**2, (yhat - y) ** 2 - (yth - y) ** 2]
    if bayes:
      cols.append((theory.ridge_predict(batch, sigma**2, precision) - y) ** 2)
    return jnp.stack(cols, -1)

  sampler = lambda k, b: regression.sample(k, task, b)
  mean, se = jax.jit(lambda p, k: stats.monte_carlo(lambda b: stat(p, b), sampler, k, setup.eval_prompts))(params, key)
  return np.asarray(mean, np.float64), np.asarray(se, np.float64)


def _entry(setup: LsaSetup, name: str) -> str:
  """The table entry of a structural check: its float-rounding form on the exact population loss."""
  return name + "_exact" if setup.estimator == "exact" else name


def _structure_checks(c: Checker, setup: LsaSetup, th: Theory, b: np.ndarray) -> None:
  d, exact = setup.task.d, setup.estimator == "exact"
  entry = "B_exact" if exact else "B_rel_err_gamma" if th.target_name == "Gamma*" else "B_rel_err"
  c(entry, f"B: relative Frobenius error vs {th.target_name}", 0.0, structure.relative_error(b, th.B))
  if th.eta is not None and (setup.task.isotropic or setup.task.target != "linear"):
    c(_entry(setup, "step_size"), "learned step size tr(B)/d", th.eta, float(np.trace(b) / d))
  if setup.task.prior == "spectrum":   # the negative control: the theorem's plain-GD form must not be found
    c("not_plain_gd", "Dist(B, I) must not be plain GD's 0", 0.0, structure.dist_to_identity(b),
      note=f"the theory B* has Dist(B*, I) = {structure.dist_to_identity(th.B):.3f}")
    return
  if setup.task.isotropic:
    if exact and th.eta is not None and float(setup.task.sigma) > 0:
      free = setup.task.n / (setup.task.n + d + 1)   # the step the noise would not shrink
      c("sigma_free_gap", "learned step tr(B)/d must not be the sigma-free n/(n+d+1)", free, float(np.trace(b) / d),
        note=f"the theory's step {th.eta:.6g} is {abs(th.eta - free) / free:.3g} (relative) below it")
    return
  wb = structure.whiten(b, th.cov)
  if th.eta is not None:
    c(_entry(setup, "step_size"), "step size tr(S^1/2 B S^1/2)/d", th.eta, float(np.trace(wb) / d))
    c(_entry(setup, "dist_whitened"), "Dist(S^1/2 B S^1/2, I)", 0.0, structure.dist_to_identity(wb))
    c("dist_raw", "Dist(B, I) (not plain GD)", structure.dist_to_identity(th.B), structure.dist_to_identity(b))
  elif exact:   # with Adam the B check says it; on the exact loss at float precision
    c("dist_whitened_gamma_exact", "Dist(S^1/2 B S^1/2, I) (Gamma* is not Sigma^-1)",
      structure.dist_to_identity(structure.whiten(th.B, th.cov)), structure.dist_to_identity(wb))


def evaluate(setup: LsaSetup, ctx: LsaContext, params: Any, rows: Sequence[Mapping[str, float]]) -> Evaluation:
  """Checks of a trained result-1 run (B, step size, Dist metrics, MSE, predictions, leakage).

  Args:
    setup: the run's specs.
    ctx: the theory and the evaluation key.
    params: trained parameters.
    rows: metric rows (unused: result 1 is judged at the end of training).

  Returns:
    The evaluation.

  Reference: Mahankali et al. (2023), Theorems 1-3; docs page "lsa", section "What is checked and why".
  """
  del rows
  th, task, d = ctx.theory, setup.task, setup.task.d
  mean, se = _eval_stats(setup, params, th, ctx.eval_key)
  mse, mse_se, theory_mse = mean[0], se[0], mean[1]
  pred_rms = float(np.sqrt(mean[2] / mean[3]))
  linear = task.target == "linear"
  bayes = float(mean[5]) if len(mean) > 5 else (0.0 if linear and task.n >= d else None)
  l_star = th.L_star if th.L_star is not None else float(theory_mse)
  b_theory = jnp.asarray(th.B, jnp.float32)
  theory_predict = lambda p: jnp.einsum("bd,de,be->b", p["x_query"], b_theory, theory.gd_statistic(p))
  probe = regression.sample(jax.random.fold_in(ctx.eval_key, 1), task, 4096)
  cosine = structure.sensitivity_cosine(lambda p: lsa.apply(params, p, setup.model), theory_predict, probe)
  blocks = structure.lsa_blocks(params, setup.model)
  b, leak = blocks["B"], structure.leakage(blocks)
  c = Checker(TOLERANCES)
  _structure_checks(c, setup, th, b)
  _prediction_checks(c, setup, th, mean, se, pred_rms, cosine)
  notes = _leakage_checks(c, setup, blocks, leak)
  if setup.estimator == "exact":
    notes += exact.checks(c, setup, th, params)
  if th.eta_mc is not None and task.target == "relu":
    assert th.eta is not None   # the ReLU-network theory is the closed form eta_F (plan.theory_for)
    c("eta_F_mc", "eta_F closed form vs Monte Carlo (no trained quantity)", th.eta, th.eta_mc, se=th.eta_mc_se)
  notes += _notes(setup, th, bayes, l_star)
  scalars = {"setting": th.setting, "theory_source": th.source, "eta_theory": th.eta, "L_star": l_star,
             "eval_mse": mse, "eval_mse_se": mse_se, "theory_predictor_mse_same_prompts": theory_mse,
             "paired_excess": float(mean[4]), "paired_excess_se": float(se[4]),
             "bayes_risk": bayes, "pred_rel_rms": pred_rms, "sensitivity_cosine": cosine, "eta_mc": th.eta_mc,
             "eta_mc_se": th.eta_mc_se, **_b_scalars(b, th, leak)}
  arrays = _arrays(setup, params, b, th)
  if task.target == "linear":   # the exact landscape between the trained and the theory B
    arrays["path_t"], arrays["path_loss"] = exact.path_losses(setup, b, th.B)
    scalars["exact_excess_loss_of_B"] = float(arrays["path_loss"][np.argmin(np.abs(arrays["path_t"]))]
                                              - np.min(arrays["path_loss"]))
  return Evaluation(checks=c.checks, scalars=scalars, arrays=arrays, notes=notes)


def _prediction_checks(c: Checker, setup: LsaSetup, th: Theory, mean: np.ndarray, se: np.ndarray, pred_rms: float,
                       cosine: float) -> None:
  """The eval MSE against L* (closed form) or, paired on the same prompts, against the theory predictor's; the
  predictions' relative RMS and the sensitivity cosine against one-step GD."""
  mse, mse_se = float(mean[0]), float(se[0])
  if th.L_star is not None:
    c("mse_vs_L_star", f"eval MSE on {setup.eval_prompts} fresh prompts vs L*", th.L_star, mse, se=mse_se)
  else:   # the reference is the theory predictor on the same prompts: the paired difference and its s.e.
    c("mse_vs_theory_predictor", f"eval MSE - the theory predictor's MSE on the same {setup.eval_prompts} fresh "
      "prompts", 0.0, float(mean[4]), se=float(se[4]), note=f"MSE {mse:.6g} (s.e. {mse_se:.2g} alone, "
      f"{float(se[4]):.2g} paired)")
  c(_entry(setup, "pred_rms"), "prediction relative RMS vs theory one-step GD", 0.0, pred_rms)
  c("sensitivity_cosine", "cosine of dy/dx_query, model vs one-step GD", 1.0, cosine)


def _leakage_checks(c: Checker, setup: LsaSetup, blocks: dict[str, np.ndarray], leak: dict[str, float]) -> list[str]:
  """The scale-free leakage terms (d >= 2); at d = 1 a note on the second optimum branch instead."""
  if setup.task.d >= 2:
    c(_entry(setup, "leakage"), "leakage |u_x|/|u_y|", 0.0, leak["u_x"])
    c(_entry(setup, "leakage"), "leakage |m_21|/|M_11|_F", 0.0, leak["m_21"])
    return []
  odd = float(blocks["u_y"] * blocks["M_11"][0, 0])
  even = float(blocks["u_x"][0] * blocks["m_21"][0])
  return ["d = 1: leakage not checked, since u_y = 0, M_11 = 0, u_x m_21 = eta* is a second optimum branch with the "
          f"same prediction function; this run: u_y M_11 = {odd:.6g}, u_x m_21 = {even:.6g} (their sum is B)."]


def _b_scalars(b: np.ndarray, th: Theory, leak: dict[str, float]) -> dict[str, float]:
  d = b.shape[0]
  return {"B_rel_err": structure.relative_error(b, th.B), "B_diag_mean": float(np.trace(b) / d),
          "B_max_abs_offdiag": float(np.max(np.abs(b - np.diag(np.diag(b))))) if d > 1 else 0.0,
          "leak_u_x": leak["u_x"], "leak_m_21": leak["m_21"]}


def _notes(setup: LsaSetup, th: Theory, bayes: float | None, l_star: float) -> list[str]:
  notes = [f"theory: {th.setting}; {th.source}."]
  notes.append({"fresh": f"training: {setup.batch_size} fresh prompts per step ({setup.sampler} statistics)",
                "fixed": f"training: one fixed sample of {setup.sample_size} prompts ({setup.sampler} statistics), "
                         "full-batch steps; theory is the population optimum, so expect O(1/sqrt(sample_size)) "
                         "deviations",
                "exact": f"training: the exact population loss (no sampling), {setup.optimizer.optimizer}, "
                         f"{'float64' if setup.run.x64 else 'float32'}"}[setup.estimator])
  if bayes is not None:
    notes.append(f"Bayes (ridge) risk {bayes:.4f}: a one-layer LSA cannot reach it (L* = {l_star:.4f}).")
  return notes


def _arrays(setup: LsaSetup, params: Any, b: np.ndarray, th: Theory) -> dict[str, np.ndarray]:
  """The paper's parameters (full form; the reduced ones too when trained reduced), B and its theory, Sigma."""
  full = params if setup.model.parameterization == "full" else lsa.lift(params)
  arrays = {k: np.asarray(v) for k, v in full.items()}
  arrays.update(B=b, B_theory=np.asarray(th.B), Sigma=th.cov)
  if setup.model.parameterization == "reduced":
    arrays.update({k: np.asarray(v) for k, v in params.items()})
  return arrays
