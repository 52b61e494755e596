"""In-context denoising evaluation: the trained linear and softmax attention against the finite-L theory, the Bayes
denoisers against their closed forms, and the paper's claims (App. C.1's eq. (4), Fig. 3's baseline, Fig. 7).

Reference: Smart, Bietti & Sengupta (2025), Props. 1-4, eqs. (4), (10)-(12), Figs. 3 and 7; docs page
"icl_denoising", section "What is checked and why".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from icljax import stats
from icljax.experiment.api import Evaluation
from icljax.experiment.checks import Checker
from icljax.models import icl_denoising as model
from icljax.results.icl_denoising import energy, plan
from icljax.results.icl_denoising.plan import DenoisingContext
from icljax.results.icl_denoising.setup import DenoisingSetup
from icljax.results.icl_denoising.tolerances import TOLERANCES
from icljax.tasks import icl_denoising as task
from icljax.theory import icl_denoising as theory
from icljax.theory import icl_denoising_linear as linear_theory
from icljax.theory import icl_denoising_mc as theory_mc

NAMES = ("bayes", "orth", "extra", "extra_minus_bayes", "linear_minus_bayes", "softmax_minus_bayes",
         "linear_minus_softmax")


def bayes_denoiser(spec: task.DenoisingSpec, batch: dict[str, jax.Array]) -> tuple[jax.Array, jax.Array]:
  """The task's posterior mean and its reference denoiser (subspace: the plain projection ``P x``; sphere: the
  authors' code's baseline; mixture: the zero predictor).

  Args:
    spec: the task.
    batch: prompts with their task (``basis`` or ``centres``).

  Returns:
    ``(posterior mean, reference)``, each (B, n).

  Reference: Smart, Bietti & Sengupta (2025), Props. 2-4 and eq. (4); Fig. 3's case-2 baseline as the authors' code
  computes it.
  """
  q = batch["query"]
  if spec.family == "subspace":
    proj = jnp.einsum("bnd,bd->bn", batch["basis"], jnp.einsum("bnd,bn->bd", batch["basis"], q))
    return theory.subspace_bayes_denoiser(q, batch["basis"], spec.sigma0_sq, spec.sigma_z_sq), proj
  if spec.family == "sphere":
    return (theory.sphere_bayes_denoiser(q, batch["basis"], spec.radius, spec.sigma_z_sq),
            theory.sphere_code_baseline(q, batch["basis"], spec.radius, spec.sigma_z_sq))
  log_w = jnp.full((spec.K,), -jnp.log(float(spec.K)))
  return theory.mixture_bayes_denoiser(q, batch["centres"], log_w, spec.sigma0_sq, spec.sigma_z_sq), jnp.zeros_like(q)


def eval_stats(setup: DenoisingSetup, params: Any, key: jax.Array) -> dict[str, tuple[np.ndarray, np.ndarray]]:
  """Means and standard errors over fresh prompts: every replica's risk (both models), the Bayes denoiser's risk and
  orthogonality, the reference denoiser's risk, and paired differences.

  Args:
    setup: the run's specs.
    params: trained parameters.
    key: the evaluation stream.

  Returns:
    ``name -> (mean, se)`` arrays; ``linear``/``softmax`` are (R,) per replica.

  Reference: Smart, Bietti & Sengupta (2025), Prop. 1 and eq. (9); docs page "icl_denoising", section "What is
  checked and why" (entries bayes_risk, bayes_orthogonality, projection_risk, code_baseline, bayes_floor).
  """
  spec, R = setup.task, setup.replicas

  def stat(p, batch):
    errs = {k: jax.vmap(lambda pr, k=k: model.squared_error(pr, batch, k))(p[k]).T for k in model.KINDS}
    f, ref = bayes_denoiser(spec, batch)
    x = batch["target"]
    bayes, extra = jnp.sum((f - x) ** 2, -1), jnp.sum((ref - x) ** 2, -1)
    lin, soft = errs["linear"].mean(-1), errs["softmax"].mean(-1)
    cols = [bayes, jnp.sum(f * (x - f), -1), extra, extra - bayes, lin - bayes, soft - bayes, lin - soft]
    return jnp.concatenate([errs["linear"], errs["softmax"], jnp.stack(cols, -1)], -1)

  sampler = lambda k, b: task.sample(k, spec, b)
  mean, se = jax.jit(lambda p, k: stats.monte_carlo(lambda b: stat(p, b), sampler, k, setup.eval_prompts))(params,
                                                                                                          key)
  mean, se = np.asarray(mean, np.float64), np.asarray(se, np.float64)
  out = {"linear": (mean[:R], se[:R]), "softmax": (mean[R:2 * R], se[R:2 * R])}
  out.update({name: (mean[2 * R + i], se[2 * R + i]) for i, name in enumerate(NAMES)})
  return out


def _spread(values: np.ndarray, extra_se: float = 0.0, k: float = 4.0) -> float:
  """The standard error to pass with ``dof = R - 1``: the replicas' spread, combined with a reference's own
  (normal) Monte-Carlo standard error scaled so that the tolerance is ``sqrt((t se_R)^2 + (k se_ref)^2)``."""
  dof = len(values) - 1
  return float(np.hypot(stats.mean_se(values)[1], k / stats.t_factor(dof, k) * extra_se))


def _linear_checks(c: Checker, setup: DenoisingSetup, ctx: DenoisingContext, params: Any) -> dict:
  th, n, R = ctx.theory, setup.task.n, setup.replicas
  a, b = (np.asarray(v, np.float64) for v in plan.diag_means(params["linear"]))
  gammas = a * b
  se, gamma = _spread(gammas, th.gamma_star_se), float(np.mean(gammas))
  c("gamma_finite_L", f"linear attention: <diag W_PV><diag W_KQ> vs gamma*_L (mean of {R} replicas)", th.gamma_star,
    gamma, se=se, dof=R - 1)
  tol_lim = stats.t_factor(R - 1, TOLERANCES["gamma_limit"].value) * se
  if th.gamma_limit is not None and abs(th.gamma_star - th.gamma_limit) > 2 * tol_lim:
    c("gamma_limit", "negative control: the same gamma vs its L -> infinity value", th.gamma_limit, gamma, se=se,
      dof=R - 1)
  delta = np.asarray(plan.norm_difference(params["linear"]), np.float64)
  path = np.asarray(params["path"], np.float64)
  scale = np.asarray(jnp.sum(params["linear"]["W_PV"] ** 2 + params["linear"]["W_KQ"] ** 2, (-2, -1)), np.float64)
  c("norms_conserved", "||W_PV||^2 - ||W_KQ||^2: drift minus the steps' exact term, over ||W_PV||^2 + ||W_KQ||^2 "
    "(worst replica)", 0.0, float(np.max(np.abs(delta - ctx.delta0 - path) / scale)))
  end = ctx.delta0 + path   # the conserved quantity with plain GD's discrete steps
  pred = np.array([linear_theory.balanced_weights(e, n, th.gamma_star) for e in end])
  off = _off_identity_energy(params["linear"])
  shift = np.abs(np.array([linear_theory.balanced_weights(e + o, n, th.gamma_star) for e, o in zip(end, off)]) - pred)
  for i, (name, measured) in enumerate((("W_PV", a), ("W_KQ", b))):
    c("balanced", f"linear attention: |<diag {name}>| vs the balanced end point (mean of {R})",
      float(np.mean(pred[:, i])), float(np.mean(np.abs(measured))), se=_spread(np.abs(measured) - pred[:, i]),
      dof=R - 1, floor=float(np.mean(shift[:, i])))
  return {"gamma_replicas": gammas, "alpha_linear": a, "beta_linear": b, "alpha_balanced": pred[:, 0],
          "beta_balanced": pred[:, 1], "delta_drift": delta - ctx.delta0, "delta_path": path}


def off_identity_fraction(p: dict[str, jax.Array]) -> np.ndarray:
  """``||W - <diag W> I||_F / ||W||_F`` of both matrices of every replica, (R, 2).

  Args:
    p: one denoiser's stacked parameters (R, n, n).

  Returns:
    The fractions (``W_PV``, ``W_KQ``).

  Reference: Smart, Bietti & Sengupta (2025), Fig. 3(b); docs page "icl_denoising", entry scaled_identity.
  """
  def frac(w):
    w = np.asarray(w, np.float64)
    mean = np.trace(w, axis1=-2, axis2=-1) / w.shape[-1]
    return np.linalg.norm(w - mean[:, None, None] * np.eye(w.shape[-1]), axis=(-2, -1)) / np.linalg.norm(
        w, axis=(-2, -1))
  return np.stack([frac(p["W_PV"]), frac(p["W_KQ"])], -1)


def _scaled_identity_claims(c: Checker, params: Any) -> dict:
  out = {}
  for kind in model.KINDS:
    frac = off_identity_fraction(params[kind])
    c("scaled_identity", f"{kind} attention: ||W - <diag W> I|| / ||W|| (worst matrix, mean of replicas)", 0.0,
      float(np.max(frac.mean(0))))
    out[f"off_identity_{kind}"] = frac
  return out


def _off_identity_energy(p: dict[str, jax.Array]) -> np.ndarray:
  """``| ||W_PV - <diag> I||^2 - ||W_KQ - <diag> I||^2 |`` per replica: the part of the conserved difference the
  scalar end point does not carry."""
  def off(w):
    w = np.asarray(w, np.float64)
    eye = np.eye(w.shape[-1])
    mean = np.trace(w, axis1=-2, axis2=-1) / w.shape[-1]
    return np.sum((w - mean[:, None, None] * eye) ** 2, (-2, -1))
  return np.abs(off(p["W_PV"]) - off(p["W_KQ"]))


def _softmax_checks(c: Checker, setup: DenoisingSetup, ctx: DenoisingContext, params: Any) -> dict:
  t, R = setup.task, setup.replicas
  alphas, betas = (np.asarray(v, np.float64) for v in plan.diag_means(params["softmax"]))
  top = max(float(np.max(np.abs(betas))), 1.0 / t.sigma_z_sq)
  grid = np.geomspace(max(float(np.min(np.abs(betas))) / 4, 1e-2), 2 * top, 14)
  valley = theory_mc.valley(jax.random.fold_in(ctx.theory_key, 1), t.family, t.L, t.support_dim, t.sigma0_sq,
                            t.sigma_z_sq, t.radius, t.K, np.concatenate([betas, grid]), prompts=setup.theory_prompts)
  star, star_se = valley.alpha_star(), valley.alpha_se()
  gap = np.sign(star[:R]) * (alphas - star[:R])   # the sign-flipped pair (-alpha, -beta) has the mirrored valley
  c("softmax_valley", f"softmax attention: sign(alpha*) (<diag W_PV> - alpha*(<diag W_KQ>)) (mean of {R} replicas)",
    0.0,
    float(np.mean(gap)), se=_spread(gap, float(np.mean(star_se[:R]))), dof=R - 1)
  return {"alpha_softmax": alphas, "beta_softmax": betas, "valley_alpha_replicas": star[:R], "valley_beta": grid,
          "valley_alpha": star[R:], "valley_alpha_se": star_se[R:], "valley_risk": valley.risk(star)[R:],
          "valley_risk_se": valley.risk_se(star)[R:]}


def _bayes_checks(c: Checker, setup: DenoisingSetup, ctx: DenoisingContext, ev: dict) -> None:
  t, th = setup.task, ctx.theory
  if th.bayes_risk is not None:
    c("bayes_risk", f"posterior-mean risk on {setup.eval_prompts} fresh prompts vs "
      + ("Prop. 2's closed form" if t.family == "subspace" else "Prop. 3 by quadrature"), th.bayes_risk,
      ev["bayes"][0], se=ev["bayes"][1])
  c("bayes_orthogonality", "E<f(x), X - f(x)> of the posterior mean (Prop. 1)", 0.0, ev["orth"][0], se=ev["orth"][1])
  extra, extra_se = ev["extra"]
  if t.family == "subspace":
    c("projection_risk", "risk of the plain projection P x vs d sigma_z^2", theory.projection_risk(t.d, t.sigma_z_sq),
      extra, se=extra_se)
    c("eq4_printed", "eq. (4): risk of P x vs its printed value", theory.subspace_bayes_risk(t.d, t.sigma0_sq,
                                                                                             t.sigma_z_sq),
      extra, se=extra_se)
  if t.family == "sphere" and t.d != 2:
    c("code_baseline", "Fig. 3 case-2 'Bayes' line (the authors' Bessel orders) minus the Bayes risk, paired", 0.0,
      ev["extra_minus_bayes"][0], se=ev["extra_minus_bayes"][1])
  for kind in model.KINDS:
    diff, dse = ev[f"{kind}_minus_bayes"]
    c("bayes_floor", f"{kind} attention's risk minus the Bayes risk, paired, in s.e.", 0.0, diff / dse)
  if t.family == "mixture":
    diff, dse = ev["linear_minus_softmax"]
    c("softmax_beats_linear", "linear minus softmax attention's risk, paired, in s.e.", 0.0, diff / dse)


def evaluate(setup: DenoisingSetup, ctx: DenoisingContext, params: Any,
             rows: Sequence[Mapping[str, float]]) -> Evaluation:
  """Checks of a trained denoising run: the trained parameters against the finite-L theory, the Bayes denoisers,
  the energy identities and the paper's claims.

  Args:
    setup: the run's specs.
    ctx: the theory, the fixed samples and the keys.
    params: trained parameters (both denoisers, every replica).
    rows: metric rows (unused).

  Returns:
    The evaluation.

  Reference: docs page "icl_denoising", section "What is checked and why".
  """
  del rows
  c = Checker(TOLERANCES)
  arrays = _linear_checks(c, setup, ctx, params)
  arrays.update(_softmax_checks(c, setup, ctx, params))
  arrays.update(_scaled_identity_claims(c, params))
  ev = eval_stats(setup, params, ctx.eval_key)
  _bayes_checks(c, setup, ctx, ev)
  arrays.update(energy.checks(c, setup, ctx, params))
  th = ctx.theory
  arrays.update({f"{k}_{w}": np.asarray(params[k][w][0]) for k in model.KINDS for w in ("W_PV", "W_KQ")})
  arrays.update(risk_linear=ev["linear"][0], risk_softmax=ev["softmax"][0])
  scalars = {"task": setup.task.family, "theory_source": th.source, "gamma_star": th.gamma_star,
             "gamma_star_se": th.gamma_star_se, "gamma_limit": th.gamma_limit,
             "gamma_trained": float(np.mean(arrays["gamma_replicas"])), "bayes_risk": th.bayes_risk,
             "bayes_risk_mc": ev["bayes"][0], "reference_risk_mc": ev["extra"][0],
             "risk_linear": float(np.mean(ev["linear"][0])), "risk_softmax": float(np.mean(ev["softmax"][0])),
             "alpha_softmax": float(np.mean(np.abs(arrays["alpha_softmax"]))),
             "beta_softmax": float(np.mean(np.abs(arrays["beta_softmax"]))),
             "norms_path_max": float(np.max(np.abs(arrays["delta_path"])))}
  notes = [f"theory: {th.source}; {setup.replicas} replicas, {setup.batch_size} fresh prompts per replica and step; "
           f"linear attention by plain GD (lr {setup.linear_lr}), softmax attention by Adam (lr {setup.softmax_lr}), "
           f"both decayed to {setup.final_lr_fraction:g} of their rate."]
  return Evaluation(checks=c.checks, scalars=scalars, arrays=arrays, notes=notes)
