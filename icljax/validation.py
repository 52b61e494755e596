"""Validation of user input: every failure is a one-line ``ValueError`` naming the field.

The message format is ``<field>=<value> is invalid: expected <accepted>``. The command-line entry points turn
these errors into one line on stderr and exit status 2, before anything is written.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


class ConfigError(ValueError):
  """A user-facing error about one named field or argument."""

  def __init__(self, field: str, value: Any, accepted: str):
    self.field, self.value, self.accepted = field, value, accepted
    super().__init__(f"{field}={value!r} is invalid: expected {accepted}")


def _is_int(value: Any) -> bool:
  return isinstance(value, int) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
  return (isinstance(value, (int, float)) and not isinstance(value, bool)
          and math.isfinite(float(value)))


def integer(field: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
  """Checks ``low <= value <= high`` for an integer and returns it.

  Args:
    field: the name the error message gives.
    value: the value to check (a bool is not an integer).
    low: inclusive lower bound, or None.
    high: inclusive upper bound, or None.

  Returns:
    ``int(value)``.

  Raises:
    ConfigError: if ``value`` is not an integer in the range.

  Reference: docs page "concepts/configs", section "Each field declared once" (validation).
  """
  ok = _is_int(value) and (low is None or value >= low) and (high is None or value <= high)
  if not ok:
    raise ConfigError(field, value, range_text("an integer", low, high))
  return int(value)


def real(field: str, value: Any, *, low: float | None = None, high: float | None = None,
         low_open: bool = False, high_open: bool = False) -> float:
  """Checks that ``value`` is a finite number in the stated (half-)open or closed range.

  Args:
    field: the name the error message gives.
    value: the value to check (an int or float, not a bool).
    low: lower bound, or None.
    high: upper bound, or None.
    low_open: exclude ``low`` itself.
    high_open: exclude ``high`` itself.

  Returns:
    ``float(value)``.

  Raises:
    ConfigError: if ``value`` is not a finite number in the range.

  Reference: docs page "concepts/configs", section "Each field declared once" (validation).
  """
  ok = _is_real(value)
  if ok and low is not None:
    ok = value > low if low_open else value >= low
  if ok and high is not None:
    ok = value < high if high_open else value <= high
  if not ok:
    lo = None if low is None else (low, ">" if low_open else ">=")
    hi = None if high is None else (high, "<" if high_open else "<=")
    parts = [f"{op} {bound:g}" for bound, op in (b for b in (lo, hi) if b is not None)]
    raise ConfigError(field, value, "a finite number" + (" " + " and ".join(parts) if parts else ""))
  return float(value)


def choice(field: str, value: Any, options: Iterable[str]) -> str:
  """Checks that ``value`` is one of ``options``.

  Args:
    field: the name the error message gives.
    value: the value to check.
    options: the accepted values.

  Returns:
    ``value``.

  Raises:
    ConfigError: listing the options, if ``value`` is not one of them.

  Reference: docs page "concepts/configs", section "Each field declared once" (validation).
  """
  options = tuple(options)
  if value not in options:
    raise ConfigError(field, value, "one of " + ", ".join(repr(o) for o in options))
  return value


def positive_vector(field: str, value: Any, *, length: int | None = None) -> tuple[float, ...]:
  """Checks a sequence of finite positive numbers (optionally of a given length).

  Args:
    field: the name the error message gives.
    value: a sequence or a numpy/JAX array (not a string).
    length: the required length, or None.

  Returns:
    The values as a tuple of floats.

  Raises:
    ConfigError: if ``value`` is not a sequence, has the wrong length or holds a value that is not finite and > 0.

  Reference: docs page "concepts/configs", section "Each field declared once" (validation).
  """
  if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
    value = value.tolist()  # numpy / JAX arrays
  if isinstance(value, str) or not isinstance(value, Sequence):
    raise ConfigError(field, value, "a sequence of positive numbers")
  if length is not None and len(value) != length:
    raise ConfigError(field, tuple(value), f"a sequence of {length} positive numbers (one per dimension)")
  for v in value:
    if not _is_real(v) or v <= 0:
      raise ConfigError(field, tuple(value), "a sequence of finite numbers > 0")
  return tuple(float(v) for v in value)


def range_text(kind: str, low: Any, high: Any) -> str:
  """``"an integer in [1, 5]"``, ``"an integer >= 1"``: the one wording of a closed range.

  Args:
    kind: what the value is (``an integer``).
    low: lower bound or None.
    high: upper bound or None.

  Returns:
    The text.

  Reference: docs page "concepts/configs", section "Each field declared once" (validation).
  """
  if low is not None and high is not None:
    return f"{kind} in [{low}, {high}]"
  if low is not None:
    return f"{kind} >= {low}"
  if high is not None:
    return f"{kind} <= {high}"
  return kind


def as_config_field(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
  """Calls a library function and renames the field of any ConfigError it raises to the config field that fed it
  (``d`` -> ``config.d``), so CLI messages name what the user typed.

  Args:
    fn: the function to call.
    *args: its positional arguments.
    **kwargs: its keyword arguments.

  Returns:
    What ``fn`` returns.

  Raises:
    ConfigError: ``fn``'s, with the field prefixed by ``config.`` (unless it already is).

  Reference: docs page "concepts/runs", section "Exit statuses" (status 2 names the field).
  """
  try:
    return fn(*args, **kwargs)
  except ConfigError as e:
    name = e.field if e.field.startswith("config.") else "config." + e.field
    raise ConfigError(name, e.value, e.accepted) from None
