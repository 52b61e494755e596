"""The in-context denoising config, read once into frozen specs (one function: the config redesign replaces it)."""

from __future__ import annotations

import dataclasses

import ml_collections

from icljax import validation
from icljax.experiment import specs
from icljax.tasks import icl_denoising as task


@dataclasses.dataclass(frozen=True)
class DenoisingSetup:
  """Everything an in-context denoising run reads.

  Attributes:
    run: name, seed, steps, logging.
    task: the task family, sizes and variances.
    replicas: independent initialisations and data streams, each training both denoisers.
    batch_size: fresh prompts per replica and step.
    linear_lr: plain full-batch GD step of linear attention.
    softmax_lr: Adam's initial rate of softmax attention.
    final_lr_fraction: softmax: cosine decay to this fraction.
    eval_prompts: fresh prompts of the risks and the Bayes checks.
    theory_prompts: the theory's own prompts (finite-L valleys, the mixture's linear optimum).
  """

  run: specs.RunSpec
  task: task.DenoisingSpec
  replicas: int
  batch_size: int
  linear_lr: float
  softmax_lr: float
  final_lr_fraction: float
  eval_prompts: int
  theory_prompts: int


def parse(config: ml_collections.ConfigDict) -> DenoisingSetup:
  """Validates an ``icl_denoising`` config; raises ``ConfigError`` naming the first bad field.

  Args:
    config: the config (``icljax/configs/icl_denoising.py`` lists every field and its range).

  Returns:
    The setup.
  """
  run = specs.run_spec(config)
  spec = validation.as_config_field(task.make_spec, config.task, config.n, config.d, config.L, config.sigma0_sq,
                                    config.sigma_z_sq, radius=config.radius, K=config.K)
  lr = {name: validation.real(f"config.{name}", config[name], low=0.0, low_open=True)
        for name in ("linear_lr", "softmax_lr")}
  return DenoisingSetup(
      run=run, task=spec, replicas=validation.integer("config.replicas", config.replicas, low=2, high=32),
      batch_size=validation.integer("config.batch_size", config.batch_size, low=1),
      linear_lr=float(lr["linear_lr"]), softmax_lr=float(lr["softmax_lr"]),
      final_lr_fraction=float(validation.real("config.final_lr_fraction", config.final_lr_fraction, low=0.0,
                                              high=1.0)),
      eval_prompts=validation.integer("config.eval_prompts", config.eval_prompts, low=1000),
      theory_prompts=validation.integer("config.theory_prompts", config.theory_prompts, low=1000))
