"""Accepted values of a config field: each maker returns an :class:`Accept` with the check, its words (for the
one-line error and the docs' field tables) and values it rejects (for the generated bad-value tests). Used through
:mod:`icljax.experiment.fields` (``fields.Int(low=1)``)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

from icljax import validation


def _is_int(v: Any) -> bool:
  return isinstance(v, int) and not isinstance(v, bool)


def _is_real(v: Any) -> bool:
  return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(float(v))


@dataclasses.dataclass(frozen=True)
class Accept:
  """The accepted values of a field: a check that returns the normalised value, its text, bad examples."""

  text: str
  check_fn: Callable[[Any], Any]
  bad_values: tuple[Any, ...] = ()

  def check(self, name: str, value: Any) -> Any:
    """The value, normalised (ints to floats for a real field, lists to tuples).

    Args:
      name: the field's name as the user typed it (``config.d``).
      value: the value.

    Returns:
      The normalised value; a value outside the range raises ``ConfigError`` naming ``name``, the value and
      :attr:`text`.

    Reference: docs page "concepts/configs", section "Each field declared once" (validation).
    """
    try:
      out = self.check_fn(value)
    except (TypeError, ValueError):
      out = _REJECT
    if out is _REJECT:
      raise validation.ConfigError(name, value, self.text)
    return out

  def bad(self) -> tuple[Any, ...]:
    """Values the field rejects (one past each bound, a value of the wrong type), for generated bad-value tests.

    Returns:
      The rejected example values (``tests/test_validation.py`` checks that every one is refused in one line).

    Reference: docs page "concepts/configs", section "Each field declared once" (the bad-value tests).
    """
    return self.bad_values


_REJECT = object()


def Int(low: int | None = None, high: int | None = None, multiple_of: int | None = None) -> Accept:
  """An integer in ``[low, high]`` (either bound optional), optionally a multiple of ``multiple_of``.

  Args:
    low: smallest accepted value.
    high: largest accepted value.
    multiple_of: the value must be a multiple of this.

  Returns:
    The accepted range.

  Reference: docs page "concepts/configs", section "Each field declared once" (the accepted values).
  """
  def check(v):
    ok = (_is_int(v) and (low is None or v >= low) and (high is None or v <= high)
          and (multiple_of is None or v % multiple_of == 0))
    return int(v) if ok else _REJECT

  text = validation.range_text("an integer", low, high)
  if multiple_of is not None:
    text += f", a multiple of {multiple_of}"
  bad = tuple(b for b in ((low - 1) if low is not None else None, (high + 1) if high is not None else None) if
              b is not None) + (1.5,)
  return Accept(text, check, bad)


def Real(low: float | None = None, high: float | None = None, *, low_open: bool = False,
         high_open: bool = False) -> Accept:
  """A finite number in a (half-)open or closed range (either bound optional); integers are accepted as floats.

  Args:
    low: lower bound.
    high: upper bound.
    low_open: the lower bound is excluded.
    high_open: the upper bound is excluded.

  Returns:
    The accepted range.

  Reference: docs page "concepts/configs", section "Each field declared once" (the accepted values).
  """
  def check(v):
    if not _is_real(v):
      return _REJECT
    if low is not None and not (v > low if low_open else v >= low):
      return _REJECT
    if high is not None and not (v < high if high_open else v <= high):
      return _REJECT
    return float(v)

  parts = [f"{op} {bound:g}" for bound, op in ((low, ">" if low_open else ">="), (high, "<" if high_open else "<="))
           if bound is not None]
  bad = [float("nan")]
  if low is not None:
    bad.insert(0, low if low_open else low - max(1.0, abs(low)))
  if high is not None:
    bad.insert(1, high if high_open else high + max(1.0, abs(high)))
  return Accept("a finite number" + (" " + " and ".join(parts) if parts else ""), check, tuple(bad))


def Choice(*options: Any) -> Accept:
  """One of the listed values.

  Args:
    *options: the accepted values.

  Returns:
    The accepted values.

  Reference: docs page "concepts/configs", section "Each field declared once" (the accepted values).
  """
  return Accept("one of " + ", ".join(repr(o) for o in options),
                lambda v: v if any(v == o and type(v) is type(o) for o in options) else _REJECT,
                ("no-such-option",) if all(isinstance(o, str) for o in options) else (max(options) + 1,))


def Bool() -> Accept:
  """True or False.

  Returns:
    The accepted values.

  Reference: docs page "concepts/configs", section "Each field declared once" (the accepted values).
  """
  return Accept("True or False", lambda v: v if isinstance(v, bool) else _REJECT, ("yes",))


def Text(*, allow_empty: bool = True) -> Accept:
  """A string (non-empty unless ``allow_empty``).

  Args:
    allow_empty: whether ``""`` is accepted.

  Returns:
    The accepted values.

  Reference: docs page "concepts/configs", section "Each field declared once" (the accepted values).
  """
  return Accept("a string" + ("" if allow_empty else ", not empty"),
                lambda v: v if isinstance(v, str) and (allow_empty or v) else _REJECT, (3,))


def Vector(*, length: int | None = None, positive: bool = False, optional: bool = False,
           low: float | None = None) -> Accept:
  """A tuple of finite numbers (lists are accepted and become tuples).

  Args:
    length: required length (None: any).
    positive: every entry > 0.
    optional: None is accepted (e.g. "identity" for a spectrum).
    low: every entry >= low.

  Returns:
    The accepted values.

  Reference: docs page "concepts/configs", section "Each field declared once" (the accepted values).
  """
  def check(v):
    if v is None:
      return None if optional else _REJECT
    if hasattr(v, "tolist"):
      v = v.tolist()
    if isinstance(v, (str, bytes)) or not isinstance(v, Sequence) or (length is not None and len(v) != length):
      return _REJECT
    if not all(_is_real(x) and (not positive or x > 0) and (low is None or x >= low) for x in v):
      return _REJECT
    return tuple(float(x) for x in v)

  text = "a sequence" + (f" of {length}" if length else "") + " of finite numbers"
  text += " > 0" if positive else (f" >= {low:g}" if low is not None else "")
  bad = ("abc",) + ((-1.0,) if positive or low is not None else ())
  return Accept(text + (", or None" if optional else ""), check, bad)


def Items(*options: str) -> Accept:
  """A tuple of distinct strings, each one of ``options`` (e.g. optional extra computations).

  Args:
    *options: the accepted items.

  Returns:
    The accepted values.

  Reference: docs page "concepts/configs", section "Each field declared once" (the accepted values).
  """
  def check(v):
    if isinstance(v, str) or not isinstance(v, Sequence) or len(set(v)) != len(v):
      return _REJECT
    return tuple(v) if all(x in options for x in v) else _REJECT

  return Accept("a tuple of distinct items from " + ", ".join(repr(o) for o in options), check,
                (("no-such-item",), "abc"))


def Rows(width: int | None = None) -> Accept:
  """A tuple of rows of finite numbers (or None where a value is unknown), e.g. reference values from a paper.

  Args:
    width: the number of entries of every row (None: any).

  Returns:
    The accepted values.

  Reference: docs page "concepts/configs", section "Each field declared once" (the accepted values).
  """
  def check(v):
    if isinstance(v, str) or not isinstance(v, Sequence):
      return _REJECT
    out = []
    for row in v:
      if isinstance(row, str) or not isinstance(row, Sequence) or (width is not None and len(row) != width):
        return _REJECT
      out.append(tuple(_row_entry(x) for x in row))
    return tuple(out) if all(_REJECT not in r for r in out) else _REJECT

  return Accept("a tuple of rows" + (f" of {width} entries" if width else "") + " (numbers, None where unknown)",
                check, ("abc", ((1.0,) * ((width or 1) + 1),)))


def _row_entry(x: Any) -> Any:
  if x is None or _is_real(x):
    return x
  if isinstance(x, Sequence) and not isinstance(x, str):
    return tuple(_row_entry(y) for y in x)
  return _REJECT


def Custom(text: str, check: Callable[[Any], Any], bad: tuple[Any, ...]) -> Accept:
  """Any other rule: ``check`` returns the normalised value or raises ``ValueError``/``TypeError``.

  Args:
    text: the accepted values, in words.
    check: the rule.
    bad: values it rejects (for the generated bad-value tests).

  Returns:
    The accepted values.

  Reference: docs page "concepts/configs", section "Each field declared once" (the accepted values).
  """
  return Accept(text, check, bad)
