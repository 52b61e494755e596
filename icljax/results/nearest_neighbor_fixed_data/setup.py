"""The Fig. 3 config, read once into frozen specs (its fields are declared in ``config.py``).

Reference: docs page "nearest_neighbor_fixed_data", section "Setting".
"""

from __future__ import annotations

import dataclasses

from icljax import validation
from icljax.experiment import specs
from icljax.models import nearest_neighbor as model
from icljax.results.nearest_neighbor.setup import model_and_step, reference_value, shift_spec
from icljax.results.nearest_neighbor_fixed_data.config import FixedDataConfig
from icljax.tasks import nearest_neighbor as task
from icljax.tasks import nearest_neighbor_shift as shift


@dataclasses.dataclass(frozen=True)
class FixedDataSetup:
  """Everything a Fig. 3 run reads.

  Attributes:
    run: name, seed, steps, logging.
    task: the training distribution of 1-NN prompts (d, N, Rademacher labels).
    model: W_0 and its random perturbation.
    eta: the SGD step on W (the population system's xi1 moves by eta/d).
    replicas: independent chains, each with its own data set, initialisation and population sample.
    dataset_size: prompts in each chain's fixed data set.
    batch_size: prompts per SGD step (drawn with replacement from the data set).
    tau_samples: inner products of each chain's population sample.
    eval_tau_samples: fresh inner products on which the population systems' loss is read.
    shift: ``(name, spec)`` of the shifted test distribution; ``R`` its label bound.
    test_prompts: prompts of the shifted test set.
    references: P6 rows that apply (init W_0, same d, N, sigma), as ``(step, eta_ref, xi1, xi2)`` with ``step`` this
      run's step at the row's eta t and each value ``(value, rounding)``; ``skipped``: notes on the others.

  Reference: Li et al. (2024), Sec. 5 (Fig. 3), Assumptions 1-3 and Appendix B; docs page
  "nearest_neighbor_fixed_data", section "Setting".
  """

  run: specs.RunSpec
  task: task.NNSpec
  model: model.NNModelSpec
  eta: float
  replicas: int
  dataset_size: int
  batch_size: int
  tau_samples: int
  eval_tau_samples: int
  shift: tuple[str, shift.ShiftSpec]
  R: float
  test_prompts: int
  references: tuple = ()
  skipped: tuple[str, ...] = ()

  @property
  def epochs_per_step(self) -> float:
    """Passes over the data set per step.

    Returns:
      ``batch_size / dataset_size``.

    Reference: docs page "nearest_neighbor_fixed_data", section "Setting".
    """
    return self.batch_size / self.dataset_size


def parse(config: FixedDataConfig) -> FixedDataSetup:
  """Reads a validated Fig. 3 config into specs; the rules that tie fields together raise ``ConfigError`` naming the
  field.

  Args:
    config: the typed config (every field already checked against its declaration).

  Returns:
    The setup.

  Raises:
    ConfigError: a data set smaller than one batch, or a shift the setting does not admit (Appendix B needs N >= 2).

  Reference: docs page "nearest_neighbor_fixed_data", sections "Setting" and "Fields".
  """
  run = specs.run_spec(config)
  d, n, model_spec, eta = model_and_step(config)
  if config.dataset_size < config.batch_size:
    raise validation.ConfigError("config.dataset_size", config.dataset_size,
                                 f"an integer >= batch_size = {config.batch_size}")
  references, skipped = _references(config, run, eta)
  return FixedDataSetup(
      run=run, task=task.make_spec(d, n), model=model_spec, eta=eta, replicas=config.replicas,
      dataset_size=config.dataset_size, batch_size=config.batch_size, tau_samples=config.tau_samples,
      eval_tau_samples=config.eval_tau_samples, shift=(config.shift, shift_spec(config, config.shift, "config.shift")),
      R=config.R, test_prompts=config.test_prompts, references=references, skipped=tuple(skipped))


def _references(config: FixedDataConfig, run: specs.RunSpec, eta: float) -> tuple[tuple, list[str]]:
  """The ``references`` rows ``((d, N, sigma, eta_ref), t, xi1, xi2)`` of this run's setting (from W_0) whose eta t
  is a logged step of this run, and a note on each row of the setting that is not."""
  keep, skipped = [], []
  for (d, n, sigma, eta_ref), t, *values in config.references:
    if (d, n, sigma) != (config.d, config.N, config.sigma) or config.init != "paper":
      continue
    step = round(t * eta_ref / eta)
    if abs(step * eta - t * eta_ref) > 1e-9 * t or step > run.steps or step % run.log_every:
      skipped.append(f"references: row t = {t} at eta {eta_ref:g} skipped (eta t = {t * eta_ref:g} is not a logged "
                     f"step of this run)")
      continue
    keep.append((step, eta_ref) + tuple(reference_value("references", v) for v in values))
  return tuple(keep), skipped
