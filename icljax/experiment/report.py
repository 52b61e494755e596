"""Markdown reports built from run summaries: a run's section, REPORT.md of the main job, sweep tables.

Everything here reads artefacts (summaries, configs, metrics), never live objects; every table goes through
``checks.markdown_table``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from icljax import runs
from icljax.experiment.checks import Check, markdown_table


def fmt(x: float) -> str:
  """A number for a table cell: 4 decimals in [1e-3, 1e5), scientific otherwise."""
  x = float(x)
  if x == 0 or 1e-3 <= abs(x) < 1e5:
    return f"{x:.4f}"
  return f"{x:.3e}"


def checks_table(checks: Sequence[Check]) -> str:
  """Every check of a run: quantity, kind, theory, measured, tolerance, pass.

  Args:
    checks: the run's checks.

  Returns:
    A markdown table.
  """
  rows = [[c.quantity + (f" ({c.note})" if c.note else ""), c.kind, fmt(c.theory), fmt(c.measured), c.tolerance_text,
           "pass" if c.passed else "**FAIL**"] for c in checks]
  return markdown_table(["quantity", "kind", "theory", "measured", "tolerance", "pass"], rows)


def count_line(checks: Sequence[Check]) -> str:
  """``"a/b checks pass (theory x/y, identity ..., claim ...)"``."""
  parts = []
  for kind in ("theory", "identity", "claim"):
    mine = [c for c in checks if c.kind == kind]
    if mine:
      parts.append(f"{kind} {sum(c.passed for c in mine)}/{len(mine)}")
  return f"{sum(c.passed for c in checks)}/{len(checks)} checks pass ({', '.join(parts)})"


def run_section(summary: Mapping[str, Any], rel_dir: str = ".", level: int = 3) -> str:
  """A run's section: heading with its setting, the count of passing checks, figures, the table and notes.

  Args:
    summary: the run's ``summary.json`` content.
    rel_dir: the run's directory relative to the report (figure paths are prefixed with it).
    level: heading level.

  Returns:
    Markdown text.
  """
  checks = [Check.from_dict(c) for c in summary["comparisons"]]
  setting = summary.get("scalars", {}).get("setting", "")
  lines = ["#" * level + f" {summary['name']}" + (f": {setting}" if setting else ""), "", count_line(checks) + ".", ""]
  figures = [f"{rel_dir}/{f}" for f in summary.get("figures", [])]
  lines += [f"![{f}]({f})" for f in figures] + ([""] if figures else [])
  lines.append(checks_table(checks))
  if summary.get("notes"):
    lines += [""] + [f"- {n}" for n in summary["notes"]]
  return "\n".join(lines) + "\n"


def write_report(path: Path, sections: Sequence[tuple[Any, Sequence[tuple[str, Path, Mapping[str, Any]]],
                                                      Sequence[str]]], *, quick: bool, pending: int) -> Path:
  """REPORT.md of the main job: totals, a run index, and per result its title, claim, figures and run sections.

  Args:
    path: the report file (its folder is the main job's workdir).
    sections: per result ``(experiment, [(run name, run dir, summary)], result-level figure paths)``.
    quick: whether the runs are the tiny quick variants.
    pending: runs not finished yet.

  Returns:
    ``path``.
  """
  root = path.parent
  done = [(name, d, s) for _, items, _ in sections for name, d, s in items]
  checks = [Check.from_dict(c) for *_, s in done for c in s["comparisons"]]
  lines = ["# icljax reproduction report", "",
           count_line(checks) + f" over {len(done)} runs" + (f" ({pending} runs not finished)" if pending else "")
           + "."]
  if quick:
    lines += ["", "**Quick mode**: tiny runs that exercise the machinery; the checks are not expected to pass."]
  index = []
  for name, d, s in done:
    timing = d / runs.TIMING
    seconds = runs.read_json(timing)["total_seconds"] if timing.exists() else 0.0
    n_pass = sum(c["passed"] for c in s["comparisons"])
    index.append([name, f"{n_pass}/{len(s['comparisons'])}", f"{seconds:.0f}", str(d.relative_to(root))])
  lines += ["", markdown_table(["run", "checks passed", "seconds", "workdir"], index), ""]
  for experiment, items, figures in sections:
    if not items:
      continue
    lines += [f"## {experiment.title}", "", f"**Claim.** {experiment.claim}", ""]
    lines += [f"![{f}]({f})" for f in figures] + ([""] if figures else [])
    for _, d, s in items:
      lines.append(run_section(s, str(d.relative_to(root))))
  runs.atomic_write_text(path, "\n".join(lines) + "\n")
  return path


def grouped(rows: Sequence[Mapping[str, Any]], by: Sequence[str]) -> dict[tuple, list[Mapping[str, Any]]]:
  """Sweep index rows grouped by the values of ``by`` (e.g. every swept field but the seed), first-seen order.

  Args:
    rows: index rows.
    by: field names.

  Returns:
    key tuple -> rows.
  """
  out: dict[tuple, list[Mapping[str, Any]]] = {}
  for r in rows:
    out.setdefault(tuple(r[f] for f in by), []).append(r)
  return out
