"""Runs a grid of configs as stacks of runs: one compiled program per group, sharded across devices.

    icljax-sweep --config=lsa_isotropic --workdir=sweeps/eta \\
        --sweep="n=5,10,20,40,80;sigma=0.0,0.5,1.0,2.0;seed=0,1" --config.steps=1500

``--sweep`` is ``field=v1,v2,...`` terms joined by ``;``; values are Python literals of the field's type (strings
may go unquoted). Every grid point gets a content-addressed run directory ``<workdir>/<run name>-<hash>`` with the
artefacts of a single run. Finished points are skipped; an interrupted group is trained again from its
checkpoints. ``<workdir>/runs.jsonl`` and ``runs.csv`` index every point, ``SWEEP.md`` holds the aggregate.
``--multihost`` calls ``jax.distributed.initialize()`` first (SLURM, TPU pods: coordinates from the environment);
only process 0 writes. Exit status: 0 every point passes, 1 a check fails at some point, 2 bad input (one line on
stderr, nothing written), 3 NaN/Inf, 130/143 interrupted.
"""

from __future__ import annotations

import sys
from pathlib import Path

import jax
from absl import flags

from icljax.apps import common
from icljax.experiment import grid

_CONFIG = flags.DEFINE_string("config", None, "The base config: a packaged config NAME[:words] (--list lists them) "
                              "or a theorem's .py file[:words]; --config.FIELD=VALUE overrides its fields.")
_WORKDIR = flags.DEFINE_string("workdir", None, "Sweep directory (index, aggregate, one folder per point).")
_SWEEP = flags.DEFINE_string("sweep", None, "Grid: 'field=v1,v2;field2=...'.")
_DEVICES = flags.DEFINE_integer("devices", None, "Devices to shard the run axis over (default: all local).")
_MULTIHOST = flags.DEFINE_bool("multihost", False, "Start JAX's multi-process runtime (jax.distributed.initialize): "
                                "every process runs the same command, stacks are sharded over all processes' "
                                "devices, only process 0 writes. On SLURM or a TPU pod the cluster is detected; "
                                "elsewhere give the three flags below.")
_COORDINATOR = flags.DEFINE_string("coordinator_address", None, "With --multihost: host:port of process 0.")
_NUM_PROCESSES = flags.DEFINE_integer("num_processes", None, "With --multihost: how many processes.")
_PROCESS_ID = flags.DEFINE_integer("process_id", None, "With --multihost: this process's index (0 writes).")


def main(argv: list[str]) -> int:
  """Runs the ``--sweep`` grid of ``--config`` into ``--workdir`` (``--multihost``: over several processes).

  Args:
    argv: what flag parsing left (the program name only; anything more is refused with exit status 2).

  Returns:
    1 if a check fails at some grid point, else 0; bad input, NaN/Inf, a lost process and signals exit with
    2, 3, 4, 130 or 143 (:func:`icljax.apps.common.guarded`).

  Reference: docs page "concepts/runs", section "Sweeps".
  """
  common.start(argv)
  config = common.load_config(_CONFIG.value)
  if not _WORKDIR.value:
    common.fail("--workdir is required (the sweep's directory)")
  if _MULTIHOST.value:
    jax.distributed.initialize(coordinator_address=_COORDINATOR.value, num_processes=_NUM_PROCESSES.value,
                               process_id=_PROCESS_ID.value)
  elif any(f.value is not None for f in (_COORDINATOR, _NUM_PROCESSES, _PROCESS_ID)):
    common.fail("--coordinator_address, --num_processes and --process_id need --multihost")
  printer = common.printer()

  def go():
    return grid.run(config, Path(_WORKDIR.value), grid.parse(_SWEEP.value, config), devices=_DEVICES.value,
                    printer=printer)

  index = common.guarded(go)
  failed = [r["dir"] for r in index if r["status"] == "fail"]
  printer(f"[sweep] {len(index)} points indexed in {Path(_WORKDIR.value) / 'runs.jsonl'}")
  if failed:
    print(f"[sweep] {len(failed)} points with a failing check: {', '.join(failed)}", file=sys.stderr)
  return 1 if failed else 0


def cli() -> None:
  """Console-script entry point ``icljax-sweep``.

  Raises:
    SystemExit: when the command ends, with the exit status of :func:`main`.

  Reference: README.md, section "Theorems" (its last paragraph: a sweep).
  """
  common.run_app(main)


if __name__ == "__main__":
  cli()
