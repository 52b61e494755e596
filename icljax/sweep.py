"""Sweeps: a grid of runs, each point in its own content-addressed run directory, trained as stacks.

* **Inner axis (vmap)**: points whose configs differ only in fields that keep every array shape (``VMAPPABLE``:
  the seed and one physical hyper-parameter per result) form a *group*, trained by one compiled program:
  ``jax.vmap`` over the stacked train states, data keys and per-run arrays (``Plan.hparams``).
* **Device axis (sharding)**: the run axis of every stacked array is placed on a 1-D mesh ``('runs',)`` with
  ``NamedSharding(mesh, P('runs'))``; the run count is padded to a multiple of the device count (the padding
  repeats the last run and is dropped). Runs never communicate, so no collectives are needed.
* **Outer axis (Python)**: groups (shape-changing fields such as n, d, N) run one after another.

Seeds enter only through ``fold_in(key(seed), ...)``, never through device ids, so a point's results do not depend
on how many devices share the stack.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from icljax import train

VMAPPABLE = {"lsa": ("seed", "sigma"), "nn": ("seed", "sigma"), "recall": ("seed", "alpha")}


def point_id(config: dict[str, Any]) -> str:
  """Content address of a resolved config: the first 12 hex digits of the SHA-256 of its canonical JSON."""
  return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:12]


def group_key(config: dict[str, Any]) -> str:
  """Points with equal group keys share array shapes and static structure, so they train as one stack."""
  skip = set(VMAPPABLE.get(config["experiment"], ("seed",))) | {"name"}
  rest = {k: v for k, v in config.items() if k not in skip}
  if config["experiment"] == "recall":
    rest["noisy"] = config["alpha"] > 0  # alpha = 0 is the noiseless task: another static structure
  return json.dumps(rest, sort_keys=True)


def make_mesh(num_devices: int | None = None) -> Mesh:
  """A 1-D mesh ``('runs',)`` over the first ``num_devices`` devices (all when None)."""
  devices = jax.devices()
  if num_devices is not None:
    devices = devices[:num_devices]
  return Mesh(np.array(devices), ("runs",))


def _stack(trees: Sequence[Any]) -> Any:
  return jax.tree.map(lambda *leaves: jnp.stack(leaves), *trees)


def _unstack(tree: Any, i: int) -> Any:
  return jax.tree.map(lambda a: a[i], tree)


def train_stack(plans: Sequence[Any], *, mesh: Mesh | None = None, vmap_size: int | None = None,
                on_log: Callable[[int, Any, np.ndarray], None] | None = None) -> list[Any]:
  """Trains plans that share shapes, objective and optimiser as one compiled, sharded program.

  The run axis is cut into micro-batches of ``vmap_size`` runs: each micro-batch is one ``jax.vmap`` of the
  single-run chunk, each device runs its micro-batches with ``lax.map`` inside ``jax.shard_map``. With a fixed
  ``vmap_size`` every run executes the same compiled arithmetic whatever the device count, so results are bitwise
  identical on 1 and on 8 devices (tested). The default (None) puts all of a device's runs in one vmap: fastest,
  but the batched kernels, hence the last bits, then depend on how many runs share a device.

  Args:
    plans: ``pipelines.base.Plan`` objects of one group (same ``objective_h``, optimiser, steps, log_every).
    mesh: device mesh with axis ``'runs'`` (default: all local devices).
    vmap_size: runs per vmapped micro-batch (default: ceil(runs / devices)).
    on_log: called after every chunk with ``(step, stacked train state, losses (runs, chunk))``, padding removed.

  Returns:
    The final train state of every plan, in order.
  """
  p0 = plans[0]
  if p0.objective_h is None:
    raise ValueError("plans must define objective_h and hparams to be stacked")
  mesh = make_mesh() if mesh is None else mesh
  n_dev = mesh.devices.size
  count = len(plans)
  m = vmap_size or -(-count // n_dev)
  total = -(-count // (n_dev * m)) * n_dev * m
  order = list(range(count)) + [count - 1] * (total - count)
  sharding = NamedSharding(mesh, PartitionSpec("runs"))
  put = lambda tree: jax.tree.map(lambda a: jax.device_put(a.reshape((total // m, m) + a.shape[1:]), sharding),
                                  tree)
  states = put(_stack([train.init_state(plans[i].params, p0.optimizer) for i in order]))
  hparams = put(_stack([plans[i].hparams for i in order]))
  keys = put(jnp.stack([plans[i].data_key for i in order]))
  trips = jax.device_put(jnp.full((n_dev,), total // m // n_dev, jnp.int32), sharding)
  flat = lambda tree: jax.tree.map(lambda a: a.reshape((total,) + a.shape[2:])[:count], tree)
  compiled: dict[int, Callable] = {}

  def chunk_fn(k: int) -> Callable:
    if k not in compiled:
      def one(state, key, hp):
        return train.make_chunk(lambda p, kk: p0.objective_h(p, kk, hp), p0.optimizer, k)(state, key)

      def local(states_, keys_, hps_, trips_):
        # A while loop with a trip count the compiler cannot see (trips_ is data): the loop body is the same
        # program whether a device holds one micro-batch or eight, so results do not depend on the layout.
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
      compiled[k] = jax.jit(jax.shard_map(local, mesh=mesh, in_specs=(spec, spec, spec, spec),
                                          out_specs=(spec, spec), check_vma=False))
    return compiled[k]

  done = 0
  while done < p0.steps:
    k = min(p0.log_every - done % p0.log_every, p0.steps - done)
    states, losses = chunk_fn(k)(states, keys, hparams, trips)
    done += k
    if on_log is not None:
      on_log(done, flat(states), np.asarray(flat(losses)))
  final = flat(states)
  return [_unstack(final, i) for i in range(count)]
