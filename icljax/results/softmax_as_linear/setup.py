"""The softmax-as-linear config, read once into frozen specs (one parsing function: ``parse``)."""

from __future__ import annotations

import dataclasses

import jax
import ml_collections

from icljax import validation
from icljax.experiment import specs
from icljax.tasks import softmax_as_linear as task

ESTIMATORS = ("marginal", "prompts")


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


def parse(config: ml_collections.ConfigDict) -> SalSetup:
  """Validates a config and reads it into specs; raises ``ConfigError`` naming the first bad field.

  Args:
    config: the config (``icljax/configs/softmax_as_linear.py`` lists every field and its range).

  Returns:
    The setup.
  """
  run = specs.run_spec(config)
  validation.integer("config.L", config.L, low=2)
  with jax.enable_x64(run.x64):
    spec = validation.as_config_field(
        task.make_spec, config.d, config.L, config.sigma, tokens=config.tokens, covariance_kind=config.covariance,
        rho=config.rho, scale=config.scale, prior_var=config.prior_var, data_bug=specs.boolean(config, "data_bug"))
  sizes = specs.positive_ints(config, "train_prompts", "test_prompts", "sandwich_prompts", "operator_queries",
                              "quadrature_degree", "concentration_pairs")
  lengths = tuple(validation.integer("config.concentration_L", n, low=1) for n in config.concentration_L)
  lambdas = tuple(validation.real("config.concentration_lambdas", x, low=0.0, low_open=True)
                  for x in config.concentration_lambdas)
  return SalSetup(run=run, task=spec, optimizer=specs.optimizer_spec(config), linear=specs.boolean(config, "linear"),
                  population=specs.boolean(config, "population"),
                  population_lr=validation.real("config.population_lr", config.population_lr, low=0.0, low_open=True),
                  population_substeps=validation.integer("config.population_substeps", config.population_substeps,
                                                         low=1),
                  init_alpha=validation.real("config.init_alpha", config.init_alpha, low=0.0, low_open=True),
                  estimator=validation.choice("config.estimator", config.estimator, ESTIMATORS),
                  train_prompts=sizes["train_prompts"], test_prompts=sizes["test_prompts"],
                  sandwich_prompts=sizes["sandwich_prompts"],
                  operator_tokens=validation.integer("config.operator_tokens", config.operator_tokens, low=0),
                  operator_queries=sizes["operator_queries"], quadrature_degree=sizes["quadrature_degree"],
                  concentration_lengths=lengths, concentration_lambdas=lambdas,
                  concentration_pairs=sizes["concentration_pairs"])
