"""Trained-vs-theory comparisons and the markdown they are reported in.

A :class:`Comparison` names a quantity, its theory value, the measured value, a tolerance and how the
tolerance applies (``kind``):

* ``'rel'``: ``|measured - theory| <= tol * |theory|``;
* ``'abs'``: ``|measured - theory| <= tol``;
* ``'max'``: ``measured <= tol`` (theory is the ideal value, e.g. 0);
* ``'min'``: ``measured >= tol`` (theory is the ideal value, e.g. 1).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from typing import Any

KINDS = ("rel", "abs", "max", "min")


@dataclasses.dataclass(frozen=True)
class Comparison:
  quantity: str
  theory: float
  measured: float
  tolerance: float
  kind: str = "rel"
  note: str = ""

  def __post_init__(self):
    if self.kind not in KINDS:
      raise ValueError(f"kind={self.kind!r} is invalid: expected one of {KINDS}")

  @property
  def passed(self) -> bool:
    m, t, tol = float(self.measured), float(self.theory), float(self.tolerance)
    if not math.isfinite(m):
      return False
    if self.kind == "rel":
      return abs(m - t) <= tol * abs(t)
    if self.kind == "abs":
      return abs(m - t) <= tol
    if self.kind == "max":
      return m <= tol
    return m >= tol

  @property
  def tolerance_text(self) -> str:
    return {"rel": f"±{self.tolerance:.3g} rel.", "abs": f"±{self.tolerance:.3g}",
            "max": f"≤ {self.tolerance:.3g}", "min": f"≥ {self.tolerance:.3g}"}[self.kind]

  def to_dict(self) -> dict[str, Any]:
    return {"quantity": self.quantity, "theory": float(self.theory), "measured": float(self.measured),
            "tolerance": float(self.tolerance), "kind": self.kind, "passed": bool(self.passed), "note": self.note}

  @classmethod
  def from_dict(cls, d: dict[str, Any]) -> "Comparison":
    return cls(d["quantity"], d["theory"], d["measured"], d["tolerance"], d["kind"], d.get("note", ""))


def _fmt(x: float) -> str:
  x = float(x)
  if x == 0 or 1e-3 <= abs(x) < 1e5:
    return f"{x:.4f}"
  return f"{x:.3e}"


def markdown_table(comparisons: Iterable[Comparison]) -> str:
  rows = ["| quantity | theory | measured | tolerance | pass |", "|---|---|---|---|---|"]
  for c in comparisons:
    quantity = (c.quantity + (f" ({c.note})" if c.note else "")).replace("|", "\\|")
    rows.append(f"| {quantity} | {_fmt(c.theory)} | {_fmt(c.measured)} | {c.tolerance_text} | "
                f"{'pass' if c.passed else '**FAIL**'} |")
  return "\n".join(rows)


def section(title: str, claim: str, comparisons: Sequence[Comparison], figures: Sequence[str] = (),
            notes: Sequence[str] = (), level: int = 2) -> str:
  """A report section: heading, one-sentence claim, figures (relative paths), comparison table, notes."""
  passed = sum(c.passed for c in comparisons)
  lines = ["#" * level + f" {title}", ""]
  if claim:
    lines += [f"**Claim.** {claim}", ""]
  lines += [f"{passed}/{len(comparisons)} trained-vs-theory checks pass.", ""]
  lines += [f"![{p}]({p})" for p in figures]
  if figures:
    lines.append("")
  lines.append(markdown_table(comparisons))
  if notes:
    lines += [""] + [f"- {n}" for n in notes]
  return "\n".join(lines) + "\n"


def grouped(rows: Sequence[dict[str, Any]], by: Sequence[str]) -> dict[tuple, list[dict[str, Any]]]:
  """Sweep index rows grouped by the values of ``by`` (e.g. every swept field but the seed), in first-seen order."""
  out: dict[tuple, list[dict[str, Any]]] = {}
  for r in rows:
    out.setdefault(tuple(r[f] for f in by), []).append(r)
  return out


def sweep_table(rows: Sequence[dict[str, Any]], by: Sequence[str], measured: str, theory: str,
                tolerance: float) -> tuple[str, list[Comparison]]:
  """A markdown table over grid points (seeds pooled): theory, mean ± std and range of ``measured`` over seeds,
  and a relative check of every seed against the theory value."""
  lines = ["| " + " | ".join(by) + f" | {theory} | {measured} mean ± std (seeds) | max rel. error | pass |",
           "|" + "---|" * (len(by) + 4)]
  comparisons = []
  for key, group in grouped(rows, by).items():
    values = [float(r[measured]) for r in group]
    t = float(group[0][theory])
    worst = max(values, key=lambda v: abs(v - t))
    c = Comparison(f"{measured} at " + ", ".join(f"{f}={v}" for f, v in zip(by, key)), t, worst, tolerance,
                   note=f"worst of {len(values)} seeds")
    comparisons.append(c)
    mean = sum(values) / len(values)
    std = (sum((v - mean) ** 2 for v in values) / max(len(values) - 1, 1)) ** 0.5
    lines.append("| " + " | ".join(str(v) for v in key) + f" | {_fmt(t)} | {_fmt(mean)} ± {std:.2g} | "
                 f"{abs(worst - t) / abs(t):.2%} | {'pass' if c.passed else '**FAIL**'} |")
  return "\n".join(lines), comparisons
