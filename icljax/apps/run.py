"""icljax-run: one config of one theorem into one workdir.

    icljax-run --config=lsa_isotropic --workdir=runs/iso --config.n=40
    icljax-run --config=recall:origin_softmax_F_a0 --workdir=runs/origin     # a named variant
    icljax-run --config=lsa_isotropic:quick --workdir=/tmp/smoke              # tiny sizes
    icljax-run --plugin=ridge.py --config=ridge_shrinkage --workdir=runs/r    # a theorem outside icljax
    icljax-run --config=lsa_isotropic --describe                              # its fields, ranges, variants

Writes config.json, metrics.jsonl, summary.json, params.npz, figures/, checkpoint.npz and timing.json into
--workdir. A finished run is not redone; an interrupted one (any signal, SIGKILL included) resumes from its last
checkpoint when the same command is run again. Exit status: 0 all checks pass (a paper's claim the numbers
contradict is reported as "disagrees", not failed), 1 a check fails, 2 bad input or a corrupted artefact (one line
on stderr, nothing written), 3 NaN/Inf (the last good checkpoint is kept), 130/143 SIGINT/SIGTERM.
"""

from __future__ import annotations

from absl import flags

from icljax.apps import common
from icljax.experiment import driver

_CONFIG = flags.DEFINE_string("config", None, "A packaged config NAME[:words] (--list lists them; words: quick, a "
                              "named variant, field=value) or a theorem's .py file[:words].")
_WORKDIR = flags.DEFINE_string("workdir", None, "Directory for the run's artefacts.")
_DESCRIBE = flags.DEFINE_bool("describe", False, "Print the config's fields (default, accepted values, meaning) and "
                              "its theorem's named variants, then exit.")


def main(argv: list[str]) -> int:
  """Runs one config into ``--workdir`` (or prints its fields with ``--describe``).

  Args:
    argv: what flag parsing left (the program name only; anything more is refused with exit status 2).

  Returns:
    1 if a check fails, else 0 (a disputed claim that disagrees does not fail the run); bad input,
    NaN/Inf and signals exit with 2, 3, 130 or 143 (:func:`icljax.apps.common.guarded`).

  Reference: docs page "concepts/runs", sections "A run's workdir" and "Exit statuses (all three
  commands)".
  """
  common.start(argv)
  config = common.load_config(_CONFIG.value, describe=_DESCRIBE.value)
  if not _WORKDIR.value:
    common.fail("--workdir is required (a directory for the run's artefacts)")
  summary = common.guarded(driver.run, config, _WORKDIR.value, printer=common.printer())
  return 1 if summary["status"] == "fail" else 0


def cli() -> None:
  """Console-script entry point ``icljax-run``.

  Raises:
    SystemExit: when the command ends, with the exit status of :func:`main`.

  Reference: README.md, section "Theorems" (its last paragraph: one run).
  """
  common.run_app(main)


if __name__ == "__main__":
  cli()
