"""The chain-of-thought evaluation: the construction and the literal forward pass (identities); the generated chain
against the GD iterates it was trained on (fit); the learned weights against Theorem 3.2's construction, the
generated chain's errors against the exact and the NumPy Monte-Carlo values of E tr(I - eta S)^{2k}, in and out of
distribution (Theorem 4.2), and the model without chain of thought against Theorem 3.1 (theory); the paper's
recovery statement and the CoT / no-CoT contrast (claims).

The GD iterates (``theory.gd_iterates``) are the training targets, so the chain's distance to them is a fit: a wrong
step in them would be learned and fitted. Every theory reference here shares no code with them: the construction's
weights are closed forms in eta, and the iterate errors come from Wishart moments or from eigenvalues of S drawn in
NumPy with their own seeds.

Reference: Huang, Wang, Lee (2025), arXiv 2502.21212, Theorems 3.1, 3.2 and 4.2 and Fig. 2; the derivation and the
tolerance of every check: docs page "lsa_chain_of_thought", section "What is checked and why".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from icljax import stats
from icljax._pytree import filter_jit
from icljax.experiment.api import Evaluation
from icljax.experiment.checks import Checker
from icljax.models import lsa_chain_of_thought as model
from icljax.results.lsa_chain_of_thought.plan import CotContext, weight_errors
from icljax.results.lsa_chain_of_thought.setup import UNSTABLE_SCALE, CotSetup
from icljax.results.lsa_chain_of_thought.tolerances import TOLERANCES
from icljax.tasks import regression
from icljax.theory import lsa_chain_of_thought as theory

Rows = Sequence[Mapping[str, float]]

ROWS = (5, 10, 15, 20)   # generated steps whose mean error is checked against the Monte Carlo (k > 3: no exact form)
UNSTABLE_SHARE = 0.05    # a row is checked only if draws with eta lambda_max >= 2 carry at most this share of its mean
RECOVERY_STEP = 10       # "near-exact recovery ... even when k = 10" (Huang et al., Fig. 2)
COLUMNS = ("e_hat", "e_gd", "diff", "step")   # per-prompt statistics per generated step k = 1..K


def per_prompt(params: dict, batch: dict[str, jax.Array], setup: CotSetup) -> jax.Array:
  """Per prompt and step: ``|w_hat_k - w*|^2``, ``|w_k - w*|^2``, ``|w_hat_k - w_k|^2``, ``|w_k - w_{k-1}|^2``
  (k = 1..K), then the no-CoT error ``|w_hat - w*|^2``, ``no-CoT error - |w_hat_k - w*|^2`` at k = cot_steps, and
  whether the generated chain ended further from w* than it started (``|w_hat_K - w*|^2 > |w*|^2``).

  Args:
    params: ``{'cot': ..., 'no_cot': ...}``, each the model's parameters.
    batch: prompts with ``w`` (``regression.sample(..., weights=True)``).
    setup: the run's specs (K = ``setup.eval_steps``).

  Returns:
    (B, 4K + 3).

  Reference: Huang et al. (2025) section 3 (the evaluation loss |w_hat_k - w*|^2 of the autoregressive chain);
  docs page "lsa_chain_of_thought", section "What is checked and why".
  """
  spec, big_k = setup.model, setup.eval_steps
  w = batch["w"][:, None]
  gen = model.w_slot(model.generate(params["cot"], batch, big_k, spec), spec)
  gd = theory.gd_iterates(batch, setup.eta, big_k)
  sq = lambda a: jnp.sum(a**2, axis=-1)
  e_hat = sq(gen - w)
  no_cot = sq(model.w_slot(model.generate(params["no_cot"], batch, 1, spec), spec)[:, 0] - batch["w"])
  return jnp.concatenate([e_hat, sq(gd[:, 1:] - w), sq(gen - gd[:, 1:]), sq(gd[:, 1:] - gd[:, :-1]),
                          no_cot[:, None], (no_cot - e_hat[:, setup.cot_steps - 1])[:, None],
                          (e_hat[:, -1] > sq(batch["w"])).astype(e_hat.dtype)[:, None]], axis=1)


def _static(setup: CotSetup) -> CotSetup:
  """The setup without its prompt distributions (arrays): hashable, a static argument of the programs below."""
  return dataclasses.replace(setup, task=None,  # type: ignore[arg-type]  # a static copy: its tasks are never read
                             ood_task=None, unstable_task=None)


# Parameters and prompt distributions are arguments of these programs, never constants: evaluations at other
# parameters (mutation tests, several runs of one shape) reuse the compiled program.
_per_prompt = filter_jit(per_prompt)


@filter_jit
def _mc_per_prompt(params: dict, task: regression.RegressionSpec, key: jax.Array, setup: CotSetup,
                   prompts: int) -> tuple[jax.Array, jax.Array]:
  """Mean and standard error of :func:`per_prompt` over ``prompts`` fresh prompts of ``task``."""
  return stats.monte_carlo(lambda b: per_prompt(params, b, setup),
                           lambda k, b: regression.sample(k, task, b, weights=True), key, prompts)


def _moments(params: dict, setup: CotSetup, task: regression.RegressionSpec, key: jax.Array):
  """Means and standard errors of :func:`per_prompt` over the eval prompts, split into named columns."""
  big_k = setup.eval_steps
  mean, se = (np.asarray(a, np.float64) for a in _mc_per_prompt(params, task, key, _static(setup), setup.eval_prompts))
  split = lambda a: {**{c: a[i * big_k:(i + 1) * big_k] for i, c in enumerate(COLUMNS)}, "no_cot": a[-3],
                     "gap": a[-2], "grows": a[-1]}
  return split(mean), split(se)


def _chain_gap(gen: jax.Array, ref: jax.Array) -> float:
  """max |gen - ref| / max(1, max |ref|) over a batch of chains."""
  return float(jnp.max(jnp.abs(gen - ref)) / max(1.0, float(jnp.max(jnp.abs(ref)))))


def _identities(c: Checker, setup: CotSetup, ctx: CotContext, params: Any) -> None:
  """Theorem 3.2's construction against GD, and the cached generation against the literal equation (identities)."""
  spec, eta, big_k = setup.model, setup.eta, setup.eval_steps
  probe = regression.sample(jax.random.fold_in(ctx.eval_key, 1), setup.task, 64, weights=True)
  v_c, w_c = theory.construction(spec.d, eta)
  built = model.w_slot(model.generate({"V": jnp.asarray(v_c, jnp.float32), "W": jnp.asarray(w_c, jnp.float32)},
                                      probe, big_k, model.CotSpec(spec.d, spec.n, "dense")), spec)
  c("construction", f"Thm 3.2: chain of V_31 = -eta I, W_13 = I, W_24 = -1 vs {big_k} GD steps (max rel. diff.)",
    0.0, _chain_gap(built, theory.gd_iterates(probe, eta, big_k)[:, 1:]))
  c("literal", "cached generation vs the literal f(Z) on the token matrix, trained weights (max rel. diff.)", 0.0,
    _chain_gap(model.generate(params["cot"], probe, big_k, spec), model.literal(params["cot"], probe, big_k, spec)))


