"""The lsa theorem's config fields (each declared once), its packaged configs, named variants and run names.

Reference: docs page "lsa", sections "Setting" and "Fields".
"""

from __future__ import annotations

import dataclasses
from typing import Any

from icljax.experiment import configs, fields, specs
from icljax.experiment.api import Preset
from icljax.models import lsa as model
from icljax.tasks import regression, regression_statistics

ESTIMATORS = ("fresh", "fixed", "exact")


@dataclasses.dataclass(frozen=True, kw_only=True)
class LsaConfig(specs.OptimizerFields):
  """In-context regression (linear or random-network targets) and the one-layer linear self-attention trained on it.

  The defaults are Theorem 1's setting (the preset ``lsa_isotropic``).

  Reference: Mahankali, Hashimoto, Ma (2023), arXiv 2307.03576, Theorems 1-3 (task and model); docs page "lsa",
  section "Fields".
  """

  # Task (icljax.tasks.regression).
  d: int = fields.field(5, "covariate dimension (the leakage checks need d >= 2)", fields.Int(low=1))
  n: int = fields.field(20, "in-context examples per prompt", fields.Int(low=1))
  sigma: float = fields.field(0.5, "label-noise std (the query's label is noisy too)", fields.Real(low=0.0))
  spectrum: tuple[float, ...] | None = fields.field(
      None, "eigenvalues of Sigma (d numbers), or None for the identity", fields.Vector(positive=True, optional=True))
  rotation: str = fields.field("none", "Sigma's eigenbasis: 'none' (Sigma = diag(spectrum)) or 'random' (Haar)",
                               fields.Choice(*regression.ROTATIONS))
  rotation_seed: int = fields.field(1, "NumPy seed of the Haar rotation", fields.Int(low=0))
  prior: str = fields.field("identity", "w* ~ N(0, I) ('identity', Thm 1), N(0, Sigma^-1) ('inv_cov', Thm 2) or "
                            "N(0, U diag(prior_spectrum) U^T) ('spectrum', the negative control)",
                            fields.Choice(*regression.PRIORS))
  prior_spectrum: tuple[float, ...] | None = fields.field(
      None, "eigenvalues of the prior covariance Psi (d numbers) for prior 'spectrum', else None",
      fields.Vector(positive=True, optional=True))
  activation: str = fields.field("linear", "targets: 'linear', or random one-hidden-layer 'relu' / 'tanh' networks "
                                 "(Thm 3)", fields.Choice(*regression.TARGETS))
  width: int = fields.field(16, "hidden width m of the random target networks", fields.Int(low=1))
  # Model (icljax.models.lsa).
  parameterization: str = fields.field("full", "'full' (W_K, W_Q, W_V, h) or 'reduced' (w, M)",
                                       fields.Choice(*model.PARAMETERIZATIONS))
  normalization: str = fields.field("mean", "attention normalisation: 'mean' (1/n), 'sum' or 'mean_plus_one' "
                                    "(1/(n+1))", fields.Choice(*model.NORMALIZATIONS))
  include_query: bool = fields.field(False, "the query token is among the keys and values", fields.Bool())
  residual: bool = fields.field(False, "y_hat = h^T (v_query + attention)", fields.Bool())
  init_scale: float = fields.field(0.1, "std of the N(0, s^2) initialisation (all-zero is a saddle)",
                                   fields.Real(low=0.0, low_open=True), names_run=False)
  # Training.
  estimator: str = fields.field("fresh", "'fresh' prompts every step, one 'fixed' sample, or the 'exact' population "
                                "loss (linear targets, float64)", fields.Choice(*ESTIMATORS))
  batch_size: int = fields.field(4096, "fresh prompts per step (estimator 'fresh')", fields.Int(low=1),
                                 names_run=False)
  sample_size: int = fields.field(65536, "prompts of the fixed sample (estimator 'fixed')", fields.Int(low=1),
                                  names_run=False)
  sampler: str = fields.field("auto", "prompt statistics: 'direct', 'wishart' (linear targets, n >= d + 1) or "
                              "'auto'", fields.Choice(*regression_statistics.SAMPLERS), names_run=False)
  # Evaluation.
  eval_prompts: int = fields.field(200_000, "fresh prompts of the final MSE", fields.Int(low=1000), names_run=False)
  theory_prompts: int = fields.field(200_000, "prompts of the Monte-Carlo theory (eta_F of tanh networks, the "
                                     "normal equations of nonlinear targets with Sigma != I)", fields.Int(low=1000),
                                     names_run=False)


