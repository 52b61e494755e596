"""Typed specs every theorem shares: the run (name, seed, steps, logging, precision) and the optax optimiser, read
from the typed config; :class:`OptimizerFields` declares the optimiser's fields once for every theorem that has them.
"""

from __future__ import annotations

import dataclasses

import optax

from icljax import optim
from icljax.experiment import configs, fields

OPTIMIZERS = ("adam", "sgd", "lbfgs")
SCHEDULES = ("constant", "cosine")


@dataclasses.dataclass(frozen=True)
class RunSpec:
  """Fields of every run: name, seed, total steps, steps per metrics line, float64."""

  name: str
  seed: int
  steps: int
  log_every: int
  x64: bool = False


def run_spec(config: fields.Config) -> RunSpec:
  """The run's name (``config.name`` or derived), seed, steps, logging interval and precision.

  Args:
    config: a theorem's typed config.

  Returns:
    The run spec.

  Reference: docs page "concepts/configs", section "Each field declared once" (the fields of ``fields.Config``).
  """
  return RunSpec(name=configs.run_name(config), seed=config.seed, steps=config.steps, log_every=config.log_every,
                 x64=config.x64)


@dataclasses.dataclass(frozen=True, kw_only=True)
class OptimizerFields(fields.Config):
  """The optimiser's fields, for theorems trained by Adam, SGD or L-BFGS (derive the theorem's config from it)."""

  optimizer: str = fields.field("adam", "'adam', 'sgd', or 'lbfgs' (deterministic losses only)",
                                fields.Choice(*OPTIMIZERS))
  learning_rate: float = fields.field(3e-3, "peak learning rate", fields.Real(low=0.0, low_open=True),
                                      names_run=False)
  schedule: str = fields.field("cosine", "'cosine' (warmup + cosine decay) or 'constant'", fields.Choice(*SCHEDULES),
                               names_run=False)
  warmup_steps: int = fields.field(100, "linear warmup steps of the cosine schedule", fields.Int(low=0),
                                   names_run=False)
  final_lr_fraction: float = fields.field(0.01, "final / peak learning rate of the cosine schedule",
                                          fields.Real(low=0.0, high=1.0), names_run=False)


@dataclasses.dataclass(frozen=True)
class OptimizerSpec:
  """Adam or SGD with a constant or warmup + cosine learning-rate schedule, or L-BFGS (deterministic losses)."""

  optimizer: str
  learning_rate: float
  schedule: str
  warmup_steps: int
  final_lr_fraction: float
  steps: int

  def build(self) -> optax.GradientTransformation:
    """The optax transformation (``icljax.optim.adam``: device-count-independent arithmetic; ``lbfgs``:
    ``optax.lbfgs`` with its zoom line search, for deterministic objectives; it ignores the learning rate).

    Returns:
      The optimiser.

    Reference: docs page "concepts/configs", section "Each field declared once" (``OptimizerFields``).
    """
    lr, steps = self.learning_rate, self.steps
    if self.optimizer == "lbfgs":
      return optax.lbfgs(memory_size=30)
    if self.schedule == "constant":
      schedule = optax.constant_schedule(lr)
    else:
      warmup = min(self.warmup_steps, max(steps - 1, 0))
      schedule = optax.warmup_cosine_decay_schedule(0.0 if warmup else lr, lr, warmup, max(steps, warmup + 1),
                                                    end_value=lr * self.final_lr_fraction)
    return optim.adam(schedule) if self.optimizer == "adam" else optax.sgd(schedule)


def optimizer_spec(config: OptimizerFields) -> OptimizerSpec:
  """The optimiser of a config with :class:`OptimizerFields`.

  Args:
    config: the typed config (``steps`` is read too).

  Returns:
    The optimiser spec.

  Reference: docs page "concepts/configs", section "Each field declared once" (``OptimizerFields``).
  """
  return OptimizerSpec(optimizer=config.optimizer, learning_rate=config.learning_rate, schedule=config.schedule,
                       warmup_steps=config.warmup_steps, final_lr_fraction=config.final_lr_fraction,
                       steps=config.steps)
