"""The multiclass evaluation: the trained systems against the reference flow and each other (theory), Lemma 2 and the
codings by exact enumeration, P2 and the plurality law at W_0 (identities: no training), the controls, Lemma 12
and the late-time rate (claims).

Reference: Athreya & Wang (2026), Lemmas 2 and 4, Section 5, eq. (6), Lemma 12 and Fig. 1; docs page
"nearest_neighbor_multiclass", section "What is checked and why".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from icljax import _pytree, prng, stats
from icljax.experiment.api import Evaluation
from icljax.experiment.checks import Checker
from icljax.models import nearest_neighbor_multiclass as model
from icljax.results.nearest_neighbor_multiclass import enumeration, flow
from icljax.results.nearest_neighbor_multiclass.plan import MulticlassContext
from icljax.results.nearest_neighbor_multiclass.setup import MulticlassSetup
from icljax.results.nearest_neighbor_multiclass.tolerances import TOLERANCES
from icljax.tasks import nearest_neighbor_multiclass as task
from icljax.theory import nearest_neighbor as binary
from icljax.theory import nearest_neighbor_multiclass as theory

Rows = Sequence[Mapping[str, float]]


def column(rows: Rows, key: str) -> np.ndarray:
  """The values of one metric over the logged steps that have it.

  Args:
    rows: the metric rows.
    key: the metric.

  Returns:
    (T,) float64 values.

  Reference: docs page "nearest_neighbor_multiclass", section "What is checked and why".
  """
  return np.array([r[key] for r in rows if key in r], dtype=np.float64)


@_pytree.filter_jit
def _at_w0(w0: jax.Array, batch: dict[str, jax.Array], K: int, coding: str, probs) -> tuple[jax.Array, ...]:
  """Per prompt at W_0: the loss (7), the model's argmax, the class counts of the context (one program)."""
  codes = task.code(batch["c"], K, coding, probs)
  target = task.code(batch["c_star"], K, coding, probs)
  logits = model.apply({"W": w0}, batch, codes)
  return 0.5 * jnp.sum((logits - target) ** 2, -1), jnp.argmax(logits, -1), jax.nn.one_hot(batch["c"], K).sum(1)


def _initial(c: Checker, setup: MulticlassSetup, ctx: MulticlassContext, out: dict) -> None:
  """P2 with the full model at W_0, and the plurality law of the sampler's classes with the model's argmax."""
  K, N, sigma, probs = setup.task.K, setup.task.N, setup.model.sigma, setup.task.probs
  batch = task.sample(prng.stream(setup.run.seed, "test"), setup.task, setup.eval_prompts)
  per, pred, counts = (np.asarray(v, np.float64) for v in _at_w0(ctx.w0, batch, K, setup.coding, probs))
  c_star = np.asarray(batch["c_star"])
  q_self = float(np.exp(-sigma) / (N + np.exp(-sigma)))
  closed: float | None
  if setup.coding == "centred" and probs is None:
    closed = theory.loss_at_zero(N, sigma, K)
  elif setup.coding == "onehot" and probs is None:
    closed = theory.loss_at_zero(N, sigma, K) + q_self**2 / (2 * K)
  else:
    closed = None if setup.factor is None else setup.factor * binary.loss_at_zero(N, sigma)
  if setup.model.init == "paper" and closed is not None:
    c("p2_initial", f"P2 loss at W_0 ({setup.coding} codes)", closed, per.mean(), se=per.std() / np.sqrt(per.size))
  untied = (counts == counts.max(1)[:, None]).sum(1) == 1
  if probs is None:
    plural = (counts[np.arange(len(counts)), c_star] == counts.max(1)) & untied
    c("plurality", f"P(plurality = 1-NN class, ties wrong), N = {N}, K = {K}", theory.plurality_accuracy(N, K),
      plural.mean(), se=plural.std() / np.sqrt(plural.size))
  if setup.model.init == "paper" and setup.coding in ("centred", "onehot", "unit") and probs is None:
    model_hit = pred == c_star
    c("init_is_plurality", "prompts whose argmax at W_0 is not the plurality class (untied)", 0.0,
      float(np.sum((pred != np.argmax(counts, 1)) & untied)))
    c("random_guess", "initial argmax accuracy vs 1/K (paper, Fig. 1)", 1 / K, model_hit.mean(),
      se=model_hit.std() / np.sqrt(model_hit.size))
    out["scalars"]["initial_accuracy"] = float(model_hit.mean())


def _binary_gd(setup: MulticlassSetup, ctx: MulticlassContext, scale: float, steps: int,
               replicas: int | None = None) -> np.ndarray:
  """Binary GD at step ``scale x eta`` for ``steps`` steps from xi_0 on the first ``replicas`` (default: all)
  replicas' samples, (R, 2)."""
  R = replicas or setup.replicas
  xi, _ = theory.gd_points(np.tile(np.asarray(ctx.xi0, np.float32), (R, 1)), ctx.tau_blocks[:R],
                           np.full(R, scale * setup.eta, np.float32), np.full(R, setup.task.d, np.float32),
                           np.full((R, 1), steps, np.int32), np.zeros((R, 1), np.float32))
  return np.asarray(xi, np.float64)[:, 0]


