"""Plausible bugs in the code the multi-layer checks cover, each planted in one library function; the science gate
(Theorem 3 at L = 2, or Theorem 4's class for the B_l checks) must fail on the named theory entries
(``tests/test_mutants.py``).

The training target is shared by the training loss and the sandwich noise (``theory.lsa_multilayer.effective_weights``),
and the theory's optimum comes from the Wishart moments: a bug in either is caught by the checks whose other side is
independent of it (the literal model, the NumPy reference values, the exact moments).

Reference: docs page "lsa_multilayer", section "Code-path mutants".
"""

from __future__ import annotations

import dataclasses

import numpy as np

from icljax.experiment.api import Mutant, RunRef

# Theorem 4's class at CI size: L = 2, d = 3, n = 10 (at d = 5 one sample of 20000 prompts leaves the trained point
# outside its own noise after 200 L-BFGS steps), Sigma's eigenvalues (1, 0.5, 0.25).
WITH_B_GATE = RunRef("lsa_multilayer", ("with_b",), {"d": 3, "n": 10, "spectrum": (1.0, 0.5, 0.25),
                                                   "sample_size": 20_000, "steps": 300, "eval_prompts": 10_000,
                                                   "noise_prompts": 20_000})


def _moments_over_d(original):
  """Wishart trace moments normalised by d^k instead of n^k (S = Z^T Z / d)."""
  return lambda d, n, k_max: original(d, n, k_max) * (n / d) ** np.arange(k_max + 1)


def _last_step_scaled(original):
  """The PGD loss polynomial with the last layer's step multiplied by 1.1 (a coefficient typo in one factor)."""
  return lambda a, moments: original(a.at[-1].multiply(1.1), moments)


def _identity_prior(original):
  """Prompts drawn with w* ~ N(0, I) whatever the configured prior (the prior's square root never applied)."""
  return lambda key, spec, batch_size, weights=False: original(key, dataclasses.replace(spec, prior="identity"),
                                                               batch_size, weights=weights)


def _first_layer_scaled(original):
  """The Gram form (the training objective's model) with layer 0's A multiplied by 1.1."""
  return lambda params, stats: original({**params, "A": params["A"].at[0].multiply(1.1)}, stats)


def _factors_of_the_last_layers(original):
  """``b_l`` and ``Dist(B_l, I)`` read from the layers after the first (``B[1:]``) instead of before the last."""
  return lambda b: original(np.concatenate([b[1:], b[:1]]))


def _layers_reversed(original):
  """Theorem 4's recursion evaluated with the layers' steps in reverse order."""
  return lambda a, b, key, d, n, draws: original(a[::-1], b, key, d, n, draws)


MUTANTS = (
    Mutant("moments_over_d", "icljax.theory.lsa_multilayer_gd:trace_moments", _moments_over_d,
           "E tr S^k computed for S = Z^T Z / d instead of / n: the best PGD's steps are n/d times too small (its "
           "loss is the same: the steps and S scale inversely)", killed_by=("steps",)),
    Mutant("pgd_loss_last_step", "icljax.theory.lsa_multilayer_gd:pgd_loss", _last_step_scaled,
           "the L-step PGD loss uses 1.1 times the last layer's step: the optimum's steps are off, its loss is not",
           killed_by=("steps",)),
    Mutant("sampler_identity_prior", "icljax.tasks.regression:sample", _identity_prior,
           "the sampler ignores the inverse-covariance prior (w* ~ N(0, I)): Theorem 3 does not apply to the data",
           killed_by=("loss_vs_pgd", "reference_loss", "whitened_isotropic")),
    Mutant("gram_form_first_layer", "icljax.theory.lsa_multilayer:effective_weights", _first_layer_scaled,
           "the training objective's Gram form scales layer 0's A by 1.1: training learns a step 1/1.1 too small "
           "for the literal model", killed_by=("steps", "reference_steps")),
    Mutant("recursion_layers_reversed", "icljax.theory.lsa_multilayer:family_mean_and_gradient",
           _layers_reversed, "Theorem 4's recursion takes the layers in reverse order (with B_l the order matters)",
           killed_by=("family_stationary",), gate=WITH_B_GATE),
    Mutant("factors_off_by_one", "icljax.results.lsa_multilayer.plan:covariate_factors", _factors_of_the_last_layers,
           "the covariate factors B_l read from layers 1..L-1 (the last layer's B, which reaches nothing, is its "
           "initialisation) instead of 0..L-2", killed_by=("b_isotropic", "family_stationary"), gate=WITH_B_GATE),
)
