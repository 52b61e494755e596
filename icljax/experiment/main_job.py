"""The main job: every registered experiment's ``main_job`` runs through the driver, then REPORT.md.

Runs go to ``<workdir>/<config name>`` (``-quick`` appended for the tiny variants); finished runs are not redone,
and REPORT.md is rewritten after every run, so an interrupted job still leaves a report. Runs of results not
selected with ``only`` stay in the report when they are finished.

Profiles (:data:`PROFILES`): ``full``, every result's runs; ``headline``, the first (headline) run of each result at
full size, whose checks must pass like the full job's (the same configs and directories, so a later full job in the
same workdir does not redo them); ``quick``, the tiny variant of each headline run (the machinery only; its checks
are not expected to pass).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from icljax import configs, runs, validation
from icljax.experiment import driver, registry, report
from icljax.experiment.api import Experiment, MainJobRun

PROFILES = ("full", "headline", "quick")


def _config_spec(run: MainJobRun, quick: bool) -> str:
  arg = ",".join(w for w in (run.arg, "quick" if quick else None) if w)
  return run.config + (f":{arg}" if arg else "")


def _entries(workdir: Path, profile: str) -> list[tuple[Experiment, MainJobRun, Any, Path]]:
  """Every run of the job's profile: all runs (``full``) or the first (headline) run of each result."""
  quick = profile == "quick"
  out = []
  for name in registry.names():
    experiment = registry.get(name)
    for run in experiment.main_job if profile == "full" else experiment.main_job[:1]:
      config = configs.load(_config_spec(run, quick))
      out.append((experiment, run, config, workdir / (config.name + ("-quick" if quick else ""))))
  return out


def _group_figures(workdir: Path, experiment: Experiment, items: Sequence[tuple[MainJobRun, Path]]) -> list[str]:
  if experiment.group_figures is None:
    return []
  groups: dict[str, list] = {}
  for run, path in items:
    if run.figure and (path / runs.SUMMARY).exists():
      groups.setdefault(run.figure, []).append((runs.read_json(path / runs.CONFIG),
                                                runs.read_jsonl(path / runs.METRICS),
                                                runs.read_json(path / runs.SUMMARY)))
  if not groups:
    return []
  return [str(Path(p).relative_to(workdir)) for p in experiment.group_figures(workdir / "figures" / experiment.name,
                                                                              groups)]


def _sections(workdir: Path, entries: Sequence[tuple[Experiment, MainJobRun, Any, Path]]) -> list[tuple]:
  """Per result: the experiment, its finished runs ``(name, dir, summary)`` and its result-level figures."""
  sections = []
  for name in registry.names():
    mine = [(run, path) for exp, run, _, path in entries if exp.name == name]
    done = [(path.name, path, runs.read_json(path / runs.SUMMARY)) for _, path in mine
            if (path / runs.SUMMARY).exists()]
    sections.append((registry.get(name), done, _group_figures(workdir, registry.get(name), mine)))
  return sections


def write(workdir: Path, entries: Sequence[tuple[Experiment, MainJobRun, Any, Path]], profile: str) -> Path:
  """Rewrites REPORT.md from the finished runs among ``entries``.

  Args:
    workdir: the main job's directory.
    entries: every run of the job.
    profile: one of :data:`PROFILES`.

  Returns:
    The report's path.
  """
  sections = _sections(workdir, entries)
  pending = sum(not (path / runs.SUMMARY).exists() for *_, path in entries)
  full_runs = sum(len(registry.get(name).main_job) for name in registry.names())
  return report.write_report(workdir / "REPORT.md", sections, profile=profile, pending=pending, full_runs=full_runs)


def run(workdir: str | Path, *, profile: str = "full", only: Sequence[str] = (),
        printer: Callable[[str], None] = print) -> tuple[Path, list[tuple[str, str]], str]:
  """Runs the main job (or the selected results) and writes REPORT.md.

  Args:
    workdir: the main job's directory.
    profile: ``full`` (every run), ``headline`` (each result's first run, full size) or ``quick`` (its tiny
      variant; the checks are not expected to pass).
    only: experiment names to run (default: all); finished runs of the others stay in the report.
    printer: where progress lines go.

  Returns:
    The report's path, the failed checks as ``(run name, quantity)`` and the table of checks and times per result.
  """
  workdir = Path(workdir)
  validation.choice("profile", profile, PROFILES)
  for name in only:
    validation.choice("--only", name, registry.names())
  entries = _entries(workdir, profile)
  selected = [e for e in entries if not only or e[0].name in only]
  points = [driver.prepare(config, path) for _, _, config, path in selected]   # bad input: nothing written
  t0 = time.perf_counter()
  done = []

  def on_done(i: int, summary: dict[str, Any]) -> None:
    done.append(i)
    printer(f"[main job] {len(done)}/{len(points)} runs done ({time.perf_counter() - t0:.0f}s elapsed): "
            f"{summary['name']}")
    write(workdir, entries, profile)

  finished = sum(p.status == "finished" for p in points)
  printer(f"[main job] {len(points)} runs ({finished} finished, not redone) of {', '.join(only or registry.names())}")
  summaries = driver.run_points(points, printer=printer, on_done=on_done)
  path = write(workdir, entries, profile)
  failed = [(s["name"], c["quantity"]) for s in summaries for c in s["comparisons"] if c["status"] == "fail"]
  return path, failed, report.results_table(_sections(workdir, entries))
