"""The multiclass evaluation: Lemma 2 by enumeration, the one-hot failure, P2, P6, P7, P9-P11, Lemma 12 and the
late-time rate."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from icljax import prng
from icljax.experiment.api import Evaluation
from icljax.experiment.checks import Checker
from icljax.models import softmax_attention_multiclass as model
from icljax.results.nn import extras as nn_extras
from icljax.results.nn.checks import column
from icljax.results.nn_multiclass.plan import MulticlassContext
from icljax.results.nn_multiclass.setup import MulticlassSetup
from icljax.results.nn_multiclass.tolerances import TOLERANCES
from icljax.tasks import nearest_neighbor_multiclass as task
from icljax.theory import nearest_neighbor as binary
from icljax.theory import nearest_neighbor_multiclass as theory

Rows = Sequence[Mapping[str, float]]
ENUM_POINTS = ((0.0, 0.0), (1.0, 2.0), (2.0, 5.0), (5.0, 2.0), (8.0, 15.0))   # digest P3(a)
ONEHOT_RATIO = {2: 0.84760, 3: 0.89840}   # digest P4: L_onehot / L_bin at (5, 2), d = N = 4
DIGEST_ENUM_PROMPTS = 2000


def _enumeration(c: Checker, setup: MulticlassSetup, out: dict) -> None:
  """Lemma 2 and P4 per prompt, labels integrated by enumerating every class assignment (d = N = 4)."""
  K = setup.task.K
  n = 4 if K**4 <= 5000 else 3
  spec = task.make_spec(4, n, K)
  prompts = task.sample(jax.random.fold_in(prng.stream(setup.run.seed, "test"), 1), spec, setup.enum_prompts)
  gap = excess_gap = 0.0
  for xi1, xi2 in ENUM_POINTS:
    w, xi = model.to_W(xi1, xi2, 4, K), jnp.array([xi1, xi2])
    bin_pp = np.asarray(binary.per_prompt(xi, prompts["tau"])["loss"], np.float64)
    centred = np.asarray(theory.enumerated_loss(w, prompts, K, "centred"), np.float64)
    onehot = np.asarray(theory.enumerated_loss(w, prompts, K, "onehot"), np.float64)
    excess = np.asarray(theory.onehot_excess(xi, prompts["tau"], K), np.float64)
    gap = max(gap, float(np.max(np.abs(centred - theory.factor(K) * bin_pp))))
    excess_gap = max(excess_gap, float(np.max(np.abs(onehot - theory.factor(K) * bin_pp - excess))))
    if (xi1, xi2) == (5.0, 2.0) and n == 4 and K in ONEHOT_RATIO:
      ratio = onehot.mean() / bin_pp.mean()
      cov = np.cov(onehot, bin_pp) / len(bin_pp)   # delta-method s.e. of a ratio of means
      se = np.sqrt(cov[0, 0] - 2 * ratio * cov[0, 1] + ratio**2 * cov[1, 1]) / bin_pp.mean()
      c("onehot_ratio", "P4 L_onehot / L_bin at (5, 2), d = N = 4 (f would be "
        f"{theory.factor(K):.4f})", ONEHOT_RATIO[K], ratio,
        se=se * np.sqrt(1 + len(bin_pp) / DIGEST_ENUM_PROMPTS), floor=5e-6, note="digest value")
      out["scalars"]["onehot_ratio_at_5_2"] = float(ratio)
  c("lemma2_enumerated", f"Lemma 2: max |L_MC - f L_bin| per prompt, {len(ENUM_POINTS)} points, d = N = {n}", 0.0,
    gap)
  c("onehot_excess", "P4: max |L_onehot - f L_bin - q_self^2/(2K)| per prompt", 0.0, excess_gap)


def _initial(c: Checker, setup: MulticlassSetup, ctx: MulticlassContext, out: dict) -> None:
  """P2 with the full model at W_0, and P10 (plurality vote) with the model's argmax."""
  K, N, sigma = setup.task.K, setup.task.N, setup.model.sigma
  batch = task.sample(prng.stream(setup.run.seed, "test"), setup.task, setup.eval_prompts)
  codes = task.code(batch["c"], K, setup.coding)
  target = task.code(batch["c_star"], K, setup.coding)
  logits = model.apply({"W": ctx.w0}, batch, codes)
  per = 0.5 * np.asarray(jnp.sum((logits - target) ** 2, -1), np.float64)
  q_self = float(np.exp(-sigma) / (N + np.exp(-sigma)))
  closed = theory.loss_at_zero(N, sigma, K) + (q_self**2 / (2 * K) if setup.coding == "onehot" else 0.0)
  if setup.model.init == "paper":
    c("p2_initial", f"P2 loss at W_0 ({setup.coding} codes)", closed, per.mean(), se=per.std() / np.sqrt(per.size))
  counts = np.asarray(jax.nn.one_hot(batch["c"], K).sum(1))
  top = counts.max(1)
  untied = (counts == top[:, None]).sum(1) == 1
  mine = counts[np.arange(len(counts)), np.asarray(batch["c_star"])]
  plural = (mine == top) & untied
  c("plurality", f"P10 P(plurality = 1-NN class, ties wrong), N = {N}, K = {K}", theory.plurality_accuracy(N, K),
    plural.mean(), se=plural.std() / np.sqrt(plural.size))
  if setup.model.init == "paper":
    model_hit = np.asarray(jnp.argmax(logits, -1) == batch["c_star"])
    c("init_is_plurality", "prompts whose argmax at W_0 is not the plurality class (untied)", 0.0,
      float(np.sum((np.asarray(jnp.argmax(logits, -1)) != np.argmax(counts, 1)) & untied)))
    c("random_guess", "initial argmax accuracy vs 1/K (paper, Fig. 1)", 1 / K, model_hit.mean(),
      se=model_hit.std() / np.sqrt(model_hit.size))
    out["scalars"]["initial_accuracy"] = float(model_hit.mean())


