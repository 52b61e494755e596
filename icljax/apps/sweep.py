"""Runs a grid of configs as stacks of runs: one compiled program per group, sharded across devices.

    icljax-sweep --config=lsa_isotropic --workdir=sweeps/eta \\
        --sweep="n=5,10,20,40,80;sigma=0.0,0.5,1.0,2.0;seed=0,1" --config.steps=1500

``--sweep`` is ``field=v1,v2,...`` terms joined by ``;``; values are Python literals of the field's type. Every
grid point gets a content-addressed run directory ``<workdir>/<name>-<hash>`` with the artefacts of a single run.
Finished points are skipped; an interrupted group is trained again from its checkpoints. ``<workdir>/runs.jsonl``
and ``runs.csv`` index every point, ``SWEEP.md`` holds the aggregate. ``--multihost`` calls
``jax.distributed.initialize()`` first (SLURM, TPU pods: coordinates from the environment); only process 0
writes. Bad input prints one line on stderr and exits with status 2.
"""

from __future__ import annotations

from pathlib import Path

import jax
from absl import flags
from ml_collections import config_flags

from icljax.apps import common
from icljax.experiment import grid

_CONFIG = config_flags.DEFINE_config_file("config", None, "A packaged config name or a config file.",
                                          lock_config=True)
_WORKDIR = flags.DEFINE_string("workdir", None, "Sweep directory (index, aggregate, one folder per point).")
_SWEEP = flags.DEFINE_string("sweep", None, "Grid: 'field=v1,v2;field2=...'.")
_DEVICES = flags.DEFINE_integer("devices", None, "Devices to shard the run axis over (default: all local).")
_MULTIHOST = flags.DEFINE_bool("multihost", False, "Call jax.distributed.initialize() (multi-host runs).")


def main(argv: list[str]) -> int:
  common.start(argv)
  if _CONFIG.value is None or not _WORKDIR.value:
    common.fail("--config and --workdir are required")
  if _MULTIHOST.value:
    jax.distributed.initialize()
  printer = common.printer()

  def go():
    return grid.run(_CONFIG.value, Path(_WORKDIR.value), grid.parse(_SWEEP.value, _CONFIG.value),
                    devices=_DEVICES.value, printer=printer)

  index = common.guarded(go)
  printer(f"[sweep] {len(index)} points indexed in {Path(_WORKDIR.value) / 'runs.jsonl'}")
  return 0


def cli() -> None:
  """Console-script entry point ``icljax-sweep``."""
  common.run_app(main)


if __name__ == "__main__":
  cli()
