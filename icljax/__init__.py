"""icljax: the theory of in-context learning in one-layer transformers, in JAX.

Public modules (importing ``icljax`` runs no computation):

* ``icljax.tasks``       prompt samplers, pure ``(key, spec, batch_size) -> prompts``;
* ``icljax.models``      ``init(key, spec)`` / ``apply(params, batch, spec)`` over plain dicts of arrays;
* ``icljax.theory``      closed forms and reference predictors, one module per paper;
* ``icljax.estimators``  population-loss estimators; ``icljax.stats`` Monte-Carlo means with standard errors;
* ``icljax.structure``   extractors of the structures the papers predict, and their assertions;
* ``icljax.train``       optax training in ``jax.lax.scan``; ``icljax.sweep`` stacks of runs over devices;
* ``icljax.optim``       optax pieces the papers need; ``icljax.prng`` key streams;
* ``icljax.runs``        workdirs and atomic artefacts; ``icljax.plots`` figures from artefacts;
* ``icljax.experiment``  the experiment API and its one driver; ``icljax.results`` one package per theorem;
* ``icljax.configs``     the packaged configs, found by name.
"""

from icljax import (
                    estimators,
                    models,
                    optim,
                    plots,
                    prng,
                    runs,
                    stats,
                    structure,
                    sweep,
                    tasks,
                    theory,
                    train,
                    validation,
)

__version__ = "0.2.0"

__all__ = ["estimators", "models", "optim", "plots", "prng", "runs", "stats", "structure", "sweep", "tasks", "theory",
           "train", "validation"]
