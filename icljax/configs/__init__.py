"""Experiment configs shipped with the package, found by name from any directory.

``load("lsa_isotropic")``, ``load("lsa_isotropic:quick")``, ``load("recall:origin_softmax_F_a0")`` or a path,
``load("my_configs/sweep.py:quick,n=40")``. Every config module defines ``get_config(arg=None)``, whose docstring
starts with the command that runs it. ``arg`` is a comma-separated list of words (big_vision style): ``quick``
(tiny sizes, for smoke tests), a named variant of that config, or ``field=value`` overrides (Python literals).
"""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import ml_collections

from icljax import validation

HERE = Path(__file__).resolve().parent
# Every module of this folder not starting with '_' is a config: adding a file adds a name.
NAMES = tuple(sorted(p.stem for p in HERE.glob("*.py") if not p.name.startswith("_")))


def path(name: str) -> Path:
  """The file of a packaged config.

  Args:
    name: one of :data:`NAMES`.

  Returns:
    Its path inside the installed package.
  """
  validation.choice("--config", name, NAMES)
  return HERE / f"{name}.py"


def resolve(spec: str) -> str:
  """``name[:arg]`` of a packaged config -> ``/abs/path.py[:arg]``; a path (or anything else) is returned as is.

  Args:
    spec: the ``--config`` value.

  Returns:
    A spec ``ml_collections.config_flags`` can load; an unknown name raises ``ConfigError`` on ``--config``.
  """
  name, sep, arg = spec.partition(":")
  if name in NAMES and not Path(name).exists():
    return str(path(name)) + sep + arg
  if not Path(name).is_file():
    raise validation.ConfigError("--config", spec, f"a packaged config name ({', '.join(NAMES)}) or a path to a "
                                 "config file, optionally followed by ':arg'")
  return spec


def load(spec: str) -> ml_collections.ConfigDict:
  """Loads a config by name or path, with its ``get_config`` argument after a colon.

  Args:
    spec: ``name[:arg]`` or ``path.py[:arg]``.

  Returns:
    The config.
  """
  file, _, arg = resolve(spec).partition(":")
  module_spec = importlib.util.spec_from_file_location(f"icljax_config_{Path(file).stem}", file)
  module = importlib.util.module_from_spec(module_spec)
  module_spec.loader.exec_module(module)
  return module.get_config(arg or None)


def apply_arg(config: ml_collections.ConfigDict, arg: str | None, *, quick: Mapping[str, Any] = (),
              variants: Mapping[str, Mapping[str, Any]] = ()) -> ml_collections.ConfigDict:
  """Applies a ``get_config`` argument: ``quick``, named variants and ``field=value`` words, left to right.

  Args:
    config: the default config.
    arg: the argument (None or empty: the default).
    quick: the overrides of the word ``quick``.
    variants: named variants -> overrides (a value may be a function of the config, e.g. of its name).

  Returns:
    The same config, changed.
  """
  variants = dict(variants)
  for word in [w.strip() for w in split_top_level(arg or "") if w.strip()]:
    if word == "quick":
      overrides = dict(quick)
    elif word in variants:
      overrides = dict(variants[word])
    elif "=" in word:
      field, _, value = word.partition("=")
      try:
        overrides = {field.strip(): ast.literal_eval(value.strip())}
      except (ValueError, SyntaxError):
        overrides = {field.strip(): value.strip()}
    else:
      raise validation.ConfigError("--config argument", word, "'quick', 'field=value' or a variant of this config"
                                   + (f" ({', '.join(variants)})" if variants else ""))
    for field, value in overrides.items():
      value = value(config) if callable(value) else value   # e.g. a name derived from the current one
      if field not in config:
        raise validation.ConfigError("--config argument", f"{field}=...", f"a field of the config "
                                     f"({', '.join(sorted(config))})")
      config[field] = value
  return config


def split_top_level(text: str) -> list[str]:
  """Splits on commas outside parentheses and brackets, so tuples such as ``(1.0,0.5)`` stay whole.

  Args:
    text: comma-separated words.

  Returns:
    The words (not stripped).
  """
  out, depth, cur = [], 0, ""
  for ch in text:
    depth += 1 if ch in "([" else (-1 if ch in ")]" else 0)
    if ch == "," and depth == 0:
      out.append(cur)
      cur = ""
    else:
      cur += ch
  return out + [cur]
