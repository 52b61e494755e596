"""Declarative trained-vs-theory checks and the tolerance tables they read.

Every result declares one table (``Experiment.tolerances``): entry name -> :class:`Tolerance`, each with its
value, how it applies (``relation``), its kind and where the number comes from (``source`` and ``why``). A check
names its table entry, the reference value and the measured value; nothing else decides whether it passes.

Kinds of comparison (:data:`KINDS`):

* ``theory``: evidence for the theorem. Its measured side depends on training, its reference is an independent
  computation (a closed form, a population computation, a NumPy re-derivation) that shares no code path with what
  produced the measured side, and its tolerance is an error bar computed in the run (``per_se``: k standard
  errors) or float rounding;
* ``fit``: how well training fitted its own target (the trained model against the function it was trained to
  imitate, e.g. a chain of thought against the GD iterates it was supervised with): necessary, not evidence;
* ``identity``: true by construction or at any parameter value (a correctness check of the code, not evidence);
* ``claim``: a qualitative statement encoded as the paper states it, with a margin;
* ``control``: a negative control, a comparison that must *not* hold (a wrong formula, a mis-specified claim, a
  setting where the theorem does not apply): if it holds, the run fails.

Statuses: ``pass``; ``fail`` (a theory, fit or identity check out of its tolerance, a claim the toolkit expects to
hold, or a control that holds); ``disagrees`` (a claim whose table entry is ``disputed``: the paper states it, the
numbers contradict it; reported with its figure in REPORT.md's disagreement section, never as a pass and never
hidden). :func:`summarize` turns a run's checks into counts and the run's status; the driver, the report and the
sweep all use it.

Relations: ``rel`` (``|m - r| <= tol |r|``), ``abs`` (``|m - r| <= tol``), ``max`` (``m <= tol``), ``min``
(``m >= tol``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, SupportsFloat

from icljax import stats

KINDS = ("theory", "fit", "identity", "claim", "control")
STATUSES = ("pass", "fail", "disagrees")
RELATIONS = ("rel", "abs", "max", "min")
# Where a tolerance's number comes from: a standard error computed in the run, float rounding, a bound computed in
# the run (e.g. the next term of an expansion), the paper (a margin or a printed precision it states), the issue that
# set it, or a measurement of ours (stated in the entry's why).
SOURCES = ("standard error", "float rounding", "bound", "paper", "issue", "measured")


@dataclasses.dataclass(frozen=True)
class Tolerance:
  """One entry of a tolerance table.

  Attributes:
    value: the tolerance, or the number k of standard errors when ``per_se``.
    relation: ``rel``, ``abs``, ``max`` or ``min``.
    source: where the number comes from (one of :data:`SOURCES`).
    why: one line: the computation or measurement behind the number.
    kind: one of :data:`KINDS`.
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
      raise ValueError("Tolerance.disputed is for claims only: a theory, fit or identity check that fails is a "
                       "fault, and a control that holds fails the run")

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
  def holds(self) -> bool:
    """Whether the comparison holds: the measured value is within the tolerance (a non-finite measurement never
    does). A ``control`` passes when this is False."""
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
    """``pass``, ``fail`` or ``disagrees`` (a disputed claim that the numbers contradict); a ``control`` passes
    when its comparison does not hold."""
    if self.kind == "control":
      return "fail" if self.holds else "pass"
    if self.holds:
      return "pass"
    return "disagrees" if self.disputed else "fail"

  @property
  def passed(self) -> bool:
    """Whether the check's status is ``pass``."""
    return self.status == "pass"

  @property
  def tolerance_text(self) -> str:
    """The applied tolerance as a table cell."""
    return {"rel": f"±{self.tolerance:.3g} rel.", "abs": f"±{self.tolerance:.3g}", "max": f"≤ {self.tolerance:.3g}",
            "min": f"≥ {self.tolerance:.3g}"}[self.relation]

  def to_dict(self) -> dict[str, Any]:
    """The JSON form of the check, as ``summary.json`` lists it.

    Returns:
      quantity, theory, measured, tolerance, relation, kind, entry, note and disputed, with the derived ``holds``,
      ``passed`` and ``status``.

    Reference: docs page "concepts/runs", section "A run's workdir" (``summary.json``).
    """
    return {"quantity": self.quantity, "theory": float(self.theory), "measured": float(self.measured),
            "tolerance": float(self.tolerance), "relation": self.relation, "kind": self.kind, "entry": self.entry,
            "holds": bool(self.holds), "passed": bool(self.passed), "status": self.status, "note": self.note,
            "disputed": self.disputed}

  @classmethod
  def from_dict(cls, d: Mapping[str, Any]) -> Check:
    """Inverse of :meth:`to_dict` (derived keys are ignored; missing optional keys take their defaults).

    Args:
      d: a check's JSON form (from ``summary.json``).

    Returns:
      The check.

    Reference: docs page "concepts/runs", section "A run's workdir" (``summary.json``).
    """
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

  def __call__(self, entry: str, quantity: str, theory: SupportsFloat, measured: SupportsFloat, *,
               se: SupportsFloat | None = None, floor: float = 0.0, note: str = "", dof: int | None = None,
               quantile: Callable[[float], float] | None = None) -> Check:
    """Adds and returns one check.

    Args:
      entry: name of the tolerance-table entry.
      quantity: what is compared, as the report shows it.
      theory: the reference value (read with ``float``: a Python, NumPy or JAX scalar).
      measured: the measured value (likewise).
      se: the standard error computed in the run (required by ``per_se`` entries; likewise).
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


@dataclasses.dataclass(frozen=True)
class Summary:
  """What a run's (or a job's) checks come to.

  Attributes:
    counts: kind -> ``(passed, total)`` for every kind of :data:`KINDS` (zeros included).
    disagree: checks whose status is ``disagrees``.
    failed: checks whose status is ``fail``.
    status: ``fail`` if any check fails, else ``disagrees`` if any disagrees, else ``pass``.
  """

  counts: Mapping[str, tuple[int, int]]
  disagree: int
  failed: int
  status: str

  @property
  def passed(self) -> int:
    """Checks that pass, all kinds together."""
    return sum(p for p, _ in self.counts.values())

  @property
  def total(self) -> int:
    """Checks of all kinds."""
    return sum(t for _, t in self.counts.values())

  def line(self) -> str:
    """The one-line count of the checks.

    Returns:
      ``"a/b checks pass (theory x/y, fit ..., identity ..., claim ..., control ...)"`` with kinds without checks
      left out, then ``"; k of the papers' claims disagree with the numbers"`` when some do.

    Reference: docs page "concepts/checks", section "Kinds: what a check is evidence of".
    """
    parts = [f"{kind} {p}/{t}" for kind, (p, t) in self.counts.items() if t]
    return (f"{self.passed}/{self.total} checks pass ({', '.join(parts)})"
            + (f"; {self.disagree} of the papers' claims disagree with the numbers" if self.disagree else ""))


def summarize(checks: Sequence[Check | Mapping[str, Any]]) -> Summary:
  """The one count of checks by kind and status, used by the driver, the report and the sweep.

  Args:
    checks: :class:`Check` objects or their ``to_dict`` form (from ``summary.json``).

  Returns:
    The summary.

  Reference: docs page "concepts/checks", section "Kinds: what a check is evidence of" (statuses and ``summarize``).
  """
  objs = [c if isinstance(c, Check) else Check.from_dict(c) for c in checks]
  counts = {kind: (sum(c.passed for c in objs if c.kind == kind), sum(c.kind == kind for c in objs))
            for kind in KINDS}
  statuses = [c.status for c in objs]
  status = "fail" if "fail" in statuses else "disagrees" if "disagrees" in statuses else "pass"
  return Summary(counts, statuses.count("disagrees"), statuses.count("fail"), status)
