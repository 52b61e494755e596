"""Training loops: optax transformations inside ``jax.lax.scan``, vmappable over runs.

The state is a pytree (params, optimiser state, step). A chunk of ``k`` steps is one compiled ``lax.scan``; the
batch of step ``t`` is drawn from ``fold_in(data_key, t)``, so data never needs checkpointing and a resumed run
sees the same batches. Objectives have one form, ``objective(params, key, hparams) -> loss``: ``hparams`` holds
every array that may differ between runs of one compiled program (task spec, fixed samples), passed as an
argument, never captured as a constant. ``icljax.sweep.train_stack`` trains many runs with the same chunks.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from icljax._pytree import pytree_dataclass

Objective = Callable[[Any, jax.Array, Any], jax.Array]
Chunk = Callable[["TrainState", jax.Array, Any], tuple["TrainState", jax.Array]]


@pytree_dataclass
class TrainState:
  """Everything a run needs to continue: parameters, optimiser state and the step counter."""

  params: Any
  opt_state: Any
  step: jax.Array


def init_state(params: Any, optimizer: optax.GradientTransformation) -> TrainState:
  """The state at step 0.

  Args:
    params: initial parameters.
    optimizer: the optax transformation whose state is initialised.

  Returns:
    ``TrainState(params, optimizer.init(params), 0)``.

  Reference: docs page "concepts/runs", section "A run's workdir" (``checkpoint.npz`` holds this state).
  """
  return TrainState(params=params, opt_state=optimizer.init(params), step=jnp.zeros((), jnp.int32))


def make_chunk(objective: Objective, optimizer: optax.GradientTransformation, num_steps: int) -> Chunk:
  """A pure function advancing a state by ``num_steps`` optimiser steps.

  Args:
    objective: ``(params, key, hparams) -> loss``, e.g. built from ``icljax.estimators``.
    optimizer: any optax transformation (schedules see the global step through its own count).
    num_steps: steps per chunk (static).

  Returns:
    ``chunk(state, data_key, hparams) -> (state, losses)``; ``losses[i]`` is the loss *before* update i.
    ``jax.vmap`` it over a leading run axis of all three arguments to train many runs in one program.

  Reference: docs page "concepts/runs", section "A run's workdir" (the batch of step t is ``fold_in(data_key, t)``,
  so chunking and resuming cannot change a run).
  """
  grad_fn = jax.value_and_grad(objective)
  # Optimisers with line searches (optax.lbfgs) need the loss and the objective itself; optax drops these extra
  # arguments for every transformation that does not use them.
  extra = isinstance(optimizer, optax.GradientTransformationExtraArgs)

  def step_fn(state: TrainState, data_key: jax.Array, hparams: Any):
    key = jax.random.fold_in(data_key, state.step)
    loss, grads = grad_fn(state.params, key, hparams)
    if extra:
      updates, opt_state = optimizer.update(grads, state.opt_state, state.params, value=loss, grad=grads,
                                            value_fn=lambda p: objective(p, key, hparams))
    else:
      updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    return TrainState(params=params, opt_state=opt_state, step=state.step + 1), loss

  def chunk(state: TrainState, data_key: jax.Array, hparams: Any):
    return jax.lax.scan(lambda s, _: step_fn(s, data_key, hparams), state, None, length=num_steps)

  return chunk


def chunk_lengths(start: int, steps: int, log_every: int) -> Iterator[int]:
  """Chunk lengths from step ``start`` to ``steps``, each chunk ending on a multiple of ``log_every`` (or at the
  end), so that a resumed run executes the same chunks as an uninterrupted one.

  Args:
    start: the step the state is at.
    steps: total steps of the run.
    log_every: steps per metrics line.

  Yields:
    The chunk lengths.

  Reference: docs page "concepts/runs", section "A run's workdir" (the batch of step t is ``fold_in(data_key, t)``,
  so chunking and resuming cannot change a run).
  """
  done = start
  while done < steps:
    k = min(log_every - done % log_every, steps - done)
    done += k
    yield k


class Progress:
  """One line at a steady wall-clock interval: label, bar, percentage, step, loss, steps/s and ETA."""

  def __init__(self, label: str, total: int, interval_s: float = 5.0, printer: Callable[[str], None] = print):
    self.label, self.total, self.interval_s, self.printer = label, total, interval_s, printer
    self.t0 = self.t_last = time.perf_counter()
    self.start_step: int | None = None

  def update(self, step: int, loss: float, force: bool = False) -> None:
    """Prints a line if ``interval_s`` has passed since the last one (or ``force``).

    The first call only starts the clock (and prints only if ``force``); the rate counts steps from that call.

    Args:
      step: the step reached.
      loss: the loss to show.
      force: print regardless of the interval.

    Returns:
      None; the line goes to ``printer``.

    Reference: docs page "concepts/runs" (a run of ``icljax-run``).
    """
    now = time.perf_counter()
    if self.start_step is None:
      self.start_step = step
      self.t0 = now
      if not force:
        return
    if not force and now - self.t_last < self.interval_s:
      return
    self.t_last = now
    rate = (step - self.start_step) / max(now - self.t0, 1e-9)
    eta = (self.total - step) / rate if rate > 0 else float("inf")
    frac = step / max(self.total, 1)
    bar = "#" * int(20 * frac) + "." * (20 - int(20 * frac))
    self.printer(f"[{self.label}] [{bar}] {100 * frac:5.1f}%  step {step}/{self.total}  loss {loss:.6g}  "
                 f"{rate:.1f} steps/s  ETA {eta:.0f}s")


def fit(objective: Callable[[Any, jax.Array], jax.Array], params: Any, optimizer: optax.GradientTransformation, *,
        steps: int, data_key: jax.Array, log_every: int = 100, state: TrainState | None = None,
        on_log: Callable[[TrainState, np.ndarray], None] | None = None,
        progress: Progress | None = None) -> tuple[TrainState, np.ndarray]:
  """Trains one run for ``steps`` steps (continuing from ``state`` if given) in compiled chunks of ``log_every``.

  A convenience for library users whose objective closes over its data; experiments go through
  ``icljax.experiment.driver``, which trains stacks of runs with the same chunks.

  Args:
    objective: ``(params, key) -> loss``.
    params: initial parameters (ignored when ``state`` is given).
    optimizer: optax transformation.
    steps: total number of steps of the run.
    data_key: key of the data stream; batch t uses ``fold_in(data_key, t)``.
    log_every: steps per compiled chunk, i.e. per metrics line.
    state: a state to resume from.
    on_log: called after every chunk with the new state and that chunk's per-step losses.
    progress: progress printer.

  Returns:
    The final state and the per-step losses of the steps run by this call.

  Reference: docs page "concepts/runs", section "A run's workdir" (the batch of step t is ``fold_in(data_key, t)``,
  so chunking and resuming cannot change a run).
  """
  state = init_state(params, optimizer) if state is None else state
  objective3 = lambda p, k, h: objective(p, k)
  compiled: dict[int, Callable] = {}
  losses = []
  for k in chunk_lengths(int(state.step), steps, log_every):
    if k not in compiled:
      compiled[k] = jax.jit(make_chunk(objective3, optimizer, k))
    state, chunk_losses = compiled[k](state, data_key, None)
    chunk_losses = np.asarray(chunk_losses)
    losses.append(chunk_losses)
    if on_log is not None:
      on_log(state, chunk_losses)
    if progress is not None:
      progress.update(int(state.step), float(chunk_losses.mean()), force=int(state.step) >= steps)
  return state, (np.concatenate(losses) if losses else np.zeros((0,), np.float32))
