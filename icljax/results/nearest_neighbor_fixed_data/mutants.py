"""Plausible bugs in the code the Fig. 3 checks cover, each planted in one library function; the science gate (from
W_0 at d = N = 4, where the reference rows apply) must fail on the named entries (``tests/test_mutants.py``).

The chains (full-W SGD through ``models.nearest_neighbor``) and the population systems (the reduced closed-form
gradient of ``theory.nearest_neighbor``) share no code but the family's step: a bug on either side opens a gap
between them, and a bug in the population systems also moves them off the reference rows.

Reference: docs page "nearest_neighbor_fixed_data", section "Code-path mutants".
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from icljax.experiment.api import Mutant


def _farthest_target(with_target):
  """The 1-NN label taken at the smallest inner product (the largest distance) instead of the largest."""
  def farthest(x, y, x_query):
    out = with_target(x, y, x_query)
    i_star = jnp.argmin(out["tau"], axis=-1)
    return {**out, "i_star": i_star, "target": jnp.take_along_axis(y, i_star[:, None], axis=-1)[:, 0]}
  return farthest


def _without_query(attention):
  """The softmax over the N context tokens only (the query token masked instead of carrying -sigma)."""
  def masked(params, prompts):
    q = attention(params, prompts)
    return jnp.concatenate([jax.nn.softmax(jnp.log(q[:, :-1]), -1), jnp.zeros_like(q[:, -1:])], -1)
  return masked


def _xi_swapped(loss_and_grads):
  """The reduced gradient's two components swapped (dL/dxi2 applied to xi1 and back)."""
  def swapped(xi, tau_t):
    value, grads = loss_and_grads(xi, tau_t)
    return value, grads[::-1]
  return swapped


MUTANTS = (
    Mutant("nn_target_farthest", "icljax.tasks.nearest_neighbor:with_target", _farthest_target,
           "the nearest neighbour found by argmin of <x_j, x_query> (the largest distance), so the data's targets are "
           "the farthest point's label", killed_by=("gap_mean", "shift_vs_population")),
    Mutant("softmax_without_query", "icljax.models.nearest_neighbor:attention", _without_query,
           "the softmax leaves out the query token (a mask instead of the -sigma entry): W's indicator entry gets no "
           "gradient", killed_by=("gap_mean",)),
    Mutant("xi1_step_eta", "icljax.models.nearest_neighbor:family_step", lambda step: lambda eta, d: step(eta, 1),
           "the population systems' xi1 step eta instead of eta/d (GD on the 2-vector, not on the full matrix)",
           killed_by=("reference", "gap_mean")),
    Mutant("reduced_gradient_swapped", "icljax.theory.nearest_neighbor:loss_and_grads_sorted", _xi_swapped,
           "the closed-form reduced gradient returns (dL/dxi2, dL/dxi1)", killed_by=("reference", "gap_mean")),
)
