"""Result 3's code-path mutants: plausible bugs in the sampler, the theory, the optimiser and the model.

Each runs the science gate (Reparam-Linear-FA at alpha = 0.2, where gamma != 0 and the training loss sees the noise)
or, for a check that only exists at another setting, a gate of its own: kappa = 0 (P9's oscillation), softmax
attention (P5's plateau) and the noiseless task (P4's trajectory).

Reference: docs page "recall", section "Code-path mutants".
"""

from __future__ import annotations

import dataclasses
import math

import jax.numpy as jnp
import optax

from icljax.experiment.api import Mutant, RunRef

_SMALL = {"H": 32, "eval_size": 256, "test_size": 64}
KAPPA0_GATE = RunRef("recall", ("reparam_linear_F_a0.5",), {"alpha": 0.2, "steps": 400, **_SMALL})
SOFTMAX_GATE = RunRef("recall", ("reparam_softmax_FA_a0.5",), {"alpha": 0.2, "steps": 200, **_SMALL})
NOISELESS_GATE = RunRef("recall", ("reparam_linear_FA_a0",), {"steps": 100, **_SMALL})


def _ignore_noise(sample):
  def mutated(key, spec, batch_size, unseen=False):
    batch = sample(key, spec, batch_size, unseen)
    return dict(batch, target=batch["y"], noise=jnp.zeros_like(batch["noise"]))
  return mutated


def _half_alpha(sample):
  def mutated(key, spec, batch_size, unseen=False):
    return sample(key, dataclasses.replace(spec, alpha=spec.alpha / 2), batch_size, unseen)
  return mutated


def _kappa_dropped(parts):
  return lambda params, batch, m: parts(params, batch, dataclasses.replace(m, kappa=0))


SAMPLE, GAMMA, ENTROPY, NGD, PARTS = ("icljax.tasks.recall:sample", "icljax.theory.recall:gamma",
                                      "icljax.theory.recall:entropy", "icljax.optim:normalize_per_tensor",
                                      "icljax.models.recall:parts")

MUTANTS = (
    Mutant("sampler_ignores_noise", SAMPLE, _ignore_noise,
           "the sampler writes the (q, tau) bigram but never makes tau the target (noise flags all False)",
           ("train_loss", "p_noise_limit")),
    Mutant("sampler_half_alpha", SAMPLE, _half_alpha, "the sampler draws the noise flags at alpha / 2",
           ("train_loss", "p_noise_limit")),
    Mutant("gamma_sign_flipped", GAMMA, lambda gamma: lambda alpha: -gamma(alpha),
           "the feed-forward weight gamma = ln((1 - alpha)/alpha) instead of ln(alpha/(1 - alpha))",
           ("bayes_excess", "train_loss", "p_noise_limit")),
    Mutant("entropy_in_bits", ENTROPY, lambda entropy: lambda alpha: entropy(alpha) / math.log(2.0),
           "the Bayes risk H(alpha) in bits (log2) where the losses are in nats", ("train_loss",)),
    Mutant("ngd_unnormalised", NGD, lambda normalize: optax.identity,
           "the per-tensor gradient normalisation is dropped: plain GD with step eta",
           ("lam_trajectory", "bayes_excess", "train_loss")),
    Mutant("kappa_path_dropped", PARTS, _kappa_dropped,
           "the feed-forward layer reads x_H alone: the attention output's kappa path is never added",
           ("lam_trajectory", "bayes_excess", "train_loss", "p_noise_limit")),
    Mutant("sampler_half_alpha_kappa0", SAMPLE, _half_alpha, "the sampler draws the noise flags at alpha / 2 "
           "(kappa = 0, where the oscillation's centre depends on the data's noise)", ("kappa0_plateau",),
           gate=KAPPA0_GATE),
    Mutant("gamma_sign_flipped_softmax", GAMMA, lambda gamma: lambda alpha: -gamma(alpha),
           "gamma sign-flipped, seen by the softmax model's plateau", ("softmax_plateau",), gate=SOFTMAX_GATE),
    Mutant("ngd_unnormalised_noiseless", NGD, lambda normalize: optax.identity,
           "the per-tensor gradient normalisation is dropped, seen by the noiseless lam trajectory",
           ("lam_noiseless",), gate=NOISELESS_GATE),
)