def _trajectory(c: Checker, setup: MulticlassSetup, rows: Rows, out: dict) -> None:
  """P6 label columns, P7 clock, P9 SGD vs population, digest rows."""
  c("label_columns", "max |label columns - W_0's| over steps and chains", 0.0,
    float(np.max(column(rows, "label_columns_moved"))))
  t = column(rows, "step")
  gap = max(float(np.max(np.abs(column(rows, f"pop_xi{i}") / column(rows, f"bin_xi{i}") - 1) / (t * 2.0**-23)))
            for i in (1, 2))
  c("clock", "K-class GD at eta vs binary GD at f eta: max relative gap / (t 2^-23)", 0.0, gap)
  by_step = {int(r["step"]): r for r in rows}
  for step in sorted({int(setup.run.steps), *(int(r[0]) for r in setup.references)}):
    r = by_step[step]
    for i in (1, 2):
      se = float(np.hypot(r[f"sgd_xi{i}_se"], r[f"pop_xi{i}_se"]))
      c("sgd_tracks", f"P9 xi{i} at t={step}: mean of {setup.replicas} SGD chains vs population GD",
        r[f"pop_xi{i}"], r[f"sgd_xi{i}"], se=se, dof=setup.replicas - 1)
  for t_ref, xi1, xi2, loss, acc in setup.references:
    r = by_step[int(t_ref)]
    for name, ref, key in (("xi1", xi1, "pop_xi1"), ("xi2", xi2, "pop_xi2")):
      if ref is not None:
        c("reference", f"P7 {name} at t={t_ref}", ref, r[key], se=r[key + "_se"], floor=4e-3 * abs(ref),
          note="digest value", dof=setup.replicas - 1)
    if loss is not None:
      c("reference", f"P7 L_MC at t={t_ref}", loss, r["pop_loss"], se=r["pop_loss_se"], floor=1e-4,
        note="digest value")
    if acc is not None:
      c("accuracy", f"P11 argmax agreement at t={t_ref}", acc, r["accuracy"], se=r["accuracy_se"], floor=2e-3,
        note="digest value")


LEMMA12_ETA = 1.0   # binary step of the Lemma-12 run: the trajectory depends on eta t only (P8)


