"""The shared run driver: validate, prepare the workdir, train, compare with theory, write artefacts.

An experiment supplies four functions (see :class:`Experiment`); the driver owns everything else, so that
every result gets the same workdir layout, metrics, progress lines, summary and figures.
"""

from __future__ import annotations

import dataclasses
import importlib
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import jax
import ml_collections
import numpy as np
import optax

from icljax import optim, report, runs, train, validation


@dataclasses.dataclass
class Plan:
  """What to train: an objective over ``(params, key)``, initial params and an optimiser."""

  objective: Callable[[Any, jax.Array], jax.Array]
  params: Any
  optimizer: optax.GradientTransformation
  steps: int
  data_key: jax.Array
  log_every: int = 100
  track: Callable[[Any], Mapping[str, float]] | None = None   # extra metrics at every logged step
  context: dict[str, Any] = dataclasses.field(default_factory=dict)  # anything evaluate() needs again
  # For stacks of runs (icljax.sweep): ``objective(params, key) == objective_h(params, key, hparams)``, where
  # ``hparams`` holds every array that differs between runs of one compiled program (task spec, samples, ...).
  objective_h: Callable[[Any, jax.Array, Any], jax.Array] | None = None
  hparams: Any = None


@dataclasses.dataclass
class Outcome:
  """What a trained run is measured as."""

  claim: str
  comparisons: list[report.Comparison]
  scalars: dict[str, Any]
  arrays: dict[str, np.ndarray]
  notes: list[str] = dataclasses.field(default_factory=list)


