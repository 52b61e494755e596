"""Declarative trained-vs-theory checks and the tolerance tables they read.

Every result declares one table (``Experiment.tolerances``): entry name -> :class:`Tolerance`, each with its
value, how it applies (``relation``), its kind and where the number comes from (``source`` and ``why``). A check
names its table entry, the reference value and the measured value; nothing else decides whether it passes.

Kinds of comparison:

* ``theory``: a trained value against an independent closed form or population computation; the tolerance is
  an error bar computed in the run (``per_se``: k standard errors) or float rounding;
* ``identity``: true by construction (a correctness check of the code, not evidence for the theorem);
* ``claim``: a qualitative statement encoded as the paper states it, with a margin.

Statuses: ``pass``; ``fail`` (a theory or identity check out of its tolerance, or a claim the toolkit expects to
hold: a regression); ``disagrees`` (a claim whose table entry is ``disputed``: the paper states it, the numbers
contradict it; reported with its figure in REPORT.md's disagreement section, never as a pass and never hidden).

Relations: ``rel`` (``|m - r| <= tol |r|``), ``abs`` (``|m - r| <= tol``), ``max`` (``m <= tol``), ``min``
(``m >= tol``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from icljax import stats

KINDS = ("theory", "identity", "claim")
RELATIONS = ("rel", "abs", "max", "min")
SOURCES = ("standard error", "float rounding", "digest", "paper", "issue", "measured")


@dataclasses.dataclass(frozen=True)
class Tolerance:
  """One entry of a tolerance table.

  Attributes:
    value: the tolerance, or the number k of standard errors when ``per_se``.
    relation: ``rel``, ``abs``, ``max`` or ``min``.
    source: where the number comes from (one of :data:`SOURCES`).
    why: one line: the computation or measurement behind the number.
    kind: ``theory``, ``identity`` or ``claim``.
    per_se: the tolerance is ``value`` times a standard error computed in the run (plus any stated floor).
    disputed: for a ``claim`` the numbers are known to contradict: what was found and what would settle it. A
      failing check of this entry has the status ``disagrees`` instead of ``fail``.
  """

  value: float
  relation: str
  source: str
  why: str
  kind: str = "theory"
  per_se: bool = False
  disputed: str = ""

  def __post_init__(self):
    for name, value, options in (("relation", self.relation, RELATIONS), ("source", self.source, SOURCES),
                                 ("kind", self.kind, KINDS)):
      if value not in options:
        raise ValueError(f"Tolerance.{name}={value!r} is invalid: expected one of {options}")
    if self.disputed and self.kind != "claim":
      raise ValueError("Tolerance.disputed is for claims only: a theory or identity check that fails is a fault")

  @property
  def text(self) -> str:
    """The tolerance as a table cell."""
    value = f"{self.value:g} s.e." if self.per_se else f"{self.value:g}"
    return {"rel": f"±{value} rel.", "abs": f"±{value}", "max": f"≤ {value}", "min": f"≥ {value}"}[self.relation]


@dataclasses.dataclass(frozen=True)
class Check:
  """One comparison of a measured value with its reference, as written to ``summary.json``."""

  quantity: str
  theory: float
  measured: float
  tolerance: float
  relation: str = "rel"
  kind: str = "theory"
  entry: str = ""
  note: str = ""
  disputed: str = ""

  def __post_init__(self):
    if self.relation not in RELATIONS:
      raise ValueError(f"relation={self.relation!r} is invalid: expected one of {RELATIONS}")
    if self.kind not in KINDS:
      raise ValueError(f"kind={self.kind!r} is invalid: expected one of {KINDS}")

  @property
  def passed(self) -> bool:
    """Whether the measured value is within the tolerance (a non-finite measurement never passes)."""
    m, t, tol = float(self.measured), float(self.theory), float(self.tolerance)
    if not math.isfinite(m):
      return False
    if self.relation == "rel":
      return abs(m - t) <= tol * abs(t)
    if self.relation == "abs":
      return abs(m - t) <= tol
    if self.relation == "max":
      return m <= tol
    return m >= tol

  @property
  def status(self) -> str:
    """``pass``, ``fail`` or ``disagrees`` (a disputed claim that the numbers contradict)."""
    if self.passed:
      return "pass"
    return "disagrees" if self.disputed else "fail"

  @property
  def tolerance_text(self) -> str:
    """The applied tolerance as a table cell."""
    return {"rel": f"±{self.tolerance:.3g} rel.", "abs": f"±{self.tolerance:.3g}", "max": f"≤ {self.tolerance:.3g}",
            "min": f"≥ {self.tolerance:.3g}"}[self.relation]

  def to_dict(self) -> dict[str, Any]:
    """The JSON form (``summary.json``)."""
    return {"quantity": self.quantity, "theory": float(self.theory), "measured": float(self.measured),
            "tolerance": float(self.tolerance), "relation": self.relation, "kind": self.kind, "entry": self.entry,
            "passed": bool(self.passed), "status": self.status, "note": self.note, "disputed": self.disputed}

  @classmethod
  def from_dict(cls, d: Mapping[str, Any]) -> Check:
    """Inverse of :meth:`to_dict`."""
    return cls(d["quantity"], d["theory"], d["measured"], d["tolerance"], d.get("relation", "rel"),
               d.get("kind", "theory"), d.get("entry", ""), d.get("note", ""), d.get("disputed", ""))


class Checker:
  """Builds :class:`Check` objects from a tolerance table, so a check can only use a declared entry.

  Example::

      c = Checker(TOLERANCES)
      c("B_rel_err", "B: relative Frobenius error", 0.0, err)
      c("mse_vs_L_star", "eval MSE vs L*", l_star, mse, se=mse_se)
      checks = c.checks
  """

  def __init__(self, table: Mapping[str, Tolerance]):
    self.table = table
    self.checks: list[Check] = []

  def __call__(self, entry: str, quantity: str, theory: float, measured: float, *, se: float | None = None,
               floor: float = 0.0, note: str = "", dof: int | None = None,
               quantile: Callable[[float], float] | None = None) -> Check:
    """Adds and returns one check.

    Args:
      entry: name of the tolerance-table entry.
      quantity: what is compared, as the report shows it.
      theory: the reference value.
      measured: the measured value.
      se: the standard error computed in the run (required by ``per_se`` entries).
      floor: an absolute term added to a ``per_se`` tolerance (e.g. the reference's rounding).
      note: shown beside the quantity.
      dof: degrees of freedom of ``se`` when it comes from a few replicas: k becomes the Student-t value with the
        same tail (``icljax.stats.t_factor``), so a spread estimated from 4 chains is not read as a normal error.
      quantile: for a non-negative statistic whose noise is not normal (a distance, a norm): ``k -> `` the value
        its null distribution, computed in the run, exceeds with the two-sided tail of k normal standard errors
        (e.g. :func:`icljax.stats.quadratic_form_quantile`); it replaces ``k se`` of a ``per_se`` entry.

    Returns:
      The check.
    """
    tol = self.table[entry]
    if tol.per_se and quantile is not None:
      value = float(quantile(tol.value)) + floor
    elif tol.per_se:
      if se is None:
        raise ValueError(f"tolerance entry {entry!r} is per standard error: pass se= (or quantile=)")
      k = tol.value if dof is None else stats.t_factor(dof, tol.value)
      value = k * float(se) + floor
      if dof is not None:
        note = (note + "; " if note else "") + f"{k:.3g} s.e. ({dof} dof)"
    else:
      value = tol.value
    check = Check(quantity, float(theory), float(measured), float(value), tol.relation, tol.kind, entry, note,
                  tol.disputed)
    self.checks.append(check)
    return check


def table_markdown(title: str, table: Mapping[str, Tolerance]) -> str:
  """A result's tolerance table as markdown (entry, tolerance, kind, source, why).

  Args:
    title: heading text.
    table: the tolerance table.

  Returns:
    Markdown text.
  """
  rows = [[name, tol.text, tol.kind + (" (disputed)" if tol.disputed else ""), tol.source,
           tol.why + (f" Disputed: {tol.disputed}" if tol.disputed else "")] for name, tol in table.items()]
  return f"#### {title}\n\n" + markdown_table(["entry", "tolerance", "kind", "source", "why"], rows)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
  """The one markdown-table builder: cells are converted with ``str`` and pipes escaped.

  Args:
    header: column names.
    rows: cell values.

  Returns:
    Markdown text (no trailing newline).
  """
  esc = lambda v: str(v).replace("|", "\\|")
  lines = ["| " + " | ".join(map(esc, header)) + " |", "|" + "---|" * len(header)]
  lines += ["| " + " | ".join(map(esc, r)) + " |" for r in rows]
  return "\n".join(lines)