def _long_runs(c: Checker, setup: MulticlassSetup, ctx: MulticlassContext, out: dict) -> None:
  """Reduced K-class GD for ``lemma12_steps`` steps of eta, run as binary GD with f eta t held fixed (P7) at step
  LEMMA12_ETA, from this run's sigma and (d > 3) from Lemma 12's sigma threshold, in one vmapped program.

  Lemma 12: max xi1/xi2 from the threshold against 7/15. Fig. 1's "logarithmic rate": the late log-log slope of
  L_MC = f L_bin (P3) from this run's sigma against c / ln t's, -1 / ln t at the window's geometric middle.
  """
  d, N, f = setup.task.d, setup.task.N, theory.factor(setup.task.K)
  if not setup.lemma12_steps:
    return
  threshold = (binary.lemma12_sigma_threshold(d, N),) if d > 3 else ()
  steps = max(1, round(f * setup.eta * setup.lemma12_steps / LEMMA12_ETA))
  t, xi, loss = nn_extras.population_runs(ctx.tau_lemma12, (setup.model.sigma, *threshold), d, LEMMA12_ETA, steps)
  k_steps = t * LEMMA12_ETA / (f * setup.eta)   # the K-class step count of each point
  if threshold:
    ratio = xi[1, :, 0] / xi[1, :, 1]
    out["arrays"].update(lemma12_t=k_steps, lemma12_ratio=ratio)
    c("lemma12", f"Lemma 12: max xi1/xi2 over {setup.lemma12_steps:g} K-class steps of eta={setup.eta:g} from "
      f"sigma={threshold[0]:.2f} (its threshold)", 7 / 15, float(np.max(ratio)), note="paper's bound")
  loss_mc, start = f * loss[0], k_steps[-1] / 10
  slope = nn_extras.late_slope(k_steps, loss_mc, start)
  out["arrays"].update(rate_t=k_steps, rate_loss=loss_mc)
  out["scalars"].update(rate_slope=slope)
  c("log_rate", f"slope of log L_MC vs log t over t in [{start:.3g}, {k_steps[-1]:.3g}] (reduced GD from "
    f"sigma={setup.model.sigma:g}) vs a logarithmic rate's -1/ln t", -1 / math.log(math.sqrt(start * k_steps[-1])),
    slope, note="paper's Fig. 1 text")


def evaluate(setup: MulticlassSetup, ctx: MulticlassContext, params: Any, rows: Rows) -> Evaluation:
  """Checks of a trained multiclass run.

  Args:
    setup: the run's specs.
    ctx: W_0, the initial xi, evaluation prompts.
    params: trained ``W`` (R chains), ``xi_pop``, ``xi_bin`` (R samples each).
    rows: the metric rows.

  Returns:
    The evaluation.
  """
  c = Checker(TOLERANCES)
  K, final = setup.task.K, rows[-1]
  out: dict[str, Any] = {"scalars": {
      "setting": f"d={setup.task.d}, N={setup.task.N}, K={K}, sigma={setup.model.sigma}, eta={setup.eta}, "
                 f"coding={setup.coding}, {setup.replicas} replicas",
      "f": theory.factor(K), "final_pop_loss": final["pop_loss"], "final_accuracy": final["accuracy"],
      "final_off_family": final["off_family"], "xi1": final["pop_xi1"], "xi2": final["pop_xi2"],
      "sgd_xi1": final["sgd_xi1"], "sgd_xi2": final["sgd_xi2"]}}
  _enumeration(c, setup, out)
  _initial(c, setup, ctx, out)
  _trajectory(c, setup, rows, out)
  out["arrays"] = {}
  _long_runs(c, setup, ctx, out)
  arrays = {**out["arrays"], "xi1": np.float64(final["pop_xi1"]), "xi2": np.float64(final["pop_xi2"]),
            "W": np.asarray(params["W"]), "xi_pop": np.asarray(params["xi_pop"]),
            "xi_bin": np.asarray(params["xi_bin"]), "step": column(rows, "step"),
            "xi1_t": column(rows, "pop_xi1"), "xi2_t": column(rows, "pop_xi2")}
  return Evaluation(checks=c.checks, scalars=out["scalars"], arrays=arrays, notes=list(setup.skipped))
