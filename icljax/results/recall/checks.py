"""Recall's evaluation: the Bayes risk, plateaus, generalisation and the model-code identities; the checks that read
the training data are in ``data_checks``.

Reference: Nguyen & Nguyen-Tang (2025), Lemma 3.1, Thm 3.2, 3.3, 5.4-5.6 (v3 numbering); docs page "recall",
section "What is checked and why".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from icljax.experiment.api import Evaluation
from icljax.experiment.checks import Checker
from icljax.models import recall as model
from icljax.results.recall import data_checks, finite_law
from icljax.results.recall.plan import RecallContext
from icljax.results.recall.setup import RecallSetup
from icljax.results.recall.tolerances import TOLERANCES
from icljax.theory import recall as theory

Rows = Sequence[Mapping[str, float]]


def _p1(c: Checker, setup: RecallSetup, ctx: RecallContext, notes: list[str]) -> None:
  """P1 at initialisation: ln V, or the noisy-reparam closed form (not for reparam-softmax: with V = I the uniform
  attention at lam = 0 gives logits = token frequencies, not 0; BUILD_NOTES.md)."""
  spec, alpha, init = setup.task, float(setup.task.alpha), ctx.init_stats
  if setup.kind != "origin" and setup.attention == "softmax":
    notes.append(f"P1 does not apply to softmax attention with V = I: the uniform attention at lam = 0 gives the "
                 f"token frequencies as logits; initial population loss {init['pop_loss']:.6f} (ln V = "
                 f"{np.log(spec.V):.6f}).")
    return
  if setup.kind == "reparam" and spec.noisy:
    p1 = theory.loss_noisy(0.0, alpha, spec.V, setup.kappa, theory.gamma(ctx.alpha_hat))
  elif setup.kind == "reparam_w" and spec.noisy:
    return
  else:
    p1 = float(np.log(spec.V))
  c("p1_initial", "P1 population loss at initialisation", p1, init["pop_loss"])


def _closed_form(setup: RecallSetup, ctx: RecallContext, p: Mapping[str, Any]) -> tuple[float, float] | None:
  """Closed-form population and unseen-output test losses of the reparam (lam / Lam) linear/ReLU models at the
  trained parameters; noiseless, each sentence's ``ln(1 + (V-1) e^{-lam_q})`` averaged over the evaluation set's own
  triggers (lam_q differ by the batches' trigger imbalance, the sets' trigger frequencies by sampling)."""
  if setup.kind != "reparam" or setup.attention == "softmax":
    return None
  if setup.task.noisy:
    value = theory.loss_noisy(float(p["Lam"]), float(setup.task.alpha), setup.task.V, setup.kappa,
                              theory.gamma(ctx.alpha_hat))
    return value, value
  lam, triggers = np.asarray(p["lam"], np.float64), list(setup.task.triggers)
  per_trigger = [theory.loss_noiseless(lam[i:i + 1], setup.task.V) for i in range(len(triggers))]
  pop, test = (float(np.mean([per_trigger[triggers.index(int(q))] for q in np.asarray(data["z"][:, -1])]))
               for data in (ctx.pop, ctx.test))
  return pop, test


def bernoulli_entropy(alpha: float) -> float:
  """``H(alpha)`` in nats, written here apart from ``theory.entropy`` (the Bayes risk a check compares with must not
  come from the code the check covers).

  Args:
    alpha: noise level in [0, 1].

  Returns:
    ``-alpha ln alpha - (1 - alpha) ln(1 - alpha)`` (an exactly rounded sum).

  Reference: Nguyen & Nguyen-Tang (2025), the Bayes risk of Definition 2.1's noisy task; docs page "recall",
  section "What is checked and why" (entry bayes_excess).
  """
  return -math.fsum(p * math.log(p) for p in (alpha, 1.0 - alpha) if p > 0)


def bernoulli_kl(alpha: float, beta: float) -> float:
  """``KL(Ber(alpha) || Ber(beta))`` in nats, apart from ``theory.kl_bernoulli``.

  Args:
    alpha: the true noise level.
    beta: the noise level the model's feed-forward weight was set from (a training set's fraction).

  Returns:
    The divergence (an exactly rounded sum).

  Reference: docs page "recall", section "What is checked and why" (the finite-sample end point).
  """
  return math.fsum(p * math.log(p / q) for p, q in ((alpha, beta), (1.0 - alpha, 1.0 - beta)) if p > 0)


def _bayes(c: Checker, setup: RecallSetup, ctx: RecallContext, final: Mapping[str, float], notes: list[str]) -> None:
  """The end point, the Bayes risk (+ KL(alpha || alpha_hat) for a finite training set), checked wherever the
  theorem says it is due: the residual of its trajectory at the last step, ``ln(1 + (V-2)(1-alpha) e^{-eta T})``
  (noiseless: ``ln(1 + (V-1) e^{-eta T/sqrt|Q|})``), is below a tenth of the tolerance. Neither the decision nor the
  end point uses the theory module; a run that is due and has not reached the end point fails."""
  spec, alpha, steps = setup.task, float(setup.task.alpha), int(final["step"])
  if spec.noisy:
    a = ctx.alpha_hat if setup.M else alpha
    residual = math.log1p((spec.V - 2) * (1 - a) * math.exp(-setup.eta * steps))
    target = bernoulli_entropy(alpha) + (bernoulli_kl(alpha, ctx.alpha_hat) if setup.M else 0.0)
  else:
    residual = math.log1p((spec.V - 1) * math.exp(-setup.eta * steps / math.sqrt(len(spec.triggers))))
    target = 0.0
  tol = TOLERANCES["bayes_excess"].value
  if residual <= tol / 10:
    c("bayes_excess", "final population loss - Bayes risk" + (" - KL(alpha||alpha_hat)" if setup.M else ""), 0.0,
      final["pop_loss"] - target, note=f"due: the theorem's residual at step {steps} is {residual:.2g}")
  else:
    notes.append(f"Bayes risk not checked as an end point: at step {steps} the theorem's trajectory is still "
                 f"{residual:.3g} above it (measured {final['pop_loss'] - target:.3g}); it is due once "
                 f"ln(1 + (V-2)(1-alpha) e^(-eta t)) <= {tol / 10:g} (P3/P4).")


def _reparam(c: Checker, setup: RecallSetup, rows: Rows) -> None:
  spec, alpha, final = setup.task, float(setup.task.alpha), rows[-1]
  if setup.attention == "softmax":
    c("softmax_plateau", "softmax plateau (P5)", theory.softmax_plateau(alpha, spec.V), final["pop_loss"])
  if spec.noisy or setup.attention == "softmax":   # noiseless linear/ReLU: closed_form per set (trigger mix)
    c("test_follows", "unseen-output test loss - population loss", 0.0, abs(final["test_loss"] - final["pop_loss"]))
  if spec.noisy and setup.attention != "softmax":
    c("layer_logits", "xi_A,y = max_j xi_A,j at the end (P8)", 0.0, final["xi_A_max"] - final["xi_A_y"])
    if setup.kappa == 1:   # kappa = 0: the tau logit stays gamma, the FF's maximum only when alpha >= 0.5
      c("layer_logits", "xi_F,tau = max_j xi_F,j at the end (P8)", 0.0, final["xi_F_max"] - final["xi_F_tau"])


def _unconstrained(c: Checker, setup: RecallSetup, ctx: RecallContext, rows: Rows, out: dict) -> None:
  init, final = ctx.init_stats, rows[-1]
  gap = final["test_loss"] - final["pop_loss"]
  c("test_grows", "unseen-output test loss, final - initial (P11: grows)", 0.0,
    final["test_loss"] - init["test_loss"], note=f"initial {init['test_loss']:.3f}")
  max_test = max(r["test_loss"] for r in rows)
  out["scalars"].update(test_minus_population_loss=gap, max_test_loss=max_test)
  trend = ("rises above its initial value" if max_test > init["test_loss"] + 0.05 else
           "falls too but lags" if final["test_loss"] < init["test_loss"] else "stays flat")
  out["notes"].append(f"{setup.kind}: the population loss falls {init['pop_loss']:.3f} -> {final['pop_loss']:.3f} "
                      f"while the unseen-output test loss goes {init['test_loss']:.3f} -> {final['test_loss']:.3f} "
                      f"(max {max_test:.3f}; it {trend}), {gap:.3f} above the population loss at the end.")


def _layer_split(c: Checker, setup: RecallSetup, ctx: RecallContext, params: Any, out: dict) -> None:
  """Figs 10-12 / T5 for the unconstrained models: on the population sentences, how often the attention's logits
  peak at the output y and the feed-forward's at tau (the paper: "attention predicts outputs while FFN handles
  noise")."""
  parts = model.parts(params, ctx.pop, ctx.model)
  y = np.asarray(ctx.pop["y"])
  attention_y = float(np.mean(np.argmax(np.asarray(parts["xi_A"]), -1) == y))
  ff_tau = float(np.mean(np.argmax(np.asarray(parts["xi_F"]), -1) == ctx.model.tau))
  ff_y = float(np.mean(np.argmax(np.asarray(parts["xi_F"]), -1) == y))
  out["scalars"].update(frac_attention_argmax_y=attention_y, frac_ff_argmax_tau=ff_tau, frac_ff_argmax_y=ff_y)
  c("layer_split", "fraction of sentences whose attention logits peak at y (Figs 10-12)", 1.0, attention_y)
  c("layer_split", "fraction of sentences whose feed-forward logits peak at tau (Figs 10-12)", 1.0, ff_tau,
    note=f"the feed-forward peaks at y in {ff_y:.1%}")