PRESETS = (
    Preset("lsa_isotropic", """icljax-run --config=lsa_isotropic --workdir=runs/lsa_isotropic

About 25 seconds on a 2-core CPU. Theorem 1 of Mahankali et al. (2023): x ~ N(0, I_5), w* ~ N(0, I), n = 20,
sigma = 0.5. The trained one-layer LSA implements one GD step with eta* = n/(n+d+1+sigma^2) = 0.7619 and reaches
L* = 1.4405. Variants: exact (L-BFGS on the exact population loss in float64, about 10 s), d1 (d = 1, n = 10: the
second optimum branch), control (the negative control: w* ~ N(0, diag(4, 2, 1, 0.5, 0.25)), a prior that is not
rotation invariant, so the optimum B* = Psi Sigma G^-1 is not plain GD); the eta* grid is this preset at
n=..., sigma=..., exact.""", {"steps": 3000}),
    Preset("lsa_preconditioned", """icljax-run --config=lsa_preconditioned --workdir=runs/lsa_preconditioned

About 25 seconds on a 2-core CPU. Theorem 2 of Mahankali et al. (2023): x ~ N(0, Sigma) with Sigma = U diag(1, 1,
0.25, 0.0625, 1) U^T (Haar U), n = 20, d = 5, sigma = 0, w* ~ N(0, Sigma^-1): the trained LSA implements one step
of GD preconditioned by Sigma^-1 with the same eta* = 0.7692 (Dist(S^1/2 B S^1/2, I) -> 0 while Dist(B, I) stays
large). Variants: identity_prior (w* ~ N(0, I): the preconditioner Gamma* = [((n+1)/n) Sigma + (tr Sigma/n) I]^-1
of Ahn et al.), other (d = 3, n = 8, sigma = 1, spectrum (2, 0.5, 0.25)), exact (L-BFGS on the exact population
loss, float64).""",
           # The Gamma* target has condition number ~1500 in the loss: the flat directions need a larger step (3e-3
           # leaves B 17% from Gamma* after 4000 steps, 1e-2 gives 0.8%; docs page "lsa").
           {"sigma": 0.0, "spectrum": (1.0, 1.0, 0.25, 0.0625, 1.0), "rotation": "random", "prior": "inv_cov",
            "steps": 4000, "learning_rate": 1e-2}),
    Preset("lsa_nonlinear", """icljax-run --config=lsa_nonlinear --workdir=runs/lsa_nonlinear

About 45 seconds on a 2-core CPU. Theorem 3 of Mahankali et al. (2023): targets are random one-hidden-layer networks
f(x) = sum_j a_j relu(u_j^T x), u_j ~ N(0, I), a_j ~ N(0, 1/m), x ~ N(0, I_5), n = 20, sigma = 0. The trained LSA
still implements plain one-step GD (B proportional to I), with the target-dependent step
eta_F = n/(n+2d+3+4 sigma^2) = 0.6061 (by Monte Carlo for tanh). Variant: tanh (tanh networks).""",
           {"sigma": 0.0, "activation": "relu", "steps": 4000}),
)
# The word 'exact': train on the exact population loss with L-BFGS in float64. Init scale 0.5: from 0.1 the path
# lingers near the all-zero saddle (1900 L-BFGS steps for Theorem 2's Sigma instead of 300); from 1.0 it can settle
# in a worse basin (docs page "lsa").
EXACT = {"estimator": "exact", "optimizer": "lbfgs", "x64": True, "steps": 600, "log_every": 100,
         "init_scale": 0.5, "eval_prompts": 100_000}
VARIANTS: dict[str, dict[str, Any]] = {
    "d1": {"d": 1, "n": 10},
    "control": {"prior": "spectrum", "prior_spectrum": (4.0, 2.0, 1.0, 0.5, 0.25)},
    "identity_prior": {"prior": "identity"},
    "other": {"d": 3, "n": 8, "sigma": 1.0, "spectrum": (2.0, 0.5, 0.25)},
    "tanh": {"activation": "tanh"},
    "exact": EXACT,
}
# Tiny sizes of the word 'quick' (smoke tests: the checks are not expected to pass).
QUICK = {"steps": 150, "batch_size": 512, "log_every": 50, "eval_prompts": 10_000, "theory_prompts": 10_000}


def run_name(config: LsaConfig) -> str:
  """The preset's name, then one part per run-naming field that differs from the preset (declaration order), then
  the names of the variants whose run-naming values the config carries in full (a variant's fields are named by the
  variant, not one by one): ``lsa_isotropic_n40_sigma1_exact``, ``lsa_preconditioned_identity_prior_exact``,
  ``lsa_isotropic_control_exact``.

  Args:
    config: the typed config.

  Returns:
    The run name.

  Reference: docs page "lsa", section "Reproducing the figures" (the main job's run names).
  """
  presets = {p.name: p for p in PRESETS}
  base = fields.validate(LsaConfig, presets[config.preset].values if config.preset in presets else {})
  naming = [k for k, f in fields.declarations(LsaConfig).items() if f.metadata["names_run"]]
  differ = {k for k in naming if getattr(config, k) != getattr(base, k)}
  named, covered = [], set()
  for variant, values in VARIANTS.items():
    keys, wanted = {k for k in values if k in naming}, fields.validate(LsaConfig, values)
    if keys & differ and all(getattr(config, k) == getattr(wanted, k) for k in keys):
      named.append(variant)
      covered |= keys
  parts = [configs.name_part(k, getattr(config, k)) for k in naming if k in differ - covered]
  return "_".join([config.preset or "lsa", *parts, *named])
