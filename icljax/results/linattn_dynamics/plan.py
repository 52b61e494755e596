"""The linear-attention dynamics plan: R replicas of the paper's protocol (full-batch GD on P fixed prompts each,
from one shared small initialisation), trained through the sample's loss moments; the theory computed once. Every
logged row carries each replica's population loss and the diagonal of its Gamma in Sigma's eigenbasis (``eigh``
order, increasing eigenvalue: the learning order and the half-drop step are read from it)."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax

from icljax import prng
from icljax.experiment.api import Plan
from icljax.models import linattn_dynamics as model
from icljax.results.linattn_dynamics.setup import DynamicsSetup
from icljax.tasks import regression
from icljax.theory import linattn_dynamics as theory


@dataclasses.dataclass(frozen=True)
class DynamicsContext:
  """What evaluation needs: the staircase, the eigenbasis in learned order (columns), the shared initialisation,
  the population moments, the sample key, the evaluation key."""

  stairs: dict[str, np.ndarray]
  basis: np.ndarray
  init: dict[str, jax.Array]
  population: theory.Moments
  sample_key: jax.Array
  eval_key: jax.Array


def replica_prompts(setup: DynamicsSetup, key: jax.Array, r: int) -> dict[str, jax.Array]:
  """Replica r's fixed sample of P prompts.

  Args:
    setup: the run's specs.
    key: the run's sample key.
    r: the replica.

  Returns:
    The prompts (``regression.sample``).

  Reference: Zhang, Singh, Latham, Saxe (2025), Sec. 2 (a fixed training set of P sequences, full-batch GD).
  """
  return regression.sample(jax.random.fold_in(key, r), setup.task, setup.sample_size)


def population_of(setup: DynamicsSetup, sigma: float | None = None) -> theory.Moments:
  """The population moments of the run's task (at noise ``sigma`` if given).

  Args:
    setup: the run's specs.
    sigma: a label noise other than the run's, or None.

  Returns:
    ``(c, b, H)`` (float64).

  Reference: Zhang, Singh, Latham, Saxe (2025), Eqs. 14-15, extended to noise and the Sigma^-1 prior on the docs
    page "linattn_dynamics", section "The loss as a quadratic in Gamma".
  """
  task = setup.task
  return theory.population_moments(task.cov, task.n, float(task.sigma) if sigma is None else sigma, task.prior)


def plan(setup: DynamicsSetup) -> Plan[DynamicsContext]:
  """The plan of a dynamics run (keys: init, sample, eval).

  Args:
    setup: the run's specs.

  Returns:
    The plan.

  Reference: Zhang, Singh, Latham, Saxe (2025), Sec. 2 (full-batch GD on P fixed prompts from small
    initialisation); docs page "linattn_dynamics", section "Setting".
  """
  seed, task, R = setup.run.seed, setup.task, setup.replicas
  cov = np.asarray(task.cov, np.float64)
  evals, evecs = np.linalg.eigh(cov)
  stairs = theory.staircase(evals, task.n, float(task.sigma), task.prior)
  basis = evecs[:, stairs["order"]]
  p0 = model.init(prng.stream(seed, "init"), setup.model)
  sample_key = prng.stream(seed, "sample")
  moments = [theory.sample_moments(replica_prompts(setup, sample_key, r)) for r in range(R)]
  stacked = jax.tree.map(lambda *m: jnp.stack(m), *moments)
  population = population_of(setup)
  ctx = DynamicsContext(stairs=stairs, basis=basis, init=p0, population=population, sample_key=sample_key,
                        eval_key=prng.stream(seed, "eval"))

  def objective(p, key, hp):
    del key
    return jnp.sum(jax.vmap(lambda pr, m: theory.quadratic_loss(model.gamma(pr), m))(p, hp))

  def track(p) -> dict[str, float]:
    gammas = np.asarray(jax.vmap(model.gamma)(p), np.float64)
    losses = [float(theory.quadratic_loss(g, population)) for g in gammas]   # float64 numpy
    diagonals = np.einsum("ir,kij,jr->kr", evecs, gammas, evecs)   # Gamma's diagonal in Sigma's eigenbasis (eigh)
    return {**{f"pop_loss_{r}": v for r, v in enumerate(losses)}, "pop_loss_mean": float(np.mean(losses)),
            **{f"gdiag_{r}_{j}": float(diagonals[r, j]) for r in range(R) for j in range(task.d)}}

  return Plan(objective=objective, params=jax.tree.map(lambda x: jnp.stack([x] * R), p0), hparams=stacked,
              optimizer=optax.sgd(setup.learning_rate), data_key=prng.stream(seed, "data"), context=ctx, track=track)
