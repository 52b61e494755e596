"""The stack engine: many runs of one compiled program, sharded over devices; content addresses and group keys.

* **Inner axis (vmap)**: runs whose configs differ only in fields that keep every array shape and the static
  structure (each experiment names them, ``Experiment.stack_fields``) form a *group* trained by one compiled
  program: ``jax.vmap`` over the stacked train states, data keys and per-run arrays (``hparams``).
* **Device axis (sharding)**: the run axis of every stacked array is placed on a 1-D mesh ``('runs',)`` with
  ``NamedSharding(mesh, P('runs'))``; the run count is padded to a multiple of the device count (the padding
  repeats the last run and is dropped). Runs never communicate, so no collectives are needed.
* **Outer axis (Python)**: groups (shape-changing fields such as n, d, N) run one after another.

A single run is a group of one; on one device it runs the plain jitted chunk (no shard_map, no vmap). Seeds enter
only through ``fold_in(key(seed), ...)``, never through device ids, so a point's results do not depend on how
many devices share the stack. This module knows no experiment: it sees objectives, optimisers, states and arrays.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from icljax import runs, train


def point_id(config: Mapping[str, Any]) -> str:
  """Content address of a resolved config: the first 12 hex digits of the SHA-256 of its canonical JSON.

  Args:
    config: a resolved config as a plain dict.

  Returns:
    12 hex digits.

  Reference: docs page "concepts/runs", section "Sweeps" (a point's directory is ``<run name>-<hash>``).
  """
  return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:12]


def group_key(config: Mapping[str, Any], stack_fields: Sequence[str],
              static: Mapping[str, Any] | Iterable[tuple[str, Any]] = ()) -> str:
  """Points with equal group keys share array shapes and static structure, so they train as one stack.

  Args:
    config: a resolved config as a plain dict.
    stack_fields: the fields that may differ within a stack (their values become arrays of the program).
    static: extra static structure implied by the values of stack fields (e.g. alpha = 0 is another task).

  Returns:
    A canonical string: the JSON of every field but the stack fields and ``name``, plus ``static``.

  Reference: docs page "concepts/runs", section "Sweeps" (points differing in stack fields only form one program).
  """
  rest = {k: v for k, v in config.items() if k not in set(stack_fields) | {"name"}}
  rest.update(dict(static))
  return json.dumps(rest, sort_keys=True, default=str)


def make_mesh(num_devices: int | None = None) -> Mesh:
  """A 1-D mesh ``('runs',)`` over the first ``num_devices`` devices (all when None).

  Args:
    num_devices: how many devices to use.

  Returns:
    The mesh.

  Reference: docs page "concepts/runs", section "Sweeps" (sharded over the devices).
  """
  devices = jax.devices()
  if num_devices is not None:
    devices = devices[:num_devices]
  return Mesh(np.array(devices), ("runs",))


def _stack(trees: Sequence[Any]) -> Any:
  return jax.tree.map(lambda *leaves: jnp.stack(leaves), *trees)


def unstack(tree: Any, i: int) -> Any:
  """Run ``i`` of a stacked pytree.

  Args:
    tree: a pytree whose leaves have a leading run axis.
    i: the run index.

  Returns:
    The pytree of run ``i``.

  Reference: docs page "concepts/runs", section "Sweeps".
  """
  return jax.tree.map(lambda a: a[i], tree)


def _sharded_chunk(objective, optimizer, k: int, mesh: Mesh) -> jax.stages.Wrapped:
  one = lambda state, key, hp: train.make_chunk(objective, optimizer, k)(state, key, hp)

  def local(states_, keys_, hps_, trips_):
    # A loop whose trip count the compiler cannot see (trips_ is data): the loop body is the same program whether a
    # device holds one micro-batch or eight, so results do not depend on the layout.
    take = lambda tree, i: jax.tree.map(lambda a: jax.lax.dynamic_index_in_dim(a, i, keepdims=False), tree)
    shapes = jax.eval_shape(jax.vmap(one), *take((states_, keys_, hps_), 0))
    losses0 = jnp.zeros((states_.step.shape[0],) + shapes[1].shape, shapes[1].dtype)

    def body(i, carry):
      st, ls = carry
      new_st, new_l = jax.vmap(one)(*take((states_, keys_, hps_), i))
      put_i = lambda buf, v: jax.lax.dynamic_update_index_in_dim(buf, v, i, 0)
      return jax.tree.map(put_i, st, new_st), put_i(ls, new_l)

    return jax.lax.fori_loop(0, trips_[0], body, (states_, losses0))

  spec = PartitionSpec("runs")
  # Runs never communicate; check_vma=False lets carries start replicated inside the per-run scans.
  return jax.jit(jax.shard_map(local, mesh=mesh, in_specs=(spec, spec, spec, spec), out_specs=(spec, spec),
                               check_vma=False))


def train_stack(objective: train.Objective, optimizer: optax.GradientTransformation,
                states: Sequence[train.TrainState], data_keys: Sequence[jax.Array], hparams: Sequence[Any], *,
                steps: int, log_every: int, mesh: Mesh | None = None, vmap_size: int | None = None,
                on_log: Callable[[int, train.TrainState, np.ndarray], None] | None = None,
                clock: dict[str, float] | None = None) -> list[train.TrainState]:
  """Trains runs that share shapes, objective and optimiser as one compiled, sharded program.

  The run axis is cut into micro-batches of ``vmap_size`` runs: each micro-batch is one ``jax.vmap`` of the
  single-run chunk, and each device runs its micro-batches in a loop inside ``jax.shard_map``. With a fixed
  ``vmap_size`` every run executes the same compiled arithmetic whatever the device count, so results are bitwise
  identical on 1 and on 8 devices (tested). The default puts all of a device's runs in one vmap: fastest, but the
  batched kernels, hence the last bits, then depend on how many runs share a device. One run on one device runs
  the plain jitted chunk.

  Args:
    objective: ``(params, key, hparams) -> loss``, the same for every run.
    optimizer: the same optax transformation for every run.
    states: the train state of every run; all at the same step.
    data_keys: the data key of every run.
    hparams: the per-run arrays of every run (same structure and shapes).
    steps: total steps of every run.
    log_every: steps per chunk (chunks end on multiples of it).
    mesh: device mesh with axis ``'runs'`` (default: all local devices).
    vmap_size: runs per vmapped micro-batch (default: ceil(runs / devices)).
    on_log: called after every chunk with ``(step, stacked train state, losses (runs, chunk))``, padding removed.
    clock: if given, ``clock['compile_seconds']`` is increased by the time spent compiling (ahead of time, so the
      training time is the rest).

  Returns:
    The final train state of every run, in order.

  Raises:
    PeerLost: in a multi-process run, when gathering the states fails because another process stopped.

  Reference: docs page "concepts/runs", section "Sweeps" (one compiled program, bitwise identical on 1 and 8 devices).
  """
  mesh = make_mesh() if mesh is None else mesh
  clock = {} if clock is None else clock
  clock.setdefault("compile_seconds", 0.0)
  if len(states) == 1 and mesh.devices.size == 1:
    return _train_one(objective, optimizer, states[0], data_keys[0], hparams[0], steps, log_every, on_log, clock)
  return _train_sharded(objective, optimizer, states, data_keys, hparams, steps, log_every, mesh, vmap_size,
                        on_log, clock)


def _compile(fn: jax.stages.Wrapped, args: Sequence[Any], clock: dict[str, float]) -> jax.stages.Compiled:
  """``fn`` (jitted) compiled ahead of time for ``args``; the seconds it took are added to the clock."""
  t0 = time.perf_counter()
  compiled = fn.lower(*args).compile()
  clock["compile_seconds"] += time.perf_counter() - t0
  return compiled


def _train_one(objective, optimizer, state, data_key, hparams, steps, log_every, on_log,
               clock) -> list[train.TrainState]:
  """One run on one device: the plain jitted chunk."""
  compiled: dict[int, Callable] = {}
  for k in train.chunk_lengths(int(state.step), steps, log_every):
    if k not in compiled:
      compiled[k] = _compile(jax.jit(train.make_chunk(objective, optimizer, k)), (state, data_key, hparams), clock)
    state, losses = compiled[k](state, data_key, hparams)
    if on_log is not None:
      on_log(int(state.step), _stack([state]), np.asarray(losses)[None])
  return [state]


def _place(value: jax.Array, sharding: NamedSharding) -> jax.Array:
  """A global array with ``sharding`` from a value every process holds in full (single- or multi-process)."""
  if jax.dtypes.issubdtype(value.dtype, jax.dtypes.prng_key):   # typed keys: place their raw data, then wrap
    impl = jax.random.key_impl(value)
    return jax.random.wrap_key_data(_place(jax.random.key_data(value), sharding), impl=impl)
  host = np.asarray(value)
  return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])


def _to_host(tree: Any) -> Any:
  """Every leaf in full on this host: as is when this process addresses all of it, else gathered from all (a
  failed gather, i.e. another process has stopped, raises :class:`icljax.runs.PeerLost`)."""
  if all(getattr(a, "is_fully_addressable", True) for a in jax.tree.leaves(tree)):
    return tree
  try:
    return multihost_utils.process_allgather(tree, tiled=True)
  except Exception as e:
    first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    raise runs.PeerLost(f"process {jax.process_index()} of {jax.process_count()} lost another process: gathering "
                        f"the runs' states failed ({first[:160]})") from None


def _train_sharded(objective, optimizer, states, data_keys, hparams, steps, log_every, mesh, vmap_size,
                   on_log, clock) -> list[train.TrainState]:
  """Runs padded to micro-batches of ``vmap_size`` per device, one shard_map program per chunk length."""
  n_dev, count = mesh.devices.size, len(states)
  m = vmap_size or -(-count // n_dev)
  total = -(-count // (n_dev * m)) * n_dev * m
  order = list(range(count)) + [count - 1] * (total - count)
  sharding = NamedSharding(mesh, PartitionSpec("runs"))
  put = lambda tree: jax.tree.map(lambda a: _place(a.reshape((total // m, m) + a.shape[1:]), sharding), tree)
  stacked = put(_stack([states[i] for i in order]))
  hps = put(_stack([hparams[i] for i in order]))
  keys = put(jnp.stack([data_keys[i] for i in order]))
  trips = _place(jnp.full((n_dev,), total // m // n_dev, jnp.int32), sharding)
  flat = lambda tree: jax.tree.map(lambda a: a.reshape((total,) + a.shape[2:])[:count], _to_host(tree))
  programs: dict[int, Callable] = {}
  done = int(states[0].step)
  for k in train.chunk_lengths(done, steps, log_every):
    if k not in programs:
      programs[k] = _compile(_sharded_chunk(objective, optimizer, k, mesh), (stacked, keys, hps, trips), clock)
    stacked, losses = programs[k](stacked, keys, hps, trips)
    done += k
    if on_log is not None:
      on_log(done, flat(stacked), np.asarray(flat(losses)))
  final = flat(stacked)
  return [unstack(final, i) for i in range(count)]
