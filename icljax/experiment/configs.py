"""Configs by name: a theorem's presets, its named variants and field overrides, read into its typed config once.

``load("lsa_isotropic")``, ``load("lsa_isotropic:quick")``, ``load("recall:quick,alpha=0.2")``, or a plug-in
file, ``load("path/to/ridge.py:quick")`` (the file is imported, which registers its theorem, and its first preset is
loaded). The words after ``:`` are applied left to right: ``quick`` (the theorem's tiny sizes), a named variant of
the theorem, or ``field=value`` (a Python literal; strings may go unquoted). Command-line overrides
(``--config.n=40``) come last. Every value is checked against its declaration (:mod:`icljax.experiment.fields`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from icljax import validation
from icljax.experiment import fields, registry
from icljax.experiment.api import Experiment, Preset, RunRef


def names() -> tuple[str, ...]:
  """Every packaged config (preset) of every registered theorem.

  Returns:
    Preset names, theorem by theorem in registration order.

  Reference: docs page "concepts/configs", section "Presets, variants and words".
  """
  return tuple(p.name for name in registry.names() for p in registry.get(name).presets)


def find(name: str) -> tuple[Experiment, Preset]:
  """The theorem and preset of a preset name.

  Args:
    name: a preset name.

  Returns:
    ``(experiment, preset)``; an unknown name raises ``ConfigError`` on ``--config`` listing the known ones.

  Reference: docs page "concepts/configs", section "Presets, variants and words".
  """
  for exp_name in registry.names():
    experiment = registry.get(exp_name)
    for preset in experiment.presets:
      if preset.name == name:
        return experiment, preset
  raise validation.ConfigError("--config", name, f"a packaged config ({', '.join(names())}) or a path to a "
                               "theorem's .py file or package, optionally followed by ':words'")


def split_top_level(text: str) -> list[str]:
  """Splits on commas outside parentheses and brackets, so tuples such as ``(1.0,0.5)`` stay whole.

  Args:
    text: comma-separated words.

  Returns:
    The words (not stripped).

  Reference: docs page "concepts/configs", section "Presets, variants and words" (the words after ``:``; the
  values of a ``--sweep`` term too).
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


def _word_values(experiment: Experiment, word: str) -> dict[str, Any]:
  if word == "quick":
    return dict(experiment.quick)
  if word in experiment.variants:
    return dict(experiment.variants[word])
  if "=" in word:
    key, _, text = word.partition("=")
    key = key.strip()
    return {key: fields.parse_text(experiment.config, key, text.strip())}
  raise validation.ConfigError("--config argument", word, "'quick', 'field=value' or a variant of this theorem"
                               + (f" ({', '.join(experiment.variants)})" if experiment.variants else ""))


def load(spec: str | RunRef, overrides: Mapping[str, str] | None = None) -> Any:
  """Reads a config by preset name (or plug-in path), words and command-line overrides into its typed form.

  Args:
    spec: ``name[:words]``, ``path.py[:words]`` or a :class:`RunRef`.
    overrides: field -> text of ``--config.field=text`` (parsed by the field's type).

  Returns:
    The theorem's frozen config; bad input raises ``ConfigError`` naming the field, the value and the range.

  Reference: docs page "concepts/configs", section "Presets, variants and words".
  """
  if isinstance(spec, RunRef):
    name, words = spec.preset, list(spec.variants)
    extra = dict(spec.overrides)
  else:
    name, _, arg = spec.partition(":")
    words, extra = [w.strip() for w in split_top_level(arg) if w.strip()], {}
  if name not in names() and (Path(name).suffix == ".py" or Path(name).is_dir()) and Path(name).exists():
    plugged = registry.load_plugin(name)
    if not plugged:
      raise validation.ConfigError("--config", name, "a file that defines a theorem (EXPERIMENT = Experiment(...))")
    name = plugged[0].presets[0].name
  experiment, preset = find(name)
  values = dict(preset.values)
  for word in words:
    values.update(_word_values(experiment, word))
  values.update(extra)
  for key, text in (overrides or {}).items():
    if key in experiment.config.FIXED:
      raise validation.ConfigError(f"config.{key}", text, f"no override: it is set by --config=NAME ({name})")
    values[key] = fields.parse_text(experiment.config, key, text)
  values["preset"] = preset.name
  return fields.validate(experiment.config, values)


