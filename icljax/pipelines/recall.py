"""Result 3: one-layer linear/ReLU attention is Bayes-optimal for noisy in-context recall.

One config selects one model variant (``model``: origin / reparam / reparam_w; ``attention``; ``kappa``), the noise
level ``alpha`` and population (``M = 0``: a fresh batch every step) or finite-sample (``M`` sentences) training by
per-tensor normalised GD from zero. Every logged step records the training loss (before the update), the
population loss (expected over the noise draw, on fixed fresh sentences), the unseen-output test loss, the
probability of the output (noiseless) or noise (noisy) token, and the layer-wise logits of Figs. 10-12.

Reference: Nguyen & Nguyen-Tang (2025); digest sections 3-6 (P1-P11).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from icljax import estimators, optim, plots, report, validation
from icljax.models import recall as model
from icljax.pipelines import base
from icljax.tasks import recall as task
from icljax.theory import recall as theory

title = "Result 3: one-layer linear/ReLU attention is Bayes-optimal for noisy in-context recall"
CLAIM = ("The reparameterised one-layer transformer with linear or ReLU attention trained by normalised GD reaches "
         "the Bayes risk H(alpha) at a linear rate and generalises to unseen output tokens; attention recalls the "
         "output, the feed-forward layer stores the noise association.")


def make_spec(config: ml_collections.ConfigDict) -> task.RecallSpec:
  return validation.as_config_field(task.make_spec, config.alpha, V=config.V, triggers=tuple(config.triggers),
                                    outputs=tuple(config.outputs), H=config.H)


def validate(config: ml_collections.ConfigDict) -> None:
  validation.choice("config.model", config.model, model.KINDS)
  validation.choice("config.attention", config.attention, model.ATTENTIONS)
  if config.kappa not in (0, 1) or isinstance(config.kappa, bool):
    raise validation.ConfigError("config.kappa", config.kappa, "0 or 1")
  spec = make_spec(config)
  validation.real("config.eta", config.eta, low=0.0, low_open=True)
  base.validate_run_fields(config, "batch_size", "test_size", "eval_size")
  validation.integer("config.M", config.M, low=0)
  if config.M and config.M < config.batch_size:
    raise validation.ConfigError("config.M", config.M, f"0 (population) or >= batch_size = {config.batch_size}")
  if config.d is not None:
    validation.integer("config.d", config.d, low=2 * spec.V)
  if not isinstance(config.x64, bool):
    raise validation.ConfigError("config.x64", config.x64, "True or False")


def _expected_ce(logits: jax.Array, batch: Mapping[str, jax.Array], alpha: float, tau: int) -> jax.Array:
  """Per-sentence cross-entropy averaged over the noise draw: ``-(1-alpha) log p_y - alpha log p_tau``.

  The draw is independent of the sentence, so this Rao-Blackwellised estimate has no target-sampling noise.
  """
  logp = jax.nn.log_softmax(logits, axis=-1)
  log_py = jnp.take_along_axis(logp, batch["y"][:, None], axis=-1)[:, 0]
  return -(1 - alpha) * log_py - alpha * logp[:, tau]


def plan(config: ml_collections.ConfigDict) -> base.Plan:
  spec = make_spec(config)
  root = jax.random.key(config.seed)
  data_key, test_key, eval_key, set_key = (jax.random.fold_in(root, i) for i in range(4))
  alpha = float(config.alpha)
  train_set = task.sample(set_key, spec, config.M) if config.M else None
  alpha_hat = float(np.mean(np.asarray(train_set["noise"]))) if train_set is not None and spec.noisy else alpha
  if spec.noisy and not 0.0 < alpha_hat < 1.0:
    raise validation.ConfigError("config.M", config.M, "a training set whose noise fraction is strictly between 0 "
                                 "and 1 (gamma = ln(alpha_hat/(1-alpha_hat)) must be finite)")
  gamma_hat = theory.gamma(alpha_hat) if spec.noisy else 0.0
  m = model.make_model(config.model, config.attention, config.kappa, V=spec.V, triggers=spec.triggers,
                       noisy=spec.noisy, gamma=gamma_hat, d=config.d)
  hparams = {"spec": spec, "model": m}
  if train_set is not None:
    hparams["train_set"] = train_set

  def objective_h(p, key, hp):
    ce = lambda q, b: jnp.mean(optax.softmax_cross_entropy_with_integer_labels(model.apply(q, b, hp["model"]),
                                                                               b["target"]))
    if "train_set" in hp:
      return estimators.fixed_minibatch(ce, hp["train_set"], config.batch_size)(p, key)
    return estimators.fresh(ce, lambda k, n: task.sample(k, hp["spec"], n), config.batch_size)(p, key)

  test = task.sample(test_key, spec, config.test_size, unseen=True)
  pop = task.sample(eval_key, spec, config.eval_size)
  tau = spec.tau

  @jax.jit
  def _stats(p):
    out = {}
    for name, batch in (("pop", pop), ("test", test)):
      parts = model.parts(p, batch, m)
      logits = parts["xi_A"] + parts["xi_F"]
      out[f"{name}_loss"] = jnp.mean(_expected_ce(logits, batch, alpha, tau))
      probs = jax.nn.softmax(logits, -1)
      out[f"{name}_p_output"] = jnp.mean(jnp.take_along_axis(probs, batch["y"][:, None], -1))
      out[f"{name}_p_noise"] = jnp.mean(probs[:, tau])
      if name == "pop":
        out["xi_A_y"] = jnp.mean(jnp.take_along_axis(parts["xi_A"], batch["y"][:, None], -1))
        out["xi_A_max"] = jnp.mean(jnp.max(parts["xi_A"], -1))
        out["xi_F_tau"] = jnp.mean(parts["xi_F"][:, tau])
        out["xi_F_max"] = jnp.mean(jnp.max(parts["xi_F"], -1))
    return out

  def track(p):
    row = {k: float(v) for k, v in _stats(p).items()}
    row["test_loss"] = row["test_loss"]
    if "Lam" in p:
      row["Lam"] = float(p["Lam"])
    if "lam" in p:
      row.update({f"lam[{q}]": float(v) for q, v in zip(spec.triggers, np.asarray(p["lam"]))})
      row["lam_mean"] = float(np.mean(np.asarray(p["lam"])))
    return row

  params = model.init(m)
  return base.Plan(objective=lambda p, k: objective_h(p, k, hparams), objective_h=objective_h, hparams=hparams,
                   params=params, optimizer=optim.normalized_gd(config.eta),
                   steps=config.steps, data_key=data_key, log_every=config.log_every, track=track,
                   context={"spec": spec, "model": m, "alpha_hat": alpha_hat, "stats": _stats, "init": params})


def _closed_form(config: ml_collections.ConfigDict, spec: task.RecallSpec, p: Mapping[str, jax.Array],
                 alpha_hat: float) -> float | None:
  """Closed-form population loss of the reparam (lam / Lam) models at the trained parameters, if one exists."""
  if config.model != "reparam":
    return None
  alpha = float(config.alpha)
  if config.attention == "softmax":
    return None  # closed form only in the limit (the plateau); compared separately
  if spec.noisy:
    return theory.loss_noisy(float(p["Lam"]), alpha, spec.V, config.kappa,
                             theory.gamma(alpha_hat))
  return theory.loss_noiseless(np.asarray(p["lam"], np.float64), spec.V)


def evaluate(config: ml_collections.ConfigDict, plan: base.Plan, params: Any) -> base.Outcome:
  ctx = plan.context
  spec, rows = ctx["spec"], ctx["rows"]
  alpha, alpha_hat = float(config.alpha), ctx["alpha_hat"]
  bayes = theory.entropy(alpha)
  final, init = rows[-1], {k: float(v) for k, v in ctx["stats"](ctx["init"]).items()}
  variant = (f"{config.model}-{config.attention}-{'FA' if config.kappa else 'F'}, alpha={alpha:g}"
             + (f", M={config.M}" if config.M else ", population"))
  cmp: list[report.Comparison] = []
  notes: list[str] = []
  scalars: dict[str, Any] = {"setting": variant, "bayes_risk": bayes, "alpha_hat": alpha_hat,
                             "initial_pop_loss": init["pop_loss"], "final_pop_loss": final["pop_loss"],
                             "final_test_loss": final["test_loss"], "final_train_loss": final["loss_last"]}
  # P1: initial loss (zero init): ln V, or the noisy-reparam closed form. Not for reparam softmax models: with
  # V = I the uniform attention at lam = 0 gives logits = token frequencies, not 0 (BUILD_NOTES.md).
  if config.model != "origin" and config.attention == "softmax":
    p1 = None
    notes.append(f"P1 does not apply to softmax attention with V = I: the uniform attention at lam = 0 gives the "
                 f"token frequencies as logits; initial population loss {init['pop_loss']:.6f} (ln V = "
                 f"{np.log(spec.V):.6f}).")
  elif config.model == "reparam" and spec.noisy:
    p1 = theory.loss_noisy(0.0, alpha, spec.V, config.kappa, theory.gamma(alpha_hat))
  else:
    p1 = float(np.log(spec.V)) if not (config.model == "reparam_w" and spec.noisy) else None
  if p1 is not None:
    cmp.append(report.Comparison("P1 population loss at initialisation", p1, init["pop_loss"], 1e-5, "abs"))
  closed = _closed_form(config, spec, params, alpha_hat)
  if closed is not None:
    cmp.append(report.Comparison("population loss vs closed form at the trained parameters", closed,
                                 final["pop_loss"], 1e-4 if config.x64 else 2e-4, "abs",
                                 note="P2/P4/P7/P9"))
    cmp.append(report.Comparison("unseen-output test loss vs the same closed form (P6)", closed,
                                 final["test_loss"], 1e-4 if config.x64 else 2e-4, "abs"))
  good = config.model == "reparam" and config.attention in ("linear", "relu") and config.kappa == 1
  if good:
    target = bayes + (theory.kl_bernoulli(alpha, alpha_hat) if spec.noisy and config.M else 0.0)
    cmp.append(report.Comparison("final population loss - Bayes risk" + (" - KL(alpha||alpha_hat)" if config.M
                                                                        else ""), 0.0, final["pop_loss"] - target,
                                 1e-3, "max"))
  if config.model == "reparam":
    t = np.array([r["step"] for r in rows], np.float64)
    key = "Lam" if spec.noisy else "lam_mean"
    traj = np.array([r[key] for r in rows], np.float64)
    expected = theory.ngd_trajectory(t, config.eta, len(spec.triggers), spec.noisy)
    if spec.noisy and config.kappa == 1 and config.attention != "softmax":
      # Lam_t = eta t exactly while the float gradient is nonzero (digest 6.3: float32 saturates near Lam ~ 20).
      # Saturation: p_y rounds to 1 once (V-2)(1-alpha) e^-Lam < 2^-mantissa (digest 6.3); stay 2 nats below.
      limit = float(np.log((spec.V - 2) * (1 - alpha)) + (52 if config.x64 else 23) * np.log(2.0) - 2.0)
      ok = expected <= limit
      # Tolerance: the rounding of ``t`` additions of eta, at most t ulp(eta t) (float32 or float64).
      eps = 2.0**-52 if config.x64 else 2.0**-23
      top = float(expected[ok].max()) if ok.any() else 1.0
      cmp.append(report.Comparison("max |Lam_t - eta t| over unsaturated steps (P3)", 0.0,
                                   float(np.max(np.abs(traj - expected)[ok])) if ok.any() else 0.0,
                                   top / config.eta * eps * max(1.0, top), "max"))
      sat = int(np.sum(~ok))
      if sat:
        notes.append(f"{'float64' if config.x64 else 'float32'}: Lam_t = eta t checked up to eta t = "
                     f"{limit:.1f}; beyond it the probabilities round to 0/1 and the normalised "
                     f"gradient is rounding noise (final Lam {traj[-1]:.3f} vs eta t {expected[-1]:.3f}).")
    elif not spec.noisy and config.attention != "softmax":
      early = expected <= 15.0
      cmp.append(report.Comparison("lam_t vs eta t/sqrt|Q| (P4), relative, unsaturated steps", 0.0,
                                   float(np.max(np.abs(traj[early] / expected[early] - 1))) if early.any() else 0.0,
                                   0.02, "max", note="minibatch gradients differ across triggers"))
    if config.attention == "softmax":
      plateau = theory.softmax_plateau(alpha, spec.V)
      cmp.append(report.Comparison("softmax plateau (P5)", plateau, final["pop_loss"], 2e-3, "abs"))
    if spec.noisy and config.kappa == 0 and config.attention != "softmax":
      lam_star, best = theory.kappa0_optimum(alpha, spec.V)
      cmp.append(report.Comparison("kappa = 0 plateau: best reachable loss (P9)", best, final["pop_loss"],
                                   0.05, "abs", note=f"NGD oscillates around Lam* = {lam_star:.3f} with step eta"))
    cmp.append(report.Comparison("unseen-output test loss - population loss", 0.0,
                                 abs(final["test_loss"] - final["pop_loss"]), 1e-3, "max"))
    if spec.noisy and config.attention != "softmax":
      # P8: attention logit peaks at y, FF logit peaks at tau once Lam >= ln((1-alpha)/alpha).
      cmp.append(report.Comparison("xi_A,y = max_j xi_A,j at the end (P8)", 0.0,
                                   final["xi_A_max"] - final["xi_A_y"], 1e-4, "max"))
      cmp.append(report.Comparison("xi_F,tau = max_j xi_F,j at the end (P8)", 0.0,
                                   final["xi_F_max"] - final["xi_F_tau"], 1e-4, "max"))
  else:
    fell = init["pop_loss"] - final["pop_loss"]
    gap = final["test_loss"] - final["pop_loss"]
    cmp.append(report.Comparison("population loss falls (initial - final)", 0.0, fell, 0.1, "min"))
    cmp.append(report.Comparison("unseen-output test loss - population loss at the end (does not follow)", 0.0,
                                 gap, 0.0, "min", note="P11, qualitative; size in the notes"))
    scalars.update(test_minus_population_loss=gap, max_test_loss=max(r["test_loss"] for r in rows))
    trend = ("rises above its initial value" if scalars["max_test_loss"] > init["test_loss"] + 0.05 else
             "falls too but lags" if final["test_loss"] < init["test_loss"] else "stays flat")
    notes.append(f"{config.model}: the population loss falls {init['pop_loss']:.3f} -> {final['pop_loss']:.3f} "
                 f"while the unseen-output test loss goes {init['test_loss']:.3f} -> {final['test_loss']:.3f} (max "
                 f"{scalars['max_test_loss']:.3f}; it {trend}), {gap:.3f} above the population loss at the end.")
  arrays = {k: np.asarray(v) for k, v in params.items()}
  arrays.update(step=np.array([r["step"] for r in rows]), pop_loss=np.array([r["pop_loss"] for r in rows]),
                test_loss=np.array([r["test_loss"] for r in rows]))
  return base.Outcome(claim=CLAIM, comparisons=cmp, scalars=scalars, arrays=arrays, notes=notes)


def figures(workdir: Path, config: Mapping[str, Any], metrics: Sequence[Mapping[str, Any]],
            summary: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> list[str]:
  fig_dir = Path(workdir) / "figures"
  bayes = summary["scalars"]["bayes_risk"]
  out = [plots.curves(fig_dir / "loss.png", metrics, ["loss", "pop_loss", "test_loss"],
                      references={"Bayes risk H(alpha)": bayes}, title=summary["scalars"]["setting"],
                      ylabel="cross-entropy")]
  prob = "pop_p_noise" if config["alpha"] > 0 else "pop_p_output"
  out.append(plots.curves(fig_dir / "probability.png", metrics, [prob, prob.replace("pop", "test")],
                          references={"alpha" if config["alpha"] > 0 else "1": config["alpha"] or 1.0},
                          title="Pr(noise token)" if config["alpha"] > 0 else "Pr(output token)", ylabel="mean prob"))
  out.append(plots.curves(fig_dir / "logits.png", metrics, ["xi_A_y", "xi_A_max", "xi_F_tau", "xi_F_max"],
                          title="layer-wise logits (attention -> y, feed-forward -> tau)", ylabel="mean logit"))
  return out


def report_figures(out_dir: Path, groups: Mapping[str, Sequence[tuple[Mapping[str, Any], Sequence[Mapping[str, Any]]]]]
                   ) -> list[str]:
  """Figures across runs, drawn from their artefacts: one figure per group (e.g. Fig. 1 noiseless / noisy rows,
  Fig. 2 finite sample) with panels population loss, unseen-output test loss and Pr(output) or Pr(noise).

  Args:
    out_dir: folder for the figures.
    groups: figure name -> ``(config, metrics rows)`` of each run drawn in it.
  """
  out = []
  for name, group in groups.items():
    noisy = group[0][0]["alpha"] > 0
    prob = "pop_p_noise" if noisy else "pop_p_output"
    titles = ["population loss", "unseen-output test loss", "Pr(noise token)" if noisy else "Pr(output token)"]
    series = {t: {_label(cfg): rows for cfg, rows in group} for t in titles}
    out.append(plots.panels(Path(out_dir) / f"{name}.png", series, keys=["pop_loss", "test_loss", prob],
                            references=[{"H(alpha)": theory.entropy(group[0][0]["alpha"])}, {},
                                        {"alpha": group[0][0]["alpha"]} if noisy else {"1": 1.0}],
                            title=name.replace("_", " ")))
  return out


def _label(cfg: Mapping[str, Any]) -> str:
  kind = {"origin": "Origin", "reparam": "Reparam", "reparam_w": "Reparam"}[cfg["model"]]
  att = cfg["attention"].capitalize()
  return f"{kind}-{att}{'-W' if cfg['model'] == 'reparam_w' else ''}-{'FA' if cfg['kappa'] else 'F'}"


def aggregate(workdir: Path, index: Sequence[Mapping[str, Any]], swept: Sequence[str]) -> Path:
  """Sweep report: final population loss against alpha with the Bayes risk H(alpha), seeds' spread shown."""
  from icljax import runs  # pylint: disable=import-outside-toplevel
  by = [f for f in swept if f != "seed"]
  lines = ["| " + " | ".join(by) + " | H(alpha) | final population loss (mean ± std) | max excess | seeds |",
           "|" + "---|" * (len(by) + 4)]
  for key, group in report.grouped(index, by).items():
    finals = np.array([r["final_pop_loss"] for r in group])
    bayes = group[0]["bayes_risk"]
    lines.append("| " + " | ".join(str(v) for v in key) + f" | {bayes:.6f} | {finals.mean():.6f} ± "
                 f"{finals.std():.2g} | {float(np.max(finals - bayes)):.3g} | {len(finals)} |")
  alphas = [r["alpha"] for r in index] if "alpha" in swept else [r.get("alpha", 0.0) for r in index]
  grid = np.linspace(0.0, 0.99, 199)
  plots.points_and_curve(Path(workdir) / "figures" / "final_loss_vs_alpha.png", alphas,
                         [r["final_pop_loss"] for r in index], grid, [theory.entropy(a) for a in grid],
                         xlabel="alpha", ylabel="final population loss", curve_label="Bayes risk H(alpha)",
                         title="final loss vs alpha (each point one run)")
  text = ("# Sweep: final loss against the Bayes risk H(alpha)\n\n![final loss](figures/final_loss_vs_alpha.png)\n\n"
          + "\n".join(lines) + "\n")
  runs.atomic_write_text(Path(workdir) / "SWEEP.md", text)
  return Path(workdir) / "SWEEP.md"
