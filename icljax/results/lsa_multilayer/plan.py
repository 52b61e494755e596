"""The multi-layer plan: noiseless inverse-covariance prompts (fresh batches, or one fixed sample for L-BFGS), the
theory's optimum computed once."""

from __future__ import annotations

import dataclasses

import jax
import numpy as np

from icljax import estimators, prng, structure
from icljax.experiment.api import Plan
from icljax.models import multilayer_lsa as model
from icljax.results.lsa_multilayer.setup import MultilayerSetup
from icljax.tasks import regression
from icljax.theory import multistep_gd as theory


@dataclasses.dataclass(frozen=True)
class MultilayerContext:
  """The best L-step PGD (sorted steps, loss), the best constant step (and loss), Sigma, the eval key."""

  a_star: np.ndarray
  loss_star: float
  a_constant: float
  loss_constant: float
  cov: jax.Array
  eval_key: jax.Array


def layers(a: jax.Array, cov: jax.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """Per layer ``Sigma^{1/2} A_l Sigma^{1/2}`` (``a_l I`` on Theorem 3's critical point), its step
  ``tr(.)/d`` and its ``Dist(., I)``."""
  wa = np.stack([structure.whiten(a_l, cov) for a_l in np.asarray(a)])
  return wa, np.array([np.trace(w) / w.shape[0] for w in wa]), np.array([structure.dist_to_identity(w) for w in wa])


def plan(setup: MultilayerSetup) -> Plan[MultilayerContext]:
  """The plan of a multi-layer run (keys: init, data, eval).

  Args:
    setup: the run's specs.

  Returns:
    The plan.
  """
  seed, spec, task = setup.run.seed, setup.model, setup.task
  a_star, loss_star, a_const, loss_const = theory.optimal_steps(spec.L, spec.d, spec.n)
  ctx = MultilayerContext(a_star=a_star, loss_star=loss_star, a_constant=a_const, loss_constant=loss_const,
                          cov=task.cov, eval_key=prng.stream(seed, "eval"))
  # Trained through Lemma 1's GD form, which equals the literal forward pass for every A (an identity of the
  # sparse class, checked at the trained A to float rounding): O(n d L) per prompt instead of O(n^2 d L).
  loss = estimators.squared_error(lambda p, b: theory.pgd_predict(p["A"], b))
  fresh = estimators.fresh(loss, lambda k, b: regression.sample(k, task, b), setup.batch_size)
  sample = (regression.sample(prng.stream(seed, "sample"), task, setup.sample_size) if setup.sample_size else None)
  objective = (lambda p, key, hp: loss(p, hp)) if sample is not None else (lambda p, key, hp: fresh(p, key))

  def track(p) -> dict[str, float]:
    _, steps, dists = layers(p["A"], ctx.cov)
    return {**{f"a_{layer}": float(v) for layer, v in enumerate(steps)},
            **{f"dist_{layer}": float(v) for layer, v in enumerate(dists)}}

  return Plan(objective=objective, params=model.init(prng.stream(seed, "init"), spec), hparams=sample,
              optimizer=setup.optimizer.build(), data_key=prng.stream(seed, "data"), context=ctx, track=track)
