"""Theorems by name, found by one mechanism for built-in and outside theorems alike.

* The entry-point group ``icljax.experiments``: an installed package declares its theorem in its pyproject::

      [project.entry-points."icljax.experiments"]
      ridge_shrinkage = "ridge_shrinkage:EXPERIMENT"     # an Experiment value
      my_theorems = "my_theorems.results"                # or a package: each subpackage's EXPERIMENT

  icljax's own pyproject declares ``builtin = "icljax.results"``, so every folder of ``icljax/results/`` with an
  ``EXPERIMENT`` is a theorem, and moving or adding a folder needs no edit elsewhere.
* ``--plugin=MODULE_OR_PATH`` on the three commands (:func:`load_plugin`): a module name, a ``.py`` file or a
  package directory, imported; its ``EXPERIMENT`` (or whatever it passes to :func:`register`) is registered.

Registration checks the theorem against its own declarations: every preset, variant, ``quick`` word, main-job
run, gate and stack field names declared fields with accepted values, and preset names are unique.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import pkgutil
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from icljax import validation
from icljax.experiment import fields
from icljax.experiment.api import Experiment, RunRef

GROUP = "icljax.experiments"
_REGISTRY: dict[str, Experiment] = {}
_DISCOVERED = [False]
_PLUGINS: list[str] = []


def _discover() -> None:
  if _DISCOVERED[0]:
    return
  _DISCOVERED[0] = True
  for entry in sorted(importlib.metadata.entry_points(group=GROUP), key=lambda e: (e.value != "icljax.results",
                                                                                  e.name)):
    _register_object(entry.load(), f"entry point {entry.name} = {entry.value}")


def _register_object(obj: Any, where: str) -> list[Experiment]:
  """Registers an Experiment, a module's ``EXPERIMENT``, or every subpackage's ``EXPERIMENT`` of a package."""
  if isinstance(obj, Experiment):
    return [register(obj)]
  if not isinstance(obj, ModuleType):
    raise TypeError(f"{where} is neither an icljax Experiment nor a module")
  found = [register(obj.EXPERIMENT)] if isinstance(getattr(obj, "EXPERIMENT", None), Experiment) else []
  if hasattr(obj, "__path__"):
    for info in sorted(pkgutil.iter_modules(obj.__path__), key=lambda i: i.name):
      if info.ispkg:
        sub = importlib.import_module(f"{obj.__name__}.{info.name}")
        if isinstance(getattr(sub, "EXPERIMENT", None), Experiment):
          found.append(register(sub.EXPERIMENT))
  return found


def load_plugin(spec: str) -> list[Experiment]:
  """Imports a theorem given by module name, ``.py`` file or package directory, and registers it.

  Args:
    spec: ``my_pkg.my_theorem``, ``path/to/theorem.py`` or ``path/to/package``.

  Returns:
    The experiments it registered (its ``EXPERIMENT``, its subpackages', or those it passed to :func:`register`).

  Raises:
    ConfigError: on ``--plugin`` when the path does not exist or the module cannot be imported.
    ValueError: a theorem it registers contradicts its own declarations (:func:`check`).

  Reference: docs page "concepts/configs", section "Outside theorems are first-class" (``--plugin``).
  """
  _discover()
  before = dict(_REGISTRY)
  path = Path(spec)
  try:
    if path.suffix == ".py" or path.is_dir():
      if not path.exists():
        raise validation.ConfigError("--plugin", spec, "an importable module, a .py file or a package directory")
      module = _import_path(path.resolve())
    else:
      module = importlib.import_module(spec)
  except ModuleNotFoundError as e:
    raise validation.ConfigError("--plugin", spec, f"an importable module, a .py file or a package directory ({e})"
                                 ) from None
  found = _register_object(module, f"--plugin={spec}")
  resolved = str(path.resolve()) if path.suffix == ".py" or path.is_dir() else spec
  if resolved not in _PLUGINS:
    _PLUGINS.append(resolved)
  new = [e for name, e in _REGISTRY.items() if before.get(name) is not e and all(e is not f for f in found)]
  return [*found, *new]


def _import_path(path: Path) -> ModuleType:
  name = path.stem if path.suffix == ".py" else path.name
  if name in sys.modules and getattr(sys.modules[name], "__file__", None) in (str(path), str(path / "__init__.py")):
    return sys.modules[name]
  location = path if path.suffix == ".py" else path / "__init__.py"
  spec = importlib.util.spec_from_file_location(name, location,
                                                submodule_search_locations=None if path.suffix == ".py" else
                                                [str(path)])
  assert spec is not None and spec.loader is not None   # a .py location always has the source-file loader
  module = importlib.util.module_from_spec(spec)
  sys.modules[name] = module   # a package's submodules and dataclasses resolve their module by name
  spec.loader.exec_module(module)
  return module


def register(experiment: Experiment) -> Experiment:
  """Makes a theorem available by name, after checking it against its own declarations.

  Args:
    experiment: the experiment value.

  Returns:
    The same experiment (so ``EXPERIMENT = register(Experiment(...))`` reads naturally); registering the same
    value twice is a no-op, another value under a registered name replaces it.

  Raises:
    TypeError: ``experiment`` is not an :class:`Experiment`.
    ValueError: it contradicts its own declarations (:func:`check`).

  Reference: docs page "concepts/configs", section "Outside theorems are first-class".
  """
  if not isinstance(experiment, Experiment):
    raise TypeError(f"register() takes an icljax.experiment.Experiment, not {type(experiment).__name__}")
  if _REGISTRY.get(experiment.name) is experiment:
    return experiment
  check(experiment)
  _REGISTRY[experiment.name] = experiment
  return experiment


def check(experiment: Experiment) -> None:
  """Checks a theorem's presets, variants, ``quick``, main-job runs, gate, mutants' gates and stack fields against
  its field declarations.

  Args:
    experiment: the experiment.

  Raises:
    ValueError: naming the first mismatch (also a config class not derived from ``fields.Config``, no preset, or
      a preset name another registered theorem already has).

  Reference: docs page "concepts/configs", section "Outside theorems are first-class" (registration checks).
  """
  name, cls = experiment.name, experiment.config
  if not (isinstance(cls, type) and issubclass(cls, fields.Config)):
    raise ValueError(f"{name}: config must be a subclass of icljax.experiment.fields.Config")
  declared = fields.declarations(cls)
  if not experiment.presets:
    raise ValueError(f"{name}: at least one preset")
  taken = {p.name: e.name for e in _REGISTRY.values() if e.name != name for p in e.presets}
  for preset in experiment.presets:
    if preset.name in taken:
      raise ValueError(f"{name}: preset {preset.name!r} is already a preset of {taken[preset.name]}")
    _values(experiment, f"preset {preset.name}", preset.values)
  for word, values in {**experiment.variants, "quick": experiment.quick}.items():
    _values(experiment, f"variant {word}", values, partial=True)
  unknown = set(experiment.stack_fields) - set(declared)
  if unknown:
    raise ValueError(f"{name}: stack_fields {sorted(unknown)} are not declared fields")
  refs = [*experiment.main_job, *([experiment.gate] if experiment.gate else []),
          *(m.gate for m in experiment.mutants if m.gate is not None)]
  for ref in refs:
    resolve(experiment, ref)


def _values(experiment: Experiment, what: str, values: Mapping[str, Any], partial: bool = False) -> None:
  declared = fields.declarations(experiment.config)
  for key in values:
    if key not in declared:
      raise ValueError(f"{experiment.name}: {what} sets {key!r}, which is not a declared field")
  if not partial:
    try:
      fields.validate(experiment.config, values)
    except validation.ConfigError as e:
      raise ValueError(f"{experiment.name}: {what}: {e}") from None


def resolve(experiment: Experiment, ref: RunRef) -> dict[str, Any]:
  """The field values a :class:`RunRef` of this theorem stands for, checked.

  Args:
    experiment: the theorem.
    ref: one of its presets with variants and overrides.

  Returns:
    field -> value (the theorem's defaults fill the rest).

  Raises:
    ValueError: the preset or a variant is not the theorem's, or a value is not accepted.

  Reference: docs page "concepts/configs", section "Presets, variants and words".
  """
  presets = {p.name: p for p in experiment.presets}
  if ref.preset not in presets:
    raise ValueError(f"{experiment.name}: {ref.spec} names no preset of this theorem ({', '.join(presets)})")
  values = dict(presets[ref.preset].values)
  for word in ref.variants:
    table = {**experiment.variants, "quick": experiment.quick}
    if word not in table:
      raise ValueError(f"{experiment.name}: {ref.spec}: {word!r} is not a variant ({', '.join(table)})")
    values.update(table[word])
  values.update(ref.overrides)
  _values(experiment, ref.spec, {**values, "preset": ref.preset})
  return {**values, "preset": ref.preset}


def plugins() -> list[str]:
  """The plug-ins loaded so far (modules, or resolved paths), so other processes can load them too.

  Returns:
    Their specs, in load order.

  Reference: docs page "concepts/configs", section "Outside theorems are first-class" (``--plugin``).
  """
  return list(_PLUGINS)


def get(name: str) -> Experiment:
  """The theorem registered under ``name``.

  Args:
    name: the theorem's name.

  Returns:
    The experiment; an unknown name raises ``ConfigError`` listing the registered ones.

  Reference: docs page "concepts/configs", section "Outside theorems are first-class".
  """
  _discover()
  validation.choice("theorem", name, _REGISTRY)
  return _REGISTRY[name]


def for_config(cls: type) -> Experiment:
  """The theorem whose config class is ``cls``.

  Args:
    cls: a config class.

  Returns:
    The experiment.

  Raises:
    ConfigError: no registered theorem has this config class.

  Reference: docs page "concepts/configs", section "Outside theorems are first-class".
  """
  _discover()
  for experiment in _REGISTRY.values():
    if experiment.config is cls:
      return experiment
  raise validation.ConfigError("config", cls.__name__, "the config class of a registered theorem")


def names() -> tuple[str, ...]:
  """Registered theorem names, built-in results first.

  Returns:
    The names in registration order.

  Reference: docs page "concepts/configs", section "Outside theorems are first-class".
  """
  _discover()
  return tuple(_REGISTRY)


def unregister(name: str) -> None:
  """Removes a registered theorem (for plug-ins in tests).

  Args:
    name: the theorem's name (an unknown name is ignored).

  Returns:
    None.

  Reference: docs page "concepts/configs", section "Outside theorems are first-class".
  """
  _REGISTRY.pop(name, None)