def _clock(c: Checker, setup: MulticlassSetup, ctx: MulticlassContext, rows: Rows) -> None:
  """Lemma 2 in the code: the trained K-class system (replica 0) at its first logged step against binary GD at step
  factor x eta on the same sample (an identity, checked over one logging interval, not the whole run); where the
  chains' coding has a factor other than the paper's f, the control: the chains must not follow the paper's f
  clock."""
  first, last, R = rows[0], rows[-1], setup.replicas
  f = theory.factor(setup.task.K)
  scale = f if setup.factor is None else setup.factor
  binary_gd = _binary_gd(setup, ctx, scale, int(first["step"]), replicas=1)[0]
  gap = max(abs(first[f"pop0_xi{i + 1}"] / binary_gd[i] - 1) / (first["step"] * 2.0**-23) for i in (0, 1))
  c("clock", f"K-class GD at eta vs binary GD at {scale:.4g} eta over the first {first['step']:g} steps (replica 0): "
    "relative gap / (t 2^-23)", 0.0, gap)
  if setup.factor is not None and abs(setup.factor - f) > 1e-9:
    paper = _binary_gd(setup, ctx, f, int(last["step"]))
    mean, se = stats.mean_se(paper[:, 0])
    c("sgd_not_paper_factor", f"xi1 at t={last['step']:g}: the {setup.coding} chains (factor {setup.factor:.4g}) "
      f"must not follow the paper's f = {f:.4g} clock", float(mean), last["sgd_xi1"],
      se=float(np.hypot(last["sgd_xi1_se"], se)), dof=R - 1)


def _trajectory(c: Checker, setup: MulticlassSetup, rows: Rows, fl: flow.Flow) -> None:
  """Lemma 4's label columns, the SGD chains against the reduced system, the trained rows against the reference."""
  c("label_columns", "max |label columns - W_0's| over steps and chains", 0.0,
    float(np.max(column(rows, "label_columns_moved"))))
  by_step, R = {int(r["step"]): r for r in rows}, setup.replicas
  if setup.factor is not None:
    for step in sorted({int(setup.run.steps), *(int(r[0]) for r in setup.references)}):
      r = by_step[step]
      for i in (1, 2):
        se = float(np.hypot(r[f"sgd_xi{i}_se"], r[f"pop_xi{i}_se"]))
        c("sgd_tracks", f"xi{i} at t={step}: mean of {R} SGD chains vs population GD (factor {setup.factor:.4g})",
          r[f"pop_xi{i}"], r[f"sgd_xi{i}"], se=se, dof=R - 1)
  f = theory.factor(setup.task.K)
  for t_ref, xi1, xi2, loss, acc in setup.references:
    r, s = by_step[int(t_ref)], f * setup.eta * t_ref
    step_bias = flow.bias(fl, s, f * setup.eta)
    for i, ref in ((0, xi1), (1, xi2)):
      if ref is not None:
        key = f"pop_xi{i + 1}"
        c("reference", f"xi{i + 1} at t={t_ref}", ref, r[key], dof=R - 1,
          se=flow.with_reference_noise(r[key + "_se"], R, setup.tau_samples), floor=step_bias[i] + flow.rounding(ref))
    for ref, key, entry in ((loss, "pop_loss", "reference"), (acc, "accuracy", "accuracy")):
      if ref is not None:
        eval_se = r[key + "_eval_se"] * np.sqrt(1 + setup.eval_prompts / flow.REF_EVAL_PROMPTS)
        c(entry, f"{'L_MC' if key == 'pop_loss' else 'argmax agreement'} at t={t_ref}", ref, r[key], dof=R - 1,
          se=float(np.hypot(flow.with_reference_noise(r[key + "_se"], R, setup.tau_samples), eval_se)),
          floor=flow.rounding(ref))


def evaluate(setup: MulticlassSetup, ctx: MulticlassContext, params: Any, rows: Rows) -> Evaluation:
  """Checks of a trained multiclass run.

  Args:
    setup: the run's specs.
    ctx: W_0, the initial xi, evaluation prompts, the reduced system's and the flow run's samples.
    params: trained ``W`` (R chains), ``xi_pop`` (R samples).
    rows: the metric rows.

  Returns:
    The evaluation.

  Reference: docs page "nearest_neighbor_multiclass", section "What is checked and why" (every entry).
  """
  c = Checker(TOLERANCES)
  K, final = setup.task.K, rows[-1]
  out: dict[str, Any] = {"arrays": {}, "scalars": {
      "setting": f"d={setup.task.d}, N={setup.task.N}, K={K}, sigma={setup.model.sigma}, eta={setup.eta}, "
                 f"coding={setup.coding}, classes={setup.task.probs or 'uniform'}, {setup.replicas} replicas",
      "f": theory.factor(K), "factor": setup.factor, "final_pop_loss": final["pop_loss"],
      "final_accuracy": final["accuracy"], "final_off_family": final["off_family"], "xi1": final["pop_xi1"],
      "xi2": final["pop_xi2"], "sgd_xi1": final["sgd_xi1"], "sgd_xi2": final["sgd_xi2"]}}
  if setup.enum_prompts:
    enumeration.lemma2(c, setup, out)
    enumeration.codings(c, setup)
  _initial(c, setup, ctx, out)
  _clock(c, setup, ctx, rows)
  fl = flow.run(setup, ctx.tau_flow, tuple(theory.factor(K) * setup.eta * r[0] for r in setup.references))
  _trajectory(c, setup, rows, fl)
  flow.rows(c, setup, fl)
  flow.lemma12_and_rate(c, setup, fl, out)
  arrays = {**out["arrays"], "xi1": np.float64(final["pop_xi1"]), "xi2": np.float64(final["pop_xi2"]),
            "W": np.asarray(params["W"]), "xi_pop": np.asarray(params["xi_pop"]), "step": column(rows, "step"),
            "xi1_t": column(rows, "pop_xi1"), "xi2_t": column(rows, "pop_xi2")}
  return Evaluation(checks=c.checks, scalars=out["scalars"], arrays=arrays, notes=list(setup.skipped))
