"""The lsa plan: the theory a run is compared with, and the objective on sufficient statistics.

Settings and their theory (``B`` is the odd-part matrix of ``icljax.structure``; 1/n-normalised GD convention):

| activation | Sigma | prior | theory B | L* |
|---|---|---|---|---|
| linear | I | any | eta* I, eta* = n/(n+d+1+sigma^2) | closed form (Thm 1) |
| linear | any | inv_cov | eta* Sigma^{-1} | closed form (Thm 2) |
| linear | not I | identity | Gamma* (Ahn et al.) | closed form |
| linear | any | spectrum (Psi) | Psi Sigma G^-1 (not plain GD: the negative control) | closed form (derived) |
| relu | I | - | eta_F I, eta_F = n/(n+2d+3+4 sigma^2) | closed form (Thm 3) |
| tanh | I | - | eta_F I, eta_F by Monte Carlo | MC of that predictor |
| nonlinear | not I | - | MSE-optimal B of x^T B g by MC normal equations | MC of that predictor |

Reference: Mahankali, Hashimoto, Ma (2023), Theorems 1-3; Ahn et al. (2023), Theorem 1 (Gamma*); every closed form
is derived on the docs page "lsa", section "What is checked and why".
"""

from __future__ import annotations

import dataclasses

import jax
import numpy as np

from icljax import estimators, prng, structure
from icljax.experiment.api import Plan
from icljax.models import lsa
from icljax.results.lsa.setup import LsaSetup
from icljax.tasks import regression_statistics
from icljax.theory import lsa as theory
from icljax.theory import lsa_exact
from icljax.theory import lsa_mc as theory_mc


@dataclasses.dataclass(frozen=True)
class Theory:
  """The predicted B and optimal loss of a setting, with their provenance.

  Attributes:
    B: the predicted odd-part matrix (1/n convention).
    eta: the predicted step (plain or whitened), or None where the theory is a matrix (Gamma*, B*_Psi, B_MC).
    L_star: the optimal loss in closed form, or None (Monte-Carlo settings).
    setting: the setting, in words.
    source: where the prediction comes from, in words.
    target_name: the prediction's name in the checks' text.
    cov: Sigma (float64).
    eta_mc: the Monte-Carlo step of nonlinear targets, if computed.
    eta_mc_se: its standard error.

  Reference: docs page "lsa", section "What is checked and why" (the table of settings).
  """

  B: np.ndarray
  eta: float | None
  L_star: float | None
  setting: str
  source: str
  target_name: str
  cov: np.ndarray
  eta_mc: float | None = None
  eta_mc_se: float | None = None


@dataclasses.dataclass(frozen=True)
class LsaContext:
  """What evaluation needs: the theory and the evaluation key.

  Reference: docs page "lsa", section "What is checked and why".
  """

  theory: Theory
  eval_key: jax.Array


