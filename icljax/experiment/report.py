"""Markdown reports built from run summaries: a run's section, REPORT.md of the main job, sweep tables.

Everything here reads artefacts (summaries, configs, metrics), never live objects; every table goes through
``markdown.markdown_table``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from icljax import runs
from icljax.experiment.checks import KINDS, Check, summarize
from icljax.experiment.markdown import markdown_table


def fmt(x: float) -> str:
  """A number for a table cell: 4 decimals in [1e-3, 1e5) (and for 0), scientific otherwise.

  Args:
    x: the number.

  Returns:
    The cell text.

  Reference: docs page "concepts/runs", section "The main job" (REPORT.md's tables).
  """
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

  Reference: docs page "concepts/runs", section "The main job" (REPORT.md: every check of a run).
  """
  rows = [[c.quantity + (f" ({c.note})" if c.note else ""), c.kind, fmt(c.theory), fmt(c.measured), c.tolerance_text,
           STATUS_CELL[c.status]] for c in checks]
  return markdown_table(["quantity", "kind", "theory", "measured", "tolerance", "status"], rows)


STATUS_CELL = {"pass": "pass", "fail": "**FAIL**", "disagrees": "**disagrees** (see below)"}


def count_line(checks: Sequence[Check]) -> str:
  """The checks' one-line count (``a/b checks pass (theory x/y, ...)``), as ``checks.Summary.line`` writes it.

  Args:
    checks: the checks.

  Returns:
    The line.

  Reference: docs page "concepts/checks", section "Kinds: what a check is evidence of".
  """
  return summarize(checks).line()


def requirement(c: Check) -> str:
  """What a check requires of its measured value, in words (``<= 0.467``, ``0.333 +- 0.014``).

  Args:
    c: the check.

  Returns:
    ``<= tol`` or ``>= tol`` for ``max``/``min``, else ``theory +- tol`` (with ``relative`` for ``rel``).

  Reference: docs page "concepts/checks", section "Kinds: what a check is evidence of".
  """
  if c.relation == "max":
    return f"<= {fmt(c.tolerance)}"
  if c.relation == "min":
    return f">= {fmt(c.tolerance)}"
  return f"{fmt(c.theory)} +- {c.tolerance:.3g}" + (" relative" if c.relation == "rel" else "")


def disagreement_section(runs_: Sequence[tuple[str, Path, Mapping[str, Any]]], root: Path) -> list[str]:
  """REPORT.md's "Where the papers and the numbers disagree": every disputed claim the numbers contradict.

  Args:
    runs_: ``(run name, run dir, summary)`` of every finished run.
    root: the report's folder (figure links are relative to it).

  Returns:
    Markdown lines (empty when no claim disagrees).

  Reference: docs page "concepts/checks", section "Kinds: what a check is evidence of" (the status ``disagrees``).
  """
  by_text: dict[str, list[str]] = {}   # one entry per disputed statement; further runs that contradict it nest
  for name, d, s in runs_:
    for c in map(Check.from_dict, s["comparisons"]):
      if c.status != "disagrees":
        continue
      setting = s.get("scalars", {}).get("setting", "")
      links = ", ".join(f"[{Path(f).name}]({d.relative_to(root)}/{f})" for f in s.get("figures", []))
      figures = f" Figures: {links}." if links else ""
      where, measured = f"run `{name}`{'; ' + setting if setting else ''}", f"measured **{fmt(c.measured)}**."
      if c.disputed not in by_text:
        by_text[c.disputed] = [f"- **{c.quantity}** ({where}): the paper's statement is {requirement(c)}; "
                               f"{measured} {c.disputed}{figures}"]
      else:
        by_text[c.disputed].append(f"  - also {c.quantity} ({where}): {requirement(c)}; {measured}{figures}")
  lines = [line for entry in by_text.values() for line in entry]
  if not lines:
    return []
  return ["## Where the papers and the numbers disagree", "",
          "Each item is a claim as the paper states it, checked in the run at the setting shown; the numbers "
          "contradict it. What was found and what would settle it is stated with it.", "", *lines, ""]


def results_table(sections: Sequence[tuple[Any, Sequence[tuple[str, Path, Mapping[str, Any]]], Any]]) -> str:
  """Per result: runs, checks by kind and status, and where the time went (from each run's timing.json): compiling,
  the compiled training chunks, logging (metrics along the run, checkpoints), evaluation and figures.

  Args:
    sections: per result ``(experiment, [(run name, run dir, summary)], ...)``.

  Returns:
    A markdown table.

  Reference: docs page "concepts/runs", section "The main job".
  """
  rows = []
  for experiment, items, *_ in sections:
    if not items:
      continue
    tally = summarize([c for *_, s in items for c in s["comparisons"]])
    times = [runs.read_json(d / runs.TIMING) if (d / runs.TIMING).exists() else {} for _, d, _ in items]
    split = [sum(t.get(f"{k}_seconds", 0.0) for t in times) for k in ("compile", "train", "log", "evaluate",
                                                                        "figures")]
    kinds = [f"{p}/{t}" for p, t in tally.counts.values()]
    rows.append([experiment.name, len(items), *kinds, tally.disagree, tally.failed, *(f"{v:.0f}" for v in split)])
  return markdown_table(["result", "runs", *KINDS, "disagree", "FAIL", "compile s", "train s", "log s", "evaluate s",
                         "figures s"], rows)


def run_section(summary: Mapping[str, Any], rel_dir: str = ".", level: int = 3) -> str:
  """A run's section: heading with its setting, the count of passing checks, figures, the table and notes.

  Args:
    summary: the run's ``summary.json`` content.
    rel_dir: the run's directory relative to the report (figure paths are prefixed with it).
    level: heading level.

  Returns:
    Markdown text.

  Reference: docs page "concepts/runs", section "The main job".
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
                                                      Sequence[str]]], *, profile: str, pending: int,
                 full_runs: int, environment: Mapping[str, str] | None = None,
                 sizes: Mapping[str, str] | None = None) -> Path:
  """REPORT.md of the main job: totals, a run index, and per result its title, claim, figures and run sections.

  Args:
    path: the report file (its folder is the main job's workdir).
    sections: per result ``(experiment, [(run name, run dir, summary)], result-level figure paths)``.
    profile: the main job's profile (``key``, ``full`` or ``quick``).
    pending: runs not finished yet.
    full_runs: how many runs the full profile has (named in the key profile's note).
    environment: what the job ran on (platform, device, versions), shown in a table.
    sizes: run name -> what its key-figure variant reduces against the full archive's run (shown in the run
      index and in the run's section; its checks carry their own, wider error bars).

  Returns:
    ``path``.

  Reference: docs page "concepts/runs", section "The main job".
  """
  root = path.parent
  done = [(name, d, s) for _, items, _ in sections for name, d, s in items]
  checks = [Check.from_dict(c) for *_, s in done for c in s["comparisons"]]
  lines = ["# icljax reproduction report", "",
           count_line(checks) + f" over {len(done)} runs" + (f" ({pending} runs not finished)" if pending else "")
           + "."]
  if profile == "quick":
    lines += ["", "**Quick mode**: tiny runs that exercise the machinery; the checks are not expected to pass."]
  elif profile == "key":
    lines += ["", f"**Key-figure profile** (the default): the runs each theorem names as its paper's key figures "
              f"({len(done) + pending} of the selected theorems' {full_runs} runs), every check at the full job's "
              "standard; `icljax-reproduce --full` runs them all and reuses these."]
  if environment:
    lines += ["", "Ran on: " + "; ".join(f"{k} {v}" for k, v in environment.items()) + "."]
  lines += ["", results_table(sections), ""] + disagreement_section(done, root)
  index = []
  for name, d, s in done:
    timing = runs.read_json(d / runs.TIMING) if (d / runs.TIMING).exists() else {}
    split = [f"{timing.get(f'{k}_seconds', 0.0):.1f}" for k in ("total", "compile", "train", "evaluate")]
    n_pass = sum(c["passed"] for c in s["comparisons"])
    index.append([name, f"{n_pass}/{len(s['comparisons'])}", s.get("status", ""), *split,
                  str(d.relative_to(root)), (sizes or {}).get(name, "")])
  lines += ["## Runs", "", "Seconds per run (`timing.json`; a stack's shared compile and train time is split evenly "
            "among its runs).", "", markdown_table(["run", "checks passed", "status", "seconds", "compile s",
                                                   "train s", "evaluate s", "workdir", "reduced for the key profile"],
                                                  index), ""]
  for experiment, items, figures in sections:
    if not items:
      continue
    lines += [f"## {experiment.title}", "", f"**Claim.** {experiment.claim}", ""]
    lines += [f"![{f}]({f})" for f in figures] + ([""] if figures else [])
    for name, d, s in items:
      if size := (sizes or {}).get(name):
        lines += [f"*Reduced for the key profile*: {size}; its checks carry the error bars of this size. "
                  "`icljax-reproduce --full` runs the full-size run.", ""]
      lines.append(run_section(s, str(d.relative_to(root))))
  runs.atomic_write_text(path, "\n".join(lines) + "\n")
  return path


def sweep_table(title: str, intro: str, index: Sequence[Mapping[str, Any]], swept: Sequence[str],
                columns: Mapping[str, str]) -> str:
  """SWEEP.md as one table: per grid point its swept values, the named numeric columns and the status.

  Args:
    title: the heading.
    intro: a paragraph under it (may be empty).
    index: the sweep's index rows.
    swept: the swept fields.
    columns: header -> index key of each numeric column (a point without that key, e.g. a run with fewer
      drops than another, shows an empty cell).

  Returns:
    Markdown text.

  Reference: docs page "concepts/runs", section "Sweeps" (``SWEEP.md``).
  """
  rows = [[*(r[f] for f in swept), *(fmt(r[k]) if k in r else "" for k in columns.values()), r.get("status", "")]
          for r in index]
  return (f"# {title}\n\n" + (f"{intro}\n\n" if intro else "")
          + markdown_table([*swept, *columns, "status"], rows) + "\n")


def grouped(rows: Sequence[Mapping[str, Any]], by: Sequence[str]) -> dict[tuple, list[Mapping[str, Any]]]:
  """Sweep index rows grouped by the values of ``by`` (e.g. every swept field but the seed), first-seen order.

  Args:
    rows: index rows.
    by: field names.

  Returns:
    key tuple -> rows.

  Reference: docs page "concepts/runs", section "Sweeps".
  """
  out: dict[tuple, list[Mapping[str, Any]]] = {}
  for r in rows:
    out.setdefault(tuple(r[f] for f in by), []).append(r)
  return out
