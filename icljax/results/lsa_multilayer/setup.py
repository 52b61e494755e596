"""The multi-layer config, read once into frozen specs."""

from __future__ import annotations

import dataclasses

import ml_collections

from icljax import validation
from icljax.experiment import specs
from icljax.models import lsa_multilayer as model
from icljax.tasks import regression


@dataclasses.dataclass(frozen=True)
class MultilayerSetup:
  """Everything a multi-layer run reads.

  Attributes:
    run: name, seed, steps, logging.
    task: the regression prompts (inverse-covariance prior, noiseless).
    model: d, n, L, initialisation scale, whether B_l is trained.
    optimizer: the optimiser (``specs.optimizer_spec``: Adam/SGD with a schedule, or L-BFGS).
    sample_size: 0: fresh batches of ``batch_size`` every step; > 0: one fixed sample of that many prompts (the
      authors' L-BFGS protocol; L-BFGS needs a deterministic loss).
    batch_size, eval_prompts: sample sizes.
    noise_prompts: fresh prompts that estimate the trained layers' sampling noise (the isotropy checks' tolerances).
  """

  run: specs.RunSpec
  task: regression.RegressionSpec
  model: model.MultilayerSpec
  optimizer: specs.OptimizerSpec
  sample_size: int
  batch_size: int
  eval_prompts: int
  noise_prompts: int

  @property
  def objective_prompts(self) -> int:
    """M, the prompts the training objective averages: the fixed sample, else one fresh batch."""
    return self.sample_size or self.batch_size


def parse(config: ml_collections.ConfigDict) -> MultilayerSetup:
  """Validates an ``lsa_multilayer`` config; raises ``ConfigError`` naming the first bad field.

  Args:
    config: the config (``icljax/configs/lsa_multilayer.py`` lists every field and its range).

  Returns:
    The setup.
  """
  run = specs.run_spec(config)
  task = validation.as_config_field(regression.make_spec, config.d, config.n, 0.0, spectrum=config.spectrum,
                                    rotation=config.rotation, rotation_seed=config.rotation_seed, prior="inv_cov")
  layers = validation.integer("config.L", config.L, low=1, high=4)
  layer_class = validation.choice("config.layer_class", config.layer_class, ("sparse", "with_b"))
  init_scale = validation.real("config.init_scale", config.init_scale, low=0.0, low_open=True)
  optimizer = specs.optimizer_spec(config)
  sample_size = validation.integer("config.sample_size", config.sample_size, low=0)
  if optimizer.optimizer == "lbfgs" and not sample_size:
    raise validation.ConfigError("config.sample_size", sample_size, ">= 1 with optimizer 'lbfgs' (it needs a "
                                 "deterministic loss: one fixed sample)")
  sizes = specs.positive_ints(config, "batch_size", "eval_prompts")
  noise_prompts = validation.integer("config.noise_prompts", config.noise_prompts, low=1000)
  if noise_prompts % 1000:
    raise validation.ConfigError("config.noise_prompts", noise_prompts, "a multiple of 1000, >= 1000")
  return MultilayerSetup(run=run, task=task, model=model.MultilayerSpec(task.d, task.n, layers, init_scale,
                                                                   train_b=layer_class == "with_b"),
                         optimizer=optimizer, sample_size=sample_size, batch_size=sizes["batch_size"],
                         eval_prompts=sizes["eval_prompts"], noise_prompts=noise_prompts)
