"""Runs one experiment config into a workdir.

    icljax-run --config=lsa_isotropic --workdir=runs/iso --config.n=40
    icljax-run --config=recall:origin_softmax_F_a0 --workdir=runs/origin       # a named variant
    icljax-run --config=path/to/my_config.py:quick --workdir=runs/mine          # a config file, with its argument

Writes config.json, metrics.jsonl, summary.json, params.npz, figures/, checkpoint.npz and timing.json into
--workdir. A finished run is not redone; an interrupted one (any signal, SIGKILL included) resumes from its last
checkpoint when the same command is run again. Exit status: 0 all checks pass, 1 a check fails, 2 bad input or a
corrupted artefact (one line on stderr, nothing written or overwritten), 3 NaN/Inf (the last good checkpoint is
kept), 130/143 interrupted by SIGINT/SIGTERM.
"""

from __future__ import annotations

from absl import flags
from ml_collections import config_flags

from icljax.apps import common
from icljax.experiment import driver

_CONFIG = config_flags.DEFINE_config_file("config", None, "A packaged config name (lsa_isotropic, nn_dynamics, "
                                          "recall, ...) or a config file, optionally ':arg'.", lock_config=True)
_WORKDIR = flags.DEFINE_string("workdir", None, "Directory for the run's artefacts.")


def main(argv: list[str]) -> int:
  common.start(argv)
  if _CONFIG.value is None:
    common.fail("--config is required (e.g. --config=lsa_isotropic)")
  if not _WORKDIR.value:
    common.fail("--workdir is required (a directory for the run's artefacts)")
  summary = common.guarded(driver.run, _CONFIG.value, _WORKDIR.value, printer=common.printer())
  return 1 if summary["status"] == "fail" else 0


def cli() -> None:
  """Console-script entry point ``icljax-run``."""
  common.run_app(main)


if __name__ == "__main__":
  cli()
