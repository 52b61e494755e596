"""Result 1: one-layer LSA trained on in-context regression implements one step of (preconditioned) GD.

Settings, chosen by config fields, and the theory each is compared with (``B`` is the odd-part matrix of
``icljax.structure``; 1/n-normalised GD convention):

| activation | Sigma | prior | theory B | L* |
|---|---|---|---|---|
| linear | I | any | eta* I, eta* = n/(n+d+1+sigma^2) | closed form (Thm 1) |
| linear | any | inv_cov | eta* Sigma^{-1} | closed form (Thm 2) |
| linear | not I | identity | Gamma* (Ahn et al.) | closed form |
| relu | I | - | eta_F I, eta_F = n/(n+2d+3+4 sigma^2) | closed form (Thm 3) |
| tanh (or relu with Sigma != I) | I | - | eta_F I, eta_F by Monte Carlo | MC of that predictor |
| nonlinear | not I | - | MSE-optimal B of x^T B g by MC normal equations | MC of that predictor |

Reference: Mahankali, Hashimoto, Ma (2023); digest sections 4 and 7.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from icljax import estimators, plots, report, structure, validation
from icljax.models import lsa
from icljax.pipelines import base
from icljax.tasks import regression
from icljax.theory import regression as theory

title = "Result 1: one-layer linear self-attention = one step of (preconditioned) gradient descent"
CLAIM = ("A one-layer linear self-attention trained on in-context regression converges to one step of gradient "
         "descent with the closed-form step size (preconditioned by Sigma^-1 for non-isotropic covariates, "
         "plain GD with a target-dependent step for nonlinear targets).")
PARAMETERIZATIONS = ("full", "reduced")
ESTIMATORS = ("fresh", "fixed")


def make_spec(config: ml_collections.ConfigDict) -> regression.RegressionSpec:
  spectrum = None if config.spectrum is None else tuple(config.spectrum)
  return validation.as_config_field(
      regression.make_spec, config.d, config.n, config.sigma, spectrum=spectrum, rotation=config.rotation,
      rotation_seed=config.rotation_seed, prior=config.prior, target=config.activation, width=config.width)


def validate(config: ml_collections.ConfigDict) -> None:
  validation.choice("config.activation", config.activation, regression.TARGETS)
  validation.integer("config.rotation_seed", config.rotation_seed, low=0)
  make_spec(config)
  validation.choice("config.parameterization", config.parameterization, PARAMETERIZATIONS)
  validation.choice("config.normalization", config.normalization, lsa.NORMALIZATIONS)
  for flag in ("include_query", "residual"):
    if not isinstance(config[flag], bool):
      raise validation.ConfigError(f"config.{flag}", config[flag], "True or False")
  validation.real("config.init_scale", config.init_scale, low=0.0, low_open=True)
  validation.choice("config.estimator", config.estimator, ESTIMATORS)
  validation.integer("config.sample_size", config.sample_size, low=1)
  validation.as_config_field(regression.resolve_sampler, make_spec(config), config.sampler)
  validation.integer("config.eval_prompts", config.eval_prompts, low=1000)
  validation.integer("config.theory_prompts", config.theory_prompts, low=1000)
  for tol in ("tol_B", "tol_loss", "tol_pred", "tol_leak"):
    validation.real(f"config.{tol}", config[tol], low=0.0, low_open=True)
  base.validate_optimizer(config)


def theory_for(config: ml_collections.ConfigDict, spec: regression.RegressionSpec,
               key: jax.Array) -> dict[str, Any]:
  """The predicted B and optimal loss for a config (see the module table), with their provenance."""
  d, n, sigma = config.d, config.n, float(config.sigma)
  cov = np.asarray(spec.cov, np.float64)
  iso = spec.isotropic
  out: dict[str, Any] = {"cov": cov}
  if config.activation == "linear":
    eta = theory.eta_star(n, d, sigma)
    if iso or config.prior == "inv_cov":
      out.update(B=eta * theory.preconditioner_inv_cov(cov), eta=eta, L_star=theory.optimal_loss(n, d, sigma),
                 setting="isotropic" if iso else "preconditioned (w* ~ N(0, Sigma^-1))",
                 source="closed form eta* = n/(n+d+1+sigma^2)" + ("" if iso else " times Sigma^-1"))
    else:
      out.update(B=theory.gamma_star(cov, n, sigma), eta=None,
                 L_star=theory.optimal_loss_identity_prior(cov, n, sigma),
                 setting="preconditioned (w* ~ N(0, I))", source="closed form Gamma* (Ahn et al. Thm 1)")
  elif iso:
    eta_hat, eta_se = theory.eta_mc(key, spec, config.theory_prompts)
    out.update(eta_mc=eta_hat, eta_mc_se=eta_se)
    if config.activation == "relu":
      eta = theory.eta_relu_net(n, d, sigma)
      out.update(B=eta * np.eye(d), eta=eta, L_star=theory.optimal_loss_relu_net(n, d, sigma),
                 setting="nonlinear (random ReLU networks)", source="closed form eta_F = n/(n+2d+3+4 sigma^2)")
    else:
      out.update(B=eta_hat * np.eye(d), eta=eta_hat, L_star=None, setting=f"nonlinear (random {config.activation} "
                 "networks)", source=f"Monte Carlo eta_F on {config.theory_prompts} prompts")
  else:
    out.update(B=theory.optimal_B_mc(key, spec, config.theory_prompts), eta=None, L_star=None,
               setting=f"nonlinear ({config.activation}) with Sigma != I",
               source=f"Monte-Carlo normal equations on {config.theory_prompts} prompts")
  return out


def _predict_fn(config: ml_collections.ConfigDict):
  kw = {"normalization": config.normalization, "include_query": config.include_query}
  if config.parameterization == "full":
    return functools.partial(lsa.apply, residual=config.residual, **kw)
  return functools.partial(lsa.reduced_apply, **kw)


def _train_predict_fn(config: ml_collections.ConfigDict):
  return functools.partial(lsa.apply_statistics, n=config.n, normalization=config.normalization,
                           include_query=config.include_query, residual=config.residual)


def plan(config: ml_collections.ConfigDict) -> base.Plan:
  """Training runs on sufficient statistics (``lsa.apply_statistics``, the same function of the prompt as the
  attention form): ``estimator='fresh'`` draws ``batch_size`` fresh prompts' statistics per step with
  ``config.sampler``; ``'fixed'`` draws ``sample_size`` prompts' statistics once (O((d+1)^2) per prompt and step,
  whatever n is) and takes full-batch steps. Evaluation uses raw prompts and the attention form."""
  spec = make_spec(config)
  root = jax.random.key(config.seed)
  init_key, data_key, eval_key, theory_key = (jax.random.fold_in(root, i) for i in range(4))
  params = lsa.init(init_key, config.d, config.init_scale)
  if config.parameterization == "reduced":
    params = lsa.reduce(params, residual=config.residual)
  predict = _predict_fn(config)
  sampler = lambda k, b: regression.sample(k, spec, b)
  loss = estimators.squared_error(_train_predict_fn(config))
  draw = lambda k, spec_, b: regression.sample_statistics(k, spec_, b, config.sampler)
  fixed_sample = (draw(jax.random.fold_in(data_key, 1), spec, config.sample_size)
                  if config.estimator == "fixed" else None)

  def objective_h(params, key, hp):
    spec_, sample_ = hp
    if sample_ is not None:
      return estimators.fixed(loss, sample_)(params, key)
    return estimators.fresh(loss, lambda k, b: draw(k, spec_, b), config.batch_size)(params, key)

  th = theory_for(config, spec, theory_key)
  target_b = th["B"]

  def track(p):
    blocks = structure.lsa_blocks(p, config.n, config.normalization)
    leak = structure.leakage(blocks)
    return {"B_rel_err": structure.relative_error(blocks["B"], target_b), "leak_u_x": leak["u_x"],
            "leak_m_21": leak["m_21"]}

  hparams = (spec, fixed_sample)
  return base.Plan(objective=lambda p, k: objective_h(p, k, hparams), objective_h=objective_h, hparams=hparams,
                   params=params, optimizer=base.make_optimizer(config), steps=config.steps,
                   data_key=data_key, log_every=config.log_every, track=track,
                   context={"spec": spec, "predict": predict, "sampler": sampler, "eval_key": eval_key,
                            "theory": th})


def evaluate(config: ml_collections.ConfigDict, plan: base.Plan, params: Any) -> base.Outcome:
  ctx = plan.context
  spec, predict, sampler, th = ctx["spec"], ctx["predict"], ctx["sampler"], ctx["theory"]
  d, n, sigma = config.d, config.n, float(config.sigma)
  target_b = th["B"]
  b_theory = jnp.asarray(target_b, jnp.float32)
  theory_predict = lambda p: jnp.einsum("bd,de,be->b", p["x_query"], b_theory, theory.gd_statistic(p))
  linear = config.activation == "linear"
  bayes_precision = spec.cov if config.prior == "inv_cov" else None

  def stat(p):
    y, yhat, yth = p["y_query"], predict(params, p), theory_predict(p)
    cols = [(yhat - y) ** 2, (yth - y) ** 2, (yhat - yth) ** 2, yth**2]
    if linear and sigma > 0:
      cols.append((theory.ridge_predict(p, sigma**2, bayes_precision) - y) ** 2)
    return jnp.stack(cols, -1)

  mean, se = jax.jit(lambda k: estimators.monte_carlo(stat, sampler, k, config.eval_prompts))(ctx["eval_key"])
  mean, se = np.asarray(mean, np.float64), np.asarray(se, np.float64)
  mse, mse_se, theory_mse = mean[0], se[0], mean[1]
  pred_rms = float(np.sqrt(mean[2] / mean[3]))
  bayes = float(mean[4]) if len(mean) > 4 else (0.0 if linear and n >= d else None)
  l_star = th["L_star"] if th["L_star"] is not None else float(theory_mse)

  probe = sampler(jax.random.fold_in(ctx["eval_key"], 1), 4096)
  cosine = structure.sensitivity_cosine(lambda p: predict(params, p), theory_predict, probe)

  blocks = structure.lsa_blocks(params, n, config.normalization)
  b = blocks["B"]
  leak = structure.leakage(blocks)
  b_err = structure.relative_error(b, target_b)
  cmp = [report.Comparison("B: relative Frobenius error vs " + _target_name(th), 0.0, b_err, config.tol_B, "max")]
  if th["eta"] is not None and (spec.isotropic or config.activation != "linear"):
    cmp.append(report.Comparison("learned step size tr(B)/d", th["eta"], float(np.trace(b) / d), config.tol_B))
  if not spec.isotropic:
    wb = structure.whiten(b, th["cov"])
    if th["eta"] is not None:
      cmp.append(report.Comparison("step size tr(S^1/2 B S^1/2)/d", th["eta"], float(np.trace(wb) / d),
                                   config.tol_B))
      cmp.append(report.Comparison("Dist(S^1/2 B S^1/2, I)", 0.0, structure.dist_to_identity(wb), 0.05, "max"))
      cmp.append(report.Comparison("Dist(B, I) (not plain GD)", structure.dist_to_identity(target_b),
                                   structure.dist_to_identity(b), 0.3, "min"))
    else:
      cmp.append(report.Comparison("Dist(S^1/2 B S^1/2, I) (Gamma* is not Sigma^-1)",
                                   structure.dist_to_identity(structure.whiten(target_b, th["cov"])),
                                   structure.dist_to_identity(wb), 0.1, "abs"))
  cmp.append(report.Comparison(f"eval MSE on {config.eval_prompts} fresh prompts vs L*", l_star, mse,
                               config.tol_loss, note="" if th["L_star"] is not None else
                               "L* = MSE of the theory predictor on the same prompts"))
  cmp.append(report.Comparison("prediction relative RMS vs theory one-step GD", 0.0, pred_rms, config.tol_pred,
                               "max"))
  cmp.append(report.Comparison("cosine of dy/dx_query, model vs one-step GD", 1.0, cosine, 0.99, "min"))
  notes = []
  if d >= 2:
    cmp.append(report.Comparison("leakage |u_x|/|u_y|", 0.0, leak["u_x"], config.tol_leak, "max"))
    cmp.append(report.Comparison("leakage |m_21|/|M_11|_F", 0.0, leak["m_21"], config.tol_leak, "max"))
  if "eta_mc" in th and th["eta"] is not None and config.activation == "relu":
    cmp.append(report.Comparison("theory check: eta_F closed form vs Monte Carlo", th["eta"], th["eta_mc"],
                                 4 * th["eta_mc_se"], "abs", note="tolerance = 4 standard errors"))
  try:
    note = structure.assert_lsa_structure(params, target_b, n=n, normalization=config.normalization,
                                          rtol=config.tol_B, leak_tol=config.tol_leak)
    assertion = "passed"
    if note:
      notes.append(note)
  except AssertionError as e:
    assertion = f"failed: {e}"
  notes.append(f"theory: {th['setting']}; {th['source']}.")
  sampler = regression.resolve_sampler(spec, config.sampler)
  notes.append(f"training: {config.batch_size} fresh prompts per step ({sampler} statistics)"
               if config.estimator == "fresh" else
               f"training: one fixed sample of {config.sample_size} prompts ({sampler} statistics), full-batch steps;"
               " theory is the population optimum, so expect O(1/sqrt(sample_size)) deviations")
  if bayes is not None:
    notes.append(f"Bayes (ridge) risk {bayes:.4f}: a one-layer LSA cannot reach it (L* = {l_star:.4f}).")

  scalars = {
      "setting": th["setting"], "theory_source": th["source"], "eta_theory": th["eta"], "L_star": l_star,
      "eval_mse": mse, "eval_mse_se": mse_se, "theory_predictor_mse_same_prompts": theory_mse,
      "bayes_risk": bayes, "B_rel_err": b_err, "B_diag_mean": float(np.trace(b) / d),
      "B_max_abs_offdiag": float(np.max(np.abs(b - np.diag(np.diag(b))))) if d > 1 else 0.0,
      "leak_u_x": leak["u_x"], "leak_m_21": leak["m_21"], "pred_rel_rms": pred_rms, "sensitivity_cosine": cosine,
      "structure_assertion": assertion,
  }
  if "eta_mc" in th:
    scalars.update(eta_mc=th["eta_mc"], eta_mc_se=th["eta_mc_se"])
  full = params if config.parameterization == "full" else lsa.lift(params)
  arrays = {k: np.asarray(v) for k, v in full.items()}
  arrays.update(B=b, B_theory=np.asarray(target_b), Sigma=th["cov"])
  if config.parameterization == "reduced":
    arrays.update({k: np.asarray(v) for k, v in params.items()})
  return base.Outcome(claim=CLAIM, comparisons=cmp, scalars=scalars, arrays=arrays, notes=notes)


def _target_name(th: Mapping[str, Any]) -> str:
  if th["setting"].startswith("preconditioned (w* ~ N(0, I))"):
    return "Gamma*"
  if th["setting"].startswith("preconditioned"):
    return "eta* Sigma^-1"
  return "eta_F I" if th["setting"].startswith("nonlinear") else "eta* I"


def figures(workdir: Path, config: Mapping[str, Any], metrics: Sequence[Mapping[str, Any]],
            summary: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> list[str]:
  fig_dir = Path(workdir) / "figures"
  l_star = summary["scalars"]["L_star"]
  out = [plots.curves(fig_dir / "loss.png", metrics, ["loss"], references={"L* (theory)": l_star},
                      title=f"{config['name']}: training loss", ylabel="MSE", logy=True),
         plots.curves(fig_dir / "B_error.png", metrics, ["B_rel_err", "leak_u_x", "leak_m_21"],
                      title="distance to the predicted structure", ylabel="relative size", logy=True)]
  b, bt = arrays["B"], arrays["B_theory"]
  out.append(plots.matrices(fig_dir / "B.png", {"learned B": b, "theory B": bt, "difference": b - bt},
                            title=summary["scalars"]["setting"]))
  cov = arrays["Sigma"]
  if not np.allclose(cov, np.eye(cov.shape[0])):
    out.append(plots.matrices(fig_dir / "B_whitened.png",
                              {"S^1/2 B S^1/2 (learned)": structure.whiten(b, cov),
                               "S^1/2 B S^1/2 (theory)": structure.whiten(bt, cov)},
                              title="whitened: eta* I under the inv_cov prior"))
  return out


def aggregate(workdir: Path, index: Sequence[Mapping[str, Any]], swept: Sequence[str]) -> Path:
  """Sweep report: learned step size tr(B)/d against eta* at every grid point, seeds' spread shown."""
  from icljax import runs  # pylint: disable=import-outside-toplevel
  by = [f for f in swept if f != "seed"]
  rows = [r for r in index if r.get("eta_theory") is not None]
  table, comparisons = report.sweep_table(rows, by, "B_diag_mean", "eta_theory", 0.03)
  figure = plots.scatter_vs_theory(Path(workdir) / "figures" / "step_size.png", rows, "eta_theory", "B_diag_mean",
                                   color_by=by[0] if by else None, title="learned step size vs eta* (each seed)")
  passed = sum(c.passed for c in comparisons)
  text = (f"# Sweep: learned step size vs eta* = n/(n+d+1+sigma^2)\n\n{passed}/{len(comparisons)} grid points "
          f"within 3% of eta* for every seed.\n\n![step size](figures/step_size.png)\n\n{table}\n")
  runs.atomic_write_text(Path(workdir) / "SWEEP.md", text)
  del figure
  return Path(workdir) / "SWEEP.md"
