"""icljax: reproduce, check and extend the theory of in-context learning in one-layer (and shallow) transformers.

Public modules (importing ``icljax`` runs no computation):

* ``icljax.tasks``       prompt samplers, pure ``(key, spec, batch_size) -> prompts``, one module per task family;
* ``icljax.models``      ``init(key, spec)`` / ``apply(params, batch, spec)`` over plain dicts of arrays;
* ``icljax.theory``      closed forms and reference predictors, modules named for their theorem;
* ``icljax.estimators``  population-loss estimators; ``icljax.stats`` means with standard errors, t factors,
  chi-square quantiles, sandwich covariances, batch means;
* ``icljax.structure``   extractors of the structures the papers predict, and their assertions;
* ``icljax.train``       optax training in ``jax.lax.scan``; ``icljax.sweep`` stacks of runs sharded over devices;
* ``icljax.optim``       optax pieces the papers need; ``icljax.prng`` key streams;
* ``icljax.runs``        workdirs, checkpoints and their lock; ``icljax.artefacts`` atomic, reproducible artefact
  files (re-exported by ``icljax.runs``); ``icljax.plots`` figures from artefacts;
  ``icljax.compilation_cache`` JAX's persistent compilation cache; ``icljax.validation`` one-line input errors;
* ``icljax.experiment``  the theorem contract (config fields declared once, presets, checks, mutants), its
  registry (entry points, plug-ins) and its one driver for runs, sweeps and the main job;
* ``icljax.results``     the built-in theorems, one folder each.

``icljax.flax_layers`` (the ``flax`` extra) wraps the models as flax NNX modules; ``icljax.apps`` holds the three
commands ``icljax-run``, ``icljax-sweep`` and ``icljax-reproduce``.
"""

from icljax import (
  artefacts,
  compilation_cache,
  estimators,
  experiment,
  models,
  optim,
  plots,
  prng,
  results,
  runs,
  stats,
  structure,
  sweep,
  tasks,
  theory,
  train,
  validation,
)

__version__ = "0.3.0"

__all__ = ["artefacts", "compilation_cache", "estimators", "experiment", "models", "optim", "plots", "prng", "results",
           "runs", "stats", "structure", "sweep", "tasks", "theory", "train", "validation"]