def _weights(c: Checker, setup: CotSetup, ctx: CotContext, params: Any, notes: list[str]) -> dict[str, float]:
  """Theorems 3.1-3.2: the learned blocks (sparse: V_31, W_13 and the no-CoT V_31; dense: the identifiable
  products) against the construction's closed forms."""
  spec = setup.model
  errors = weight_errors(params, setup, ctx.no_cot_step)
  if spec.parameterization == "sparse":
    c("cot_weights", "Thm 3.2: |V_31 + eta I| / |eta I|", 0.0, errors["V31_err"])
    c("cot_weights", "Thm 3.2: |W_13 - I| / |I|", 0.0, errors["W13_err"])
    c("no_cot_step", "Thm 3.1: no CoT, |-V_31 - n/(n+d+1) I| / |n/(n+d+1) I|", 0.0, errors["no_cot_V31_err"])
    return errors
  c("cot_weights", "Thm 3.2 (dense): |V_31 W_13 + eta I| / |eta I|", 0.0, errors["V31W13_err"])
  c("cot_weights", "Thm 3.2 (dense): |V_31 W_24 - eta I| / |eta I|", 0.0, errors["V31W24_err"])
  v, w = (np.asarray(a) for a in model.full(params["cot"], spec))
  off = theory.off_block_norms(v, w, spec.d)
  notes.append(f"dense: |V outside V_31| / |V_31| = {off['V_off_rel']:.2e}; |W outside W_13, W_24| / |W_13| = "
               f"{off['W_off_rel']:.2f}. W's x- and y-slot columns meet only zero entries of the chain columns, so "
               "they receive no gradient and keep their N(0, s^2) initialisation: the paper's heat-map ('all other "
               "entries converge to zero') is what a small initialisation shows, not a property of the optimum.")
  return {**errors, **off}


