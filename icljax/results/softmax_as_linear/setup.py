"""The softmax-as-linear config, read once into frozen specs (its fields are declared in ``config.py``).

Reference: docs page "softmax_as_linear", section "Setting".
"""

from __future__ import annotations

import dataclasses

import jax

from icljax.experiment import specs
from icljax.results.softmax_as_linear.config import SalConfig
from icljax.tasks import softmax_as_linear as task


@dataclasses.dataclass(frozen=True)
class SalSetup:
  """Everything a run reads.

  Attributes:
    run: name, seed, steps, logging.
    task: token law and prompt law (d, L, Sigma, noise, prior, the official sampler's bug).
    optimizer: the optimiser of the finite-L layers (softmax, and linear attention when ``linear``).
    linear: also train linear attention at the same L on the same prompts, from the same initialisation.
    population: also train the infinite-prompt layer on R_inf with plain GD at ``population_lr``.
    population_lr: the GD step of the population layer.
    population_substeps: GD steps of the population layer per training step.
    init_alpha: the balanced initialisation's scale (Eq. 9).
    estimator: ``'marginal'`` (w and label noise integrated per prompt) or ``'prompts'`` (sampled w and labels).
    train_prompts: the fixed training sample (full-batch steps).
    test_prompts: fresh prompts of the excess risks (softmax and linear on the same prompts).
    sandwich_prompts: fresh prompts of the trained parameters' sampling covariance.
    operator_tokens: tokens of the large-L operator check (0: no operator checks).
    operator_queries: random queries of the operator check.
    quadrature_degree: Gauss-Hermite nodes per dimension of Lemma 2.1's quadrature.
    concentration_lengths: prompt lengths of the concentration curves (empty: none).
    concentration_lambdas: ``lambda_max(U^T Sigma U)`` of the curves (``U = u I``, ``V = I``).
    concentration_pairs: tokens per point of a curve (prompt-query pairs x L).

  Reference: Boursier & Boyer (2025), Sec. 2-5 (the operator, the prompts of Eq. 7, the layers); docs page
  "softmax_as_linear", section "Setting".
  """

  run: specs.RunSpec
  task: task.TokenSpec
  optimizer: specs.OptimizerSpec
  linear: bool
  population: bool
  population_lr: float
  population_substeps: int
  init_alpha: float
  estimator: str
  train_prompts: int
  test_prompts: int
  sandwich_prompts: int
  operator_tokens: int
  operator_queries: int
  quadrature_degree: int
  concentration_lengths: tuple[int, ...]
  concentration_lambdas: tuple[float, ...]
  concentration_pairs: int


def parse(config: SalConfig) -> SalSetup:
  """Reads a validated softmax-as-linear config into specs (every field is checked against its declaration in
  ``config.py`` before this runs; no rule ties two fields together).

  Args:
    config: the typed config.

  Returns:
    The setup.

  Reference: docs page "softmax_as_linear", sections "Setting" and "Fields".
  """
  run = specs.run_spec(config)
  with jax.enable_x64(run.x64):
    spec = task.make_spec(config.d, config.L, config.sigma, tokens=config.tokens, covariance_kind=config.covariance,
                          rho=config.rho, scale=config.scale, prior_var=config.prior_var, data_bug=config.data_bug)
  return SalSetup(run=run, task=spec, optimizer=specs.optimizer_spec(config), linear=config.linear,
                  population=config.population, population_lr=config.population_lr,
                  population_substeps=config.population_substeps, init_alpha=config.init_alpha,
                  estimator=config.estimator, train_prompts=config.train_prompts, test_prompts=config.test_prompts,
                  sandwich_prompts=config.sandwich_prompts, operator_tokens=config.operator_tokens,
                  operator_queries=config.operator_queries, quadrature_degree=config.quadrature_degree,
                  concentration_lengths=config.concentration_L, concentration_lambdas=config.concentration_lambdas,
                  concentration_pairs=config.concentration_pairs)
