"""Experiments by name: the built-in results (``icljax.results`` registers them) and any plug-in registered at
run time."""

from __future__ import annotations

from icljax import validation
from icljax.experiment.api import Experiment

_REGISTRY: dict[str, Experiment] = {}


def register(experiment: Experiment) -> Experiment:
  """Makes ``experiment`` available to configs whose ``experiment`` field is its name.

  Args:
    experiment: the experiment value.

  Returns:
    The same experiment (so ``EXPERIMENT = register(Experiment(...))`` reads naturally).
  """
  if not isinstance(experiment, Experiment):
    raise TypeError(f"register() takes an icljax.experiment.Experiment, not {type(experiment).__name__}")
  _REGISTRY[experiment.name] = experiment
  return experiment


def get(name: str) -> Experiment:
  """The experiment registered under ``name``.

  Args:
    name: the value of ``config.experiment``.

  Returns:
    The experiment; an unknown name raises ``ConfigError`` on ``config.experiment``.
  """
  validation.choice("config.experiment", name, _REGISTRY)
  return _REGISTRY[name]


def names() -> tuple[str, ...]:
  """Registered experiment names, built-in results first.

  Returns:
    The names in registration order.
  """
  return tuple(_REGISTRY)


def unregister(name: str) -> None:
  """Removes a registered experiment (for plug-ins in tests; the built-in results stay registered).

  Args:
    name: the experiment's name.
  """
  _REGISTRY.pop(name, None)
