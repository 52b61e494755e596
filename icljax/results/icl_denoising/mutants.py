"""Plausible bugs in the code the in-context denoising checks cover, each killed by a science-gate run.

Reference: docs page "icl_denoising", section "Code-path mutants".
"""

import dataclasses

import jax
import jax.numpy as jnp

from icljax.experiment.api import Mutant, RunRef

SPHERE_GATE = RunRef("icl_denoising", ("sphere", "gate"))
MIXTURE_GATE = RunRef("icl_denoising", ("mixture", "gate"))

MUTANTS = (
    Mutant("noise_std_as_variance", "icljax.tasks.icl_denoising:corrupt",
           lambda orig: lambda key, clean, sigma_z_sq: orig(key, clean, sigma_z_sq**0.5),
           "the corruption is drawn with the standard deviation where the variance is expected",
           ("gamma_finite_L", "balanced", "bayes_risk", "projection_risk")),
    Mutant("gamma_without_finite_L", "icljax.theory.icl_denoising_linear:linear_gamma_star",
           lambda orig: lambda d, L, s0, sz: orig(d, 10**9, s0, sz),
           "gamma*_L without its (d+1)/L term (the paper's L -> infinity value)", ("gamma_finite_L", "balanced")),
    Mutant("subspace_bayes_swapped", "icljax.theory.icl_denoising:subspace_bayes_denoiser",
           lambda orig: lambda q, basis, s0, sz: orig(q, basis, sz, s0),
           "the subspace posterior mean with sigma0^2 and sigma_z^2 swapped", ("bayes_risk", "bayes_orthogonality")),
    Mutant("softmax_attends_to_query", "icljax.models.icl_denoising:softmax",
           lambda orig: lambda p, context, query: orig(p, _with_query(context, query), query),
           "softmax attention without App. D.2's mask: the query is a key and a value too",
           ("softmax_valley", "energy_step"), gate=SPHERE_GATE),
    Mutant("sphere_tokens_not_normalised", "icljax.tasks.icl_denoising:sphere_tokens",
           lambda orig: _unnormalised(orig), "sphere tokens drawn as Gaussians of the sphere's second moment "
           "(R^2/(d+1) per coordinate in the subspace), never normalised onto the sphere",
           ("softmax_valley", "gamma_finite_L", "bayes_risk"), gate=SPHERE_GATE),
    Mutant("bessel_orders_of_the_code", "icljax.theory.icl_denoising:sphere_bayes_denoiser",
           lambda orig: lambda q, basis, r, sz, order=None: orig(q, basis, r, sz, order=2 * basis.shape[-1] - 3),
           "the sphere posterior mean with the authors' code's Bessel orders I_{d-1/2}/I_{d-3/2}",
           ("bayes_orthogonality",), gate=SPHERE_GATE),
    Mutant("mixture_bayes_swapped", "icljax.theory.icl_denoising:mixture_bayes_denoiser",
           lambda orig: lambda q, mu, lw, s0, sz: orig(q, mu, lw, sz, s0),
           "Prop. 4's posterior mean with sigma0^2 and sigma_z^2 swapped",
           ("bayes_orthogonality", "tweedie", "empirical_posterior"), gate=MIXTURE_GATE),
    Mutant("mixture_variance_as_std", "icljax.tasks.icl_denoising:mixture_tokens",
           lambda orig: lambda key, spec, batch: orig(key, dataclasses.replace(spec, sigma0_sq=spec.sigma0_sq**2),
                                                      batch),
           "the cluster variance sigma0^2 used as the clusters' standard deviation",
           ("softmax_valley", "gamma_finite_L", "bayes_orthogonality"), gate=MIXTURE_GATE),
)


def _with_query(context, query):
  """The context with the query appended as a key and value."""
  return jnp.concatenate([context, query[:, None, :]], axis=1)


def _unnormalised(orig):
  """Sphere tokens R g / sqrt(d+1), g ~ N(0, I_{d+1}): the normalised draw times an independent chi_{d+1} norm."""
  def draw(key, spec, batch):
    out = orig(key, spec, batch)
    g = jax.random.normal(jax.random.fold_in(key, 7), out["tokens"].shape[:2] + (spec.d + 1,))
    return dict(out, tokens=out["tokens"] * jnp.linalg.norm(g, axis=-1, keepdims=True) / jnp.sqrt(spec.d + 1.0))
  return draw
