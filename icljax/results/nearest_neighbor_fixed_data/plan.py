"""The Fig. 3 plan: R independent chains on one clock, each a full-W SGD run on its own fixed data set beside the
reduced population system from the chain's projected start.

* ``W`` (R, D, D): chain r starts at W_0 + N(0, init_scale^2) noise (key ``fold_in(init, r)``) and takes minibatch
  SGD steps of ``batch_size`` prompts drawn with replacement from its data set of ``dataset_size`` prompts (key
  ``fold_in(sample, r)``);
* ``xi_pop`` (R, 2): the reduced population system (labels integrated, steps ``(eta/d, eta)``) from chain r's
  projection ``(tr W_xx / d, -W_ind,ind)`` at t = 0, on its own sample of inner products (key ``fold_in(theory, r)``).

Each chain's gap (its projection minus its population system) carries the chain's data-set, SGD and population-sample
noise, independently across chains: their spread is the error bar of the mean gap.

Reference: Li et al. (2024), Sec. 5 (Fig. 3) and Lemma 2; docs page "nearest_neighbor_fixed_data", section "Setting".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from icljax import estimators, optim, prng, stats
from icljax.experiment.api import Plan
from icljax.models import nearest_neighbor as model
from icljax.results.nearest_neighbor import references
from icljax.results.nearest_neighbor.plan import half_mse, prediction_errors, shift_stats
from icljax.results.nearest_neighbor_fixed_data.setup import FixedDataSetup
from icljax.tasks import nearest_neighbor as task
from icljax.tasks import nearest_neighbor_shift as shift
from icljax.theory import nearest_neighbor as theory


@dataclasses.dataclass(frozen=True)
class FixedDataContext:
  """What evaluation needs: the chains' starts, their data sets, the population systems' samples, fresh inner
  products, the shifted test set and its label bound.

  Attributes:
    w0: the chains' initial W (R, D, D).
    xi0: their projections at t = 0, the population systems' starts (R, 2).
    data: each chain's fixed data set (``x``, ``y``, ``x_query``, ``target``; chains on axis 0).
    tau_blocks: each population system's inner products, sorted and blocked (``theory.prepare_tau``).
    tau_eval: fresh inner products on which the population systems' loss is read.
    test: the shifted test set (Appendix B's construction by default).
    R: the test labels' bound (Assumption 3).

  Reference: docs page "nearest_neighbor_fixed_data", section "Setting".
  """

  w0: jax.Array
  xi0: jax.Array
  data: Mapping[str, jax.Array]
  tau_blocks: jax.Array
  tau_eval: jax.Array
  test: Mapping[str, jax.Array]
  R: float


def project(w: jax.Array) -> jax.Array:
  """The projection of each chain's W on the family diag(xi1 I, 0, -xi2).

  Args:
    w: the chains' W (R, d+2, d+2).

  Returns:
    ``(xi1, xi2) = (tr W_xx / d, -W_ind,ind)`` of each chain, (R, 2).

  Reference: Li et al. (2024), Lemma 2 (the family); docs page "nearest_neighbor_fixed_data", section "Setting".
  """
  d = w.shape[-1] - 2
  return jnp.stack([jnp.trace(w[:, :d, :d], axis1=1, axis2=2) / d, -w[:, d + 1, d + 1]], -1)


def objective(setup: FixedDataSetup):
  """The training objective: the chains' minibatch losses and the population systems' reduced losses, summed (they
  share no parameter, so each is trained by its own gradient).

  Args:
    setup: the run's specs.

  Returns:
    ``(params, key, hparams) -> loss``; chain r's minibatch of ``batch_size`` prompts is drawn with replacement from
    its data set with key ``fold_in(key, r)``.

  Reference: Li et al. (2024), Eq. (2.5) (the loss) and Sec. 5 (SGD on a fixed data set); docs page
  "nearest_neighbor_fixed_data", section "Setting".
  """
  R, B = setup.replicas, setup.batch_size

  def chain(w, data, key):
    return estimators.fixed_minibatch(half_mse, data, B, replace=True)(w, key)

  def fn(p, key, hp):
    keys = jax.vmap(lambda r: jax.random.fold_in(key, r))(jnp.arange(R))
    full = jnp.sum(jax.vmap(chain)(p["W"], hp["data"], keys))
    return full + jnp.sum(jax.vmap(theory.reduced_loss)(p["xi_pop"], hp["tau_blocks"]))

  return fn


@jax.jit
def chain_stats(w: jax.Array, data: Mapping[str, jax.Array], test: Mapping[str, jax.Array]) -> dict[str, jax.Array]:
  """Per chain: the loss on its whole data set, and the squared error and agreement against the 1-NN label on each
  test prompt.

  Args:
    w: the chains' W (R, D, D).
    data: their data sets (chains on axis 0).
    test: the shifted test set (T prompts, shared by the chains).

  Returns:
    ``train`` (R,), ``sq_err`` and ``agree`` (R, T).

  Reference: Li et al. (2024), Fig. 3 (training loss, left; shifted-test MSE, right).
  """
  yhat = jax.vmap(lambda wr: model.apply({"W": wr}, test))(w)
  err, agree = jax.vmap(lambda y: prediction_errors(y, test))(yhat)
  return {"train": jax.vmap(half_mse)(w, data), "sq_err": err**2, "agree": agree}


@jax.jit
def population_stats(xi: jax.Array, tau_eval: jax.Array, test: Mapping[str, jax.Array],
                     R: jax.Array) -> dict[str, jax.Array]:
  """Per population system: its loss on fresh inner products, its MSE against the 1-NN label on the test set and
  its squared error on each test prompt.

  Args:
    xi: the systems (R, 2).
    tau_eval: fresh inner products.
    test: the shifted test set (T prompts).
    R: the test labels' bound.

  Returns:
    ``loss`` (R,), ``shift_mse`` (R,) (``nearest_neighbor.plan.shift_stats``) and ``shift_sq_err`` (R, T).

  Reference: Li et al. (2024), the reduced loss on the family (Lemma 2) and Appendix B.
  """
  return {"loss": jax.vmap(lambda x: theory.per_prompt(x, tau_eval)["loss"].mean())(xi),
          "shift_mse": jax.vmap(lambda x: shift_stats(x, test, R)[0])(xi),
          "shift_sq_err": jax.vmap(lambda x: references.shift_sq_err(x, test))(xi)}


def per_chain(w: jax.Array, xi_pop: jax.Array, ctx: FixedDataContext) -> dict[str, Any]:
  """Every per-chain quantity at one step (float64): projections, population systems, their gap, the off-family norm,
  the chain's loss on its data set, its squared error and agreement on each test prompt (R, T), the population
  systems' loss and test MSE, and how far the label column moved.

  Args:
    w: the chains' W (R, D, D).
    xi_pop: the population systems (R, 2).
    ctx: the run's context.

  Returns:
    name -> array with the chains on axis 0 (``label_column_moved``: a scalar).

  Reference: docs page "nearest_neighbor_fixed_data", section "What is checked and why".
  """
  f64 = lambda tree: {k: np.asarray(v, np.float64) for k, v in tree.items()}
  xi_w, pop = np.asarray(project(w), np.float64), np.asarray(xi_pop, np.float64)
  d = w.shape[-1] - 2
  return {"W_xi": xi_w, "pop_xi": pop, "gap": xi_w - pop,
          "off_family": np.array([model.off_family(wr)["other"] for wr in np.asarray(w)]),
          "label_column_moved": float(np.max(np.abs(np.asarray(w)[:, :, d] - np.asarray(ctx.w0)[:, :, d]))),
          **f64(chain_stats(w, ctx.data, ctx.test)),
          **{f"pop_{k}": v for k, v in f64(population_stats(xi_pop, ctx.tau_eval, ctx.test, ctx.R)).items()}}


def summarize(raw: Mapping[str, Any]) -> dict[str, float]:
  """The metrics row of :func:`per_chain`'s values: means over the chains with their standard errors, the largest
  relative gap and the label column's move.

  Args:
    raw: the output of :func:`per_chain`.

  Returns:
    The row.

  Reference: docs page "nearest_neighbor_fixed_data", section "What is checked and why" (the means' standard errors
  and the relative gap of the 'tracks' claims).
  """
  row: dict[str, float] = {}
  for name, values in (("W_xi1", raw["W_xi"][:, 0]), ("W_xi2", raw["W_xi"][:, 1]), ("pop_xi1", raw["pop_xi"][:, 0]),
                       ("pop_xi2", raw["pop_xi"][:, 1]), ("gap_xi1", raw["gap"][:, 0]), ("gap_xi2", raw["gap"][:, 1]),
                       ("off_family", raw["off_family"]), ("train_loss", raw["train"]), ("pop_loss", raw["pop_loss"]),
                       ("shift_mse", raw["sq_err"].mean(1)), ("shift_agree", raw["agree"].mean(1)),
                       ("pop_shift_mse", raw["pop_shift_mse"])):
    row[name], row[name + "_se"] = (float(v) for v in stats.mean_se(values))
  row["rel_gap_max"] = float(np.max(np.abs(raw["gap"]) / np.maximum(1.0, np.abs(raw["pop_xi"]))))
  row["label_column_moved"] = raw["label_column_moved"]
  return row


def measure(w: jax.Array, xi_pop: jax.Array, ctx: FixedDataContext) -> dict[str, float]:
  """The metrics row logged at one step: :func:`summarize` of :func:`per_chain`.

  Args:
    w: the chains' W (R, D, D).
    xi_pop: the population systems (R, 2).
    ctx: the run's context.

  Returns:
    The metrics.

  Reference: docs page "nearest_neighbor_fixed_data", section "Setting" (what is logged).
  """
  return summarize(per_chain(w, xi_pop, ctx))


def _stack(arrays: list[jax.Array]) -> jax.Array:
  """The chains' arrays stacked on a new axis 0 on the host (an eager ``jnp.stack`` compiles one program per shape;
  the values are the same)."""
  return jnp.asarray(np.stack([np.asarray(a) for a in arrays]))


def plan(setup: FixedDataSetup) -> Plan[FixedDataContext]:
  """The plan of a Fig. 3 run (keys: init, sample, theory, eval, data).

  Args:
    setup: the run's specs.

  Returns:
    The plan.

  Reference: Li et al. (2024), Sec. 5 (Fig. 3) and Assumptions 1-2; docs page "nearest_neighbor_fixed_data", section
  "Setting".
  """
  seed, d, N, R = setup.run.seed, setup.task.d, setup.task.N, setup.replicas
  init_key, sample_key, theory_key = (prng.stream(seed, s) for s in ("init", "sample", "theory"))
  w0 = _stack([model.init(jax.random.fold_in(init_key, r), setup.model)["W"] for r in range(R)])
  xi0 = project(w0)
  chains = [task.sample(jax.random.fold_in(sample_key, r), setup.task, setup.dataset_size) for r in range(R)]
  data = {k: _stack([c[k] for c in chains]) for k in ("x", "y", "x_query", "target")}
  tau_blocks = _stack([theory.prepare_tau(task.sample_tau(jax.random.fold_in(theory_key, r), d, N,
                                                          setup.tau_samples)) for r in range(R)])
  eval_key = prng.stream(seed, "eval")
  test = shift.sample_shift(eval_key, setup.shift[1], setup.test_prompts)
  shift.check_assumption3(test, setup.R)
  tau_eval = task.sample_tau(jax.random.fold_in(eval_key, 1), d, N, setup.eval_tau_samples)
  ctx = FixedDataContext(w0=w0, xi0=xi0, data=data, tau_blocks=tau_blocks, tau_eval=tau_eval, test=test, R=setup.R)
  scales = {"W": 1.0, "xi_pop": jnp.tile(model.family_step(1.0, d), (R, 1))}

  def track(p) -> dict[str, float]:
    return measure(p["W"], p["xi_pop"], ctx)

  return Plan(objective=objective(setup), params={"W": w0, "xi_pop": xi0},
              optimizer=optax.chain(optax.sgd(setup.eta), optim.scale_by_tree(scales)),
              hparams={"data": data, "tau_blocks": tau_blocks}, data_key=prng.stream(seed, "data"), context=ctx,
              track=track)
