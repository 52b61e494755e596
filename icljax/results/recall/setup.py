"""The noisy in-context recall config, read once into frozen specs (its fields are declared in ``config.py``).

Reference: docs page "recall", section "Setting".
"""

from __future__ import annotations

import dataclasses

from icljax import validation
from icljax.experiment import specs
from icljax.results.recall.config import RecallConfig
from icljax.tasks import recall as task


@dataclasses.dataclass(frozen=True)
class RecallSetup:
  """Everything a recall run reads.

  Attributes:
    run: name, seed, steps, logging, float64.
    task: the sentence distribution (alpha is an array leaf).
    kind: the model kind ('origin', 'reparam', 'reparam_w').
    attention: 'linear', 'relu' or 'softmax'.
    kappa: 1 (the feed-forward layer reads x_H + attention) or 0 (x_H only).
    d: the embedding dimension (None: 2V); the model's gamma is fixed in ``plan`` from the training noise.
    eta: the NGD step.
    batch_size: sentences per step.
    M: 0 for fresh batches (population), else the size of a finite training set.
    test_size: unseen-output test sentences.
    eval_size: fresh sentences of the population loss.

  Reference: Nguyen & Nguyen-Tang (2025), Definition 2.1 and Eq. (1); docs page "recall", section "Setting".
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
    """The model and data in words, e.g. ``reparam-linear-FA, alpha=0.5, population``.

    Returns:
      The text (the summary's ``setting`` scalar).

    Reference: docs page "recall", section "Setting".
    """
    alpha = float(self.task.alpha)
    return (f"{self.kind}-{self.attention}-{'FA' if self.kappa else 'F'}, alpha={alpha:g}"
            + (f", M={self.M}" if self.M else ", population"))


def parse(config: RecallConfig) -> RecallSetup:
  """Reads a validated recall config into specs; the rules that tie fields together raise ``ConfigError`` naming
  the field.

  Args:
    config: the typed config (every field already checked against its declaration).

  Returns:
    The setup.

  Raises:
    ConfigError: a rule that ties fields together is broken (token ids outside 0..V-2 or overlapping, H < 6 when
      noisy, 0 < M < batch_size, d < 2V).

  Reference: docs page "recall", sections "Setting" and "Fields".
  """
  spec = validation.as_config_field(task.make_spec, config.alpha, V=config.V, triggers=config.triggers,
                                    outputs=config.outputs, H=config.H)
  if config.M and config.M < config.batch_size:
    raise validation.ConfigError("config.M", config.M, f"0 (population) or >= batch_size = {config.batch_size}")
  if config.d is not None and config.d < 2 * spec.V:
    raise validation.ConfigError("config.d", config.d, f"None or an integer >= 2V = {2 * spec.V}")
  return RecallSetup(run=specs.run_spec(config), task=spec, kind=config.model, attention=config.attention,
                     kappa=config.kappa, d=config.d, eta=config.eta, batch_size=config.batch_size, M=config.M,
                     test_size=config.test_size, eval_size=config.eval_size)
