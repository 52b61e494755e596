"""The typed experiment API: a theorem is an :class:`Experiment` value registered by name.

A theorem declares its config fields once (a frozen :class:`icljax.experiment.fields.Config` subclass) and its
packaged configs (:class:`Preset`); turns the validated config into frozen specs once (``setup``), plans the
training (``plan``: objective, initial parameters, per-run arrays, optimiser), compares the trained parameters with
theory (``evaluate``: declarative checks from its tolerance table), draws figures from the artefacts (``figures``)
and names the plausible bugs its checks must catch (``mutants``). The driver (``icljax.experiment.driver``) owns
everything else: validation order, workdirs, locks, training in chunks, resume, NaN guard, checkpoints,
artefacts. A single run is a sweep group of one.

Adding a theorem: one package (a folder of ``icljax/results/`` for a built-in, any importable module for anyone
else) whose ``EXPERIMENT`` is an :class:`Experiment`; it is found through the entry-point group
``icljax.experiments`` or ``--plugin=MODULE_OR_PATH`` (``icljax.experiment.registry``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Generic, TypeVar

import jax
import optax

from icljax.experiment import fields
from icljax.experiment.checks import Check, Tolerance

S = TypeVar("S")   # an experiment's frozen setup (specs)
# The main job's runs drawn in one result-level figure: figure name -> (typed config, metrics rows, summary) per run;
# ``FigureGroups[MyConfig]`` names the theorem's config class.
ConfigT = TypeVar("ConfigT", bound=fields.Config)
FigureGroups = Mapping[str, Sequence[tuple[ConfigT, Sequence[Mapping[str, Any]], Mapping[str, Any]]]]
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
  """Everything a figure is drawn from: the run's artefacts, never live objects.

  Attributes:
    fig_dir: where the figures go.
    config: the run's typed config.
    metrics: its metric rows.
    summary: its summary.
    arrays: its saved arrays (``params.npz``).
  """

  fig_dir: Path
  config: Any
  metrics: Sequence[Mapping[str, Any]]
  summary: Mapping[str, Any]
  arrays: Mapping[str, Any]


@dataclasses.dataclass(frozen=True)
class Preset:
  """A packaged config: a name (``--config=NAME``), its values and the text ``--list`` and the docs show.

  Attributes:
    name: unique among every registered theorem's presets.
    doc: first line the command that runs it, then its runtime on a 2-core CPU and what it shows.
    values: field -> value (the theorem's :class:`~icljax.experiment.fields.Config` defaults for the rest).
  """

  name: str
  doc: str
  values: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class RunRef:
  """A config named by a preset, named variants of its theorem (applied in order) and field overrides; checked
  against the declarations when the theorem is registered.

  Attributes:
    preset: a preset name.
    variants: names of the theorem's variants (``Experiment.variants``) or ``quick``.
    overrides: field -> value, applied last.
  """

  preset: str
  variants: tuple[str, ...] = ()
  overrides: Mapping[str, Any] = dataclasses.field(default_factory=dict)

  @property
  def spec(self) -> str:
    """The same config as a ``--config`` value (``preset:variant,field=value``)."""
    words = [*self.variants, *(f"{k}={v!r}" for k, v in self.overrides.items())]
    return self.preset + (":" + ",".join(words) if words else "")


@dataclasses.dataclass(frozen=True)
class MainJobRun(RunRef):
  """One run of the main job.

  Attributes:
    figure: the result-level figure it is drawn in (``Experiment.group_figures``), if any.
    key: a key figure of the paper: run by the default profile (``full`` runs every run).
    reduced: for a key run drawn at smaller sizes than the archive's run of the same figure, what was reduced
      (REPORT.md says so beside the run; its checks carry the wider error bars of its size).
  """

  figure: str = ""
  key: bool = False
  reduced: str = ""


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
    gate: the config to run; None: the theorem's own gate.
  """

  name: str
  target: str
  mutate: Callable[[Callable[..., Any]], Callable[..., Any]]
  bug: str
  killed_by: tuple[str, ...]
  gate: RunRef | None = None

  def __post_init__(self):
    if ":" not in self.target:
      raise ValueError(f"Mutant.target={self.target!r} is invalid: expected 'module:attribute'")
    if not self.killed_by:
      raise ValueError(f"Mutant {self.name!r}: killed_by must name at least one tolerance entry")


@dataclasses.dataclass(frozen=True)
class Experiment(Generic[S, C]):
  """A theorem as a value: typed members, no probing. Registered through the entry-point group
  ``icljax.experiments`` (built-ins: every subpackage of ``icljax.results``) or ``--plugin``.

  Attributes:
    name: the theorem's one name (its folder, ``--only``, its docs page).
    title: the result's title (run summaries and REPORT.md).
    claim: the theorem's claim in one paragraph (run summaries and REPORT.md).
    config: its config class (a frozen :class:`icljax.experiment.fields.Config` subclass: every field declared
      once with its default, accepted values and meaning).
    presets: its packaged configs (at least one; the first is the default).
    setup: typed config -> frozen specs (cross-field rules raise ``ConfigError`` before anything is written).
    plan: specs -> :class:`Plan`.
    evaluate: ``(setup, context, params, metric rows) -> Evaluation``.
    figures: :class:`FigureInput` -> figure paths.
    tolerances: the result's tolerance table (every check names one entry).
    variants: named variants: name -> field values (``--config=PRESET:variant``).
    quick: the field values of the word ``quick`` (tiny sizes; the checks are not expected to pass).
    stack_fields: config fields that may differ within one compiled stack (seed and physical scalars).
    static: ``config -> mapping`` of extra static structure implied by stack-field values.
    run_name: ``config -> name`` of a run whose ``name`` field is empty; default: the preset's name followed by
      the identifying fields whose values differ from the preset's (:func:`icljax.experiment.configs.run_name`).
    aggregate: ``(workdir, index rows, swept fields) -> markdown`` of a sweep (figures go to ``workdir/figures``;
      the grid writes the text to SWEEP.md), optional.
    group_figures: ``(out_dir, {figure: [(config, metrics, summary)]}) -> paths``, figures across runs
      (optional).
    main_job: the runs of this result in the main job, in report order (``key=True`` for the default profile).
    gate: the science gate: a CI-sized config whose theory checks must all pass, and which every one of
      ``mutants`` must make fail.
    mutants: plausible bugs in the code this theorem's checks cover (:class:`Mutant`), each killed by the gate.
    page: its docs page (markdown in its folder, ``page.md`` for the built-ins): the claim, setting, derivation of
      every check, disagreements and per-figure commands; the docs build fills in its field, tolerance, mutant and
      main-job tables from the declarations.
  """

  name: str
  title: str
  claim: str
  config: type[fields.Config]
  presets: tuple[Preset, ...]
  setup: Callable[[Any], S]
  plan: Callable[[S], Plan[C]]
  evaluate: Callable[[S, C, Any, Sequence[Mapping[str, Any]]], Evaluation]
  figures: Callable[[FigureInput], Sequence[str]]
  tolerances: Mapping[str, Tolerance]
  variants: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)
  quick: Mapping[str, Any] = dataclasses.field(default_factory=dict)
  stack_fields: tuple[str, ...] = ("seed",)
  static: Callable[[Any], Mapping[str, Any]] = lambda config: {}
  run_name: Callable[[Any], str] | None = None
  aggregate: Callable[[Path, Sequence[Mapping[str, Any]], Sequence[str]], str] | None = None
  group_figures: Callable[[Path, FigureGroups[Any]], Sequence[str]] | None = None
  main_job: tuple[MainJobRun, ...] = ()
  gate: RunRef | None = None
  mutants: tuple[Mutant, ...] = ()
  page: Path | None = None