def experiment_of(config: Any) -> Experiment:
  """The registered theorem whose config class ``config`` is.

  Args:
    config: a typed config.

  Returns:
    The experiment.

  Reference: docs page "concepts/configs", section "Outside theorems are first-class" (one registry for
  built-in and outside theorems).
  """
  return registry.for_config(type(config))


def run_name(config: Any) -> str:
  """The run's name: ``config.name`` if set, else the theorem's ``run_name``, else the preset's name followed by one
  part per field that names runs and differs from the preset: ``_<value>`` for a string, ``_<field>`` /
  ``_no_<field>`` for a flag, ``_<field><value>`` for a number or a tuple (``lsa_isotropic_n40_sigma1``,
  ``lsa_chain_of_thought_dense``).

  Args:
    config: a typed config.

  Returns:
    The name.

  Reference: docs page "concepts/configs", section "Each field declared once" (run names).
  """
  if config.name:
    return config.name
  experiment = experiment_of(config)
  if experiment.run_name is not None:
    return experiment.run_name(config)
  base = load(config.preset) if config.preset else experiment.config()
  suffix = ""
  for key, f in fields.declarations(type(config)).items():
    value = getattr(config, key)
    if f.metadata["names_run"] and value != getattr(base, key):
      suffix += "_" + name_part(key, value)
  return (config.preset or experiment.name) + suffix


def name_part(key: str, value: Any) -> str:
  """One field's part of a run name, the one rule every theorem's ``run_name`` builds on.

  Args:
    key: the field (or the short name a theorem's ``run_name`` gives it).
    value: its value.

  Returns:
    ``<value>`` for a string (``/``, spaces and ``:`` dropped), ``<key>`` / ``no_<key>`` for a flag and ``no_<key>``
    for an empty tuple, else ``<key><value>`` (floats as ``%g``, a tuple's entries joined by ``-``).

  Reference: docs page "concepts/configs", section "Each field declared once" (run names).
  """
  if value == ():
    return f"no_{key}"
  if isinstance(value, bool):
    return key if value else f"no_{key}"
  if isinstance(value, str):
    return value.replace("/", "-").replace(" ", "").replace(":", "")
  if isinstance(value, float):
    return f"{key}{value:g}"
  if isinstance(value, tuple):
    return key + "-".join(f"{v:g}" if isinstance(v, float) else str(v).replace(":", "") for v in value)
  return f"{key}{value}"


def describe(name: str) -> str:
  """A preset's text and its field table (``--describe``).

  Args:
    name: a preset name.

  Returns:
    Markdown text.

  Reference: docs page "concepts/configs", section "Presets, variants and words" (``--describe``).
  """
  experiment, preset = find(name)
  config = load(name)
  variants = "".join(f"\n- `{k}`: " + ", ".join(f"{f}={v!r}" for f, v in vals.items())
                     for k, vals in experiment.variants.items())
  return (f"# {preset.name} ({experiment.name}: {experiment.title})\n\n{preset.doc.strip()}\n\n"
          + fields.markdown(type(config), config.to_dict()) + "\n"
          + (f"\nNamed variants (`--config={preset.name}:<variant>`):{variants}\n" if variants else "")
          + "\n`quick`: " + ", ".join(f"{f}={v!r}" for f, v in experiment.quick.items()) + "\n")


def listing() -> str:
  """Every packaged config with the first line of its text after the command (its runtime), theorem by theorem
  (``--list``).

  Returns:
    Text: per theorem a line ``name: title``, then one indented line per preset.

  Reference: docs page "concepts/configs", section "Presets, variants and words" (``--list``).
  """
  lines = []
  for exp_name in registry.names():
    experiment = registry.get(exp_name)
    lines.append(f"{exp_name}: {experiment.title}")
    for preset in experiment.presets:
      summary = next((ln for ln in preset.doc.strip().splitlines()[1:] if ln.strip()), "")
      lines.append(f"  {preset.name:28s} {summary.strip()}")
  return "\n".join(lines)
