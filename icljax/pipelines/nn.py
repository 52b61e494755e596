"""Result 2: one-layer softmax attention trained by GD from W_0 learns the 1-nearest-neighbour rule.

Models trained side by side on one clock (config ``model``):

* ``'W'``: the full (d+2)x(d+2) matrix, plain GD on estimator (a), the symmetrised fixed sample
  (``estimator='symmetrized'``), or minibatch SGD on fresh prompts (``estimator='sgd'``, estimator (c));
* ``'xi'``: the reduced system on the *same* prompts with their actual labels (exactly the restriction of the
  full-W GD under (a), so the two agree to float rounding);
* ``'xi_pop'``: the reduced population system, labels integrated, on ``tau_samples`` fresh inner products
  (estimator (b)), to compare with the digest's P6/P7 numbers.

``model='reduced'`` trains ``xi_pop`` only; ``'full'`` trains ``W`` only; ``'both'`` trains all three.
Optimiser: plain GD, step ``eta`` on W and ``(eta/d, eta)`` on ``(xi1, xi2)`` (digest section 4).

Reference: Li et al. (2024), digest sections 4-9.
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

from icljax import estimators, optim, plots, report, structure, validation
from icljax.models import softmax_attention as model
from icljax.pipelines import base
from icljax.tasks import nearest_neighbor as task
from icljax.theory import nearest_neighbor as theory

title = "Result 2: one-layer softmax attention learns the one-nearest-neighbour rule"
CLAIM = ("Softmax attention trained by GD from W_0 = diag(0, 0, -sigma) stays on W = diag(xi1 I, 0, -xi2), its loss "
         "goes to zero and it predicts like 1-NN, also on shifted test distributions.")
MODELS = ("both", "reduced", "full")
ESTIMATORS = ("symmetrized", "sgd")
INITS = ("paper", "random")


LATE_STEP = 1_000_000  # P6 rows from here on compare xi with tol_reference_late


def validate(config: ml_collections.ConfigDict) -> None:
  validation.integer("config.d", config.d, low=2)
  validation.integer("config.N", config.N, low=1)
  validation.real("config.sigma", config.sigma, low=0.0, low_open=True)
  validation.real("config.eta", config.eta, low=0.0, low_open=True)
  base.validate_run_fields(config, "sample_size", "batch_size", "test_prompts")
  validation.choice("config.labels", config.labels, task.LABELS)
  validation.choice("config.model", config.model, MODELS)
  validation.choice("config.estimator", config.estimator, ESTIMATORS)
  validation.choice("config.init", config.init, INITS)
  validation.real("config.init_scale", config.init_scale, low=0.0)
  validation.integer("config.tau_samples", config.tau_samples, low=100)
  validation.integer("config.eval_tau_samples", config.eval_tau_samples, low=100)
  for shift in config.shifts:
    _shift_spec(config, shift)
  for row in config.references:
    if len(row) != 5 or not isinstance(row[0], int) or row[0] % config.log_every or row[0] > config.steps:
      raise validation.ConfigError("config.references", tuple(row), "rows (t, xi1, xi2, L, E[q_i*]) with t a "
                                   "multiple of log_every and <= steps")


def _shift_spec(config: ml_collections.ConfigDict, shift: str) -> task.ShiftSpec:
  """``'appendix_b:0.5'`` (margin delta after the colon) or a kind name."""
  kind, _, arg = str(shift).partition(":")
  validation.choice("config.shifts", kind, task.SHIFTS)
  kwargs = {}
  if arg:
    try:
      kwargs["delta"] = float(arg)
    except ValueError:
      raise validation.ConfigError("config.shifts", shift, "'appendix_b:<delta>' with delta in (0, 2)") from None
  try:
    return task.make_shift(kind, config.d, config.N, R=config.R, **kwargs)
  except validation.ConfigError as e:
    raise validation.ConfigError("config.shifts" if e.field == "delta" else f"config.{e.field}", e.value,
                                 e.accepted) from None


def _gd(config: ml_collections.ConfigDict, params: Mapping[str, Any]) -> optax.GradientTransformation:
  xi_scale = jnp.array([1.0 / config.d, 1.0])
  scales = {k: (xi_scale if k.startswith("xi") else 1.0) for k in params}
  return optax.chain(optax.sgd(config.eta), optim.scale_by_tree(scales))


def plan(config: ml_collections.ConfigDict) -> base.Plan:
  spec = task.make_spec(config.d, config.N, config.labels)
  root = jax.random.key(config.seed)
  init_key, data_key, eval_key, tau_key, sample_key = (jax.random.fold_in(root, i) for i in range(5))
  w0 = (model.init_paper(config.d, config.sigma) if config.init == "paper"
        else model.init_random(init_key, config.d, config.init_scale, config.sigma))
  xi0 = jnp.array(model.from_W(w0["W"]), jnp.float32)
  tau_pop = task.sample_tau(tau_key, config.d, config.N, config.tau_samples)
  half_mse = lambda loss_fn: (lambda p, b: 0.5 * loss_fn(p, b))
  full_loss = half_mse(estimators.squared_error(lambda p, b: model.apply({"W": p}, b), "target"))
  sample = None
  params: dict[str, jax.Array] = {}
  hparams: dict[str, Any] = {}
  if config.model in ("both", "full"):
    params["W"] = w0["W"]
    if config.estimator == "symmetrized":
      sample = task.sample(sample_key, spec, config.sample_size)
      hparams["images"] = task.symmetrize(sample)
  if config.model == "both" and sample is not None:
    params["xi"] = xi0
    hparams["sample"] = {"tau": sample["tau"], "y": sample["y"]}
  if config.model in ("both", "reduced"):
    params["xi_pop"] = xi0
    hparams["tau_blocks"] = theory.prepare_tau(tau_pop)
  fresh_full = estimators.fresh(full_loss, lambda k, b: task.sample(k, spec, b), config.batch_size)

  def objective_h(p, key, hp):
    total = jnp.zeros(())
    if "W" in p:
      total += full_loss(p["W"], hp["images"]) if "images" in hp else fresh_full(p["W"], key)
    if "xi" in p:
      total += theory.loss_with_labels(p["xi"], hp["sample"]["tau"], hp["sample"]["y"])
    if "xi_pop" in p:
      total += estimators.nn_reduced_loss(p["xi_pop"], hp["tau_blocks"])
    return total

  full_sample_loss = (lambda w, key: full_loss(w, hparams["images"])) if "images" in hparams else None

  tests = {s: task.sample_shift(jax.random.fold_in(eval_key, i), _shift_spec(config, s), config.test_prompts)
           for i, s in enumerate(config.shifts)}
  for batch in tests.values():
    task.check_assumption3(batch, config.R)
  images = "images" in hparams
  key0 = jax.random.key(0)

  # Population quantities are measured on fresh inner products (not the training sample): the late-time loss
  # comes from rare near-ties, whose in-sample estimate at 4000 prompts is ~5% off (BUILD_NOTES.md).
  tau_eval = task.sample_tau(jax.random.fold_in(eval_key, 10_000), config.d, config.N, config.eval_tau_samples)

  @jax.jit
  def _pop_stats(xi):
    pp = theory.per_prompt(xi, tau_eval)
    return pp["loss"].mean(), pp["q_star"].mean(), pp["q_self"].mean(), theory.loss(xi, tau_pop)

  @jax.jit
  def _shift_stats(xi, batch):
    q = model.reduced_attention(xi, batch["tau"])[:, :-1]
    yhat = jnp.sum(q * batch["y"], -1)
    err = jnp.abs(yhat - batch["target"])
    # Agreement: the prediction is closer to the 1-NN label than to any other context label.
    others = jnp.where(jax.nn.one_hot(batch["i_star"], batch["y"].shape[1]) > 0, jnp.inf,
                       jnp.abs(yhat[:, None] - batch["y"]))
    agree = err <= jnp.min(others, -1)
    bound = theory.recovery_bound(xi, batch["tau"], config.R) if config.N >= 2 else jnp.full_like(err, jnp.inf)
    return jnp.mean(err**2), jnp.mean(agree), jnp.max(err - bound)

  def track(p):
    row: dict[str, float] = {}
    if "W" in p:
      w = p["W"]
      xi1, xi2 = model.from_W(w)
      off = model.off_family(w)
      if images:  # estimator (a): on the family to float rounding at every logged step
        structure.assert_in_nn_family(w, atol=config.family_atol * max(1.0, float(jnp.linalg.norm(w))))
      row.update(W_xi1=xi1, W_xi2=xi2, off_family=off["other"], label_column=off["label_column"])
      if images:
        row["loss_W"] = float(full_sample_loss(w, key0))
    if "xi" in p:
      row.update(xi1=float(p["xi"][0]), xi2=float(p["xi"][1]),
                 loss_xi=float(theory.loss_with_labels(p["xi"], sample["tau"], sample["y"])))
    if "xi_pop" in p:
      loss, q_star, q_self, loss_train = (float(v) for v in _pop_stats(p["xi_pop"]))
      row.update(pop_xi1=float(p["xi_pop"][0]), pop_xi2=float(p["xi_pop"][1]), pop_loss=loss, q_star=q_star,
                 q_self=q_self, pop_loss_train=loss_train)
    xi_eval = p["xi_pop"] if "xi_pop" in p else jnp.array(model.from_W(p["W"]))
    for name, batch in tests.items():
      mse, agree, violation = (float(v) for v in _shift_stats(xi_eval, batch))
      row.update({f"shift_mse[{name}]": mse, f"shift_agree[{name}]": agree, f"bound_violation[{name}]": violation})
    return row

  return base.Plan(objective=lambda p, k: objective_h(p, k, hparams), objective_h=objective_h, hparams=hparams,
                   params=params, optimizer=_gd(config, params), steps=config.steps,
                   data_key=data_key, log_every=config.log_every, track=track,
                   context={"tau_pop": tau_pop, "tests": tests, "xi0": xi0, "eval_key": eval_key,
                            "shift_stats": _shift_stats})


def _column(rows: Sequence[Mapping[str, Any]], key: str) -> np.ndarray:
  return np.array([r[key] for r in rows if key in r], dtype=np.float64)


def _slope(t: np.ndarray, v: np.ndarray, t_min: float) -> float:
  sel = (t >= t_min) & (v > 0)
  return float(np.polyfit(np.log(t[sel]), np.log(v[sel]), 1)[0])


def evaluate(config: ml_collections.ConfigDict, plan: base.Plan, params: Any) -> base.Outcome:
  rows = plan.context["rows"]
  ctx = plan.context
  cmp: list[report.Comparison] = []
  notes: list[str] = []
  scalars: dict[str, Any] = {"setting": f"d={config.d}, N={config.N}, sigma={config.sigma}, eta={config.eta}, "
                                        f"model={config.model}, estimator={config.estimator}"}
  steps = _column(rows, "step")
  arrays: dict[str, np.ndarray] = {"step": steps}
  if "W" in params:
    w = np.asarray(params["W"], np.float64)
    xi1, xi2 = model.from_W(w)
    arrays.update(W=w, W_xi=np.array([xi1, xi2]))
    label_col = float(np.max(_column(rows, "label_column")))
    off = float(np.max(_column(rows, "off_family")))
    cmp.append(report.Comparison("label column of W, max over logged steps", 0.0, label_col, 0.0, "max"))
    bound = config.family_atol * max(1.0, float(np.linalg.norm(w)))
    if config.estimator == "symmetrized":
      cmp.append(report.Comparison("off-family norm of W, max over steps (float rounding)", 0.0, off, bound, "max"))
    else:
      notes.append(f"estimator (c) minibatch SGD: off-family norm of W reached {off:.3g} (max over logged steps); "
                   "it vanishes only in expectation.")
    scalars.update(W_xi1=xi1, W_xi2=xi2, W_off_family_max=off, W_label_column_max=label_col)
  if "xi" in params:
    xi = np.asarray(params["xi"], np.float64)
    arrays["xi_same_sample"] = xi
    cmp.append(report.Comparison("xi1: full-W GD vs reduced GD on the same prompts", xi[0], scalars["W_xi1"], 0.01))
    cmp.append(report.Comparison("xi2: full-W GD vs reduced GD on the same prompts", xi[1], scalars["W_xi2"], 0.01))
    if "xi_pop" in params:
      pop_xi = np.asarray(params["xi_pop"], np.float64)
      scalars.update(W_vs_population_rel_gap_xi1=abs(scalars["W_xi1"] / pop_xi[0] - 1),
                     W_vs_population_rel_gap_xi2=abs(scalars["W_xi2"] / pop_xi[1] - 1))
      notes.append(f"full-W GD on {config.sample_size} prompts (x their symmetry images) vs the population system: "
                   f"xi1 {scalars['W_xi1']:.4f} vs {pop_xi[0]:.4f}, xi2 {scalars['W_xi2']:.4f} vs {pop_xi[1]:.4f}; "
                   "the gap is the Monte-Carlo error of the small sample, not a departure from the family.")
  pop = "xi_pop" in params
  prefix = "pop_" if pop else "W_"
  xi_final = np.asarray(params["xi_pop"] if pop else arrays["W_xi"], np.float64)
  arrays.update(xi1=np.float64(xi_final[0]), xi2=np.float64(xi_final[1]))
  xi1_t, xi2_t = _column(rows, prefix + "xi1"), _column(rows, prefix + "xi2")
  arrays.update(xi1_t=xi1_t, xi2_t=xi2_t)
  # Monotonicity along the trajectory (P4, P6).
  cmp.append(report.Comparison("min step of xi2 along the run (nondecreasing)", 0.0, float(np.min(np.diff(
      np.concatenate([[float(ctx["xi0"][1])], xi2_t])))), -1e-6, "min"))
  if pop:
    loss_t, q_t = _column(rows, "pop_loss"), _column(rows, "q_star")
    train_t = np.concatenate([[theory.loss_at_zero(config.N, float(ctx["xi0"][1]))] if config.init == "paper" else [],
                              _column(rows, "pop_loss_train")])
    cmp.append(report.Comparison("max step of the loss on the GD sample (nonincreasing)", 0.0,
                                 float(np.max(np.diff(train_t))) if len(train_t) > 1 else 0.0, 1e-7, "max"))
    cmp.append(report.Comparison("min step of E[q_i*] (increasing)", 0.0,
                                 float(np.min(np.diff(q_t))) if len(q_t) > 1 else 0.0, -1e-7, "min"))
    scalars.update(final_loss=float(loss_t[-1]), final_q_star=float(q_t[-1]),
                   final_q_self=float(_column(rows, "q_self")[-1]))
    arrays.update(loss_t=loss_t, q_star_t=q_t)
  scalars.update(xi1=float(xi_final[0]), xi2=float(xi_final[1]))
  scalars["loss_at_init_closed_form"] = theory.loss_at_zero(config.N, config.sigma) if config.init == "paper" else None
  # Digest P6 rows at given steps.
  by_step = {int(r["step"]): r for r in rows}
  for t, ref_xi1, ref_xi2, ref_loss, ref_q in config.references:
    r = by_step[int(t)]
    for name, ref, key in (("xi1", ref_xi1, prefix + "xi1"), ("xi2", ref_xi2, prefix + "xi2"),
                           ("L", ref_loss, "pop_loss"), ("E[q_i*]", ref_q, "q_star")):
      if ref is not None and key in r:
        late = name.startswith("xi") and int(t) >= LATE_STEP
        cmp.append(report.Comparison(
            f"P6 {name} at t={t}", ref, r[key], config.tol_reference_late if late else config.tol_reference,
            note="digest value" + ("; xi at t >= 1e6 varies ~1.5% between tau samples and the digest's xi2 is "
                                   "2.6% below our mean of 8 (BUILD_NOTES)" if late else "")))
  if "slopes" in config.extras and pop:
    t_min = config.steps / 10
    s_xi, s_l = _slope(steps, xi1_t, t_min), _slope(steps, _column(rows, "pop_loss"), t_min)
    cmp.append(report.Comparison(f"P7 slope of log xi1 vs log t (t >= {t_min:g})", 1 / 3, s_xi, 0.05, "abs"))
    cmp.append(report.Comparison(f"P7 slope of log L vs log t (t >= {t_min:g})", -1 / 3, s_l, 0.05, "abs"))
    scalars.update(slope_log_xi1=s_xi, slope_log_loss=s_l,
                   loss_times_xi1=float(_column(rows, "pop_loss")[-1] * xi1_t[-1]))
  # Shifted test distributions.
  for name, batch in ctx["tests"].items():
    mse_t = _column(rows, f"shift_mse[{name}]")
    init = [float(v) for v in ctx["shift_stats"](ctx["xi0"], batch)[:2]]
    arrays[f"shift_mse[{name}]"] = np.concatenate([[init[0]], mse_t])
    arrays[f"shift_agree[{name}]"] = np.concatenate([[init[1]], _column(rows, f"shift_agree[{name}]")])
    cmp.append(report.Comparison(f"shift {name}: final / initial MSE vs the 1-NN label", 0.0, mse_t[-1] / init[0],
                                 0.5, "max"))
    violation = float(np.max(_column(rows, f"bound_violation[{name}]")))
    cmp.append(report.Comparison(f"shift {name}: max(|y_hat - y_i*| - P11 bound)", 0.0, violation, 1e-5, "max"))
    scalars[f"shift_final_mse[{name}]"] = float(mse_t[-1])
    scalars[f"shift_final_agreement[{name}]"] = float(arrays[f"shift_agree[{name}]"][-1])
    if name.startswith("appendix_b") and config.init == "paper":
      se = float(np.std(np.asarray(batch["y"])[:, 0] ** 2) / np.sqrt(config.test_prompts))
      cmp.append(report.Comparison(f"P9 shift {name}: MSE at xi1 = 0 (closed form)",
                                   theory.shift_mse_at_zero(config.N, config.sigma), init[0], 4 * se + 1e-3, "abs",
                                   note="tolerance 4 s.e. of the test set"))
  for t, shift, ref in config.shift_references:
    value = by_step[int(t)][f"shift_mse[{shift}]"]
    cmp.append(report.Comparison(f"P9 shift {shift}: MSE at t={t}", ref, value, config.tol_shift_reference, "abs",
                                 note="digest value; tolerance = MC error of the test set"))
  if "sigma_ratio" in config.extras:
    ratio = _sigma_ratio(config, ctx["tau_pop"])
    arrays.update(ratio_t=ratio["t"], ratio=ratio["ratio"], ratio_sigmas=np.array(config.ratio_sigmas))
    for sigma, r in zip(config.ratio_sigmas, ratio["ratio"]):
      scalars[f"max_xi1_over_xi2[sigma={sigma:g}]"] = float(np.max(r))
      scalars[f"final_xi1_over_xi2[sigma={sigma:g}]"] = float(r[-1])
    worst = max(float(np.max(r)) for r in ratio["ratio"])
    notes.append(f"Li et al. Lemma 12 claims xi1 <= (7/15) xi2 = 0.467 xi2 for large sigma; here max xi1/xi2 = "
                 f"{worst:.3f} over sigma in {tuple(config.ratio_sigmas)} (see xi_ratio.png and BUILD_NOTES.md).")
  if "landscape" in config.extras:
    grid = _landscape(config, ctx["tau_pop"])
    arrays.update(grid_xi1=grid["xi1"], grid_xi2=grid["xi2"], grid_loss=grid["loss"])
    for (x1, x2), ref in config.landscape_references:
      value, se = _loss_point(jnp.array([x1, x2]), ctx["tau_pop"])
      cmp.append(report.Comparison(f"P10 L({x1:g}, {x2:g})", ref, value, 4 * se + 1e-3, "abs",
                                   note="tolerance 4 s.e. + digest rounding"))
    for x2, ref in ((3.0, 0.375019), (0.0, 0.380000), (-2.0, 0.427615)):
      value, se = _loss_point(jnp.array([0.0, x2]), ctx["tau_pop"])
      cmp.append(report.Comparison(f"P1 L(0, {x2:g}) vs closed form", theory.loss_at_zero(config.N, x2), value, 1e-5,
                                   "abs"))
    hess = np.asarray(jax.hessian(lambda xi: theory.loss(xi, ctx["tau_pop"]))(jnp.array([0.0, 0.0])))
    scalars["hessian_min_eig_at_0_0"] = float(np.min(np.linalg.eigvalsh(hess)))
    cmp.append(report.Comparison("P10 Hessian min eigenvalue at (0, 0) (nonconvex)", -0.0053,
                                 scalars["hessian_min_eig_at_0_0"], 0.001, "abs", note="digest value"))
  return base.Outcome(claim=CLAIM, comparisons=cmp, scalars=scalars, arrays=arrays, notes=notes)


def _loss_point(xi: jax.Array, tau: jax.Array) -> tuple[float, float]:
  per = np.asarray(theory.per_prompt(xi, tau)["loss"], np.float64)
  return float(per.mean()), float(per.std() / np.sqrt(per.size))


def _sigma_ratio(config: ml_collections.ConfigDict, tau: jax.Array) -> dict[str, np.ndarray]:
  """xi1/xi2 along reduced GD for several sigma, vmapped over the initial xi2 = sigma (one compiled program).

  Uses eta_ratio with steps * eta / eta_ratio steps: the trajectory depends on eta * t only (digest P8)."""
  tau_t = theory.prepare_tau(tau)
  eta = config.ratio_eta
  n_steps = int(round(config.steps * config.eta / eta))
  log_every = max(1, n_steps // 200)
  scale = jnp.array([eta / config.d, eta])

  def run(xi0):
    def chunk(xi, _):
      xi = jax.lax.fori_loop(0, log_every, lambda i, x: x - scale * theory.loss_and_grads_blocks(x, tau_t)[1], xi)
      return xi, xi
    return jax.lax.scan(chunk, xi0, None, length=n_steps // log_every)[1]

  xi0 = jnp.stack([jnp.array([0.0, s], jnp.float32) for s in config.ratio_sigmas])
  traj = np.asarray(jax.jit(jax.vmap(run))(xi0), np.float64)       # (S, T, 2)
  t = (np.arange(traj.shape[1]) + 1) * log_every * eta / config.eta  # in units of eta = config.eta steps
  return {"t": t, "ratio": traj[..., 0] / traj[..., 1]}


def _landscape(config: ml_collections.ConfigDict, tau: jax.Array) -> dict[str, np.ndarray]:
  xi1 = np.linspace(*config.landscape_xi1, config.landscape_points)
  xi2 = np.linspace(*config.landscape_xi2, config.landscape_points)
  grid = jnp.stack(jnp.meshgrid(jnp.asarray(xi1), jnp.asarray(xi2), indexing="ij"), -1).reshape(-1, 2)
  loss = jax.jit(jax.vmap(lambda xi: theory.loss(xi, tau)))(grid.astype(jnp.float32))
  return {"xi1": xi1, "xi2": xi2, "loss": np.asarray(loss, np.float64).reshape(len(xi1), len(xi2))}


def figures(workdir: Path, config: Mapping[str, Any], metrics: Sequence[Mapping[str, Any]],
            summary: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> list[str]:
  fig_dir = Path(workdir) / "figures"
  out = []
  traj_keys = [k for k in ("W_xi1", "W_xi2", "xi1", "xi2", "pop_xi1", "pop_xi2") if k in metrics[0]]
  out.append(plots.curves(fig_dir / "trajectory.png", metrics, traj_keys, title="(xi1, xi2) along GD",
                          ylabel="value", logx=True))
  loss_keys = [k for k in ("loss_W", "loss_xi", "pop_loss") if k in metrics[0]]
  if loss_keys:
    out.append(plots.curves(fig_dir / "loss.png", metrics, loss_keys, title="loss (1/2 MSE vs the 1-NN label)",
                            ylabel="loss", logx=True, logy=True))
  if "q_star" in metrics[0]:
    out.append(plots.curves(fig_dir / "attention.png", metrics, ["q_star", "q_self"],
                            title="attention on the nearest neighbour and on the query itself", ylabel="E[q]",
                            logx=True))
  if "off_family" in metrics[0]:
    out.append(plots.curves(fig_dir / "off_family.png", metrics, ["off_family"],
                            title="norm of W off diag(xi1 I, 0, -xi2)", ylabel="Frobenius norm", logx=True))
  shift_keys = [k for k in metrics[0] if k.startswith("shift_mse[")]
  if shift_keys:
    out.append(plots.curves(fig_dir / "shift_mse.png", metrics, shift_keys,
                            title="test MSE against the 1-NN label, shifted distributions", ylabel="MSE",
                            logx=True, logy=True))
    out.append(plots.curves(fig_dir / "shift_agreement.png", metrics,
                            [k.replace("mse", "agree") for k in shift_keys],
                            title="agreement with the 1-NN label", ylabel="fraction", logx=True))
  if "ratio" in arrays:
    rows = [{"t": float(t), **{f"sigma={s:g}": float(r[i]) for s, r in zip(arrays["ratio_sigmas"], arrays["ratio"])}}
            for i, t in enumerate(arrays["ratio_t"])]
    out.append(plots.curves(fig_dir / "xi_ratio.png", rows, [k for k in rows[0] if k != "t"], x="t",
                            references={"7/15 (Li et al. Lemma 12)": 7 / 15}, title="xi1 / xi2 along reduced GD",
                            ylabel="xi1 / xi2", logx=True))
  if "grid_loss" in arrays:
    out.append(plots.landscape(fig_dir / "landscape.png", arrays["grid_xi1"], arrays["grid_xi2"],
                               arrays["grid_loss"], arrays["xi1_t"], arrays["xi2_t"],
                               title=f"L(xi1, xi2), d = N = {config['d']}, with the GD trajectory"))
  return out


def aggregate(workdir: Path, index: Sequence[Mapping[str, Any]], swept: Sequence[str]) -> Path:
  """Sweep report: population-loss curves for every (N, d, ...) grid point (mean over seeds) and final losses."""
  from icljax import runs  # pylint: disable=import-outside-toplevel
  by = [f for f in swept if f != "seed"]
  curves: dict[str, list[dict[str, float]]] = {}
  lines = ["| " + " | ".join(by) + " | final population loss (mean ± std over seeds) | seeds |",
           "|" + "---|" * (len(by) + 2)]
  for key, group in report.grouped(index, by).items():
    metrics = [runs.read_jsonl(Path(workdir) / r["dir"] / runs.METRICS) for r in group]
    label = ", ".join(f"{f}={v}" for f, v in zip(by, key)) or "all"
    curves[label] = [{"step": rows[0]["step"], label: float(np.mean([m[i]["pop_loss"] for m in metrics]))}
                     for i, rows in enumerate(zip(*metrics))]
    finals = [m[-1]["pop_loss"] for m in metrics]
    lines.append("| " + " | ".join(str(v) for v in key) + f" | {np.mean(finals):.4f} ± {np.std(finals):.2g} | "
                 f"{len(finals)} |")
  merged: dict[float, dict[str, float]] = {}
  for rows in curves.values():
    for r in rows:
      merged.setdefault(r["step"], {"step": r["step"]}).update(r)
  plots.curves(Path(workdir) / "figures" / "loss_curves.png", [merged[k] for k in sorted(merged)], list(curves),
               title="population loss along GD, per grid point (mean over seeds)", ylabel="loss", logx=True,
               logy=True)
  text = ("# Sweep: 1-NN loss curves\n\n![loss curves](figures/loss_curves.png)\n\n" + "\n".join(lines) + "\n")
  runs.atomic_write_text(Path(workdir) / "SWEEP.md", text)
  return Path(workdir) / "SWEEP.md"
