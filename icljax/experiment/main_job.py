"""The main job: every registered theorem's main-job runs through the driver, then REPORT.md.

Runs go to ``<workdir>/<run name>`` (``-quick`` appended for the tiny variants); finished runs are not redone,
and REPORT.md is rewritten after every run, so an interrupted job still leaves a report.

Profiles (:data:`PROFILES`): ``key`` (the default), the runs each theorem marks as its paper's key figures
(``MainJobRun(key=True)``; a theorem that marks none contributes its first run), every check held to the full job's
standard; ``full``, every run; ``quick``, the tiny variant of each key run (the machinery only; its checks are not
expected to pass). ``only`` selects theorems: the report's counts cover the selected theorems, and finished runs of
other theorems already in the workdir stay listed.
"""

from __future__ import annotations

import importlib.metadata
import platform
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jax

from icljax import runs, validation
from icljax.experiment import configs, driver, fields, pool, registry, report
from icljax.experiment.api import Experiment, MainJobRun

PROFILES = ("key", "full", "quick")
Entry = tuple[Experiment, MainJobRun, Any, Path]


def profile_runs(experiment: Experiment, profile: str) -> tuple[MainJobRun, ...]:
  """The theorem's runs in a profile.

  Args:
    experiment: the theorem.
    profile: one of :data:`PROFILES`.

  Returns:
    Every run at full size (``full``: the archive, without the reduced key variants), or its key runs (``key``,
    ``quick``; the first run if none is marked).

  Reference: docs page "concepts/runs", section "The main job".
  """
  if profile == "full":   # the archive at full size: a key run drawn at reduced sizes has its full-size twin there
    return tuple(r for r in experiment.main_job if not r.reduced)
  key = tuple(r for r in experiment.main_job if r.key)
  return key or experiment.main_job[:1]


def _entries(workdir: Path, profile: str) -> list[Entry]:
  quick = profile == "quick"
  out = []
  for name in registry.names():
    experiment = registry.get(name)
    for run in profile_runs(experiment, profile):
      ref = MainJobRun(run.preset, (*run.variants, "quick") if quick else run.variants, run.overrides, run.figure,
                       run.key, run.reduced)
      config = configs.load(ref)
      out.append((experiment, run, config, workdir / (configs.run_name(config) + ("-quick" if quick else ""))))
  return out


def _group_figures(workdir: Path, experiment: Experiment, items: Sequence[tuple[MainJobRun, Path]]) -> list[str]:
  if experiment.group_figures is None:
    return []
  groups: dict[str, list] = {}
  for run, path in items:
    if run.figure and (path / runs.SUMMARY).exists():
      config = fields.from_dict(experiment.config, runs.read_json(path / runs.CONFIG))
      groups.setdefault(run.figure, []).append((config, runs.read_jsonl(path / runs.METRICS),
                                                runs.read_json(path / runs.SUMMARY)))
  if not groups:
    return []
  return [str(Path(p).relative_to(workdir)) for p in experiment.group_figures(workdir / "figures" / experiment.name,
                                                                              groups)]


def _sections(workdir: Path, entries: Sequence[Entry], only: Sequence[str]) -> list[tuple]:
  """Per theorem (selected, or with finished runs): the experiment, its finished runs ``(name, dir, summary)`` and
  its result-level figures."""
  sections = []
  for name in registry.names():
    mine = [(run, path) for exp, run, _, path in entries if exp.name == name]
    done = [(path.name, path, runs.read_json(path / runs.SUMMARY)) for _, path in mine
            if (path / runs.SUMMARY).exists()]
    if done or not only or name in only:
      sections.append((registry.get(name), done, _group_figures(workdir, registry.get(name), mine)))
  return sections


def environment(deterministic: bool = False) -> dict[str, str]:
  """What the job ran on and with: platform, device kind and count, the ``--deterministic`` flag, Python and the
  versions of the packages that decide the numbers.

  Args:
    deterministic: whether deterministic GPU/TPU kernels were requested.

  Returns:
    name -> value (REPORT.md's environment table).

  Reference: docs page "concepts/runs", section "The main job".
  """
  devices = jax.devices()
  out = {"platform": jax.default_backend(), "device kind": devices[0].device_kind, "devices": str(len(devices)),
         "deterministic kernels": "yes (--deterministic)" if deterministic else "no",
         "python": platform.python_version()}
  for package in ("icljax", "jax", "jaxlib", "optax", "numpy", "scipy", "absl-py", "matplotlib"):
    try:
      out[package] = importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
      out[package] = "not installed"
  return out


def write(workdir: Path, entries: Sequence[Entry], profile: str, only: Sequence[str] = (),
          env: dict[str, str] | None = None) -> Path:
  """Rewrites REPORT.md from the finished runs among ``entries``.

  Args:
    workdir: the main job's directory.
    entries: every run of the profile.
    profile: one of :data:`PROFILES`.
    only: the selected theorems (empty: all); unfinished runs are counted for these only.
    env: the job's environment (:func:`environment`).

  Returns:
    The report's path.

  Reference: docs page "concepts/runs", section "The main job".
  """
  sections = _sections(workdir, entries, only)
  pending = sum(not (path / runs.SUMMARY).exists() for exp, _, _, path in entries if not only or exp.name in only)
  full_runs = sum(len(registry.get(name).main_job) for name in (only or registry.names()))
  sizes = {path.name: run.reduced for _, run, _, path in entries if run.reduced}
  return report.write_report(workdir / "REPORT.md", sections, profile=profile, pending=pending, full_runs=full_runs,
                             environment=env or {}, sizes=sizes)


def run(workdir: str | Path, *, profile: str = "key", only: Sequence[str] = (),
        printer: Callable[[str], None] = print, deterministic: bool = False, jobs: int = 1,
        quiet: bool = False) -> tuple[Path, list[tuple[str, str]], str]:
  """Runs the main job (or the selected theorems) and writes REPORT.md.

  Args:
    workdir: the main job's directory.
    profile: ``key`` (each theorem's key runs), ``full`` (every run) or ``quick`` (tiny key runs; the checks are
      not expected to pass).
    only: theorem names to run (default: all registered, built-in and plug-in).
    printer: where progress lines go.
    deterministic: whether ``--deterministic`` was given (recorded in REPORT.md).
    jobs: worker processes for independent groups of runs (``icljax.experiment.pool``; 1: this process).
    quiet: silence the workers' progress lines.

  Returns:
    The report's path, the failed checks as ``(run name, quantity)`` and the table of checks and times per
    theorem.

  Raises:
    ConfigError: an unknown profile or theorem, or a bad config (before anything is written).

  Reference: docs page "concepts/runs", section "The main job".
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
  env = environment(deterministic)

  def on_done(i: int, summary: dict[str, Any]) -> None:
    done.append(i)
    printer(f"[main job] {len(done)}/{len(points)} runs done ({time.perf_counter() - t0:.0f}s elapsed): "
            f"{summary['name']}")
    write(workdir, entries, profile, only, env)

  finished = sum(p.status == "finished" for p in points)
  printer(f"[main job] {len(points)} runs ({finished} finished, not redone) of {', '.join(only or registry.names())}")
  cache = jax.config.jax_compilation_cache_dir   # type: ignore[attr-defined]  # jax adds its flags at runtime
  summaries = pool.run_points(points, jobs, printer=printer, on_done=on_done, quiet=quiet, cache=cache or None)
  path = write(workdir, entries, profile, only, env)
  failed = [(s["name"], c["quantity"]) for s in summaries for c in s["comparisons"] if c["status"] == "fail"]
  return path, failed, report.results_table(_sections(workdir, entries, only))
