"""Plausible bugs in the code the multiclass checks cover, each planted in one library function; the science gate
must fail on the named entries (``tests/test_mutants.py``).

Reference: docs page "nearest_neighbor_multiclass", section "Code-path mutants".
"""

from __future__ import annotations

import jax.numpy as jnp

from icljax.experiment.api import Mutant

_TASK = "icljax.tasks.nearest_neighbor_multiclass"
_THEORY = "icljax.theory.nearest_neighbor_multiclass"
_MODEL = "icljax.models.nearest_neighbor_multiclass"


def _not_centred(code):
  return lambda c, K, coding="centred", probs=None: code(c, K, "onehot" if coding == "centred" else coding, probs)


def _classes_short(sample):
  def sample_k_minus_1(key, spec, batch_size):
    batch = sample(key, spec, batch_size)
    return {**batch, "c": batch["c"] % (spec.K - 1), "c_star": batch["c_star"] % (spec.K - 1)}
  return sample_k_minus_1


def _transposed(attention):
  return lambda params, prompts, codes: attention({**params, "W": jnp.swapaxes(params["W"], -1, -2)}, prompts, codes)


def _no_query(attention):
  def masked(params, prompts, codes):
    q = attention(params, prompts, codes)
    ctx = q[:, :-1] / jnp.sum(q[:, :-1], -1, keepdims=True)
    return jnp.concatenate([ctx, jnp.zeros_like(q[:, -1:])], -1)
  return masked


MUTANTS = (
    Mutant("labels_not_centred", f"{_TASK}:code", _not_centred,
           "the paper's code e_c - 1/K written as e_c (labels not re-centred)",
           killed_by=("lemma2_enumerated", "p4_centred")),
    Mutant("kclass_step_not_f_eta", f"{_THEORY}:reduced_loss", lambda loss: lambda xi, tb, scale: loss(xi, tb, 1.0),
           "the K-class reduced loss without Lemma 2's factor: K-class GD runs at eta, not as binary GD at (K-1)/K "
           "eta", killed_by=("reference", "sgd_tracks", "clock")),
    Mutant("factor_one_over_K", f"{_THEORY}:factor", lambda factor: lambda K: 1.0 / K,
           "Lemma 2's factor taken as 1/K (the codes' cross inner product) instead of (K-1)/K (their squared norm)",
           killed_by=("reference", "flow_rows", "accuracy", "sgd_tracks", "lemma2_enumerated", "p2_initial")),
    Mutant("classes_from_K_minus_1", f"{_TASK}:sample", _classes_short,
           "the sampler draws the classes from K - 1 of the K classes (randint's upper bound off by one)",
           killed_by=("accuracy", "sgd_tracks", "plurality", "p2_initial")),
    Mutant("scores_transposed", f"{_MODEL}:attention", _transposed,
           "the scores h_{N+1}^T W h_j instead of h_j^T W h_{N+1} (the Gram matrix transposed)",
           killed_by=("label_columns",)),
    Mutant("softmax_without_query", f"{_MODEL}:attention", _no_query,
           "the softmax denominator leaves out the query token (a mask instead of the -sigma entry)",
           killed_by=("sgd_tracks", "lemma2_enumerated", "p4_unit")),
    Mutant("flow_xi1_step_eta", f"{_THEORY}:gd_points",
           lambda run: lambda xi0, tb, h, d, steps, frac: run(xi0, tb, h, jnp.ones_like(d), steps, frac),
           "the reduced GD's xi1 step eta instead of eta/d (the 1/d dropped, as in the paper's proof of Lemma 6)",
           killed_by=("flow_rows", "accuracy", "clock")),
)
