"""The in-context denoising config, read once into frozen specs (its fields are declared in ``config.py``).

Reference: docs page "icl_denoising", section "Setting".
"""

from __future__ import annotations

import dataclasses

from icljax import validation
from icljax.experiment import specs
from icljax.results.icl_denoising.config import DenoisingConfig
from icljax.tasks import icl_denoising as task


@dataclasses.dataclass(frozen=True)
class DenoisingSetup:
  """Everything an in-context denoising run reads.

  Attributes:
    run: name, seed, steps, logging.
    task: the task family, sizes and variances.
    replicas: independent initialisations and data streams, each training both denoisers.
    batch_size: fresh prompts per replica and step.
    linear_lr: plain GD's initial step of linear attention.
    softmax_lr: Adam's initial rate of softmax attention.
    final_lr_fraction: both rates decay (cosine) to this fraction.
    eval_prompts: fresh prompts of the risks and the Bayes checks.
    theory_prompts: the theory's own prompts (finite-L valleys, the mixture's linear optimum).

  Reference: Smart, Bietti & Sengupta (2025), Sections 2.1-2.2 and eq. (9); docs page "icl_denoising", section
  "Setting".
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


def parse(config: DenoisingConfig) -> DenoisingSetup:
  """Reads a validated in-context denoising config into specs; the rules that tie fields together (d against n and
  the family, sigma0^2 > 0 on subspaces) raise ``ConfigError`` naming the field.

  Args:
    config: the typed config (every field already checked against its declaration).

  Returns:
    The setup.

  Raises:
    ConfigError: d > n on subspaces or d > n - 1 on spheres and mixtures, or sigma0_sq = 0 on subspaces.

  Reference: docs page "icl_denoising", sections "Setting" and "Fields".
  """
  spec = validation.as_config_field(task.make_spec, config.task, config.n, config.d, config.L, config.sigma0_sq,
                                    config.sigma_z_sq, radius=config.radius, K=config.K)
  return DenoisingSetup(run=specs.run_spec(config), task=spec, replicas=config.replicas,
                        batch_size=config.batch_size, linear_lr=config.linear_lr, softmax_lr=config.softmax_lr,
                        final_lr_fraction=config.final_lr_fraction, eval_prompts=config.eval_prompts,
                        theory_prompts=config.theory_prompts)