def _rows(c: Checker, entry: str, label: str, mean: dict, se: dict, ref: tuple, setup: CotSetup,
          notes: list[str]) -> None:
  """Mean generated errors at the steps of :data:`ROWS` against the NumPy Monte-Carlo reference (independent
  samples: the error bar combines both standard errors); rows where unstable draws carry more than
  :data:`UNSTABLE_SHARE` of the reference's mean are skipped with a note (heavy tails: no reliable error bar)."""
  ref_mean, ref_se, share = ref
  for k in (k for k in ROWS if k <= setup.eval_steps):
    if share[k - 1] > UNSTABLE_SHARE:
      notes.append(f"{label}row k = {k} not checked: draws with eta lambda_max(S) >= 2 carry {share[k - 1]:.0%} of "
                   f"E tr(I - eta S)^{2 * k} = {ref_mean[k - 1]:.4g} (heavy-tailed, no reliable error bar).")
      continue
    c(entry, f"{label}E|w_hat_{k} - w*|^2 vs E tr(I - eta S)^{2 * k} (NumPy Monte Carlo)", ref_mean[k - 1],
      mean["e_hat"][k - 1], se=float(np.hypot(se["e_hat"][k - 1], ref_se[k - 1])))


def _chain(c: Checker, setup: CotSetup, ctx: CotContext, mean: dict, se: dict, notes: list[str]) -> np.ndarray:
  """The generated chain against its training targets (fit), the exact k <= 3 errors and the Monte-Carlo rows,
  no CoT and the two claims; returns the per-step ratio rms|w_hat_i - w_i| / rms|w_i - w_(i-1)|."""
  d, k_cot, big_k = setup.model.d, setup.cot_steps, setup.eval_steps
  ratio = np.sqrt(mean["diff"] / mean["step"])
  c("tracks_gd", f"max over i <= {k_cot}: rms|w_hat_i - w_i| / rms|w_i - w_(i-1)| (its training targets)", 0.0,
    float(ratio[:k_cot].max()))
  for k, exact in enumerate(ctx.gd_exact[1:], start=1):
    c("gd_exact", f"E|w_hat_{k} - w*|^2 vs exact E tr(I - eta S)^{2 * k}", exact, mean["e_hat"][k - 1],
      se=se["e_hat"][k - 1])
  _rows(c, "iterate_errors", "", mean, se, ctx.iterates, setup, notes)
  c("no_cot_error", "no CoT: E|w_hat - w*|^2 vs d(d+1)/(n+d+1)", ctx.no_cot_error, mean["no_cot"], se=se["no_cot"])
  c("cot_beats_no_cot", f"E|w_hat - w*|^2 without CoT - with {k_cot} CoT steps", 0.0, mean["gap"], se=se["gap"])
  if big_k >= RECOVERY_STEP:
    c("recovery", f"E|w_hat_{RECOVERY_STEP} - w*|^2 / E|w*|^2", 0.0, mean["e_hat"][RECOVERY_STEP - 1] / d)
  else:
    notes.append(f"recovery at k = {RECOVERY_STEP} not checked: eval_steps = {big_k}.")
  return ratio


def _ood(c: Checker, setup: CotSetup, ctx: CotContext, params: Any, notes: list[str]) -> tuple[dict, dict]:
  """Theorem 4.2: on x ~ N(0, Sigma_ood) prompts the generated chain is still GD with step eta (fit) and its errors
  are GD's (theory); at x ~ N(0, 2 I), outside the theorem's range, it diverges as often as GD does (theory)."""
  if setup.ood_task is None:
    return {}, {}
  # planned with the out-of-distribution task: its unstable task and both references are there
  assert setup.unstable_task is not None and ctx.ood_iterates is not None and ctx.unstable is not None
  k_cot, big_k = setup.cot_steps, setup.eval_steps
  mean, se = _moments(params, setup, setup.ood_task, jax.random.fold_in(ctx.eval_key, 3))
  ratio = np.sqrt(mean["diff"] / mean["step"])
  c("ood_tracks_gd", f"x ~ N(0, Sigma_ood): max over i <= {k_cot} of rms|w_hat_i - w_i| / rms|w_i - w_(i-1)|",
    0.0, float(ratio[:k_cot].max()))
  _rows(c, "ood_errors", "x ~ N(0, Sigma_ood): ", mean, se, ctx.ood_iterates, setup, notes)
  unstable, unstable_se = _moments(params, setup, setup.unstable_task, jax.random.fold_in(ctx.eval_key, 4))
  ref, ref_se = ctx.unstable
  c("ood_unstable", f"x ~ N(0, {UNSTABLE_SCALE:g} I): P(|w_hat_{big_k} - w*|^2 > |w*|^2) vs GD's (NumPy Monte "
    "Carlo)", ref, unstable["grows"], se=float(np.hypot(unstable_se["grows"], ref_se)))
  eigenvalues = np.round(np.linalg.eigvalsh(np.asarray(setup.ood_task.cov)), 4).tolist()
  notes.append(f"out of distribution (Sigma eigenvalues {eigenvalues}): E|w_hat_{big_k} - w*|^2 = "
               f"{mean['e_hat'][-1]:.4f} ± {se['e_hat'][-1]:.4f} (GD on the same prompts {mean['e_gd'][-1]:.4f}, "
               f"Monte Carlo {ctx.ood_iterates[0][-1]:.4f}); the learned map is GD, so it converges only as fast as "
               f"GD does along the smallest eigenvalue. At x ~ N(0, {UNSTABLE_SCALE:g} I) {unstable['grows']:.1%} "
               f"of the generated chains end further from w* than they start (GD: {ref:.1%}).")
  return ({"ood_e_hat": mean["e_hat"], "ood_e_gd": mean["e_gd"], "ood_track_ratio": ratio,
           "ood_ref": ctx.ood_iterates[0]},
          {"ood_err_cot_last": float(mean["e_hat"][-1]), "ood_err_gd_last": float(mean["e_gd"][-1]),
           "unstable_fraction": float(unstable["grows"]), "unstable_fraction_gd": ref})


