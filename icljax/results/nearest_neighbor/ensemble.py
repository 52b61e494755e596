"""Result 2's full-W model against the population system over seeds (extra ``'ensemble'``; issue 12, item 2).

A full-W run trains on one symmetrised sample of ``sample_size`` prompts; on such a sample full-W GD equals reduced
GD on the same prompts with their labels (the run's ``same_prompts`` identity check). The sample of seed s is drawn
from ``prng.stream(s, 'sample')``, so reduced GD on the samples of seeds 0..S-1 (vmapped, one program) gives the
end points the full-W runs of those seeds reach. Their mean +- s.e. is compared with the reduced population system
from the same start, itself averaged over R independent population samples of ``tau_samples`` prompts (the
reference's own sampling noise enters the error bar).

Reference: Li et al. (2024), the reduced dynamics (Lemma 2; P3 and P6 of the theorem's docs page).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from icljax import prng, stats
from icljax.experiment.checks import Checker
from icljax.results.nearest_neighbor.plan import NNContext
from icljax.results.nearest_neighbor.setup import NNSetup
from icljax.tasks import nearest_neighbor as task
from icljax.theory import nearest_neighbor as theory

SEEDS = 64          # samples (the full-W runs of seeds 0..63)
POPULATION_DRAWS = 8


def sample_endpoints(setup: NNSetup, xi0: jax.Array, seeds: int = SEEDS) -> np.ndarray:
  """Reduced GD with labels on each seed's training sample, ``setup.run.steps`` steps from ``xi0``.

  Args:
    setup: the run's specs (task, sample size, eta, steps).
    xi0: the start (the run's W_0 in the family).
    seeds: seeds 0..seeds-1.

  Returns:
    (seeds, 2) end points.

  Reference: Li et al. (2024), Lemma 2; docs page "nearest_neighbor", section "What is checked and why" (ensemble).
  """
  scale = jnp.array([setup.eta / setup.task.d, setup.eta])
  grad = jax.grad(theory.loss_with_labels)

  def one(s):
    batch = task.sample(prng.stream(s, "sample"), setup.task, setup.sample_size)
    return jax.lax.fori_loop(0, setup.run.steps, lambda i, xi: xi - scale * grad(xi, batch["tau"], batch["y"]), xi0)

  return np.asarray(jax.jit(jax.vmap(one))(jnp.arange(seeds)), np.float64)


def population_endpoints(setup: NNSetup, xi0: jax.Array, draws: int = POPULATION_DRAWS) -> np.ndarray:
  """The reduced population system from ``xi0`` on ``draws`` independent samples of ``tau_samples`` prompts.

  Args:
    setup: the run's specs.
    xi0: the start.
    draws: independent population samples (keys folded into the run's theory stream).

  Returns:
    (draws, 2) end points.

  Reference: Li et al. (2024), Lemma 2; docs page "nearest_neighbor", section "What is checked and why" (ensemble).
  """
  key = prng.stream(setup.run.seed, "theory")

  def one(r):
    tau = theory.prepare_tau(task.sample_tau(jax.random.fold_in(key, r + 1), setup.task.d, setup.task.N,
                                             setup.tau_samples))
    return theory.reduced_gd(xi0, tau, setup.eta, setup.task.d, setup.run.steps)

  return np.asarray(jax.jit(jax.vmap(one))(jnp.arange(draws)), np.float64)


def checks(c: Checker, setup: NNSetup, ctx: NNContext, out: dict[str, Any]) -> None:
  """Adds the ensemble checks: mean over the seeds' samples against the population system, for xi1 and xi2.

  Args:
    c: the run's checker.
    setup: the run's specs.
    ctx: the start xi0.
    out: notes, scalars and arrays of the evaluation.

  Returns:
    None: the checks are added to ``c`` and the values to ``out``.

  Reference: docs page "nearest_neighbor", section "What is checked and why" (ensemble).
  """
  samples = sample_endpoints(setup, ctx.xi0)
  population = population_endpoints(setup, ctx.xi0)
  out["arrays"].update(ensemble_xi=samples, ensemble_population_xi=population)
  for i, name in enumerate(("xi1", "xi2")):
    m, se = stats.mean_se(samples[:, i])
    p, pse = stats.mean_se(population[:, i])
    c("ensemble", f"{name} at t = {setup.run.steps}: mean over {len(samples)} seeds' samples of {setup.sample_size} "
      f"prompts (full-W GD) vs the population system ({len(population)} draws)", float(p), float(m),
      se=float(np.hypot(se, pse)))
    out["scalars"][f"ensemble_{name}"] = float(m)
    out["scalars"][f"ensemble_{name}_se"] = float(se)
    out["scalars"][f"population_{name}_draws_sd"] = float(population[:, i].std(ddof=1))
  seed = min(setup.run.seed, len(samples) - 1)
  out["notes"].append(f"one sample of {setup.sample_size} prompts is noisy (seed {seed}: xi = "
                      f"({samples[seed, 0]:.3f}, {samples[seed, 1]:.3f}); across {len(samples)} seeds sd "
                      f"{samples[:, 0].std(ddof=1):.3f}, {samples[:, 1].std(ddof=1):.3f}); the seeds' mean "
                      f"({samples[:, 0].mean():.3f}, {samples[:, 1].mean():.3f}) is what tracks the population "
                      f"system ({population[:, 0].mean():.3f}, {population[:, 1].mean():.3f}).")
