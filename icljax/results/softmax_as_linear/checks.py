"""The evaluation of a softmax-as-linear run: Lemma 2.1 and the concentration of the operator (no training), the
infinite-prompt layer after GD (Thm 5.1's end point and its conserved quantity), the trained finite-L layers
(``finite_checks``) and, under plain GD, the two time scales of finite-L training (Thm 4.3).

Reference: Boursier & Boyer (2025), arXiv 2512.11784.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jax
import numpy as np

from icljax import prng
from icljax.experiment.api import Evaluation
from icljax.experiment.checks import Checker
from icljax.results.softmax_as_linear import concentration, finite_checks, operator, trained
from icljax.results.softmax_as_linear import plan as plan_lib
from icljax.results.softmax_as_linear.setup import SalSetup
from icljax.results.softmax_as_linear.tolerances import TOLERANCES
from icljax.tasks import softmax_as_linear as task
from icljax.theory import softmax_as_linear as theory
from icljax.theory import softmax_as_linear_exact as exact

FAST_PRODUCT = 0.9   # the fast phase ends when the L = inf layer's product first reaches this


def _population_checks(c: Checker, setup: SalSetup, ctx: plan_lib.SalContext, layer: dict[str, Any]) -> dict:
  """GD on R_inf: the stationary point on the final level of ``|A|_F^2 - b^2``, and that level against 0."""
  spec, ref = setup.task, ctx.ref
  A, b = np.asarray(layer["A"], np.float64), float(layer["b"])
  level = float(np.sum(A * A)) - b * b
  a_star, b_star = theory.balanced_endpoint(ref.cov, level)
  err = max(float(np.linalg.norm(A - a_star) / np.linalg.norm(a_star)), abs(b - b_star) / b_star)
  c("population_endpoint", "GD on R_inf: relative error of (A, b) vs Thm 5.1's end point (at the final level)", 0.0,
    float(err))
  init = ctx.init
  risk = lambda p: float(theory.population_risk(p["A"], p["b"], spec.cov, spec.prior_var))
  bound = 2 * setup.population_lr * max(risk(init) - risk(layer), 0.0) + 1e-5
  level0 = float(np.sum(np.asarray(init["A"]) ** 2) - float(init["b"]) ** 2)
  c("population_balance", "GD on R_inf: |A|_F^2 - b^2 at the end vs at the start", level0, level, se=0.0,
    floor=bound)
  a0, b0 = theory.balanced_endpoint(ref.cov)
  return {"population_A_rel_error_vs_balanced": float(np.linalg.norm(A - a0) / np.linalg.norm(a0)),
          "population_b": b, "balanced_b": b0, "population_level": level}


def _dynamics_checks(c: Checker, setup: SalSetup, ctx: plan_lib.SalContext, params: dict[str, Any],
                     rows: Sequence[Mapping[str, float]], fit: trained.LayerFit, sample: Any) -> None:
  """Plain GD from the balanced init: the fast phase tracks the L = inf layer, then t drifts; the finite-L layer
  breaks the balance that the L = inf flow conserves."""
  pop = np.array([r["population_product"] for r in rows])
  if not np.any(pop >= FAST_PRODUCT):
    return
  i = int(np.argmax(pop >= FAST_PRODUCT))
  c("fast_tracking", f"|finite-L - L = inf product| at step {int(rows[i]['step'])} (end of the fast phase)", 0.0,
    abs(rows[i]["softmax_product"] - rows[i]["population_product"]))
  c("slow_drift", "t at the end of the fast phase - t at the end", 0.0, rows[i]["softmax_t"] - fit.values["t"],
    se=fit.se["t"])
  program = jax.jit(lambda p: plan_lib.layer_loss(setup, p, sample, "softmax"))
  loss = lambda p: float(program(p))
  bound = 2 * setup.optimizer.learning_rate * max(loss(ctx.init) - loss(params["softmax"]), 0.0) + 1e-5
  level = plan_lib.summary_of(params["softmax"], ctx.ref.cov)["balance"]
  level0 = plan_lib.summary_of(ctx.init, ctx.ref.cov)["balance"]
  c("finite_balance_control", "finite-L GD: |A|_F^2 - b^2 at the end vs at the start (conserved at L = inf)",
    level0, level, se=0.0, floor=bound)


def evaluate(setup: SalSetup, ctx: plan_lib.SalContext, params: Any, rows: Sequence[Mapping[str, float]]) -> Evaluation:
  """Every check that applies to the run's setting.

  Args:
    setup: the run's specs.
    ctx: the reference, the initial parameters and the evaluation keys.
    params: the trained layers.
    rows: metric rows (the trajectories of the two-time-scale checks).

  Returns:
    The evaluation.

  Reference: Boursier & Boyer (2025), Lemma 2.1, Prop. 3.1, Thm 4.3, Thm 5.1;
  docs page "softmax_as_linear", section "What is checked and why".
  """
  c = Checker(TOLERANCES)
  ref, spec = ctx.ref, setup.task
  k_op, k_conc, k_sand, k_test = jax.random.split(ctx.theory_key, 4)
  scalars: dict[str, Any] = {"t_star": ref.t_star, "kappa": ref.kappa, "k_full": ref.k_full, "F": ref.F,
                             "second_order": ref.second, "exact_finite_L": ref.exact, "exact_limit": ref.limit}
  arrays: dict[str, Any] = {}
  if setup.operator_tokens:
    scalars.update(operator.operator_checks(c, setup, k_op))
  if setup.concentration_lengths and spec.tokens == "gaussian" and not spec.data_bug:
    arrays.update(concentration.concentration_checks(c, setup, k_conc))
  if ref.limit is not None:
    finite_checks.limit_checks(c, setup, ref)
  if "population" in params:
    scalars.update(_population_checks(c, setup, ctx, params["population"]))
  draw = task.sample if setup.estimator == "prompts" else task.sample_inputs
  sample = draw(prng.stream(setup.run.seed, "sample"), spec, setup.train_prompts)
  layers = [k for k in plan_lib.LAYERS if k in params]
  fits = {k: trained.fit_layer(setup, params[k], k, jax.random.fold_in(k_sand, i), ref, sample)
          for i, k in enumerate(layers)}
  test = trained.excess_on_test(setup, params, ctx.eval_key)
  notes = finite_checks.finite_checks(c, setup, ref, params, fits, test)
  if setup.optimizer.optimizer == "sgd" and "population" in params:
    _dynamics_checks(c, setup, ctx, params, rows, fits["softmax"], sample)
  for k, fit in fits.items():
    scalars.update({f"{k}_{n}": v for n, v in fit.values.items()})
    scalars.update({f"{k}_{n}_se": v for n, v in fit.se.items()})
    scalars[f"{k}_allowance"] = fit.allowance
  scalars.update({f"excess_{k}": list(map(float, v)) for k, v in test.items()})
  scalars.update({f"L_excess_{k}": spec.L * float(v[0]) for k, v in test.items()})
  if ref.exact is not None:   # flat numbers for a sweep's index
    scalars.update({f"exact_{k}": v for k, v in ref.exact.items()})
    scalars["exact_L_excess"] = spec.L * ref.exact["excess"]
  for k in params:
    arrays.update({f"{k}_{n}": np.asarray(v) for n, v in params[k].items()})
  arrays["Sigma"] = ref.cov
  if spec.data_bug:
    arrays["Gamma_ctx"] = ref.ctx_cov
  if ref.exact is not None and spec.tokens == "gaussian":
    ts = np.linspace(0.4 * ref.t_star, min(0.49, 4 * ref.exact["t"]), 18)
    ex = [exact.valley(half, spec.L, spec.d, float(np.trace(ref.cov)), float(spec.sigma) ** 2 /
                       float(spec.prior_var), float(spec.prior_var))[0] for half in np.split(ts, 2)]
    arrays.update(valley_t=ts, valley_excess=np.concatenate(ex))
  return Evaluation(checks=c.checks, scalars=scalars, arrays=arrays, notes=notes)
