"""Runs one experiment config into a workdir.

    python -m experiments.run --config=experiments/configs/lsa_isotropic.py --workdir=runs/iso --config.n=40

Writes config.json, metrics.jsonl, summary.json, params.npz, figures/, checkpoint.npz and timing.json into
--workdir. A finished run is not redone; an interrupted one (any signal, SIGKILL included) resumes from its last
checkpoint when the same command is run again. Exit status: 0 all checks pass, 1 a check fails, 2 bad input or a
corrupted artefact (one line on stderr, nothing written or overwritten), 3 NaN/Inf (the last good checkpoint is
kept), 130/143 interrupted by SIGINT/SIGTERM.
"""

from __future__ import annotations

from absl import flags, logging
from ml_collections import config_flags

from experiments import cli as cli_lib

_CONFIG = config_flags.DEFINE_config_file("config", None, "Experiment config file (experiments/configs/*.py).",
                                          lock_config=True)
_WORKDIR = flags.DEFINE_string("workdir", None, "Directory for the run's artefacts.")


def main(argv):
  if len(argv) > 1:
    cli_lib.fail(f"unexpected arguments: {' '.join(argv[1:])}")
  if _CONFIG.value is None:
    cli_lib.fail("--config is required (e.g. --config=experiments/configs/lsa_isotropic.py)")
  if not _WORKDIR.value:
    cli_lib.fail("--workdir is required (a directory for the run's artefacts)")
  logging.set_verbosity(logging.WARNING)
  from icljax import pipelines  # pylint: disable=import-outside-toplevel
  summary = cli_lib.guarded(pipelines.run, _CONFIG.value, _WORKDIR.value)
  return 0 if summary["all_passed"] else 1


def cli():
  cli_lib.run_app(main)


if __name__ == "__main__":
  cli()
