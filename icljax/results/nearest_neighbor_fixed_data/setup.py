"""The Fig. 3 config of result 2, read once into frozen specs."""

from __future__ import annotations

import dataclasses

import ml_collections

from icljax import validation
from icljax.experiment import specs
from icljax.models import nearest_neighbor as model
from icljax.results.nearest_neighbor.setup import model_and_step, reference_value, shift_spec
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
    shift: ``(name, spec)`` of the shifted test distribution; ``R`` its label bound.
    test_prompts: prompts of the shifted test set.
    references: P6 rows that apply (init W_0, same d, N, sigma), as ``(step, eta_ref, xi1, xi2)`` with ``step`` this
      run's step at the row's eta t and each value ``(value, rounding)``; ``skipped``: notes on the others.
  """

  run: specs.RunSpec
  task: task.NNSpec
  model: model.NNModelSpec
  eta: float
  replicas: int
  dataset_size: int
  batch_size: int
  tau_samples: int
  shift: tuple[str, shift.ShiftSpec]
  R: float
  test_prompts: int
  references: tuple = ()
  skipped: tuple[str, ...] = ()

  @property
  def epochs_per_step(self) -> float:
    """Passes over the data set per step."""
    return self.batch_size / self.dataset_size


def parse(config: ml_collections.ConfigDict) -> FixedDataSetup:
  """Validates an ``nn_fixed_data`` config; raises ``ConfigError`` naming the first bad field.

  Args:
    config: the config (``icljax/configs/nn_fixed_data.py`` lists every field and its range).

  Returns:
    The setup.
  """
  run = specs.run_spec(config)
  d, n, model_spec, eta = model_and_step(config)
  sizes = specs.positive_ints(config, "batch_size", "test_prompts")
  replicas = validation.integer("config.replicas", config.replicas, low=2)
  dataset_size = validation.integer("config.dataset_size", config.dataset_size, low=sizes["batch_size"])
  tau_samples = validation.integer("config.tau_samples", config.tau_samples, low=100)
  validation.real("config.R", config.R, low=0.0, low_open=True)
  name = str(config.shift)
  references, skipped = _references(config, run, eta)
  return FixedDataSetup(
      run=run, task=task.make_spec(d, n), model=model_spec, eta=eta,
      replicas=replicas, dataset_size=dataset_size, batch_size=sizes["batch_size"], tau_samples=tau_samples,
      shift=(name, shift_spec(config, name, "config.shift")), R=float(config.R), test_prompts=sizes["test_prompts"],
      references=references, skipped=tuple(skipped))


def _references(config: ml_collections.ConfigDict, run: specs.RunSpec, eta: float) -> tuple[tuple, list[str]]:
  """The ``references`` rows ``((d, N, sigma, eta_ref), t, xi1, xi2)`` of this run's setting (from W_0) whose eta t
  is a logged step of this run."""
  keep, skipped = [], []
  for row in config.references:
    if len(row) != 4 or len(row[0]) != 4 or not isinstance(row[1], int) or row[1] < 1:
      raise validation.ConfigError("config.references", tuple(row), "rows ((d, N, sigma, eta), t, xi1, xi2)")
    (d, n, sigma, eta_ref), t = row[0], row[1]
    if (d, n, float(sigma)) != (config.d, config.N, float(config.sigma)) or config.init != "paper":
      continue
    step = round(t * float(eta_ref) / eta)
    if abs(step * eta - t * float(eta_ref)) > 1e-9 * t or step > run.steps or step % run.log_every:
      skipped.append(f"references: row t = {t} at eta {eta_ref:g} skipped (eta t = {t * eta_ref:g} is not a logged "
                     f"step of this run)")
      continue
    keep.append((step, float(eta_ref)) + tuple(reference_value("references", v) for v in row[2:]))
  return tuple(keep), skipped
