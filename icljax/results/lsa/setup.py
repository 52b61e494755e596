"""Result 1's config, read once into frozen specs (task, model, optimiser, estimator, evaluation sizes)."""

from __future__ import annotations

import dataclasses

import jax
import ml_collections

from icljax import validation
from icljax.experiment import specs
from icljax.models import lsa
from icljax.tasks import regression, regression_statistics

ESTIMATORS = ("fresh", "fixed", "exact")


@dataclasses.dataclass(frozen=True)
class LsaSetup:
  """Everything a result-1 run reads.

  Attributes:
    run: name, seed, steps, logging.
    task: the prompt distribution (arrays: sigma, Sigma and its roots).
    model: the LSA and its convention.
    optimizer: Adam/SGD and the learning-rate schedule.
    estimator: ``'fresh'`` statistics every step, one ``'fixed'`` sample, or the ``'exact'`` population loss
      (``theory.regression_exact``; linear targets).
    batch_size: fresh prompts per step.
    sample_size: prompts of the fixed sample.
    sampler: the resolved statistics sampler, ``'direct'`` or ``'wishart'``.
    eval_prompts: fresh prompts of the final MSE.
    theory_prompts: prompts of Monte-Carlo theory (eta_F of tanh networks, normal equations).
  """

  run: specs.RunSpec
  task: regression.RegressionSpec
  model: lsa.LsaSpec
  optimizer: specs.OptimizerSpec
  estimator: str
  batch_size: int
  sample_size: int
  sampler: str
  eval_prompts: int
  theory_prompts: int


def parse(config: ml_collections.ConfigDict) -> LsaSetup:
  """Validates a result-1 config and reads it into specs; raises ``ConfigError`` naming the first bad field.

  Args:
    config: the config (``icljax/configs/_lsa.py`` lists every field and its range).

  Returns:
    The setup.
  """
  run = specs.run_spec(config)
  validation.choice("config.activation", config.activation, regression.TARGETS)
  validation.integer("config.rotation_seed", config.rotation_seed, low=0)
  spectrum = None if config.spectrum is None else tuple(config.spectrum)
  with jax.enable_x64(run.x64):   # the task's arrays in the run's precision
    task = validation.as_config_field(
        regression.make_spec, config.d, config.n, config.sigma, spectrum=spectrum, rotation=config.rotation,
        rotation_seed=config.rotation_seed, prior=config.prior, target=config.activation, width=config.width,
        prior_spectrum=None if config.prior_spectrum is None else tuple(config.prior_spectrum))
  include_query, residual = specs.boolean(config, "include_query"), specs.boolean(config, "residual")
  model = validation.as_config_field(
      lsa.LsaSpec, d=config.d, n=config.n, normalization=config.normalization, include_query=include_query,
      residual=residual, parameterization=config.parameterization, init_scale=config.init_scale)
  sizes = specs.positive_ints(config, "batch_size", "sample_size")
  estimator = validation.choice("config.estimator", config.estimator, ESTIMATORS)
  if estimator == "exact" and task.target != "linear":
    raise validation.ConfigError("config.estimator", estimator, "'fresh' or 'fixed' for nonlinear targets (the "
                                 "exact population loss needs Gaussian labels)")
  if estimator == "exact" and not run.x64:
    raise validation.ConfigError("config.x64", config.x64, "True with estimator 'exact' (its checks are at float64 "
                                 "rounding)")
  sampler = validation.as_config_field(regression_statistics.resolve_sampler, task, config.sampler)
  return LsaSetup(run=run, task=task, model=model, optimizer=specs.optimizer_spec(config), estimator=estimator,
                  batch_size=sizes["batch_size"], sample_size=sizes["sample_size"], sampler=sampler,
                  eval_prompts=validation.integer("config.eval_prompts", config.eval_prompts, low=1000),
                  theory_prompts=validation.integer("config.theory_prompts", config.theory_prompts, low=1000))
