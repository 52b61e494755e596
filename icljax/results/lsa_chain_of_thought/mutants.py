"""Plausible bugs in the code the chain-of-thought checks cover, each planted in one library function; the science
gate must fail on the named theory entries (``tests/test_mutants.py``).

The first one is the point of the fit/theory split: the GD targets are shared by the training loss and the fit
checks, so a wrong step in them is learned and fitted (``tracks_gd`` passes) and only the checks whose references
are independent of the targets (the construction's closed forms, the Wishart moments, the NumPy Monte Carlo) can
see it.

Reference: docs page "lsa_chain_of_thought", section "Code-path mutants".
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from icljax.experiment.api import Mutant
from icljax.models import lsa_chain_of_thought as model


def _step_n_minus_1(original):
  """GD targets whose gradient is normalised by n - 1: step eta n/(n - 1)."""
  return lambda prompts, eta, k: original(prompts, eta * prompts["x"].shape[1] / (prompts["x"].shape[1] - 1), k)


def _weights_redrawn(original):
  """Prompts whose returned w* is drawn from its own key, not the one that made the labels."""

  def sample(key, spec, batch_size, weights=False):
    out = original(key, spec, batch_size, weights=weights)
    if not weights:
      return out
    return {**out, "w": jax.random.normal(jax.random.fold_in(key, 7), out["w"].shape, out["w"].dtype)}

  return sample


def _spectrum_as_std(original):
  """Covariates ``z Sigma`` instead of ``z Sigma^{1/2}``: Sigma's eigenvalues used as standard deviations."""
  return lambda key, spec, batch_size, weights=False: original(key, dataclasses.replace(spec, sqrt_cov=spec.cov),
                                                               batch_size, weights=weights)


def _columns_normalised(original):
  """The teacher-forced pass normalised by the token count n + 1 + i of step i (generation keeps 1/n)."""

  def teacher_forced(params, prompts, w_in, spec):
    z, out = model.token(w_in, spec), original(params, prompts, w_in, spec)
    columns = spec.n + 1 + jnp.arange(w_in.shape[1], dtype=out.dtype)
    return z + (out - z) * (spec.n / columns)[None, :, None]

  return teacher_forced


MUTANTS = (
    Mutant("gd_target_step", "icljax.theory.lsa_chain_of_thought:gd_iterates", _step_n_minus_1,
           "the CoT targets' GD step divides the gradient by n - 1 (step eta n/(n-1)): learned and fitted, so the "
           "fit checks pass", killed_by=("cot_weights", "gd_exact", "iterate_errors", "ood_errors", "ood_unstable")),
    Mutant("sampler_w_redrawn", "icljax.tasks.regression:sample", _weights_redrawn,
           "weights=True returns a w* drawn from its own key, not the one behind the labels",
           killed_by=("gd_exact", "iterate_errors", "no_cot_error", "no_cot_step", "ood_errors", "ood_unstable")),
    Mutant("sampler_spectrum_as_std", "icljax.tasks.regression:sample", _spectrum_as_std,
           "x = z Sigma instead of z Sigma^{1/2} (eigenvalues as standard deviations; invisible at Sigma = I)",
           killed_by=("ood_errors", "ood_unstable")),
    Mutant("teacher_forced_by_columns", "icljax.models.lsa_chain_of_thought:teacher_forced", _columns_normalised,
           "the teacher-forced pass normalises by the n + 1 + i columns of step i while generation uses 1/n",
           killed_by=("cot_weights", "no_cot_step", "gd_exact", "iterate_errors", "ood_errors", "ood_unstable")),
)
