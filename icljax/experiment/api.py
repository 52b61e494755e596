"""The typed experiment API: a theorem is an :class:`Experiment` value registered by name.

An experiment turns a config into frozen specs once (``setup``), plans the training (``plan``: objective, initial
parameters, per-run arrays, optimiser), compares the trained parameters with theory (``evaluate``: declarative
checks from its tolerance table) and draws figures from the artefacts (``figures``). The driver
(``icljax.experiment.driver``) owns everything else: validation order, workdirs, locks, training in chunks,
resume, NaN guard, checkpoints, artefacts. A single run is a sweep group of one.

Adding a theorem: write a package under ``icljax/results/`` (or anywhere) that builds an ``Experiment`` and
register it (``icljax.experiment.registry.register``); configs name it in their ``experiment`` field.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Generic, TypeVar

import jax
import ml_collections
import optax

from icljax.experiment.checks import Check, Tolerance

S = TypeVar("S")   # an experiment's frozen setup (specs)
# The main job's runs drawn in one result-level figure: figure name -> (config, metrics rows, summary) per run.
FigureGroups = Mapping[str, Sequence[tuple[Mapping[str, Any], Sequence[Mapping[str, Any]], Mapping[str, Any]]]]
C = TypeVar("C")   # an experiment's evaluation context


@dataclasses.dataclass(frozen=True)
class Plan(Generic[C]):
  """What to train and what evaluation needs again.

  Attributes:
    objective: ``(params, key, hparams) -> loss``; the same function for every run of a stack.
    params: initial parameters.
    hparams: every array that may differ between runs of one compiled program (task spec, samples, ...).
    optimizer: the optax transformation.
    data_key: key of the data stream (batch t uses ``fold_in(data_key, t)``).
    context: the experiment's typed evaluation context (theory values, test sets, ...).
    track: extra metrics of the parameters at every logged step (name -> float).
  """

  objective: Callable[[Any, jax.Array, Any], jax.Array]
  params: Any
  hparams: Any
  optimizer: optax.GradientTransformation
  data_key: jax.Array
  context: C
  track: Callable[[Any], Mapping[str, float]] | None = None


@dataclasses.dataclass(frozen=True)
class Evaluation:
  """What a trained run is measured as: checks, scalars, arrays for ``params.npz`` and notes."""

  checks: Sequence[Check]
  scalars: Mapping[str, Any]
  arrays: Mapping[str, Any]
  notes: Sequence[str] = ()


@dataclasses.dataclass(frozen=True)
class FigureInput:
  """Everything a figure is drawn from: the run's artefacts, never live objects."""

  fig_dir: Path
  config: Mapping[str, Any]
  metrics: Sequence[Mapping[str, Any]]
  summary: Mapping[str, Any]
  arrays: Mapping[str, Any]


@dataclasses.dataclass(frozen=True)
class MainJobRun:
  """One run of the main job: a packaged config, its ``get_config`` argument (a named variant), and the
  result-level figure it is drawn in (if any). The run is named by the config's ``name``."""

  config: str
  arg: str | None = None
  figure: str = ""


@dataclasses.dataclass(frozen=True)
class Mutant:
  """A plausible bug in one library function.

  Attributes:
    name: short identifier, unique within its theorem (e.g. ``sampler_ignores_noise``).
    target: ``module:attribute`` of the function to replace (e.g. ``icljax.tasks.recall:sample``); code must call
      it through its module (``task.sample``), which the project's one-import style guarantees.
    mutate: ``original -> replacement``: the replacement behaves like the original with the bug planted.
    bug: one line: the plausible bug, as a reviewer would describe it.
    killed_by: tolerance entries that must all fail in the mutated run (every ``theory`` entry of a theorem's
      table is named by at least one of its mutants: a theory check no plausible bug can fail is an identity).
    gate: the config spec to run (``name[:arg]``); empty: the theorem's own gate.
  """

  name: str
  target: str
  mutate: Callable[[Callable[..., Any]], Callable[..., Any]]
  bug: str
  killed_by: tuple[str, ...]
  gate: str = ""

  def __post_init__(self):
    if ":" not in self.target:
      raise ValueError(f"Mutant.target={self.target!r} is invalid: expected 'module:attribute'")
    if not self.killed_by:
      raise ValueError(f"Mutant {self.name!r}: killed_by must name at least one tolerance entry")


@dataclasses.dataclass(frozen=True)
class Experiment(Generic[S, C]):
  """A theorem as a value: typed members, no probing.

  Attributes:
    name: the value of ``config.experiment`` that selects it.
    title: the result's title (run summaries and REPORT.md).
    claim: the theorem's claim in one paragraph (run summaries and REPORT.md).
    setup: config -> frozen specs; raises ``ConfigError`` on bad input, before anything is written.
    plan: specs -> :class:`Plan`.
    evaluate: ``(setup, context, params, metric rows) -> Evaluation``.
    figures: :class:`FigureInput` -> figure paths.
    tolerances: the result's tolerance table (every check names one entry).
    stack_fields: config fields that may differ within one compiled stack (seed and physical scalars).
    static: ``config -> mapping`` of extra static structure implied by stack-field values.
    aggregate: ``(workdir, index rows, swept fields) -> markdown`` of a sweep (figures go to ``workdir/figures``;
      the grid writes the text to SWEEP.md), optional.
    group_figures: ``(out_dir, {figure: [(config, metrics, summary)]}) -> paths``, figures across runs
      (optional).
    main_job: the runs of this result in the main job, in report order.
    gate: the science gate: a CI-sized config spec (``name[:arg]``) whose theory checks must all pass, and which
      every one of ``mutants`` must make fail.
    mutants: plausible bugs in the code this theorem's checks cover (:class:`Mutant`), each killed by the gate.
  """

  name: str
  title: str
  claim: str
  setup: Callable[[ml_collections.ConfigDict], S]
  plan: Callable[[S], Plan[C]]
  evaluate: Callable[[S, C, Any, Sequence[Mapping[str, Any]]], Evaluation]
  figures: Callable[[FigureInput], Sequence[str]]
  tolerances: Mapping[str, Tolerance]
  stack_fields: tuple[str, ...] = ("seed",)
  static: Callable[[Mapping[str, Any]], Mapping[str, Any]] = lambda cfg: {}
  aggregate: Callable[[Path, Sequence[Mapping[str, Any]], Sequence[str]], str] | None = None
  group_figures: Callable[[Path, FigureGroups], Sequence[str]] | None = None
  main_job: tuple[MainJobRun, ...] = ()
  gate: str = ""
  mutants: tuple[Mutant, ...] = ()
