"""Plausible bugs in the code result 2's checks cover, each planted in one library function; the science gate (the
reduced population system at d = N = 4 to t = 1e4 with the Appendix-B test, or the named gate) must fail on the
named entries (``tests/test_mutants.py``).

The reference rows come from an independent computation, so a bug in the sampler of the inner products, the reduced
gradient, the family's step, the attention or the shifted test set moves the run off them; the full-W runs' ensemble
is compared with the population system, which shares no code with the labelled loss it trains.

Reference: docs page "nearest_neighbor", section "Code-path mutants".
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp

from icljax.experiment.api import Mutant, RunRef
from icljax.models import nearest_neighbor as model

# To t = 1e5 at d = N = 4 on 2000 prompts: P6's third row and P7's L xi1 apply.
LONG_GATE = RunRef("nearest_neighbor_long", (), {"steps": 100_000, "log_every": 1000, "tau_samples": 2000,
                                                 "eval_tau_samples": 20_000, "extras": ()})
# Full-W GD on 64 seeds' symmetrised samples against the population system (the ensemble check), d = N = 4.
ENSEMBLE_GATE = RunRef("nearest_neighbor_dynamics", (), {
    "d": 4, "N": 4, "steps": 400, "log_every": 200, "tau_samples": 2000, "eval_tau_samples": 2000,
    "extras": ("ensemble",), "references": (), "sigma_references": ()})


def _xi2_sign(loss_and_grads):
  """The closed-form reduced gradient with dL/dxi2's sign flipped."""
  def flipped(xi, tau_t):
    value, grads = loss_and_grads(xi, tau_t)
    return value, grads * jnp.array([1.0, -1.0], grads.dtype)
  return flipped


def _farthest_label(loss_with_labels):
  """The labelled reduced loss with its target at argmin tau (the farthest context point's label)."""
  del loss_with_labels

  def farthest(xi, tau, y):
    q = model.reduced_attention(xi, tau)[:, :-1]
    target = jnp.take_along_axis(y, jnp.argmin(tau, -1)[:, None], axis=-1)[:, 0]
    return 0.5 * jnp.mean((jnp.sum(q * y, -1) - target) ** 2)
  return farthest


MUTANTS = (
    Mutant("sphere_dimension_off_by_one", "icljax.tasks.nearest_neighbor:sample_tau",
           lambda sample: lambda key, d, N, batch_size: sample(key, d + 1, N, batch_size),
           "the inner products drawn for points on S^d instead of S^(d-1) (Beta(d/2, d/2) instead of "
           "Beta((d-1)/2, (d-1)/2))", killed_by=("reference",)),
    Mutant("xi2_gradient_sign", "icljax.theory.nearest_neighbor:loss_and_grads_sorted", _xi2_sign,
           "the closed-form dL/dxi2 = E[q_{N+1}(sum q_j^2 - q_i*)] with its sign flipped",
           killed_by=("reference", "xi2_monotone")),
    Mutant("xi1_step_eta", "icljax.models.nearest_neighbor:family_step", lambda step: lambda eta, d: step(eta, 1),
           "the xi1 step eta instead of eta/d (GD on the 2-vector, not on the full matrix)", killed_by=("reference",)),
    Mutant("softmax_temperature", "icljax.models.nearest_neighbor:reduced_attention",
           lambda attention: lambda xi, tau: attention(xi / 2.0, tau),
           "the attention scores divided by 2 (a 1/sqrt(d) temperature at d = 4) where the loss, E[q_i*] and the "
           "test MSE are read", killed_by=("reference", "p7_product", "shift_reference"), gate=LONG_GATE),
    Mutant("appendix_b_distance_not_squared", "icljax.tasks.nearest_neighbor_shift:sample_shift",
           lambda sample: lambda key, spec, batch_size: sample(key, dataclasses.replace(spec, delta=spec.delta**2),
                                                               batch_size),
           "Appendix B's reflection test on |x_j - x_query| <= delta instead of the squared distance (a margin "
           "delta^2/2 instead of delta/2)", killed_by=("shift_reference",)),
    Mutant("labelled_target_farthest", "icljax.theory.nearest_neighbor:loss_with_labels", _farthest_label,
           "the labelled reduced loss takes the farthest context point's label as the target (argmin for argmax)",
           killed_by=("ensemble", "same_prompts"), gate=ENSEMBLE_GATE),
)
