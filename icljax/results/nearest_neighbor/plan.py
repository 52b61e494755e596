"""Result 2's plan: the systems trained side by side on one clock, and the metrics logged along them.

* ``W``: the full (d+2)x(d+2) matrix, plain GD on estimator (a), the symmetrised fixed sample, or minibatch SGD on
  fresh prompts (estimator (c));
* ``xi``: the reduced system on the *same* prompts with their actual labels (the restriction of full-W GD under
  (a), so the two agree to float rounding);
* ``xi_pop``: the reduced population system, labels integrated, on ``tau_samples`` inner products (estimator (b)).

Optimiser: plain GD, step ``eta`` on W and ``(eta/d, eta)`` on ``(xi1, xi2)`` (Lemma 2, ``model.family_step``).

Reference: Li et al. (2024), Eqs. (2.1)-(2.5) and Lemma 2; docs page "nearest_neighbor", section "Setting".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import optax

from icljax import estimators, optim, prng
from icljax.experiment.api import Plan
from icljax.models import nearest_neighbor as model
from icljax.results.nearest_neighbor.setup import NNSetup
from icljax.tasks import nearest_neighbor as task
from icljax.tasks import nearest_neighbor_shift as shift
from icljax.theory import nearest_neighbor as theory
from icljax.theory import nearest_neighbor_shift as shift_theory


@dataclasses.dataclass(frozen=True)
class NNContext:
  """What evaluation needs: initial xi, the population sample, fresh evaluation inner products, test sets.

  Attributes:
    xi0: the start (xi1, xi2) of the family's systems.
    tau_pop: the population system's sample of inner products (M, N).
    tau_eval: fresh evaluation inner products (B, N).
    tests: shifted test sets by name.

  Reference: docs page "nearest_neighbor", section "Setting".
  """

  xi0: jax.Array
  tau_pop: jax.Array
  tau_eval: jax.Array
  tests: Mapping[str, Mapping[str, jax.Array]]


def half_mse(w: jax.Array, batch: Mapping[str, jax.Array]) -> jax.Array:
  """The full model's loss, 1/2 MSE against the 1-NN label (Eq. 2.5).

  Args:
    w: the (d+2, d+2) matrix W.
    batch: prompts with their 1-NN label ``target``.

  Returns:
    The scalar loss.

  Reference: Li et al. (2024), Eq. (2.5).
  """
  return 0.5 * jnp.mean((model.apply({"W": w}, batch) - batch["target"]) ** 2)


def objective(setup: NNSetup):
  """``(params, key, hparams) -> loss``: the sum of the trained systems' losses (they share no parameter).

  Args:
    setup: the run's specs.

  Returns:
    ``(params, key, hparams) -> loss``.

  Reference: Li et al. (2024), Eq. (2.5); docs page "nearest_neighbor", section "Setting".
  """
  fresh_full = estimators.fresh(half_mse, lambda k, b: task.sample(k, setup.task, b), setup.batch_size)

  def fn(p, key, hp):
    total = jnp.zeros(())
    if "W" in p:
      total += half_mse(p["W"], hp["images"]) if "images" in hp else fresh_full(p["W"], key)
    if "xi" in p:
      total += theory.loss_with_labels(p["xi"], hp["sample"]["tau"], hp["sample"]["y"])
    if "xi_pop" in p:
      total += theory.reduced_loss(p["xi_pop"], hp["tau_blocks"])
    return total

  return fn


_half_mse = jax.jit(half_mse)
_loss_with_labels = jax.jit(theory.loss_with_labels)


@jax.jit
def pop_stats(xi: jax.Array, tau_eval: jax.Array, tau_pop: jax.Array) -> tuple[jax.Array, ...]:
  """Population loss, E[q_i*] and E[q_self] on fresh inner products, and the loss on the GD sample.

  Args:
    xi: the point (xi1, xi2).
    tau_eval: fresh evaluation inner products.
    tau_pop: the GD sample.

  Returns:
    ``(loss, E[q_i*], E[q_self], loss on the GD sample)``.

  Reference: Li et al. (2024), Eq. (2.5) with the labels integrated (docs page "nearest_neighbor", section "Setting").
  """
  pp = theory.per_prompt(xi, tau_eval)
  return pp["loss"].mean(), pp["q_star"].mean(), pp["q_self"].mean(), theory.loss(xi, tau_pop)


def prediction_errors(yhat: jax.Array, batch: Mapping[str, jax.Array]) -> tuple[jax.Array, jax.Array]:
  """Per prompt: ``|y_hat - y_i*|`` and whether the prediction agrees with the 1-NN label (it is closer to it than
  to any other context label).

  Args:
    yhat: predictions (B,).
    batch: prompts with ``y``, ``i_star`` and ``target``.

  Returns:
    ``(|y_hat - y_i*| (B,), agreement (B,) bool)``.

  Reference: Li et al. (2024), Appendix B (the error against the 1-NN label).
  """
  err = jnp.abs(yhat - batch["target"])
  others = jnp.where(jax.nn.one_hot(batch["i_star"], batch["y"].shape[1]) > 0, jnp.inf,
                     jnp.abs(yhat[:, None] - batch["y"]))
  return err, err <= jnp.min(others, -1)


@jax.jit
def shift_stats(xi: jax.Array, batch: Mapping[str, jax.Array], R: jax.Array) -> tuple[jax.Array, ...]:
  """MSE against the 1-NN label, agreement with it, the largest excess over the P11 bound on a test set, and the
  MSE's standard error over the test prompts.

  Args:
    xi: the point (xi1, xi2).
    batch: a shifted test set.
    R: its label bound.

  Returns:
    ``(MSE, agreement, max excess over the P11 bound, MSE's standard error)``.

  Reference: Li et al. (2024), Assumption 3 and Appendix B; docs page "nearest_neighbor", section "What is checked and
    why" (P9, P11).
  """
  q = model.reduced_attention(xi, batch["tau"])[:, :-1]
  err, agree = prediction_errors(jnp.sum(q * batch["y"], -1), batch)
  if batch["tau"].shape[1] >= 2:
    bound = shift_theory.recovery_bound(xi, batch["tau"], R)
  else:
    bound = jnp.full_like(err, jnp.inf)
  n = err.shape[0]
  return jnp.mean(err**2), jnp.mean(agree), jnp.max(err - bound), jnp.std(err**2) / jnp.sqrt(n)


def _params_and_data(setup: NNSetup, xi0: jax.Array, w0: jax.Array) -> tuple[dict, dict, Any]:
  seed = setup.run.seed
  params: dict[str, jax.Array] = {}
  hparams: dict[str, Any] = {}
  sample = None
  if setup.systems in ("both", "full"):
    params["W"] = w0
    if setup.estimator == "symmetrized":
      sample = task.sample(prng.stream(seed, "sample"), setup.task, setup.sample_size)
      hparams["images"] = task.symmetrize(sample)
  if setup.systems == "both" and sample is not None:
    params["xi"] = xi0
    hparams["sample"] = {"tau": sample["tau"], "y": sample["y"]}
  return params, hparams, sample


def _track(setup: NNSetup, ctx: NNContext, hparams: Mapping[str, Any]):
  images = "images" in hparams
  r = jnp.float32(setup.R)

  def track(p):
    row: dict[str, float] = {}
    if "W" in p:
      w = p["W"]
      off = model.off_family(w)
      if images:
        row["loss_W"] = float(_half_mse(w, hparams["images"]))
      xi1, xi2 = model.from_W(w)
      row.update(W_xi1=xi1, W_xi2=xi2, off_family=off["other"], label_column=off["label_column"])
    if "xi" in p:
      s = hparams["sample"]
      row.update(xi1=float(p["xi"][0]), xi2=float(p["xi"][1]),
                 loss_xi=float(_loss_with_labels(p["xi"], s["tau"], s["y"])))
    if "xi_pop" in p:
      loss, q_star, q_self, loss_train = (float(v) for v in pop_stats(p["xi_pop"], ctx.tau_eval, ctx.tau_pop))
      row.update(pop_xi1=float(p["xi_pop"][0]), pop_xi2=float(p["xi_pop"][1]), pop_loss=loss, q_star=q_star,
                 q_self=q_self, pop_loss_train=loss_train)
    xi_eval = p["xi_pop"] if "xi_pop" in p else jnp.array(model.from_W(p["W"]))
    for name, batch in ctx.tests.items():
      mse, agree, violation, se = (float(v) for v in shift_stats(xi_eval, batch, r))
      row.update({f"shift_mse[{name}]": mse, f"shift_agree[{name}]": agree, f"bound_violation[{name}]": violation,
                  f"shift_mse_se[{name}]": se})
    return row

  return track


def plan(setup: NNSetup) -> Plan[NNContext]:
  """The plan of a result-2 run (keys: init, data, eval, theory for the population sample, sample).

  Args:
    setup: the run's specs.

  Returns:
    The plan.

  Reference: docs page "nearest_neighbor", section "Setting".
  """
  seed, d = setup.run.seed, setup.task.d
  w0 = model.init(prng.stream(seed, "init"), setup.model)["W"]
  xi0 = jnp.array(model.from_W(w0), jnp.float32)
  tau_pop = task.sample_tau(prng.stream(seed, "theory"), d, setup.task.N, setup.tau_samples)
  params, hparams, _ = _params_and_data(setup, xi0, w0)
  if setup.systems in ("both", "reduced"):
    params["xi_pop"] = xi0
    hparams["tau_blocks"] = theory.prepare_tau(tau_pop)
  eval_key = prng.stream(seed, "eval")
  tests = {name: shift.sample_shift(jax.random.fold_in(eval_key, i), spec, setup.test_prompts)
           for i, (name, spec) in enumerate(setup.shifts)}
  for batch in tests.values():
    shift.check_assumption3(batch, setup.R)
  # Population quantities are measured on fresh inner products (not the training sample): the late-time loss
  # comes from rare near-ties, whose in-sample estimate at 4000 prompts is ~5% off (the docs page, section "Setting").
  tau_eval = task.sample_tau(jax.random.fold_in(eval_key, 10_000), d, setup.task.N, setup.eval_tau_samples)
  ctx = NNContext(xi0=xi0, tau_pop=tau_pop, tau_eval=tau_eval, tests=tests)
  scales = {k: (model.family_step(1.0, d) if k.startswith("xi") else 1.0) for k in params}
  return Plan(objective=objective(setup), params=params, hparams=hparams,
              optimizer=optax.chain(optax.sgd(setup.eta), optim.scale_by_tree(scales)),
              data_key=prng.stream(seed, "data"), context=ctx, track=_track(setup, ctx, hparams))
