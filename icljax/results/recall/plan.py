"""Recall's plan: normalised GD from zero on fresh batches (population) or a finite training set, with the
population loss, unseen-output test loss, probabilities and layer-wise logits logged along the run.

Reference: Nguyen & Nguyen-Tang (2025), Sec. 3 (NGD from zero) and the authors' released training loop; docs page
"recall", section "Setting".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from icljax import estimators, optim, prng, validation
from icljax.experiment.api import Plan
from icljax.models import recall as model
from icljax.results.recall.setup import RecallSetup
from icljax.tasks import recall as task
from icljax.theory import recall as theory


@dataclasses.dataclass(frozen=True)
class RecallContext:
  """What evaluation needs: the model (with its gamma), the training noise fraction, the evaluation data, the
  statistics at initialisation and the data key (the checks draw the training stream again).

  Attributes:
    model: the model spec, gamma included.
    alpha_hat: the noise fraction gamma was set from (alpha, or the finite training set's fraction).
    pop: the fresh sentences of the population loss.
    test: the unseen-output test sentences.
    init_stats: the logged statistics at the zero initialisation.
    data_key: the training stream's key (batch t is drawn from ``fold_in(data_key, t)``).

  Reference: docs page "recall", section "Setting".
  """

  model: model.RecallModel
  alpha_hat: float
  pop: Mapping[str, jax.Array]
  test: Mapping[str, jax.Array]
  init_stats: Mapping[str, float]
  data_key: jax.Array


def expected_ce(logits: jax.Array, batch: Mapping[str, jax.Array], alpha: jax.Array, tau: int) -> jax.Array:
  """Per-sentence cross-entropy averaged over the noise draw: ``-(1-alpha) log p_y - alpha log p_tau``.

  The draw is independent of the sentence, so this Rao-Blackwellised estimate has no target-sampling noise.

  Args:
    logits: (B, V) logits.
    batch: the sentences (their outputs ``y``).
    alpha: the noise level.
    tau: the noise token.

  Returns:
    (B,) the expected cross-entropy of each sentence.

  Reference: docs page "recall", section "Setting" (the population loss).
  """
  logp = jax.nn.log_softmax(logits, axis=-1)
  log_py = jnp.take_along_axis(logp, batch["y"][:, None], axis=-1)[:, 0]
  return -(1 - alpha) * log_py - alpha * logp[:, tau]


@jax.jit
def logged_stats(p: Any, m: model.RecallModel, alpha: jax.Array, pop: Mapping[str, jax.Array],
                 test: Mapping[str, jax.Array]) -> dict[str, jax.Array]:
  """Population and unseen-output test loss, probabilities of the output and noise tokens, layer-wise logits.

  Args:
    p: the trainable tensors.
    m: the model spec.
    alpha: the noise level (the losses' weights).
    pop: the fresh sentences of the population loss.
    test: the unseen-output test sentences.

  Returns:
    ``pop_loss``, ``test_loss``, ``{pop,test}_p_output``, ``{pop,test}_p_noise`` and the population means of
    ``xi_A_y``, ``xi_A_max``, ``xi_F_tau``, ``xi_F_max``.

  Reference: Nguyen & Nguyen-Tang (2025), Figs 1-2 and 10-12 (the quantities they plot).
  """
  out = {}
  tau = m.tau
  for name, batch in (("pop", pop), ("test", test)):
    parts = model.parts(p, batch, m)
    logits = parts["xi_A"] + parts["xi_F"]
    out[f"{name}_loss"] = jnp.mean(expected_ce(logits, batch, alpha, tau))
    probs = jax.nn.softmax(logits, -1)
    out[f"{name}_p_output"] = jnp.mean(jnp.take_along_axis(probs, batch["y"][:, None], -1))
    out[f"{name}_p_noise"] = jnp.mean(probs[:, tau])
    if name == "pop":
      out["xi_A_y"] = jnp.mean(jnp.take_along_axis(parts["xi_A"], batch["y"][:, None], -1))
      out["xi_A_max"] = jnp.mean(jnp.max(parts["xi_A"], -1))
      if m.kind == "reparam" and not m.noisy:   # no feed-forward layer: its logits are the constant 0, whose max
        out["xi_F_tau"] = out["xi_F_max"] = jnp.zeros(())   # XLA would fold element by element (> 1 s to compile)
      else:
        out["xi_F_tau"] = jnp.mean(parts["xi_F"][:, tau])
        out["xi_F_max"] = jnp.mean(jnp.max(parts["xi_F"], -1))
  return out


def objective(setup: RecallSetup):
  """``(params, key, {'spec', 'model'[, 'train_set']}) -> cross-entropy`` on a fresh batch or a minibatch of the
  finite training set.

  Args:
    setup: the run's specs (batch size).

  Returns:
    The objective.

  Reference: Nguyen & Nguyen-Tang (2025), Sec. 3 (cross-entropy of the next token) and the authors' released
  training loop (fresh batches; a finite set of M sentences).
  """

  def fn(p, key, hp):
    ce = lambda q, b: jnp.mean(optax.softmax_cross_entropy_with_integer_labels(model.apply(q, b, hp["model"]),
                                                                               b["target"]))
    if "train_set" in hp:
      return estimators.fixed_minibatch(ce, hp["train_set"], setup.batch_size)(p, key)
    return estimators.fresh(ce, lambda k, n: task.sample(k, hp["spec"], n), setup.batch_size)(p, key)

  return fn


def plan(setup: RecallSetup) -> Plan[RecallContext]:
  """The plan of a result-3 run (keys: data, eval, sample for the finite set, test for unseen outputs).

  Args:
    setup: the run's specs.

  Returns:
    The plan.

  Reference: Nguyen & Nguyen-Tang (2025), the authors' released code (zero initialisation, per-tensor NGD, gamma
  from the training noise); docs page "recall", section "Setting".
  """
  spec, seed = setup.task, setup.run.seed
  alpha = float(spec.alpha)
  train_set = task.sample(prng.stream(seed, "sample"), spec, setup.M) if setup.M else None
  alpha_hat = float(np.mean(np.asarray(train_set["noise"]))) if train_set is not None and spec.noisy else alpha
  if spec.noisy and not 0.0 < alpha_hat < 1.0:
    raise validation.ConfigError("config.M", setup.M, "a training set whose noise fraction is strictly between 0 "
                                 "and 1 (gamma = ln(alpha_hat/(1-alpha_hat)) must be finite)")
  m = model.make_model(setup.kind, setup.attention, setup.kappa, V=spec.V, triggers=spec.triggers, noisy=spec.noisy,
                       gamma=theory.gamma(alpha_hat) if spec.noisy else 0.0, d=setup.d)
  hparams: dict[str, Any] = {"spec": spec, "model": m}
  if train_set is not None:
    hparams["train_set"] = train_set
  test = task.sample(prng.stream(seed, "test"), spec, setup.test_size, unseen=True)
  pop = task.sample(prng.stream(seed, "eval"), spec, setup.eval_size)
  params = model.init(None, m)
  a = jnp.asarray(alpha, jnp.float64 if setup.run.x64 else jnp.float32)
  init_stats = {k: float(v) for k, v in logged_stats(params, m, a, pop, test).items()}

  def track(p):
    row = {k: float(v) for k, v in logged_stats(p, m, a, pop, test).items()}
    if "Lam" in p:
      row["Lam"] = float(p["Lam"])
    if "lam" in p:
      row.update({f"lam[{q}]": float(v) for q, v in zip(spec.triggers, np.asarray(p["lam"]))})
      row["lam_mean"] = float(np.mean(np.asarray(p["lam"])))
    return row

  data_key = prng.stream(seed, "data")
  ctx = RecallContext(model=m, alpha_hat=alpha_hat, pop=pop, test=test, init_stats=init_stats, data_key=data_key)
  return Plan(objective=objective(setup), params=params, hparams=hparams, optimizer=optim.normalized_gd(setup.eta),
              data_key=data_key, context=ctx, track=track)
