"""Result 3's config, read once into frozen specs."""

from __future__ import annotations

import dataclasses

import ml_collections

from icljax import validation
from icljax.experiment import specs
from icljax.models import recall as model
from icljax.tasks import recall as task


@dataclasses.dataclass(frozen=True)
class RecallSetup:
  """Everything a result-3 run reads.

  Attributes:
    run: name, seed, steps, logging, float64.
    task: the sentence distribution (alpha is an array leaf).
    kind, attention, kappa, d: the model variant (its gamma is fixed in ``plan`` from the training noise).
    eta: the NGD step.
    batch_size: sentences per step.
    M: 0 for fresh batches (population), else the size of a finite training set.
    test_size: unseen-output test sentences; ``eval_size``: fresh sentences of the population loss.
  """

  run: specs.RunSpec
  task: task.RecallSpec
  kind: str
  attention: str
  kappa: int
  d: int | None
  eta: float
  batch_size: int
  M: int
  test_size: int
  eval_size: int

  @property
  def variant(self) -> str:
    """E.g. ``reparam-linear-FA, alpha=0.5, population``."""
    alpha = float(self.task.alpha)
    return (f"{self.kind}-{self.attention}-{'FA' if self.kappa else 'F'}, alpha={alpha:g}"
            + (f", M={self.M}" if self.M else ", population"))


def parse(config: ml_collections.ConfigDict) -> RecallSetup:
  """Validates a result-3 config and reads it into specs; raises ``ConfigError`` naming the first bad field.

  Args:
    config: the config (``icljax/configs/recall.py`` lists every field and its range).

  Returns:
    The setup.
  """
  run = specs.run_spec(config)
  kind = validation.choice("config.model", config.model, model.KINDS)
  attention = validation.choice("config.attention", config.attention, model.ATTENTIONS)
  if config.kappa not in (0, 1) or isinstance(config.kappa, bool):
    raise validation.ConfigError("config.kappa", config.kappa, "0 or 1")
  spec = validation.as_config_field(task.make_spec, config.alpha, V=config.V, triggers=tuple(config.triggers),
                                    outputs=tuple(config.outputs), H=config.H)
  eta = validation.real("config.eta", config.eta, low=0.0, low_open=True)
  sizes = specs.positive_ints(config, "batch_size", "test_size", "eval_size")
  m = validation.integer("config.M", config.M, low=0)
  if m and m < sizes["batch_size"]:
    raise validation.ConfigError("config.M", m, f"0 (population) or >= batch_size = {sizes['batch_size']}")
  if config.d is not None:
    validation.integer("config.d", config.d, low=2 * spec.V)
  return RecallSetup(run=run, task=spec, kind=kind, attention=attention, kappa=int(config.kappa), d=config.d, eta=eta,
                     batch_size=sizes["batch_size"], M=m, test_size=sizes["test_size"], eval_size=sizes["eval_size"])
