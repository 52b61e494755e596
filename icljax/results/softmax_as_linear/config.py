"""The softmax-as-linear config: every field declared once, the packaged config, its named variants (other prompt
lengths, noise, Toeplitz Sigma, the non-Gaussian controls, plain GD's two time scales, the authors' sampler, the
science gate's sizes) and ``quick``, and the run name derived from the fields.

Reference: docs page "softmax_as_linear", sections "Setting", "Fields" and "Reproducing the figures".
"""

from __future__ import annotations

import dataclasses
from typing import Any

from icljax.experiment import fields, specs
from icljax.experiment.api import Preset
from icljax.tasks import softmax_as_linear as task

ESTIMATORS = ("marginal", "prompts")   # the finite-L layers' loss: w and noise integrated, or sampled


def _lengths(value: Any) -> tuple[int, ...]:
  """A tuple of prompt lengths, each an integer >= 1 (``()``: no concentration curves)."""
  if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list)):
    raise ValueError(value)
  if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in value):
    raise ValueError(value)
  return tuple(int(n) for n in value)


@dataclasses.dataclass(frozen=True, kw_only=True)
class SalConfig(specs.OptimizerFields):
  """Tokens of one coordinate law (Gaussian for Lemma 2.1, uniform or Rademacher as controls), in-context
  regression prompts built from them, and one run that trains three layers: the softmax regression layer and linear
  attention at finite L on one fixed sample of prompts (``optimizer``), and the infinite-prompt layer on R_inf by
  plain GD; the operator and concentration checks need no training.

  Reference: Boursier & Boyer (2025), arXiv 2512.11784, Sec. 2 (Lemma 2.1), Sec. 3 (Prop. 3.1), Sec. 5 (Eq. 7-9,
  Thm 5.1); docs page "softmax_as_linear", section "Fields".
  """

  # Task (icljax.tasks.softmax_as_linear).
  tokens: str = fields.field("gaussian", "coordinate law of the tokens: 'gaussian' (Lemma 2.1), 'uniform' on "
                             "[-sqrt 3, sqrt 3] or 'rademacher' (the negative controls)", fields.Choice(*task.TOKENS))
  covariance: str = fields.field("isotropic", "Sigma = scale^2 I ('isotropic') or scale^2 rho^|i-j| ('toeplitz', "
                                 "the authors' design)", fields.Choice(*task.COVARIANCES))
  rho: float = fields.field(0.5, "Toeplitz correlation of neighbouring coordinates",
                            fields.Real(-1.0, 1.0, low_open=True, high_open=True))
  scale: float = fields.field(1.0, "token standard deviation along each coordinate",
                              fields.Real(low=0.0, low_open=True))
  data_bug: bool = fields.field(False, "the authors' sampler (commit 8fa49b3): context covariance R Sigma R^T, query "
                                "N(0, I)", fields.Bool())
  d: int = fields.field(5, "token dimension", fields.Int(low=1))
  L: int = fields.field(256, "tokens per prompt of the trained finite-L layers", fields.Int(low=2))
  sigma: float = fields.field(0.0, "label-noise standard deviation (context labels and the target)",
                              fields.Real(low=0.0))
  prior_var: float = fields.field(1.0, "variance s_w of each coordinate of w (the authors' code: 1/d)",
                                  fields.Real(low=0.0, low_open=True))
  # Layers and training: the finite-L layers on one fixed sample (full-batch steps).
  linear: bool = fields.field(True, "also train linear attention at the same L, on the same prompts, from the same "
                              "initialisation", fields.Bool())
  population: bool = fields.field(True, "also train the L = inf layer on R_inf by plain GD", fields.Bool())
  population_lr: float = fields.field(0.01, "GD step of the L = inf layer (stable below 2 / the largest curvature of "
                                      "R_inf at its end point: 4.47 for Sigma = I_5, 46.1 for Toeplitz 0.5, d = 5)",
                                      fields.Real(low=0.0, low_open=True), names_run=False)
  population_substeps: int = fields.field(200, "GD steps of the L = inf layer per training step (1 with 'sgd': "
                                          "lockstep)", fields.Int(low=1), names_run=False)
  init_alpha: float = fields.field(0.1, "balanced initialisation scale of Eq. (9)", fields.Real(low=0.0, low_open=True))
  estimator: str = fields.field("marginal", "'marginal' (w and label noise integrated per prompt) or 'prompts' "
                                "(sampled w and labels)", fields.Choice(*ESTIMATORS))
  train_prompts: int = fields.field(4096, "prompts of the fixed training sample (the trained layer is its "
                                    "M-estimator: names runs as M)", fields.Int(low=1))
  # Evaluation (sizes and which no-training checks run: they do not name runs).
  test_prompts: int = fields.field(20_000, "fresh prompts of the excess risks (softmax and linear paired)",
                                   fields.Int(low=1), names_run=False)
  sandwich_prompts: int = fields.field(2048, "fresh prompts of the trained parameters' sandwich covariance",
                                       fields.Int(low=1), names_run=False)
  operator_tokens: int = fields.field(100_000, "tokens of the large-L operator check (Lemma 2.1; 0: no operator "
                                      "checks)", fields.Int(low=0), names_run=False)
  operator_queries: int = fields.field(4, "random queries of the operator check", fields.Int(low=1), names_run=False)
  quadrature_degree: int = fields.field(40, "Gauss-Hermite nodes per dimension of Lemma 2.1's quadrature",
                                        fields.Int(low=1), names_run=False)
  concentration_L: tuple[int, ...] = fields.field(  # noqa: N815 (the command-line name of the old config)
      (1, 4, 16, 64, 256, 1024), "prompt lengths of the concentration curves (() none)",
      fields.Custom("a tuple of integers >= 1 (() for none)", _lengths, ((0,), (1.5,), "abc")), names_run=False)
  concentration_lambdas: tuple[float, ...] = fields.field(
      (0.05, 1.0), "lambda_max(U^T Sigma U) of the curves (U = sqrt(lambda) Sigma^-1/2, V = I): < 1/6 light tails "
      "(constant and slope checked), > 1/2 heavy tails", fields.Vector(positive=True), names_run=False)
  concentration_pairs: int = fields.field(2**19, "tokens per point of a curve (prompt-query pairs x L)",
                                          fields.Int(low=1), names_run=False)


