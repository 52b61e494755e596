"""Checks of a Fig. 3 run: the training loss and the shifted-test MSE fall (the paper's Fig. 3), the chains against
the population system (mean gap with its error bar from W_0, the largest gap as the claim 'tracks'), the label
column, and from a random start the decay of W's off-family part.

Reference: Li et al. (2024), Sec. 5 (Fig. 3), Lemma 2 and Appendix B; docs page "nearest_neighbor_fixed_data", section
"What is checked and why" (one subsection per tolerance entry).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jax
import numpy as np

from icljax import stats
from icljax.experiment.api import Evaluation
from icljax.experiment.checks import Checker
from icljax.results.nearest_neighbor import references
from icljax.results.nearest_neighbor_fixed_data.plan import FixedDataContext, per_chain, summarize
from icljax.results.nearest_neighbor_fixed_data.setup import FixedDataSetup
from icljax.results.nearest_neighbor_fixed_data.tolerances import TOLERANCES
from icljax.theory import nearest_neighbor as theory

Rows = Sequence[Mapping[str, Any]]


def _shift_vs_population(c: Checker, setup: FixedDataSetup, raw: Mapping[str, np.ndarray]) -> None:
  """The chains' MSE on the shifted test set against their own population systems' on the same prompts (paired):
  s.e. of the chains' mean difference (chains' noise, replicas - 1 dof) and of the per-prompt difference (the test
  set's, shared by every chain)."""
  diff = raw["sq_err"] - raw["pop_shift_sq_err"]                                 # (R, T)
  se_chains = float(stats.mean_se(diff.mean(1))[1])
  se_prompts = float(stats.mean_se(diff.mean(0))[1])
  c("shift_vs_population", f"shift {setup.shift[0]}: chains' MSE vs their population systems' (same test prompts, "
    f"t = {setup.run.steps})", float(raw["pop_shift_sq_err"].mean()), float(raw["sq_err"].mean()),
    se=float(np.hypot(se_chains, se_prompts)), dof=setup.replicas - 1)


def _references(c: Checker, setup: FixedDataSetup, ctx: FixedDataContext, rows: Rows) -> None:
  """P6 rows against the population systems' mean (increments from W_0's (0, sigma)). The error bar: the systems'
  spread over the chains (each its own sample of ``tau_samples`` prompts; replicas - 1 dof) for their mean and, scaled
  to 8000 prompts, for the reference; the floor: its rounding and the Euler discretisation at this step against the
  row's (the systems rerun at twice the step estimate it)."""
  by_step = {int(r["step"]): r for r in rows}
  R, d, eta = setup.replicas, setup.task.d, setup.eta
  for step, eta_ref, *values in setup.references:
    row = by_step[step]
    coarse = np.asarray(jax.vmap(lambda x, tb, s=step: theory.reduced_gd(x, tb, 2 * eta, d, s // 2))(
        ctx.xi0, ctx.tau_blocks), np.float64).mean(0) if step % 2 == 0 else None
    for i, ref in enumerate(values):
      key, start = f"pop_xi{i + 1}", float(np.asarray(ctx.xi0)[0, i])
      floor = 0.0 if coarse is None else abs(coarse[i] - row[key]) * abs(eta - eta_ref) / eta
      scale = np.sqrt(1 + R * setup.tau_samples / references.REFERENCE_PROMPTS)
      c("reference", f"P6 xi{i + 1} - xi{i + 1}(0) at t = {step} (eta t = {step * eta:g}), population systems' mean",
        ref[0] - start, row[key] - start, se=row[key + "_se"] * scale, floor=ref[1] + floor, dof=R - 1,
        note=f"discretisation {floor:.2g}")


def _scalars_and_notes(setup: FixedDataSetup, start: Mapping[str, float], last: Mapping[str, float],
                       worst: float) -> tuple[dict[str, Any], list[str]]:
  """The summary's scalars (the setting, every mean at the start and the end with its s.e.) and its notes."""
  R = setup.replicas
  epochs = setup.run.steps * setup.epochs_per_step
  scalars = {"setting": f"d={setup.task.d}, N={setup.task.N}, sigma={setup.model.sigma}, init={setup.model.init} "
                        f"(scale {setup.model.init_scale:g}), eta={setup.eta}, {R} chains of {setup.dataset_size} "
                        f"prompts, batch {setup.batch_size}",
             "epochs": epochs, "max_rel_gap": worst, "final_rel_gap": last["rel_gap_max"]}
  for key in ("W_xi1", "W_xi2", "pop_xi1", "pop_xi2", "gap_xi1", "gap_xi2", "off_family", "train_loss", "pop_loss",
              "shift_mse", "pop_shift_mse", "shift_agree"):
    scalars[f"final_{key}"], scalars[f"final_{key}_se"] = last[key], last[key + "_se"]
    scalars[f"initial_{key}"] = start[key]
  notes = list(setup.skipped) + [
      f"{R} chains, each its own data set of {setup.dataset_size} prompts, initialisation and population sample; "
      f"{setup.run.steps} steps of batch {setup.batch_size} = {epochs:.1f} epochs. At the "
      f"end the chains' (xi1, xi2) = ({last['W_xi1']:.3f} ± {last['W_xi1_se']:.3f}, {last['W_xi2']:.3f} ± "
      f"{last['W_xi2_se']:.3f}) against the population systems' ({last['pop_xi1']:.3f}, {last['pop_xi2']:.3f}); "
      f"off-family norm {start['off_family']:.3f} -> {last['off_family']:.3f}; the largest relative gap "
      f"{worst:.3f} along the run, {last['rel_gap_max']:.3f} at the end."]
  return scalars, notes


def evaluate(setup: FixedDataSetup, ctx: FixedDataContext, params: Any, rows: Rows) -> Evaluation:
  """Checks of a trained Fig. 3 run.

  Args:
    setup: the run's specs.
    ctx: the chains' starts, data sets, evaluation inner products and test set.
    params: trained ``W`` (R, D, D) and ``xi_pop`` (R, 2).
    rows: the metric rows.

  Returns:
    The evaluation.

  Reference: docs page "nearest_neighbor_fixed_data", section "What is checked and why".
  """
  c = Checker(TOLERANCES)
  R = setup.replicas
  raw0, raw1 = per_chain(ctx.w0, ctx.xi0, ctx), per_chain(params["W"], params["xi_pop"], ctx)
  start, last = summarize(raw0), summarize(raw1)   # last: the trained parameters (the last row measured them too)
  random = setup.model.init == "random" and setup.model.init_scale > 0
  c("label_column_fixed", "max |W label column - its initial value| over chains and steps", 0.0,
    max([r["label_column_moved"] for r in rows] + [last["label_column_moved"]]))
  mean, se = stats.mean_se(raw1["train"] - raw0["train"])
  c("train_loss_falls", f"training loss on the data set: final - initial (mean over {R} chains)", 0.0,
    float(mean), se=float(se), dof=R - 1, note=f"initial {start['train_loss']:.4f}")
  mean, se = stats.mean_se((raw1["sq_err"] - raw0["sq_err"]).mean(0))   # per test prompt, chains averaged
  c("shift_falls", f"shift {setup.shift[0]}: final - initial MSE vs the 1-NN label (chains' mean)", 0.0,
    float(mean), se=float(se), note=f"initial {start['shift_mse']:.4f}")
  worst = max([r["rel_gap_max"] for r in rows] + [last["rel_gap_max"]])
  entry = "tracks_population_random" if random else "tracks_population_w0"
  c(entry, "max over chains and logged steps of |xi(W) - xi_pop| / max(1, |xi_pop|)", 0.0, worst)
  if random:
    c("off_family_decays", "off-family Frobenius norm of W: final - initial (mean over chains)", 0.0,
      last["off_family"] - start["off_family"], se=float(np.hypot(last["off_family_se"], start["off_family_se"])),
      note=f"initial {start['off_family']:.3f}")
  else:
    for i in (1, 2):
      c("gap_mean", f"xi{i}(W) - xi{i} of the population system at t = {setup.run.steps} (mean over {R} chains)",
        0.0, last[f"gap_xi{i}"], se=last[f"gap_xi{i}_se"], dof=R - 1,
        note=f"xi{i} = {last[f'W_xi{i}']:.4f} vs {last[f'pop_xi{i}']:.4f}")
  if not random:   # from a random start the chains leave their population systems (the 'tracks' disagreement)
    _shift_vs_population(c, setup, raw1)
  _references(c, setup, ctx, rows)
  scalars, notes = _scalars_and_notes(setup, start, last, worst)
  arrays = {"step": np.array([r["step"] for r in rows], np.float64), "W": np.asarray(params["W"], np.float64),
            "xi_pop": np.asarray(params["xi_pop"], np.float64), "xi0": np.asarray(ctx.xi0, np.float64)}
  return Evaluation(checks=c.checks, scalars=scalars, arrays=arrays, notes=notes)