def _p10(c: Checker, setup: RecallSetup, params: Any, final: Mapping[str, float]) -> None:
  """P10: Origin-Linear-F from zero never moves W or V (their gradients are exactly 0: a = 0 and dL/dW ~ V = 0),
  so only F learns and the loss plateaus at the context-free optimum."""
  moved = max(float(np.max(np.abs(np.asarray(params[k])))) for k in ("W", "V"))
  c("p10_attention_unused", "max |W|, |V| after training (P10: exactly 0)", 0.0, moved)
  spec = setup.task
  c("p10_plateau", "final population loss - context-free optimum H(alpha) + (1 - alpha) ln |Y| (P10)", 0.0,
    final["pop_loss"] - theory.context_free_loss(float(spec.alpha), len(spec.outputs)))


def evaluate(setup: RecallSetup, ctx: RecallContext, params: Any, rows: Rows) -> Evaluation:
  """Checks of a trained result-3 run.

  Args:
    setup: the run's specs.
    ctx: the model, the training noise fraction, evaluation data, statistics at initialisation.
    params: trained parameters.
    rows: the metric rows.

  Returns:
    The evaluation.

  Reference: docs page "recall", section "What is checked and why" (which check applies to which model).
  """
  alpha, final = float(setup.task.alpha), rows[-1]
  bayes = theory.entropy(alpha)
  c = Checker(TOLERANCES)
  out: dict[str, Any] = {"notes": [], "scalars": {
      "setting": setup.variant, "bayes_risk": bayes, "alpha_hat": ctx.alpha_hat,
      "initial_pop_loss": ctx.init_stats["pop_loss"], "final_pop_loss": final["pop_loss"],
      "final_test_loss": final["test_loss"], "final_train_loss": final["loss_last"]}}
  _p1(c, setup, ctx, out["notes"])
  closed = _closed_form(setup, ctx, params)
  if closed is not None:
    entry = "closed_form_x64" if setup.run.x64 else "closed_form"
    c(entry, "population loss vs closed form at the trained parameters", closed[0], final["pop_loss"],
      note="P2/P4/P7/P9")
    c(entry, "unseen-output test loss vs the same closed form (P6)", closed[1], final["test_loss"])
  if setup.kind == "reparam" and setup.attention in ("linear", "relu") and setup.kappa == 1:
    _bayes(c, setup, ctx, final, out["notes"])
  if setup.kind == "reparam":
    _reparam(c, setup, rows)
  else:
    _unconstrained(c, setup, ctx, rows, out)
  if setup.kind == "origin" and setup.attention == "linear" and setup.kappa == 0:
    _p10(c, setup, params, final)
  elif setup.kind != "reparam" and setup.task.noisy:
    _layer_split(c, setup, ctx, params, out)
  data_checks.checks(c, setup, ctx, rows, out["notes"])
  arrays = {k: np.asarray(v) for k, v in params.items()}
  if setup.M and setup.task.noisy and setup.kind == "reparam":
    law_arrays, law_notes = finite_law.checks(c, setup.task)
    arrays.update(law_arrays)
    out["notes"] += law_notes
  arrays.update(step=np.array([r["step"] for r in rows]), pop_loss=np.array([r["pop_loss"] for r in rows]),
                test_loss=np.array([r["test_loss"] for r in rows]))
  return Evaluation(checks=c.checks, scalars=out["scalars"], arrays=arrays, notes=out["notes"])
