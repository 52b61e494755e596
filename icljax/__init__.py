"""icljax: the theory of in-context learning in one-layer transformers, in JAX.

Sub-packages (imported lazily by the user, nothing runs at import time):

* ``icljax.tasks``      prompt samplers, pure ``(key, spec, batch_size) -> prompts``;
* ``icljax.models``     ``init``/``apply`` pairs over plain dicts of arrays;
* ``icljax.theory``     closed forms and reference predictors;
* ``icljax.estimators`` Monte-Carlo population-loss estimators;
* ``icljax.structure``  extractors of the structures the papers predict, and their assertions;
* ``icljax.train``      optax training loops inside ``jax.lax.scan``;
* ``icljax.runs``       workdirs and atomic artefacts; ``icljax.report`` trained-vs-theory tables.
"""

__version__ = "0.1.0"
