"""Config fields declared once: name, default, accepted range and meaning, in one line of a frozen dataclass.

A theorem's config is a frozen dataclass deriving from :class:`Config` whose every field is made by :func:`field`::

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class RidgeConfig(fields.Config):
      d: int = fields.field(5, "covariate dimension", fields.Int(low=1))
      sigma: float = fields.field(0.5, "label-noise std", fields.Real(low=0.0))

From that one declaration come the presets' defaults, the command-line overrides (``--config.d=8``, parsed by the
field's type), validation (:func:`validate`: one :class:`icljax.validation.ConfigError` naming the field, the value
and the accepted range), the frozen value the theorem's ``setup`` reads, the field table of the docs
(:func:`markdown`) and a bad-value test for every field of every packaged config (:meth:`Accept.bad`).
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import typing
from collections.abc import Mapping
from typing import Any, ClassVar

from icljax import validation
from icljax.experiment.accept import Accept, Bool, Choice, Custom, Int, Items, Real, Rows, Text, Vector
from icljax.experiment.markdown import markdown_table

__all__ = ["Accept", "Bool", "Choice", "Config", "Custom", "Int", "Items", "Real", "Rows", "Text", "Vector",
           "declarations", "field", "from_dict", "markdown", "parse_text", "replace", "unknown_field", "validate"]


def field(default: Any, doc: str, accept: Accept, *, names_run: bool = True) -> Any:
  """Declares one config field.

  Args:
    default: the value when no preset or override sets it.
    doc: one line: what the field means (the docs' field table and ``--describe`` show it).
    accept: the accepted values (:func:`Int`, :func:`Real`, :func:`Choice`, ...).
    names_run: whether a value other than the preset's appears in the derived run name (False for sizes and
      logging, which change the cost of a run but not what it runs).

  Returns:
    A dataclass field carrying the declaration.

  Reference: docs page "concepts/configs", section "Each field declared once".
  """
  return dataclasses.field(default=default, metadata={"doc": doc, "accept": accept, "names_run": names_run})


@dataclasses.dataclass(frozen=True, kw_only=True)
class Config:
  """The fields every run has. A theorem's config derives from it and adds its own fields with :func:`field`.

  ``preset`` is set by the loader (``--config=NAME``) and cannot be overridden; ``name`` empty means the run name
  is derived from the fields that identify the run (``Experiment.run_name``).
  """

  preset: str = field("", "the packaged config this run starts from (set by --config=NAME)", Text(),
                      names_run=False)
  name: str = field("", "run name; empty: derived from the preset and the fields that differ from it", Text(),
                    names_run=False)
  seed: int = field(0, "seed of the init, data, evaluation and theory key streams", Int(low=0))
  steps: int = field(1000, "training steps", Int(low=1), names_run=False)
  log_every: int = field(100, "steps per metrics line", Int(low=1), names_run=False)
  x64: bool = field(False, "float64 run (exact identities reach float64 rounding)", Bool())

  FIXED: ClassVar[tuple[str, ...]] = ("preset",)

  def to_dict(self) -> dict[str, Any]:
    """The config's values by field name (``config.json`` holds them, made JSON by ``runs.to_jsonable``).

    Returns:
      field -> value for every field (tuples stay tuples).

    Reference: docs page "concepts/configs", section "Each field declared once".
    """
    return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


C = typing.TypeVar("C", bound=Config)


def declarations(cls: type[Config]) -> dict[str, dataclasses.Field]:
  """The declared fields of a config class, in declaration order (base fields first).

  Args:
    cls: a :class:`Config` subclass.

  Returns:
    name -> dataclass field (with ``metadata`` ``doc``, ``accept``, ``names_run``).

  Raises:
    TypeError: a field was not made by :func:`field`.

  Reference: docs page "concepts/configs", section "Each field declared once".
  """
  out = {}
  for f in dataclasses.fields(cls):
    if "accept" not in f.metadata:
      raise TypeError(f"{cls.__name__}.{f.name} is not declared with icljax.experiment.fields.field(...)")
    out[f.name] = f
  return out


def validate(cls: type[C], values: Mapping[str, Any]) -> C:
  """Checks every value against its declaration and builds the frozen config.

  Args:
    cls: the config class.
    values: field -> value (missing fields take their default).

  Returns:
    The config; an unknown field or a value outside its range raises ``ConfigError`` naming ``config.<field>``.

  Reference: docs page "concepts/configs", section "Each field declared once" (validation).
  """
  decl = declarations(cls)
  for key, value in values.items():
    if key not in decl:
      raise unknown_field(cls, key, value)
  out = {}
  for name, f in decl.items():
    value = values.get(name, f.default)
    out[name] = f.metadata["accept"].check(f"config.{name}", value)
  return cls(**out)


def unknown_field(cls: type[Config], key: str, value: Any = "...") -> validation.ConfigError:
  """The error for a field the config does not declare, naming the closest declared field.

  Args:
    cls: the config class.
    key: the field the user typed.
    value: the value given.

  Returns:
    The error (to raise).

  Reference: docs page "concepts/configs", section "Each field declared once" (validation).
  """
  names = [n for n in declarations(cls) if n not in cls.FIXED]
  close = difflib.get_close_matches(key, names, n=1)
  hint = f"did you mean {close[0]!r}? " if close else ""
  return validation.ConfigError(f"config.{key}", value, f"a declared field ({hint}fields: {', '.join(names)})")


def parse_text(cls: type[Config], key: str, text: str) -> Any:
  """A command-line value (``--config.key=text``) as the field's type: strings stay strings (quotes around them
  are removed), everything else is read as a Python literal (``40``, ``1.0``, ``True``, ``(1.0, 0.5)``, ``None``).

  Args:
    cls: the config class.
    key: the field.
    text: the text after ``=``.

  Returns:
    The value (validated later by :func:`validate`); text that is no literal is returned as it is (``true`` and
    ``false`` as booleans). An undeclared field raises ``ConfigError`` (:func:`unknown_field`).

  Reference: docs page "concepts/configs", section "Each field declared once" (the command-line overrides).
  """
  decl = declarations(cls)
  if key not in decl:
    raise unknown_field(cls, key, text)
  if typing.get_type_hints(cls).get(key) is str:   # quoted ('x' or "x", as RunRef.spec writes it) or bare
    quoted = len(text) >= 2 and text[0] == text[-1] and text[0] in "'\""
    return ast.literal_eval(text) if quoted else text
  try:
    return ast.literal_eval(text.strip())
  except (ValueError, SyntaxError):
    if text.strip().lower() in ("true", "false"):
      return text.strip().lower() == "true"
    return text


def replace(config: C, **changes: Any) -> C:
  """``dataclasses.replace`` with validation.

  Args:
    config: a config.
    **changes: field -> new value.

  Returns:
    The new config.

  Reference: docs page "concepts/configs", section "Each field declared once".
  """
  return validate(type(config), {**config.to_dict(), **changes})


def from_dict(cls: type[C], values: Mapping[str, Any]) -> C:
  """A config read back from ``config.json`` (keys that are not fields, such as ``experiment``, are ignored).

  Args:
    cls: the config class.
    values: the JSON object.

  Returns:
    The config.

  Reference: docs page "concepts/runs", section "A run's workdir" (``config.json``).
  """
  decl = declarations(cls)
  return validate(cls, {k: v for k, v in values.items() if k in decl})


def markdown(cls: type[Config], defaults: Mapping[str, Any] | None = None) -> str:
  """The field table of the docs: field, default, accepted values, meaning.

  Args:
    cls: the config class.
    defaults: the defaults to show (a preset's values); the declared defaults when None.

  Returns:
    A markdown table.

  Reference: docs page "concepts/configs", section "Each field declared once" (the field tables).
  """
  rows = []
  for name, f in declarations(cls).items():
    default = (defaults or {}).get(name, f.default)
    rows.append([f"`{name}`", f"`{default!r}`", f.metadata["accept"].text, f.metadata["doc"]])
  return markdown_table(["field", "default", "accepted", "meaning"], rows)