def evaluate(setup: CotSetup, ctx: CotContext, params: Any, rows: Rows) -> Evaluation:
  """Checks of a trained chain-of-thought run.

  Args:
    setup: the run's specs.
    ctx: theory values and the evaluation key.
    params: ``{'cot': ..., 'no_cot': ...}`` trained.
    rows: the metric rows.

  Returns:
    The evaluation.

  Reference: Huang et al. (2025) Theorems 3.1, 3.2, 4.2 and Fig. 2; docs page "lsa_chain_of_thought", section
  "What is checked and why".
  """
  spec, k_cot, big_k = setup.model, setup.cot_steps, setup.eval_steps
  c = Checker(TOLERANCES)
  notes: list[str] = []
  _identities(c, setup, ctx, params)
  errors = _weights(c, setup, ctx, params, notes)
  mean, se = _moments(params, setup, setup.task, ctx.eval_key)
  ratio = _chain(c, setup, ctx, mean, se, notes)
  ood_arrays, ood_scalars = _ood(c, setup, ctx, params, notes)
  medians = np.median(np.asarray(_per_prompt(params, regression.sample(
      jax.random.fold_in(ctx.eval_key, 2), setup.task, min(setup.eval_prompts, 10_000), weights=True),
      _static(setup)))[:, :big_k], axis=0)
  scalars = {
      "setting": f"d={spec.d}, n={spec.n}, eta={setup.eta:g}, k={k_cot} (teacher-forced), {big_k} generated, "
                 f"{spec.parameterization}",
      "no_cot_error": ctx.no_cot_error, "no_cot_error_measured": float(mean["no_cot"]),
      "no_cot_step": ctx.no_cot_step, "err_cot_k": float(mean["e_hat"][k_cot - 1]),
      "err_gd_k": float(mean["e_gd"][k_cot - 1]), "err_cot_last": float(mean["e_hat"][-1]),
      "err_gd_last": float(mean["e_gd"][-1]), "median_err_cot_last": float(medians[-1]), **errors, **ood_scalars}
  notes.append(f"generated error E|w_hat_k - w*|^2 at k = 1, {k_cot}, {big_k}: {mean['e_hat'][0]:.4f}, "
               f"{mean['e_hat'][k_cot - 1]:.4f}, {mean['e_hat'][-1]:.5f} (median {medians[-1]:.5f}); GD "
               f"{mean['e_gd'][0]:.4f}, {mean['e_gd'][k_cot - 1]:.4f}, {mean['e_gd'][-1]:.5f}; without CoT "
               f"{mean['no_cot']:.4f} (theory {ctx.no_cot_error:.4f}).")
  arrays = {"e_hat": mean["e_hat"], "e_hat_se": se["e_hat"], "e_gd": mean["e_gd"], "median_e_hat": medians,
            "gd_exact": np.asarray(ctx.gd_exact), "track_ratio": ratio, "ref_e": ctx.iterates[0],
            **{f"cot_{name}": np.asarray(a) for name, a in zip("VW", model.full(params["cot"], spec))},
            **{f"no_cot_{name}": np.asarray(a) for name, a in zip("VW", model.full(params["no_cot"], spec))},
            **ood_arrays, "step": np.array([r["step"] for r in rows]), "loss_t": np.array([r["loss"] for r in rows])}
  return Evaluation(checks=c.checks, scalars=scalars, arrays=arrays, notes=notes)
