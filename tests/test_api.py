"""The public API is what the export lists say: ``icljax`` and each subpackage list their public modules (and, for
``icljax.experiment``, the theorem contract) in ``__all__``, every listed name imports, and nothing public is left
out. Optional extras (``flax_layers``) and the entry points (``apps``) are not imported by ``import icljax``."""

import importlib
import pkgutil

import pytest

import icljax

OPTIONAL = {"flax_layers", "apps"}
PACKAGES = ["icljax.tasks", "icljax.models", "icljax.theory"]


def _public_modules(package) -> set[str]:
  return {m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_")}


def test_icljax_exports_its_public_modules():
  assert set(icljax.__all__) == _public_modules(icljax) - OPTIONAL
  for name in icljax.__all__:
    assert getattr(icljax, name).__name__ == f"icljax.{name}"


@pytest.mark.parametrize("name", PACKAGES)
def test_library_subpackages_export_every_module(name):
  package = importlib.import_module(name)
  assert set(package.__all__) == _public_modules(package), name
  for module in package.__all__:
    assert getattr(package, module).__name__ == f"{name}.{module}"


def test_the_experiment_api_exports_the_theorem_contract():
  from icljax import experiment

  contract = {"Experiment", "Plan", "Evaluation", "FigureInput", "Preset", "RunRef", "MainJobRun", "Mutant",
              "Tolerance", "Check", "Checker", "Summary", "summarize", "fields", "register", "get", "names",
              "load_plugin", "load", "run", "run_points", "prepare"}
  assert contract <= set(experiment.__all__)
  assert all(hasattr(experiment, n) for n in experiment.__all__)


def test_the_results_package_lists_its_theorem_folders():
  from icljax import results

  assert set(results.__all__) == {m.name for m in pkgutil.iter_modules(results.__path__) if m.ispkg}