def theory_for(setup: LsaSetup, key: jax.Array) -> Theory:
  """The theory of a setting (module table).

  Args:
    setup: the run's specs.
    key: key of the Monte-Carlo theory stream (tanh networks, anisotropic nonlinear targets).

  Returns:
    The theory.

  Reference: Mahankali et al. (2023), Theorems 1-3; Ahn et al. (2023), Theorem 1; docs page "lsa", section "What is
  checked and why" (the table of settings).
  """
  task = setup.task
  d, n, sigma = task.d, task.n, float(task.sigma)
  cov = np.asarray(task.cov, np.float64)
  if task.target == "linear" and task.prior == "spectrum":
    psi = np.asarray(task.prior_cov, np.float64)
    return Theory(B=theory.optimal_b_general(cov, psi, n, sigma), eta=None,
                  L_star=theory.optimal_loss_general(cov, psi, n, sigma),
                  setting="negative control (w* ~ N(0, Psi), Psi not a multiple of Sigma^-1: not plain GD)",
                  source="closed form B* = Psi Sigma G^-1 (derived on the docs page)", target_name="B*_Psi", cov=cov)
  if task.target == "linear":
    eta = theory.eta_star(n, d, sigma)
    if task.isotropic or task.prior == "inv_cov":
      return Theory(B=eta * theory.preconditioner_inv_cov(cov), eta=eta, L_star=theory.optimal_loss(n, d, sigma),
                    setting="isotropic" if task.isotropic else "preconditioned (w* ~ N(0, Sigma^-1))",
                    source="closed form eta* = n/(n+d+1+sigma^2)" + ("" if task.isotropic else " times Sigma^-1"),
                    target_name="eta* I" if task.isotropic else "eta* Sigma^-1", cov=cov)
    return Theory(B=theory.gamma_star(cov, n, sigma), eta=None,
                  L_star=theory.optimal_loss_identity_prior(cov, n, sigma), setting="preconditioned (w* ~ N(0, I))",
                  source="closed form Gamma* (Ahn et al. Thm 1)", target_name="Gamma*", cov=cov)
  if not task.isotropic:
    return Theory(B=theory_mc.optimal_B_mc(key, task, setup.theory_prompts), eta=None, L_star=None,
                  setting=f"nonlinear ({task.target}) with Sigma != I",
                  source=f"Monte-Carlo normal equations on {setup.theory_prompts} prompts", target_name="B_MC",
                  cov=cov)
  eta_hat, eta_se = theory_mc.eta_mc(key, task, setup.theory_prompts)
  if task.target == "relu":
    eta = theory.eta_relu_net(n, d, sigma)
    return Theory(B=eta * np.eye(d), eta=eta, L_star=theory.optimal_loss_relu_net(n, d, sigma),
                  setting="nonlinear (random ReLU networks)", source="closed form eta_F = n/(n+2d+3+4 sigma^2)",
                  target_name="eta_F I", cov=cov, eta_mc=eta_hat, eta_mc_se=eta_se)
  return Theory(B=eta_hat * np.eye(d), eta=eta_hat, L_star=None, setting=f"nonlinear (random {task.target} networks)",
                source=f"Monte Carlo eta_F on {setup.theory_prompts} prompts", target_name="eta_F I", cov=cov,
                eta_mc=eta_hat, eta_mc_se=eta_se)


def objective(setup: LsaSetup):
  """``(params, key, (task spec, fixed sample or None)) -> loss``.

  ``'fresh'`` draws ``batch_size`` prompts' sufficient statistics per step (the same function of the prompt as the
  attention form); ``'fixed'`` uses one sample (full-batch steps); ``'exact'`` is the population loss itself, with
  no sampling (``theory.lsa_exact``).

  Args:
    setup: the run's specs.

  Returns:
    The objective.

  Reference: Mahankali et al. (2023), the pre-training loss; docs page "lsa", section "Setting" (the estimators).
  """
  loss = estimators.squared_error(lambda p, b: lsa.apply(p, b, setup.model))

  def fn(params, key, hparams):
    task, sample = hparams
    if setup.estimator == "exact":
      return lsa_exact.population_loss(params, setup.model, task)
    if sample is not None:
      return loss(params, sample)
    return loss(params, regression_statistics.sample_statistics(key, task, setup.batch_size, setup.sampler))

  return fn


def plan(setup: LsaSetup) -> Plan[LsaContext]:
  """The plan of an lsa run (keys from the common stream table: init, data, eval, theory).

  Args:
    setup: the run's specs.

  Returns:
    The plan.

  Reference: docs page "lsa", section "Setting".
  """
  seed = setup.run.seed
  data_key = prng.stream(seed, "data")
  fixed = None
  if setup.estimator == "fixed":
    fixed = regression_statistics.sample_statistics(jax.random.fold_in(data_key, 1), setup.task, setup.sample_size,
                                                    setup.sampler)
  th = theory_for(setup, prng.stream(seed, "theory"))

  def track(p):
    blocks = structure.lsa_blocks(p, setup.model)
    leak = structure.leakage(blocks)
    return {"B_rel_err": structure.relative_error(blocks["B"], th.B), "leak_u_x": leak["u_x"],
            "leak_m_21": leak["m_21"]}

  return Plan(objective=objective(setup), params=lsa.init(prng.stream(seed, "init"), setup.model),
              hparams=(setup.task, fixed), optimizer=setup.optimizer.build(), data_key=data_key,
              context=LsaContext(theory=th, eval_key=prng.stream(seed, "eval")), track=track)
