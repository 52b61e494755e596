"""The multi-layer evaluation: Lemma 1 at the trained parameters, the loss of the best L-step PGD, the whitened
isotropic structure, and the learned step sizes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from icljax import stats
from icljax.experiment.api import Evaluation
from icljax.experiment.checks import Checker
from icljax.models import multilayer_lsa as model
from icljax.results.lsa_multilayer.plan import MultilayerContext, layers
from icljax.results.lsa_multilayer.setup import MultilayerSetup
from icljax.results.lsa_multilayer.tolerances import TOLERANCES
from icljax.tasks import regression
from icljax.theory import multistep_gd as theory

Rows = Sequence[Mapping[str, float]]


def evaluate(setup: MultilayerSetup, ctx: MultilayerContext, params: Any, rows: Rows) -> Evaluation:
  """Checks of a trained multi-layer run.

  Args:
    setup: the run's specs.
    ctx: the theory optimum and the evaluation key.
    params: trained ``A`` (L, d, d).
    rows: the metric rows.

  Returns:
    The evaluation.
  """
  spec, task = setup.model, setup.task
  c = Checker(TOLERANCES)
  probe = regression.sample(jax.random.fold_in(ctx.eval_key, 1), task, 4096)
  pred = model.apply(params, probe, spec)
  gap = float(jnp.max(jnp.abs(pred - theory.pgd_predict(params["A"], probe))) / max(1.0, float(jnp.max(jnp.abs(
      pred)))))
  c("lemma1", f"Lemma 1: |L-layer forward - {spec.L}-step PGD| / max(1, |y_hat|)", 0.0, gap)
  sq_err = jax.jit(lambda b: (model.apply(params, b, spec) - b["y_query"]) ** 2)
  mse, mse_se = (float(v) for v in stats.monte_carlo(sq_err, lambda k, b: regression.sample(k, task, b), ctx.eval_key,
                                                     setup.eval_prompts))
  c("loss_vs_pgd", f"eval MSE vs the best {spec.L}-step PGD", ctx.loss_star, mse, se=mse_se)
  wa, steps, dists = layers(params["A"], ctx.cov)
  for layer, dist in enumerate(dists):
    c("whitened_isotropic", f"Dist(S^1/2 A_{layer} S^1/2, I)", 0.0, float(dist))
  with jax.enable_x64(True):
    f_trained = float(theory.pgd_loss(jnp.asarray(steps), jnp.asarray(theory.trace_moments(spec.d, spec.n,
                                                                                            2 * spec.L))))
  c("steps_excess", "f(trained steps) - f(a*) (exact PGD loss of the learned steps)", 0.0,
    f_trained - ctx.loss_star, se=mse_se)
  if spec.L > 1:
    c("beats_constant", f"eval MSE - best constant-step {spec.L}-step PGD loss", 0.0, mse - ctx.loss_constant,
      se=mse_se)
  scalars = {"setting": f"d={spec.d}, n={spec.n}, L={spec.L}, inverse-covariance prior, noiseless",
             "eval_mse": mse, "eval_mse_se": mse_se, "loss_star": ctx.loss_star, "loss_constant": ctx.loss_constant,
             "a_constant": ctx.a_constant, "pgd_loss_of_trained_steps": f_trained,
             **{f"a_star_{layer}": float(a) for layer, a in enumerate(ctx.a_star)},
             **{f"a_trained_sorted_{layer}": float(a) for layer, a in enumerate(np.sort(steps))}}
  notes = [f"learned whitened steps (layer order) {np.round(steps, 4).tolist()}; theory (any order) "
           f"{np.round(ctx.a_star, 4).tolist()}: Theorem 3's loss depends on the multiset of steps only."]
  arrays = {"A": np.asarray(params["A"]), "whitened_A": wa, "a_trained": steps, "a_star": ctx.a_star,
            "step": np.array([r["step"] for r in rows]), "loss_t": np.array([r["loss"] for r in rows])}
  return Evaluation(checks=c.checks, scalars=scalars, arrays=arrays, notes=notes)
