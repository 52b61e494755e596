"""The toolkit's random-number implementation, chosen by measurement (``benchmarks/prng.py``, BUILD_NOTES.md).

Keys are JAX's default ``threefry2x32`` (``jax.random.key``): on the 2-core CPU it draws normals 2.5x faster than
``rbg`` and 3.5x faster than ``unsafe_rbg``, and its streams are the same on every backend and device count, which
the sweep's bitwise 1-vs-8-device guarantee needs. The samplers draw their bits with ``jax_threefry_partitionable``
off (:func:`sampler`): with the partitionable layout, JAX's default, result 1's training steps ran 1.1x (Wishart
statistics) to 1.6x (direct sampler) slower on this CPU (``benchmarks/prng.py``). Partitionability buys nothing
here: a sampler's batch belongs to one run, and sweeps shard runs, never one run's batch.

The setting is local to the decorated samplers (a context manager around their tracing); a user's own
``jax.random`` calls keep the global setting.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

import jax

from icljax._pytree import filter_jit

PARTITIONABLE = False
F = TypeVar("F", bound=Callable)


def sampler(fn: F) -> F:
  """Runs ``fn`` compiled as one program (:func:`icljax._pytree.filter_jit`), traced with
  ``jax.threefry_partitionable(PARTITIONABLE)``. Called eagerly, a sampler of a few dozen primitives would otherwise
  dispatch and compile every primitive on its own: the shifted 1-NN test sets took 127 compilations (8 s) that way.

  Args:
    fn: the sampler, e.g. ``(key, batch_size, ...) -> batch``.

  Returns:
    A wrapper with ``fn``'s signature and metadata that calls the compiled ``fn`` inside the context manager.

  Reference: docs page "concepts/runs", section "A run's workdir" (resumed runs are byte-identical because every
  batch is a pure function of its key); the choice of PRNG is measured in ``benchmarks/prng.py``.
  """
  jitted = filter_jit(fn)

  @functools.wraps(fn)
  def wrapped(*args, **kwargs):
    with jax.threefry_partitionable(PARTITIONABLE):
      return jitted(*args, **kwargs)

  return wrapped  # type: ignore[return-value]


# One table of key streams for every experiment: the stream ``name`` of a run is ``fold_in(key(seed), index)``.
STREAMS = ("init", "data", "eval", "theory", "sample", "test")


def stream(seed: int, name: str) -> jax.Array:
  """The key of one named stream of a run (``init``, ``data``, ``eval``, ``theory``, ``sample`` or ``test``).

  Every experiment draws its parameters, training batches, evaluation prompts, Monte-Carlo theory, fixed training
  samples and test sets from these streams, so two results never disagree on what a fold index means.

  Args:
    seed: the run's seed.
    name: one of :data:`STREAMS`.

  Returns:
    ``jax.random.fold_in(jax.random.key(seed), STREAMS.index(name))``.

  Raises:
    ValueError: if ``name`` is not in :data:`STREAMS`.

  Reference: docs page "concepts/runs", section "A run's workdir" (the batch of step t is ``fold_in(data_key, t)``).
  """
  if name not in STREAMS:
    raise ValueError(f"stream={name!r} is invalid: expected one of {STREAMS}")
  return jax.random.fold_in(jax.random.key(seed), STREAMS.index(name))
