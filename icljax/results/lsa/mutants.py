"""Plausible bugs in the code the lsa checks cover, each planted in one library function; the science gate
(Theorem 2 on the exact population loss, d = 3, n = 8, sigma = 1: the noise moves eta* by 8%) or a CI-sized Adam run
must fail on the named theory entries (``tests/test_mutants.py``).

Gates other than the theorem's own: Ahn et al.'s prior w* ~ N(0, I) on the exact loss (Gamma*), and Adam on fresh
prompts for the fixed-tolerance entries (Wishart statistics, Gamma*, tanh networks).

Reference: docs page "lsa", section "Code-path mutants".
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from icljax import stats
from icljax.experiment.api import Mutant, RunRef
from icljax.models import lsa
from icljax.tasks import regression
from icljax.theory import lsa as theory

_ADAM = {"steps": 1500, "eval_prompts": 50_000}
GAMMA_EXACT = RunRef("lsa_preconditioned", ("other", "identity_prior", "exact"), {"init_scale": 0.1})
FRESH = RunRef("lsa_preconditioned", ("other",), {"sampler": "wishart", **_ADAM})
GAMMA_FRESH = RunRef("lsa_preconditioned", ("other", "identity_prior"), _ADAM)
TANH = RunRef("lsa_nonlinear", ("tanh",), {"d": 3, "n": 8, **_ADAM, "theory_prompts": 50_000})


def _eta_without_noise(original):
  """eta* = n/(n+d+1): the label noise's sigma^2 dropped from the denominator."""
  return lambda n, d, sigma, convention="mean": original(n, d, 0.0, convention)


def _gamma_without_noise(original):
  """Gamma* with (tr Sigma)/n in place of (tr Sigma + sigma^2)/n."""
  return lambda cov, n, sigma: original(cov, n, 0.0)


def _whiten_inverse_root(original):
  """Sigma^-1/2 B Sigma^-1/2 in place of Sigma^1/2 B Sigma^1/2."""
  return lambda b, cov: original(b, np.linalg.inv(np.asarray(cov, np.float64)))


def _blocks_label_first(original):
  """The label slot read as the first coordinate of u and M (u_y = u[0], u_x = u[1:], m_21 = M[0, 1:])."""
  del original

  def lsa_blocks(params, spec):
    reduced = params if "M" in params else lsa.reduce(params, spec)
    u, m = np.asarray(reduced["w"], np.float64), np.asarray(reduced["M"], np.float64)
    u_x, u_y, m_11, m_21 = u[1:], u[0], m[1:, 1:], m[0, 1:]
    b = spec.n * lsa.norm_factor(spec.n, spec.normalization) * (u_y * m_11.T + np.outer(m_21, u_x))
    return {"u_x": u_x, "u_y": np.float64(u_y), "M_11": m_11, "m_21": m_21, "B": b}

  return lsa_blocks


def _exact_loss_identity_prior(original):
  """The exact population loss with w* ~ N(0, I) whatever the configured prior."""
  return lambda params, model, spec: original(params, model, dataclasses.replace(
      spec, prior="identity", prior_sqrt=np.eye(spec.d, dtype=spec.cov.dtype)))


def _chi_square_dof_plus_one(original):
  """Bartlett's chi-square draws with one degree of freedom too many (n - j + 1)."""
  return lambda key, dof: original(key, dof + 1.0)


def _sampler_without_noise(original):
  """Raw prompts drawn without label noise (sigma ignored)."""
  return lambda key, spec, batch_size, weights=False: original(key, dataclasses.replace(spec, sigma=spec.sigma * 0),
                                                               batch_size, weights=weights)


def _eta_mc_first_example(original):
  """The Monte-Carlo step of nonlinear targets, E[y x^T g] / E|g|^2, with the first context example (which g
  contains) in place of the query."""
  del original

  def eta_mc(key, spec, num_prompts=200_000, chunk=10_000):
    def stat(p):
      g = theory.gd_statistic(p)
      return jnp.stack([p["y"][:, 0] * jnp.einsum("bd,bd->b", p["x"][:, 0], g), jnp.sum(g**2, -1)], -1)

    mean = np.asarray(jax.jit(lambda k: stats.monte_carlo(stat, lambda k, b: regression.sample(k, spec, b), k,
                                                          num_prompts, chunk))(key)[0])
    return float(mean[0] / mean[1]), 0.0

  return eta_mc


MUTANTS = (
    Mutant("eta_star_without_noise", "icljax.theory.lsa:eta_star", _eta_without_noise,
           "eta* drops sigma^2 from n/(n+d+1+sigma^2): the predicted B and L* assume noiseless labels",
           killed_by=("B_exact", "step_size_exact", "exact_loss", "mse_vs_L_star", "pred_rms_exact")),
    Mutant("whiten_inverse_root", "icljax.structure:whiten", _whiten_inverse_root,
           "whitening by Sigma^-1/2 instead of Sigma^1/2", killed_by=("dist_whitened_exact", "step_size_exact")),
    Mutant("blocks_label_first", "icljax.structure:lsa_blocks", _blocks_label_first,
           "the label slot of u and M read as the first coordinate, not the last",
           killed_by=("leakage_exact", "B_exact")),
    Mutant("exact_loss_identity_prior", "icljax.theory.lsa_exact:population_loss", _exact_loss_identity_prior,
           "the exact population loss ignores the task prior (w* ~ N(0, I)): training lands on Gamma*",
           killed_by=("B_exact", "dist_whitened_exact")),
    Mutant("gamma_star_without_noise", "icljax.theory.lsa:gamma_star", _gamma_without_noise,
           "Gamma* drops sigma^2 from (tr Sigma + sigma^2)/n", killed_by=("B_exact", "dist_whitened_gamma_exact"),
           gate=GAMMA_EXACT),
    Mutant("wishart_dof_plus_one", "icljax.tasks.regression_statistics:chi_square", _chi_square_dof_plus_one,
           "the Wishart statistics sampler draws chi^2(n - j + 1): training sees n + 1 examples' Gram matrices",
           killed_by=("B_rel_err", "step_size"), gate=FRESH),
    Mutant("eta_star_without_noise_adam", "icljax.theory.lsa:eta_star", _eta_without_noise,
           "as eta_star_without_noise, against an Adam run", gate=FRESH,
           killed_by=("B_rel_err", "step_size", "pred_rms", "mse_vs_L_star")),
    Mutant("blocks_label_first_adam", "icljax.structure:lsa_blocks", _blocks_label_first,
           "as blocks_label_first, against an Adam run", killed_by=("leakage", "B_rel_err"), gate=FRESH),
    Mutant("sampler_without_noise", "icljax.tasks.regression:sample", _sampler_without_noise,
           "raw prompts drawn without label noise: the evaluation MSE misses sigma^2", killed_by=("mse_vs_L_star",),
           gate=FRESH),
    Mutant("whiten_inverse_root_adam", "icljax.structure:whiten", _whiten_inverse_root,
           "as whiten_inverse_root, against an Adam run", killed_by=("dist_whitened", "step_size"), gate=FRESH),
    Mutant("gamma_star_without_noise_adam", "icljax.theory.lsa:gamma_star", _gamma_without_noise,
           "as gamma_star_without_noise, against an Adam run", killed_by=("B_rel_err_gamma",), gate=GAMMA_FRESH),
    Mutant("eta_mc_first_example", "icljax.theory.lsa_mc:eta_mc", _eta_mc_first_example,
           "the Monte-Carlo step of tanh targets correlates g with the first context example instead of the query",
           killed_by=("mse_vs_theory_predictor", "step_size"), gate=TANH),
)
