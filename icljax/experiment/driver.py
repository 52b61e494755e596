"""The one run lifecycle: a single run is a sweep group of one.

``validate -> plan -> workdir lock -> resume -> train in chunks (NaN guard, metrics, checkpoint per point) ->
evaluate -> params.npz -> figures -> timing.json -> summary.json (last: its presence marks a finished run)``.

* Bad input raises :class:`icljax.validation.ConfigError` before anything is written.
* A finished run (same config, ``summary.json`` present) is not redone.
* An interrupted run (same config, no summary) resumes from its last checkpoint and ends with the artefacts an
  uninterrupted run writes; a truncated or corrupted checkpoint or metrics file raises
  :class:`icljax.runs.ArtefactError` and is left untouched.
* A workdir in use by another process is refused (``ConfigError`` on ``workdir``).
* A NaN or Inf in the loss or the parameters raises :class:`icljax.runs.NumericalFault` naming the run and the
  step; the last good checkpoints stay intact.
* Points whose configs differ only in their experiment's ``stack_fields`` train as one compiled program
  (``icljax.sweep.train_stack``). Only process 0 writes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jax
import numpy as np
from absl import logging

from icljax import runs, sweep, train
from icljax.experiment import configs, fields
from icljax.experiment.api import Experiment, FigureInput, Plan
from icljax.experiment.checks import Check, summarize

Printer = Callable[[str], None]
# Seconds between writes of a run's metrics and checkpoint (always at the first log and the last step); the
# environment variable ICLJAX_PERSIST_SECONDS overrides it (0: at every log). A kill loses at most this much work.
PERSIST_SECONDS = float(os.environ.get("ICLJAX_PERSIST_SECONDS", "5"))


@dataclasses.dataclass(frozen=True)
class Point:
  """A validated run: its typed config, its JSON form, workdir, experiment, specs, workdir status and name."""

  config: Any
  cfg: dict[str, Any]
  workdir: Path
  experiment: Experiment
  setup: Any
  status: str
  label: str


def prepare(config: Any, workdir: str | Path) -> Point:
  """Validates a config fully and says what its workdir holds; writes nothing.

  Args:
    config: a theorem's typed config (``icljax.experiment.configs.load``).
    workdir: the run's directory.

  Returns:
    The validated point.

  Reference: docs page "concepts/runs", section "A run's workdir".
  """
  experiment = configs.experiment_of(config)
  fields.validate(type(config), config.to_dict())   # a config built by hand is held to the declarations too
  setup = experiment.setup(config)
  cfg = runs.to_jsonable({"experiment": experiment.name, **config.to_dict()})
  return Point(config, cfg, Path(workdir), experiment, setup, runs.check_workdir(workdir, cfg),
               configs.run_name(config))


def run(config: Any, workdir: str | Path, *, printer: Printer = print, figures: bool = True) -> dict[str, Any]:
  """Runs one config into ``workdir`` and returns its summary (a group of one).

  Args:
    config: a theorem's typed config.
    workdir: the run's directory.
    printer: where progress lines go.
    figures: draw the figures (off for runs read by machines only, e.g. the mutant catalogue's).

  Returns:
    The run's summary (the content of ``summary.json``).

  Reference: docs page "concepts/runs", section "A run's workdir".
  """
  return run_points([prepare(config, workdir)], printer=printer, figures=figures)[0]


def run_points(points: Sequence[Point], *, printer: Printer = print, mesh: Any = None, vmap_size: int | None = None,
               on_done: Callable[[int, dict[str, Any]], object] | None = None,
               figures: bool = True) -> list[dict[str, Any]]:
  """Runs validated points; points that may share a compiled program are trained as one stack.

  Args:
    points: from :func:`prepare`.
    printer: where progress lines go.
    mesh: device mesh for stacks (default: as many local devices as runs, at most all).
    vmap_size: runs per vmapped micro-batch of a stack (see ``icljax.sweep.train_stack``).
    on_done: called with ``(index, summary)`` as each point finishes (e.g. to rewrite a report).
    figures: draw each run's figures.

  Returns:
    The summary of every point, in order.

  Reference: docs page "concepts/runs", section "Sweeps" (stacks).
  """
  out: list[dict[str, Any] | None] = [None] * len(points)
  for i, p in enumerate(points):
    if p.status == "finished":
      printer(f"[{p.label}] finished run found in {p.workdir}; not redone")
      done: dict[str, Any] = runs.read_json(p.workdir / runs.SUMMARY)
      out[i] = done
      if on_done is not None:
        on_done(i, done)
  for idx in groups(points):
    for i, summary in zip(idx, _run_group([points[i] for i in idx], printer, mesh, vmap_size, figures)):
      out[i] = summary
      if on_done is not None:
        on_done(i, summary)
  return out  # type: ignore[return-value]


def groups(points: Sequence[Point]) -> list[list[int]]:
  """The unfinished points in groups that train as one stack: same theorem, and configs that differ only in its
  ``stack_fields`` (with the same static structure).

  Args:
    points: from :func:`prepare`.

  Returns:
    Lists of indices into ``points``, in first-seen order.

  Reference: docs page "concepts/runs", section "Sweeps" (stacks).
  """
  out: dict[str, list[int]] = {}
  for i, p in enumerate(points):
    if p.status != "finished":
      key = sweep.group_key(p.cfg, p.experiment.stack_fields, p.experiment.static(p.config))
      out.setdefault(p.experiment.name + key, []).append(i)
  return list(out.values())


def _run_group(points: Sequence[Point], printer: Printer, mesh: Any, vmap_size: int | None,
               figures: bool) -> list[dict[str, Any]]:
  writer = jax.process_index() == 0
  with jax.enable_x64(points[0].config.x64):
    t0 = time.perf_counter()
    plans = [p.experiment.plan(p.setup) for p in points]   # may still reject input: nothing written yet
    clock = {"plan_seconds": time.perf_counter() - t0, "compile_seconds": 0.0}
    with contextlib.ExitStack() as locks:
      if writer:
        for p in points:
          locks.enter_context(runs.WorkdirLock(p.workdir))
      resumed = [_resume(p, plan, printer) for p, plan in zip(points, plans)]
      states = [s for s, _ in resumed]
      rows = [r for _, r in resumed]
      for p in points:
        if writer and not (p.workdir / runs.CONFIG).exists():
          runs.atomic_write_json(p.workdir / runs.CONFIG, p.cfg)
      by_step: dict[int, list[int]] = {}
      for i, s in enumerate(states):
        by_step.setdefault(int(s.step), []).append(i)
      t_train = time.perf_counter()
      for idx in by_step.values():
        final = _train([points[i] for i in idx], [plans[i] for i in idx], [states[i] for i in idx],
                       [rows[i] for i in idx], printer, mesh, vmap_size, writer, clock)
        for i, s in zip(idx, final):
          states[i] = s
      # train: the compiled chunks alone; log: metrics (the experiment's track), NaN guard, checkpoints, progress.
      clock["train_seconds"] = (time.perf_counter() - t_train - clock["compile_seconds"]
                                - clock.setdefault("log_seconds", 0.0))
      shared = {k: v / len(points) for k, v in clock.items()}   # a stack's shared costs, split evenly
      return [_finish(p, plan, s, r, shared, t0, printer, writer, len(points), figures)
              for p, plan, s, r in zip(points, plans, states, rows)]


def _resume(point: Point, plan: Plan, printer: Printer) -> tuple[train.TrainState, list[dict[str, Any]]]:
  """The state and metric rows to continue from (step 0 and [] for a fresh run)."""
  fresh = train.init_state(plan.params, plan.optimizer)
  ckpt = point.workdir / runs.CHECKPOINT
  if not ckpt.exists():
    return fresh, []
  state = runs.load_checkpoint(ckpt, fresh)
  step = int(state.step)
  metrics = point.workdir / runs.METRICS
  rows = [r for r in (runs.read_metrics_checked(metrics) if metrics.exists() else []) if r["step"] <= step]
  if step and (not rows or rows[-1]["step"] != step):
    raise runs.ArtefactError(f"{metrics} does not reach the checkpoint's step {step}; both were left as they are")
  printer(f"[{point.label}] resuming from the checkpoint at step {step}")
  return state, rows


def _train(points: Sequence[Point], plans: Sequence[Plan], states: Sequence[train.TrainState],
           rows: Sequence[list[dict[str, Any]]], printer: Printer, mesh: Any, vmap_size: int | None,
           writer: bool, clock: dict[str, float]) -> list[train.TrainState]:
  run0 = points[0].config
  label = points[0].label if len(points) == 1 else f"{points[0].experiment.name} stack of {len(points)}"
  progress = train.Progress(label, run0.steps, printer=printer)
  progress.update(int(states[0].step), float("nan"))
  last_good = [int(s.step) for s in states]
  last_persist = [-math.inf]   # the first log is persisted: a kill after it resumes there

  def on_log(step: int, stacked: train.TrainState, losses: np.ndarray) -> None:
    t0 = time.perf_counter()
    _log(step, stacked, losses)
    clock["log_seconds"] = clock.get("log_seconds", 0.0) + time.perf_counter() - t0

  def _log(step: int, stacked: train.TrainState, losses: np.ndarray) -> None:
    for i, p in enumerate(points):   # every point is checked before any is written
      bad = np.flatnonzero(~np.isfinite(losses[i]))
      params_ok = all(bool(np.all(np.isfinite(np.asarray(leaf[i])))) for leaf in jax.tree.leaves(stacked.params))
      if bad.size or not params_ok:
        first = step - losses.shape[1] + (int(bad[0]) if bad.size else losses.shape[1] - 1)
        where = (f"{p.workdir / runs.CHECKPOINT} (step {last_good[i]})" if last_good[i] else
                 "none (the run had not reached its first checkpoint)")
        raise runs.NumericalFault(f"[{p.label}] non-finite {'loss' if bad.size else 'parameters'} at step {first}; "
                                  f"stopped; last good checkpoint: {where}")
    # Metrics and checkpoint are written together every PERSIST_SECONDS and at the last step (not at every log:
    # rewriting a growing metrics file at every one of ~10^3 logs made logging quadratic).
    persist = step >= run0.steps or time.monotonic() - last_persist[0] >= PERSIST_SECONDS
    for i, (p, plan) in enumerate(zip(points, plans)):
      state = sweep.unstack(stacked, i)
      row = {"step": step, "loss": float(np.mean(losses[i])), "loss_last": float(losses[i][-1])}
      if plan.track is not None:
        row.update({k: float(v) for k, v in plan.track(state.params).items()})
      rows[i].append(row)
      if writer and persist:   # metrics first: a kill in between is repaired by dropping lines past the checkpoint
        runs.write_metrics(p.workdir / runs.METRICS, rows[i])
        runs.save_checkpoint(p.workdir / runs.CHECKPOINT, state)
        last_good[i] = step
    if persist:
      last_persist[0] = time.monotonic()
    progress.update(step, float(np.mean(losses[:, -1])), force=step >= run0.steps)
    logging.info("[%s] step %d: mean loss over the chunk %s", label, step, np.array2string(np.mean(losses, axis=1)))

  if mesh is None:
    mesh = sweep.make_mesh(min(len(points), jax.device_count()))
  try:
    return _train_stack(points, plans, states, mesh, vmap_size, on_log, clock)
  except runs.PeerLost as e:
    kept = "; ".join(f"{p.label}: step {s}" for p, s in zip(points, last_good))
    raise runs.PeerLost(f"[{label}] {e}; nothing half-written, last good checkpoints kept ({kept}); run the same "
                        "command again on every process to resume") from None


def _train_stack(points: Sequence[Point], plans: Sequence[Plan], states: Sequence[train.TrainState], mesh: Any,
                 vmap_size: int | None, on_log: Callable, clock: dict[str, float]) -> list[train.TrainState]:
  run0 = points[0].config
  return sweep.train_stack(plans[0].objective, plans[0].optimizer, states, [p.data_key for p in plans],
                           [p.hparams for p in plans], steps=run0.steps, log_every=run0.log_every, mesh=mesh,
                           vmap_size=vmap_size, on_log=on_log, clock=clock)


def _finish(point: Point, plan: Plan, state: train.TrainState, rows: list[dict[str, Any]], shared: dict[str, float],
            t0: float, printer: Printer, writer: bool, group_size: int, draw: bool = True) -> dict[str, Any]:
  exp = point.experiment
  t_eval = time.perf_counter()
  evaluation = exp.evaluate(point.setup, plan.context, state.params, rows)
  timing = dict(shared, evaluate_seconds=time.perf_counter() - t_eval, group_size=group_size)
  checks = [c.to_dict() for c in evaluation.checks]
  tally = summarize(evaluation.checks)
  summary = {"experiment": exp.name, "name": point.label, "title": exp.title, "claim": exp.claim,
             "comparisons": checks, "all_passed": tally.status == "pass", "status": tally.status,
             "counts": {k: list(v) for k, v in tally.counts.items()},
             "scalars": dict(evaluation.scalars), "notes": list(evaluation.notes), "figures": []}
  if writer:
    runs.atomic_savez(point.workdir / runs.PARAMS, dict(evaluation.arrays))
    t_fig = time.perf_counter()
    if draw:
      figures = exp.figures(FigureInput(point.workdir / runs.FIGURES, point.config, rows, summary,
                                        evaluation.arrays))
      summary["figures"] = [str(Path(f).relative_to(point.workdir)) for f in figures]
    timing.update(figures_seconds=time.perf_counter() - t_fig, total_seconds=time.perf_counter() - t0)
    # Wall-clock times live apart from summary.json: the same config and seed give identical summaries.
    runs.atomic_write_json(point.workdir / runs.TIMING, timing)
    runs.atomic_write_json(point.workdir / runs.SUMMARY, summary)
  printer(f"[{point.label}] done in {time.perf_counter() - t0:.0f}s: {tally.line()}; summary in "
          f"{point.workdir / runs.SUMMARY}")
  logging.info("[%s] time: %s", point.label, ", ".join(f"{k} {v:.2f}" for k, v in timing.items()))
  for c in checks:
    logging.info("[%s] %s %s %s: theory %.6g, measured %.6g, tolerance %s", point.label, c["status"], c["kind"],
                 c["quantity"], c["theory"], c["measured"], Check.from_dict(c).tolerance_text)
  return runs.to_jsonable(summary)
