"""The multiclass plan: two systems on one clock, each with ``replicas`` independent copies.

* ``W`` (R, D, D): the paper's protocol (its Section 5), full-matrix minibatch SGD on fresh K-class prompts from
  W_0; R independent chains give the mean and its standard error;
* ``xi_pop`` (R, 2): the reduced K-class population system (labels integrated: Lemma 2's factor times the binary
  loss), steps ``(eta/d, eta)``, on R independent samples of inner products.

The binary system at step ``f eta`` (the same trajectory by Lemma 2) is run in the evaluation over the first logged
interval only (the ``clock`` identity), not beside the K-class one for the whole run.

Reference: Athreya & Wang (2026), Section 5 (the protocol), Lemma 1 (the family) and Lemma 2 (the reduced loss);
docs page "nearest_neighbor_multiclass", section "Setting".
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
from icljax.models import nearest_neighbor_multiclass as model
from icljax.results.nearest_neighbor_multiclass.setup import MulticlassSetup
from icljax.tasks import nearest_neighbor as binary_task
from icljax.tasks import nearest_neighbor_multiclass as task
from icljax.theory import nearest_neighbor as binary
from icljax.theory import nearest_neighbor_multiclass as theory


@dataclasses.dataclass(frozen=True)
class MulticlassContext:
  """What evaluation needs: W_0, the initial xi, fresh evaluation prompts (inner products and classes), the reduced
  system's inner-product samples, the flow run's.

  Attributes:
    w0: W_0 (Assumption 2).
    xi0: its ``(xi1, xi2) = (0, sigma)``.
    eval_prompts: ``tau`` (B, N) and classes ``c`` (B, N) of fresh evaluation prompts.
    tau_blocks: the reduced system's samples (``nearest_neighbor.prepare_tau`` of each replica's).
    tau_flow: (R', M', N) the flow run's inner products.

  Reference: docs page "nearest_neighbor_multiclass", section "Setting".
  """

  w0: jax.Array
  xi0: jax.Array
  eval_prompts: dict[str, jax.Array]
  tau_blocks: jax.Array
  tau_flow: jax.Array


def chain_loss(w: jax.Array, key: jax.Array, setup: MulticlassSetup) -> jax.Array:
  """The paper's loss (7) on a fresh minibatch: 1/2 mean ||l - u_{c_{i*}}||^2.

  Args:
    w: one chain's (d+K+1)^2 matrix.
    key: the minibatch's key.
    setup: the run's specs (task, coding, batch size).

  Returns:
    The minibatch loss.

  Reference: Athreya & Wang (2026), eq. (7) and Section 5 (minibatch SGD on fresh prompts).
  """
  batch = task.sample(key, setup.task, setup.batch_size)
  codes = task.code(batch["c"], setup.task.K, setup.coding, setup.task.probs)
  target = task.code(batch["c_star"], setup.task.K, setup.coding, setup.task.probs)
  return 0.5 * jnp.mean(jnp.sum((model.apply({"W": w}, batch, codes) - target) ** 2, -1))


def objective(setup: MulticlassSetup):
  """``(params, key, hparams) -> loss``: the sum over systems and replicas (they share no parameter).

  Args:
    setup: the run's specs.

  Returns:
    The objective: the R chains' minibatch losses (7) plus the R reduced population losses.

  Reference: Athreya & Wang (2026), eq. (7), Section 5 and Lemma 2.
  """
  R, scale = setup.replicas, reduced_factor(setup)

  def fn(p, key, hp):
    keys = jax.vmap(lambda r: jax.random.fold_in(key, r))(jnp.arange(R))
    full = jnp.sum(jax.vmap(lambda w, k: chain_loss(w, k, setup))(p["W"], keys))
    return full + jnp.sum(jax.vmap(lambda xi, tb: theory.reduced_loss(xi, tb, scale))(p["xi_pop"], hp["tau_blocks"]))

  return fn


@jax.jit
def prepare_stack(tau: jax.Array) -> jax.Array:
  """``nearest_neighbor.prepare_tau`` of each sample of a stack (R, M, N), one compiled program.

  Args:
    tau: (R, M, N) inner products.

  Returns:
    The prepared blocks, stacked over R.

  Reference: docs page "nearest_neighbor_multiclass", section "Setting" (the reduced system).
  """
  return jax.vmap(binary.prepare_tau)(tau)


def reduced_factor(setup: MulticlassSetup) -> float:
  """The reduced system's factor: Lemma 2's for the chains' coding, the paper's f where the coding has none.

  Args:
    setup: the run's specs.

  Returns:
    The factor.

  Reference: Athreya & Wang (2026), Lemma 2; docs page "nearest_neighbor_multiclass", section "What is checked and
  why" (Lemma 2 for any code).
  """
  return theory.factor(setup.task.K) if setup.factor is None else setup.factor


@functools.partial(jax.jit, static_argnames=("K", "replicas"))
def population(xi: jax.Array, tau: jax.Array, c: jax.Array, K: int, scale: float,
               replicas: int | None = None) -> dict[str, jax.Array]:
  """Per point, the K-class population loss (Lemma 2's factor times the label-integrated binary loss) and the argmax
  agreement with the 1-NN class on the evaluation prompts, with the evaluation sample's standard errors.

  Args:
    xi: (..., P, 2) points ``(xi1, xi2)``: replicas, then any others.
    tau: (B, N) evaluation inner products.
    c: (B, N) their classes.
    K: classes.
    scale: Lemma 2's factor.
    replicas: the first ``replicas`` points are the replicas (None: all).

  Returns:
    ``loss`` (..., P), ``accuracy`` (..., P), ``loss_eval_se`` and ``accuracy_eval_se`` (...,): the s.e. of the
    replicas' mean over the evaluation prompts, which every replica shares.

  Reference: Athreya & Wang (2026), Lemma 2 and eq. (6); docs page "nearest_neighbor_multiclass", section "What is
  checked and why" (the reference rows' error bars).
  """
  flat = xi.reshape(-1, 2)
  per = jax.vmap(lambda x: scale * binary.per_prompt(x, tau)["loss"])(flat).reshape(xi.shape[:-1] + tau.shape[:1])
  hits = jax.vmap(lambda x: theory.argmax_hits(x, tau, c, K))(flat).reshape(per.shape)
  r, n = replicas or xi.shape[-2], tau.shape[0]
  return {"loss": jnp.mean(per, -1), "accuracy": jnp.mean(hits, -1),
          "loss_eval_se": jnp.std(jnp.mean(per[..., :r, :], -2), -1) / jnp.sqrt(n),
          "accuracy_eval_se": jnp.std(jnp.mean(hits[..., :r, :], -2), -1) / jnp.sqrt(n)}


def _track(setup: MulticlassSetup, ctx: MulticlassContext):
  d, K, scale = setup.task.d, setup.task.K, reduced_factor(setup)
  labels0 = np.asarray(model.label_columns(ctx.w0, d, K))
  ev = ctx.eval_prompts

  def track(p) -> dict[str, float]:
    w = np.asarray(p["W"], np.float64)
    xi_w = np.array([model.from_W(wr, d) for wr in w])
    row = {"label_columns_moved": float(max(np.max(np.abs(np.asarray(model.label_columns(wr, d, K)) - labels0))
                                            for wr in w)),
           "off_family": float(np.mean([model.off_family(wr, d, K) for wr in w]))}
    xi_pop = np.asarray(p["xi_pop"], np.float64)
    for name, values in (("sgd", xi_w), ("pop", xi_pop)):
      for i in (0, 1):
        row[f"{name}_xi{i + 1}"], row[f"{name}_xi{i + 1}_se"] = (float(v) for v in stats.mean_se(values[:, i]))
    row.update(pop0_xi1=float(xi_pop[0, 0]), pop0_xi2=float(xi_pop[0, 1]))   # replica 0 (the clock identity)
    pop = {k: np.asarray(v, np.float64) for k, v in population(p["xi_pop"], ev["tau"], ev["c"], K, scale).items()}
    for name in ("loss", "accuracy"):
      mean, se = stats.mean_se(pop[name])
      key = "pop_loss" if name == "loss" else "accuracy"
      row.update({key: float(mean), f"{key}_se": float(se), f"{key}_eval_se": float(pop[f"{name}_eval_se"])})
    return row

  return track


def plan(setup: MulticlassSetup) -> Plan[MulticlassContext]:
  """The plan of a multiclass run (keys: init, data, eval, theory for the population samples).

  Args:
    setup: the run's specs.

  Returns:
    The plan.

  Reference: Athreya & Wang (2026), Assumption 2 (W_0) and Section 5; docs page "nearest_neighbor_multiclass",
  section "Setting".
  """
  seed, d, N, R = setup.run.seed, setup.task.d, setup.task.N, setup.replicas
  w0 = model.init(prng.stream(seed, "init"), setup.model)["W"]
  xi0 = jnp.array(model.from_W(w0, d), jnp.float32)
  theory_key = prng.stream(seed, "theory")
  tau_blocks = prepare_stack(jnp.stack([binary_task.sample_tau(jax.random.fold_in(theory_key, r), d, N,
                                                                setup.tau_samples) for r in range(R)]))
  eval_batch = task.sample(prng.stream(seed, "eval"), setup.task, setup.eval_prompts)
  tau_flow = binary_task.sample_tau(jax.random.fold_in(theory_key, 10_000), d, N,
                                    setup.lemma12_prompts * setup.flow_replicas)
  ctx = MulticlassContext(w0=w0, xi0=xi0, eval_prompts={"tau": eval_batch["tau"], "c": eval_batch["c"]},
                          tau_blocks=tau_blocks, tau_flow=tau_flow.reshape(setup.flow_replicas, -1, N))
  params = {"W": jnp.stack([w0] * R), "xi_pop": jnp.stack([xi0] * R)}
  scales = {"W": 1.0, "xi_pop": jnp.tile(jnp.array([1.0 / d, 1.0]), (R, 1))}
  return Plan(objective=objective(setup), params=params, hparams={"tau_blocks": tau_blocks},
              optimizer=optax.chain(optax.sgd(setup.eta), optim.scale_by_tree(scales)),
              data_key=prng.stream(seed, "data"), context=ctx, track=_track(setup, ctx))
