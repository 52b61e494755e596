"""The lsa config, read once into frozen specs (task, model, optimiser, estimator, evaluation sizes); its fields are
declared in ``config.py``.

Reference: docs page "lsa", section "Setting".
"""

from __future__ import annotations

import dataclasses

import jax

from icljax import validation
from icljax.experiment import specs
from icljax.models import lsa
from icljax.results.lsa.config import LsaConfig
from icljax.tasks import regression, regression_statistics


@dataclasses.dataclass(frozen=True)
class LsaSetup:
  """Everything an lsa run reads.

  Attributes:
    run: name, seed, steps, logging.
    task: the prompt distribution (arrays: sigma, Sigma and its roots).
    model: the LSA and its convention.
    optimizer: Adam/SGD and the learning-rate schedule.
    estimator: ``'fresh'`` statistics every step, one ``'fixed'`` sample, or the ``'exact'`` population loss
      (``theory.lsa_exact``; linear targets).
    batch_size: fresh prompts per step.
    sample_size: prompts of the fixed sample.
    sampler: the resolved statistics sampler, ``'direct'`` or ``'wishart'``.
    eval_prompts: fresh prompts of the final MSE.
    theory_prompts: prompts of Monte-Carlo theory (eta_F of tanh networks, normal equations).

  Reference: docs page "lsa", section "Setting".
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


def parse(config: LsaConfig) -> LsaSetup:
  """Reads a validated lsa config into specs; the rules that tie fields together raise ``ConfigError`` naming the
  field.

  Args:
    config: the typed config (every field already checked against its declaration).

  Returns:
    The setup.

  Raises:
    ConfigError: a rule that ties fields together is broken (a spectrum whose length is not d, a prior spectrum
      without the prior 'spectrum' or the reverse, a nonlinear target with a prior other than 'identity', the
      exact estimator with nonlinear targets or in float32, L-BFGS on fresh prompts, the Wishart sampler where it
      does not apply).

  Reference: docs page "lsa", sections "Setting" and "Fields".
  """
  run = specs.run_spec(config)
  if config.optimizer == "lbfgs" and config.estimator == "fresh":
    raise validation.ConfigError("config.optimizer", "lbfgs", "'adam' or 'sgd' with estimator 'fresh' (L-BFGS needs "
                                 "a deterministic loss: estimator 'exact' or 'fixed')")
  with jax.enable_x64(run.x64):   # the task's arrays in the run's precision
    task = validation.as_config_field(
        regression.make_spec, config.d, config.n, config.sigma, spectrum=config.spectrum, rotation=config.rotation,
        rotation_seed=config.rotation_seed, prior=config.prior, target=config.activation, width=config.width,
        prior_spectrum=config.prior_spectrum)
  model = lsa.LsaSpec(d=config.d, n=config.n, normalization=config.normalization,
                      include_query=config.include_query, residual=config.residual,
                      parameterization=config.parameterization, init_scale=config.init_scale)
  if config.estimator == "exact" and task.target != "linear":
    raise validation.ConfigError("config.estimator", "exact", "'fresh' or 'fixed' for nonlinear targets (the exact "
                                 "population loss needs Gaussian labels)")
  if config.estimator == "exact" and not run.x64:
    raise validation.ConfigError("config.x64", config.x64, "True with estimator 'exact' (its checks are at float64 "
                                 "rounding)")
  sampler = validation.as_config_field(regression_statistics.resolve_sampler, task, config.sampler)
  return LsaSetup(run=run, task=task, model=model, optimizer=specs.optimizer_spec(config), estimator=config.estimator,
                  batch_size=config.batch_size, sample_size=config.sample_size, sampler=sampler,
                  eval_prompts=config.eval_prompts, theory_prompts=config.theory_prompts)