PRESETS = (
    Preset("softmax_as_linear", """icljax-run --config=softmax_as_linear --workdir=runs/softmax_as_linear

About 20 seconds on a 2-core CPU (18 CPU-seconds with a warm compilation cache, 34 cold). Boursier & Boyer (2025),
"Softmax as linear attention in the large-prompt regime" (arXiv 2512.11784): x ~ N(0, I_5), w ~ N(0, I), noiseless
labels, L = 256 tokens per prompt. The run checks Lemma 2.1 (the Gaussian attention operator is linear: at 1e5
tokens and by quadrature), the 1/L concentration of the finite-prompt operator (its slope and constant, the slower
heavy-tail regime, the L = 1 boundary of Prop. 3.1), gradient descent on the infinite-prompt risk to Thm 5.1's
balanced end point, and the softmax layer trained at L = 256 (L-BFGS on 4096 fixed prompts) against its exact
finite-L optimum (t_L = 0.1506, b a = 0.9450, L excess = 84.99) and the first-order forms (t* = 0.1228, 1 - kappa/L
with kappa = 16.47, F(t*) = 95.78; the exact optimum at L = 2^16 against them), beside linear attention at the same
L (b a = 256/262, L excess 29.3). Variants: gate (the CI science gate: L = 64, smaller sizes, 12 CPU-seconds), L64 /
L1024 (other prompt lengths), noisy (sigma^2 = 0.1), toeplitz (Sigma = rho^|i-j|, rho = 0.5: the O(1/L) shape of
b A along Sigma^-1), uniform / rademacher (the non-Gaussian negative controls, d = 2), two_scales (plain GD from a
small balanced init at d = 2: the fast phase and the slow drift), official_bug (the authors' sampler with its bug,
at their scale: d = 5, Toeplitz 0.5, w ~ N(0, I/5), sigma^2 = 0.1, L = 1000).""",
           {"optimizer": "lbfgs", "learning_rate": 0.02, "warmup_steps": 20, "steps": 40, "log_every": 10}),
)
# The archive variants at the key run's Sigma and token law skip the operator and concentration checks (the same
# numbers as the key run's: they do not depend on L, sigma or the optimiser).
_TRAINED_ONLY = {"operator_tokens": 0, "concentration_L": ()}
VARIANTS: dict[str, dict[str, Any]] = {
    "gate": {"L": 64, "train_prompts": 2048, "test_prompts": 20_000, "sandwich_prompts": 2048,
             "operator_tokens": 100_000, "concentration_L": (1, 64, 256), "concentration_pairs": 2**18,
             "concentration_lambdas": (0.05,)},
    "L64": {"L": 64, "train_prompts": 16384, **_TRAINED_ONLY},
    "L1024": {"L": 1024, "train_prompts": 1024, **_TRAINED_ONLY},
    "noisy": {"sigma": 0.1**0.5, **_TRAINED_ONLY},
    "toeplitz": {"covariance": "toeplitz", "steps": 120},
    "uniform": {"tokens": "uniform", "d": 2, "population": False},
    "rademacher": {"tokens": "rademacher", "d": 2, "population": False},
    "two_scales": {"d": 2, "optimizer": "sgd", "schedule": "constant", "learning_rate": 0.2, "population_lr": 0.2,
                   "population_substeps": 1, "steps": 1500, "log_every": 5, "linear": False, "train_prompts": 2048,
                   "concentration_L": ()},
    "official_bug": {"covariance": "toeplitz", "prior_var": 0.2, "sigma": 0.1**0.5, "data_bug": True, "L": 1000,
                     "train_prompts": 1024, "steps": 300, "population_lr": 0.05},
}
QUICK = {"steps": 40, "log_every": 20, "train_prompts": 256, "test_prompts": 2000, "sandwich_prompts": 256,
         "operator_tokens": 20_000, "concentration_pairs": 2**14, "concentration_L": (1, 16, 64)}