class Experiment(Protocol):
  title: str

  def validate(self, config: ml_collections.ConfigDict) -> None: ...

  def plan(self, config: ml_collections.ConfigDict) -> Plan: ...

  def evaluate(self, config: ml_collections.ConfigDict, plan: Plan, params: Any) -> Outcome: ...

  def figures(self, workdir: Path, config: Mapping[str, Any], metrics: Sequence[Mapping[str, Any]],
              summary: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> list[str]: ...


EXPERIMENTS = {"lsa": "icljax.pipelines.lsa", "nn": "icljax.pipelines.nn", "recall": "icljax.pipelines.recall"}


def get_experiment(name: str) -> Experiment:
  """The experiment module registered under ``name`` (each module is an :class:`Experiment`)."""
  validation.choice("config.experiment", name, EXPERIMENTS)
  return importlib.import_module(EXPERIMENTS[name])


def validate(config: ml_collections.ConfigDict) -> Experiment:
  """Validates a config fully (before anything is written) and returns its experiment."""
  if "experiment" not in config:
    raise validation.ConfigError("config.experiment", None, "one of " + ", ".join(map(repr, EXPERIMENTS)))
  experiment = get_experiment(config.experiment)
  experiment.validate(config)
  return experiment


def run(config: ml_collections.ConfigDict, workdir: str | Path, *,
        printer: Callable[[str], None] = print) -> dict[str, Any]:
  """Runs one experiment config into ``workdir`` and returns its summary.

  * Bad input raises :class:`icljax.validation.ConfigError` before anything is written.
  * A finished run (same config, ``summary.json`` present) is not redone.
  * An interrupted run (same config, no summary) resumes from its last checkpoint and ends with the artefacts an
    uninterrupted run writes; a truncated or corrupted checkpoint or metrics file raises
    :class:`icljax.runs.ArtefactError` and is left untouched.
  * A second process on a workdir in use is refused (``ConfigError`` on ``workdir``).
  * A NaN or Inf in the loss or the parameters raises :class:`icljax.runs.NumericalFault` naming the step; the
    last good checkpoint stays intact.
  """
  experiment = validate(config)
  cfg = config.to_dict()
  workdir = Path(workdir)
  status = runs.check_workdir(workdir, cfg)
  label = cfg.get("name", cfg["experiment"])
  if status == "finished":
    printer(f"[{label}] finished run found in {workdir}; not redone")
    return runs.read_json(workdir / runs.SUMMARY)
  # A float64 run (config field x64) builds, trains and evaluates under jax.enable_x64.
  with jax.enable_x64(bool(cfg.get("x64", False))):
    plan = experiment.plan(config)            # may still reject input: nothing is written before this
    with runs.WorkdirLock(workdir):
      summary, timing = _train_and_evaluate(experiment, plan, config, cfg, workdir, label, printer)
      runs.atomic_write_json(workdir / runs.TIMING, timing)
      runs.atomic_write_json(workdir / runs.SUMMARY, summary)  # last: its presence marks the run finished
  passed = sum(c["passed"] for c in summary["comparisons"])
  printer(f"[{label}] done in {timing['total_seconds']:.0f}s: {passed}/{len(summary['comparisons'])} "
          f"trained-vs-theory checks pass; summary in {workdir / runs.SUMMARY}")
  return runs.to_jsonable(summary)


def _resume(workdir: Path, plan: Plan, label: str, printer: Callable[[str], None]):
  """The state and metric rows to continue from (None and [] for a fresh run)."""
  ckpt = workdir / runs.CHECKPOINT
  if not ckpt.exists():
    return None, []
  state = runs.load_checkpoint(ckpt, train.init_state(plan.params, plan.optimizer))
  step = int(state.step)
  rows = runs.read_metrics_checked(workdir / runs.METRICS) if (workdir / runs.METRICS).exists() else []
  rows = [r for r in rows if r["step"] <= step]  # lines written after the checkpoint are recomputed
  if step and (not rows or rows[-1]["step"] != step):
    raise runs.ArtefactError(f"{workdir / runs.METRICS} does not reach the checkpoint's step {step}; both were "
                             "left as they are")
  printer(f"[{label}] resuming from the checkpoint at step {step}")
  return state, rows


def _train_and_evaluate(experiment: Experiment, plan: Plan, config: ml_collections.ConfigDict,
                        cfg: dict[str, Any], workdir: Path, label: str,
                        printer: Callable[[str], None]) -> tuple[dict[str, Any], dict[str, float]]:
  t0 = time.perf_counter()
  state, rows = _resume(workdir, plan, label, printer)
  if not (workdir / runs.CONFIG).exists():
    runs.atomic_write_json(workdir / runs.CONFIG, cfg)
  last_good = {"step": int(state.step) if state is not None else 0}

  def on_log(new_state: train.TrainState, losses: np.ndarray) -> None:
    step = int(new_state.step)
    bad = np.flatnonzero(~np.isfinite(losses))
    params_ok = all(bool(np.all(np.isfinite(np.asarray(leaf)))) for leaf in jax.tree.leaves(new_state.params))
    if bad.size or not params_ok:
      first = step - len(losses) + (int(bad[0]) if bad.size else len(losses) - 1)
      where = (f"{workdir / runs.CHECKPOINT} (step {last_good['step']})" if last_good["step"] else
               "none (the run had not reached its first checkpoint)")
      raise runs.NumericalFault(f"[{label}] non-finite {'loss' if bad.size else 'parameters'} at step {first}; "
                                f"stopped; last good checkpoint: {where}")
    row = {"step": step, "loss": float(np.mean(losses)), "loss_last": float(losses[-1])}
    if plan.track is not None:
      row.update({k: float(v) for k, v in plan.track(new_state.params).items()})
    rows.append(row)
    runs.write_metrics(workdir / runs.METRICS, rows)        # metrics first: a kill in between is repaired by
    runs.save_checkpoint(workdir / runs.CHECKPOINT, new_state)  # dropping lines past the checkpoint on resume
    last_good["step"] = step

  progress = train.Progress(label, plan.steps, printer=printer)
  state, _ = train.fit(plan.objective, plan.params, plan.optimizer, steps=plan.steps, data_key=plan.data_key,
                       log_every=plan.log_every, on_log=on_log, progress=progress, state=state)
  return finish(experiment, plan, config, cfg, workdir, rows, state.params, time.perf_counter() - t0, t0)


def finish(experiment: Experiment, plan: Plan, config: ml_collections.ConfigDict, cfg: dict[str, Any],
           workdir: Path, rows: list[dict[str, Any]], params: Any, train_s: float,
           t0: float) -> tuple[dict[str, Any], dict[str, float]]:
  """Evaluates trained parameters against theory and writes params.npz and the figures; returns the summary and
  the timing (the caller writes them, summary last). Shared by single runs and sweeps."""
  plan.context.update(rows=rows, train_seconds=train_s)  # the history, for experiments that compare along it
  outcome = experiment.evaluate(config, plan, params)
  runs.atomic_savez(workdir / runs.PARAMS, outcome.arrays)
  summary = {
      "experiment": cfg["experiment"], "name": cfg.get("name", cfg["experiment"]), "title": experiment.title,
      "claim": outcome.claim, "comparisons": [c.to_dict() for c in outcome.comparisons],
      "all_passed": all(c.passed for c in outcome.comparisons),
      "scalars": outcome.scalars, "notes": outcome.notes,
  }
  summary["figures"] = [str(Path(p).relative_to(workdir)) for p in
                        experiment.figures(workdir, cfg, rows, summary, outcome.arrays)]
  # Wall-clock times live apart from summary.json, so that the same config and seed give identical summaries.
  return summary, {"train_seconds": train_s, "total_seconds": time.perf_counter() - t0}


def make_optimizer(config: ml_collections.ConfigDict) -> optax.GradientTransformation:
  """Adam (or SGD) with a constant, cosine or warmup-cosine learning-rate schedule from config fields
  ``optimizer``, ``learning_rate``, ``schedule``, ``warmup_steps``, ``final_lr_fraction``, ``steps``."""
  lr, steps = config.learning_rate, config.steps
  if config.schedule == "constant":
    schedule = optax.constant_schedule(lr)
  else:
    warmup = min(config.warmup_steps, max(steps - 1, 0))
    schedule = optax.warmup_cosine_decay_schedule(0.0 if warmup else lr, lr, warmup, max(steps, warmup + 1),
                                                  end_value=lr * config.final_lr_fraction)
  if config.optimizer == "adam":
    return optim.adam(schedule)
  return optax.sgd(schedule)


def validate_run_fields(config: ml_collections.ConfigDict, *names: str) -> None:
  """Range checks of the integer fields every experiment shares: steps, seed, log_every (and the given others,
  each required >= 1)."""
  validation.integer("config.steps", config.steps, low=1)
  validation.integer("config.seed", config.seed, low=0)
  validation.integer("config.log_every", config.log_every, low=1)
  for name in names:
    validation.integer(f"config.{name}", config[name], low=1)


def validate_optimizer(config: ml_collections.ConfigDict) -> None:
  """Range checks of the optax optimiser fields (result 1)."""
  validate_run_fields(config, "batch_size")
  validation.choice("config.optimizer", config.optimizer, ("adam", "sgd"))
  validation.real("config.learning_rate", config.learning_rate, low=0.0, low_open=True)
  validation.choice("config.schedule", config.schedule, ("constant", "cosine"))
  validation.integer("config.warmup_steps", config.warmup_steps, low=0)
  validation.real("config.final_lr_fraction", config.final_lr_fraction, low=0.0, high=1.0)
