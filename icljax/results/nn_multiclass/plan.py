"""The multiclass plan: three systems on one clock, each with ``replicas`` independent copies.

* ``W`` (R, D, D): the paper's protocol, full-matrix minibatch SGD on fresh K-class prompts from W_0 (digest P9);
  R independent chains give the mean and its standard error;
* ``xi_pop`` (R, 2): the reduced K-class population system (labels integrated: f times the binary loss, Lemma 2),
  steps ``(eta/d, eta)``, on R independent samples of inner products;
* ``xi_bin`` (R, 2): the binary reduced system on the same samples at step ``f eta`` (P7: the same trajectory).
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from icljax import optim, prng, stats
from icljax.experiment.api import Plan
from icljax.models import softmax_attention_multiclass as model
from icljax.results.nn_multiclass.setup import MulticlassSetup
from icljax.tasks import nearest_neighbor as binary_task
from icljax.tasks import nearest_neighbor_multiclass as task
from icljax.theory import nearest_neighbor as binary
from icljax.theory import nearest_neighbor_multiclass as theory


@dataclasses.dataclass(frozen=True)
class MulticlassContext:
  """What evaluation needs: W_0, the initial xi, fresh evaluation prompts (inner products and classes), the inner
  products of the Lemma-12 run."""

  w0: jax.Array
  xi0: jax.Array
  eval_prompts: dict[str, jax.Array]
  tau_lemma12: jax.Array


def chain_loss(w: jax.Array, key: jax.Array, setup: MulticlassSetup) -> jax.Array:
  """The paper's loss (7) on a fresh minibatch: 1/2 mean ||l - u_{c_{i*}}||^2."""
  batch = task.sample(key, setup.task, setup.batch_size)
  codes = task.code(batch["c"], setup.task.K, setup.coding)
  target = task.code(batch["c_star"], setup.task.K, setup.coding)
  return 0.5 * jnp.mean(jnp.sum((model.apply({"W": w}, batch, codes) - target) ** 2, -1))


def objective(setup: MulticlassSetup):
  """``(params, key, hparams) -> loss``: the sum over systems and replicas (they share no parameter)."""
  K, R = setup.task.K, setup.replicas

  def fn(p, key, hp):
    keys = jax.vmap(lambda r: jax.random.fold_in(key, r))(jnp.arange(R))
    full = jnp.sum(jax.vmap(lambda w, k: chain_loss(w, k, setup))(p["W"], keys))
    pop = jnp.sum(jax.vmap(lambda xi, tb: theory.reduced_loss(xi, tb, K))(p["xi_pop"], hp["tau_blocks"]))
    return full + pop + jnp.sum(jax.vmap(binary.reduced_loss)(p["xi_bin"], hp["tau_blocks"]))

  return fn


@functools.partial(jax.jit, static_argnames=("K",))
def population(xi: jax.Array, tau: jax.Array, c: jax.Array, K: int) -> tuple[jax.Array, ...]:
  """The K-class population loss (f times the label-integrated binary loss) with its standard error, and the argmax
  agreement with the 1-NN class with its standard error, on evaluation prompts."""
  loss = theory.factor(K) * binary.per_prompt(xi, tau)["loss"]
  acc, acc_se = theory.argmax_stats(xi, tau, c, K)
  return jnp.mean(loss), jnp.std(loss) / jnp.sqrt(loss.shape[0]), acc, acc_se


def _track(setup: MulticlassSetup, ctx: MulticlassContext):
  d, K = setup.task.d, setup.task.K
  labels0 = np.asarray(model.label_columns(ctx.w0, d, K))
  ev = ctx.eval_prompts

  def track(p) -> dict[str, float]:
    w = np.asarray(p["W"], np.float64)
    xi_w = np.array([model.from_W(wr, d) for wr in w])
    row = {"label_columns_moved": float(max(np.max(np.abs(np.asarray(model.label_columns(wr, d, K)) - labels0))
                                            for wr in w)),
           "off_family": float(np.mean([model.off_family(jnp.asarray(wr), d, K) for wr in w]))}
    for name, values in (("sgd", xi_w), ("pop", np.asarray(p["xi_pop"], np.float64)),
                         ("bin", np.asarray(p["xi_bin"], np.float64))):
      for i in (0, 1):
        row[f"{name}_xi{i + 1}"], row[f"{name}_xi{i + 1}_se"] = (float(v) for v in stats.mean_se(values[:, i]))
    xi = jnp.mean(p["xi_pop"], axis=0)
    loss, loss_se, acc, acc_se = (float(v) for v in population(xi, ev["tau"], ev["c"], K))
    row.update(pop_loss=loss, pop_loss_se=loss_se, accuracy=acc, accuracy_se=acc_se)
    return row

  return track


def plan(setup: MulticlassSetup) -> Plan[MulticlassContext]:
  """The plan of a multiclass run (keys: init, data, eval, theory for the population samples).

  Args:
    setup: the run's specs.

  Returns:
    The plan.
  """
  seed, d, N, R = setup.run.seed, setup.task.d, setup.task.N, setup.replicas
  w0 = model.init(prng.stream(seed, "init"), setup.model)["W"]
  xi0 = jnp.array(model.from_W(w0, d), jnp.float32)
  theory_key = prng.stream(seed, "theory")
  tau_blocks = jnp.stack([binary.prepare_tau(binary_task.sample_tau(jax.random.fold_in(theory_key, r), d, N,
                                                                    setup.tau_samples)) for r in range(R)])
  eval_batch = task.sample(prng.stream(seed, "eval"), setup.task, setup.eval_prompts)
  ctx = MulticlassContext(w0=w0, xi0=xi0, eval_prompts={"tau": eval_batch["tau"], "c": eval_batch["c"]},
                          tau_lemma12=binary_task.sample_tau(jax.random.fold_in(theory_key, 10_000), d, N,
                                                             setup.lemma12_prompts))
  f = theory.factor(setup.task.K)
  params = {"W": jnp.stack([w0] * R), "xi_pop": jnp.stack([xi0] * R), "xi_bin": jnp.stack([xi0] * R)}
  scales = {"W": 1.0, "xi_pop": jnp.tile(jnp.array([1.0 / d, 1.0]), (R, 1)),
            "xi_bin": jnp.tile(jnp.array([f / d, f]), (R, 1))}
  return Plan(objective=objective(setup), params=params, hparams={"tau_blocks": tau_blocks},
              optimizer=optax.chain(optax.sgd(setup.eta), optim.scale_by_tree(scales)),
              data_key=prng.stream(seed, "data"), context=ctx, track=_track(setup, ctx))