SHORT = {"train_prompts": "M"}   # the fixed sample's size names runs as M (the docs page's symbol)


def run_name(config: SalConfig) -> str:
  """``softmax_as_linear``, then one part per field that names runs and differs from the packaged config, in
  declaration order: ``_<value>`` for a string (``_toeplitz``, ``_uniform``, ``_sgd``), ``_<field>`` /
  ``_no_<field>`` for a flag (``_data_bug``, ``_no_population``), ``_<field><value>`` for a number (``_L64``,
  ``_sigma0.316228``, ``_M2048`` for the training sample).

  Args:
    config: the typed config.

  Returns:
    The run name (``softmax_as_linear_L64_M16384`` for the variant ``L64``; the gate is
    ``softmax_as_linear_L64_M2048``).

  Reference: docs page "softmax_as_linear", section "Reproducing the figures" (the main job's run names).
  """
  base = fields.validate(SalConfig, dict(PRESETS[0].values))
  parts = [PRESETS[0].name]
  for key, f in fields.declarations(SalConfig).items():
    value = getattr(config, key)
    if f.metadata["names_run"] and value != getattr(base, key):
      parts.append(_part(SHORT.get(key, key), value))
  return "_".join(parts)


def _part(key: str, value: Any) -> str:
  if isinstance(value, bool):
    return key if value else f"no_{key}"
  if isinstance(value, str):
    return value
  return key + (f"{value:g}" if isinstance(value, float) else str(value))
