"""Typed specs every experiment shares: the run (seed, steps, logging, precision) and the optax optimiser.

Each experiment's ``setup`` reads its config once into frozen specs; these two are common to all of them.
"""

from __future__ import annotations

import dataclasses

import ml_collections
import optax

from icljax import optim, validation

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


def run_spec(config: ml_collections.ConfigDict) -> RunSpec:
  """Validates and reads ``name``, ``seed``, ``steps``, ``log_every`` (and ``x64`` when present).

  Args:
    config: the experiment config.

  Returns:
    The run spec.
  """
  x64 = config.get("x64", False)
  if not isinstance(x64, bool):
    raise validation.ConfigError("config.x64", x64, "True or False")
  return RunSpec(name=str(config.get("name", config.experiment)),
                 seed=validation.integer("config.seed", config.seed, low=0),
                 steps=validation.integer("config.steps", config.steps, low=1),
                 log_every=validation.integer("config.log_every", config.log_every, low=1), x64=x64)


def positive_ints(config: ml_collections.ConfigDict, *names: str) -> dict[str, int]:
  """Validates config fields that must be integers >= 1.

  Args:
    config: the experiment config.
    *names: field names.

  Returns:
    name -> value.
  """
  return {name: validation.integer(f"config.{name}", config[name], low=1) for name in names}


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


def optimizer_spec(config: ml_collections.ConfigDict) -> OptimizerSpec:
  """Validates and reads ``optimizer``, ``learning_rate``, ``schedule``, ``warmup_steps``, ``final_lr_fraction``.

  Args:
    config: the experiment config (``steps`` is read too).

  Returns:
    The optimiser spec.
  """
  return OptimizerSpec(
      optimizer=validation.choice("config.optimizer", config.optimizer, OPTIMIZERS),
      learning_rate=validation.real("config.learning_rate", config.learning_rate, low=0.0, low_open=True),
      schedule=validation.choice("config.schedule", config.schedule, SCHEDULES),
      warmup_steps=validation.integer("config.warmup_steps", config.warmup_steps, low=0),
      final_lr_fraction=validation.real("config.final_lr_fraction", config.final_lr_fraction, low=0.0, high=1.0),
      steps=validation.integer("config.steps", config.steps, low=1))


def boolean(config: ml_collections.ConfigDict, name: str) -> bool:
  """Validates a boolean config field.

  Args:
    config: the experiment config.
    name: field name.

  Returns:
    The value.
  """
  if not isinstance(config[name], bool):
    raise validation.ConfigError(f"config.{name}", config[name], "True or False")
  return config[name]
