"""Linear-attention dynamics' code-path mutants: plausible bugs in the sampler, the closed forms, the exact-gradient
flow and the model's initialisation.

Each runs the science gate (ATTN_S at E1: an anisotropic Sigma in a random basis, distinct eigenvalues, so neither
the rotation nor the order is hidden) or, for a check that only exists at another setting, a gate of its own:
ATTN_M's escape slope (variant ``merged``, small) and Eq. 10's half-drop step (variant ``sigmoid``).
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np

from icljax.experiment.api import Mutant, RunRef

MERGED_GATE = RunRef("linattn_dynamics", ("merged",), {"steps": 8000, "log_every": 100, "replicas": 4,
                                                      "sample_size": 3000})
SIGMOID_GATE = RunRef("linattn_dynamics", ("sigmoid",))
SAMPLE, STAIRCASE, MOMENTS, FLOW, RATE, INIT = (
    "icljax.tasks.regression:sample", "icljax.theory.linattn_dynamics:staircase",
    "icljax.theory.linattn_dynamics:population_moments", "icljax.theory.linattn_dynamics:gd_curve",
    "icljax.theory.linattn_dynamics:escape_rate", "icljax.models.linattn_dynamics:init")


def _unrotated(sample):
  """x drawn with Sigma's eigenvalues on the coordinate axes: the Haar rotation of the spectrum dropped."""
  def mutated(key, spec, batch_size, weights=False):
    root = jnp.diag(jnp.sqrt(jnp.linalg.eigvalsh(spec.cov)[::-1])).astype(spec.sqrt_cov.dtype)
    return sample(key, dataclasses.replace(spec, sqrt_cov=root), batch_size, weights)
  return mutated


def _inverse_prior(sample):
  """w* = Sigma^-1/2 u whatever the prior: the inverse-covariance root used for every task prior."""
  def mutated(key, spec, batch_size, weights=False):
    return sample(key, dataclasses.replace(spec, prior="inv_cov", prior_sqrt=spec.inv_sqrt_cov), batch_size, weights)
  return mutated


def _unsorted(staircase):
  """The plateaus accumulated in eigh's increasing-eigenvalue order: the sort by decreasing a_d dropped."""
  def mutated(lam, n, sigma, prior="identity"):
    s = staircase(lam, n, sigma, prior)
    flipped = {k: s[k][::-1] for k in ("order", "lam", "a", "K", "gamma", "drops")}
    return {**flipped, "levels": s["levels"][0] - np.concatenate([[0.0], np.cumsum(flipped["drops"])])}
  return mutated


def _infinite_context(moments):
  """K = Lam Om Lam + ((tr(Lam Om) + sigma^2)/n) Lam: the (1 + 1/n) of the Wishart moment E[Lam_hat^2] dropped."""
  def mutated(cov, n, sigma, prior="identity"):
    c, b, h = moments(cov, n, sigma, prior)
    cov = np.asarray(cov, np.float64)
    lol = b.reshape(cov.shape)
    return c, b, h - np.kron(lol / n, cov)
  return mutated


def _half_time_step(gd_curve):
  """The exact-gradient flow stepped with dt/tau = lr instead of 2 lr (the MSE's missing 1/2 in Eq. 5)."""
  return lambda loss, params, learning_rate, steps: gd_curve(loss, params, learning_rate / 2, steps)


def _unnormalised_aligned(init):
  """ATTN_M's aligned init with U_i = s h_i I instead of s h_i I / sqrt(d) (Gamma(0) sqrt(d) times too large)."""
  def mutated(key, spec):
    params = init(key, spec)
    if spec.init_mode != "aligned":
      return params
    return dict(params, U=params["U"] * np.sqrt(spec.d))
  return mutated


MUTANTS = (
    Mutant("sampler_unrotated", SAMPLE, _unrotated,
           "the sampler draws x ~ N(0, diag(spectrum)): Sigma's eigenvalues on the coordinate axes, the Haar "
           "rotation dropped: the replicas learn other directions, at other times, and never reach L(M_1)",
           ("learning_order", "drop_times_mean")),
    Mutant("sampler_inverse_prior", SAMPLE, _inverse_prior,
           "the sampler draws w* ~ N(0, Sigma^-1) whatever the prior (the inverse-covariance root for every prior)",
           ("final_level", "gamma_final")),
    Mutant("staircase_unsorted", STAIRCASE, _unsorted,
           "in-context PCR accumulates the directions in eigh's increasing order: the sort by decreasing "
           "lam^2 om dropped", ("flow_plateau", "plateau_level", "learning_order")),
    Mutant("moments_infinite_context", MOMENTS, _infinite_context,
           "the population H = K (x) Lam with K's (1 + 1/n) Lam Om Lam written Lam Om Lam (the finite-context "
           "Wishart term dropped)", ("flow_plateau", "plateau_level")),
    Mutant("flow_time_halved", FLOW, _half_time_step,
           "the exact-gradient flow steps with dt/tau = lr instead of 2 lr (the MSE's 1/2 forgotten)",
           ("drop_times_mean",)),
    Mutant("escape_rate_operator_norm", RATE, lambda rate: lambda cov, prior="identity": float(
        np.linalg.norm(np.asarray(cov, np.float64) @ np.asarray(cov, np.float64) if prior == "identity"
                       else np.asarray(cov, np.float64), 2)),
           "ATTN_M's escape rate ||Lam Om Lam|| in the operator norm instead of the Frobenius norm",
           ("escape_slope",), gate=MERGED_GATE),
    Mutant("aligned_init_unnormalised", INIT, _unnormalised_aligned,
           "ATTN_M's aligned balanced init writes U_i = s h_i I, not s h_i I / sqrt(d) (norm sqrt(d) s)",
           ("half_drop",), gate=SIGMOID_GATE),
)
