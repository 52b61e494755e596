"""icljax-reproduce: the main job. Every registered theorem's key runs (or all of them), then REPORT.md with the
claims, figures, every trained-vs-theory check and where the papers and the numbers disagree.

    icljax-reproduce --workdir=icljax-reproduce                  # the papers' key figures (default)
    icljax-reproduce --workdir=icljax-reproduce --full           # every run (the full archive)
    icljax-reproduce --workdir=/tmp/repro --quick                # smoke: tiny runs, under a minute
    icljax-reproduce --workdir=icljax-reproduce --only=lsa,recall  # some theorems
    icljax-reproduce --plugin=ridge.py --only=ridge_shrinkage    # a theorem outside icljax

Exit status: 0 no check fails (or in quick mode), 1 a check fails, 2 bad input, 3 NaN/Inf, 130/143 interrupted.
"""

from __future__ import annotations

import sys

import jax
from absl import flags

from icljax.apps import common
from icljax.experiment import main_job, pool

_WORKDIR = flags.DEFINE_string("workdir", "icljax-reproduce", "Directory for REPORT.md and the runs.")
_FULL = flags.DEFINE_bool("full", False, "Every run of every theorem (the full archive), not only the key figures.")
_QUICK = flags.DEFINE_bool("quick", False, "Tiny variants of the key runs (under a minute in all) to check the "
                           "machinery; their checks are not expected to pass.")
_ONLY = flags.DEFINE_list("only", [], "Run only these theorems (names as --list shows them, e.g. lsa,recall).")
_JOBS = flags.DEFINE_integer("jobs", 0, "Worker processes for independent groups of runs; 0: the CPU's cores (at "
                             "most 4) on a CPU, 1 on an accelerator.", lower_bound=0)


def main(argv: list[str]) -> int:
  """Runs the main job (``--full``, ``--quick``, ``--only``) into ``--workdir`` and prints its table.

  Args:
    argv: what flag parsing left (the program name only; anything more is refused with exit status 2).

  Returns:
    1 if a check fails (never with ``--quick``), else 0; bad input, NaN/Inf and signals exit with 2,
    3, 130 or 143 (:func:`icljax.apps.common.guarded`).

  Reference: docs page "concepts/runs", section "The main job".
  """
  common.start(argv)
  if _QUICK.value and _FULL.value:
    common.fail("--quick and --full exclude each other (tiny key runs, or every run at full size)")
  profile = "quick" if _QUICK.value else "full" if _FULL.value else "key"
  jobs = _JOBS.value or pool.default_jobs(jax.default_backend())
  path, failed, table = common.guarded(main_job.run, _WORKDIR.value, profile=profile, only=_ONLY.value,
                                       printer=common.printer(), deterministic=common.deterministic(), jobs=jobs,
                                       quiet=common.quiet())
  if not common.quiet():
    print(table)
  print(f"[main job] {'all checks pass' if not failed else f'{len(failed)} checks fail'}; report: {path.resolve()}")
  if failed and not _QUICK.value:
    for name, quantity in failed:
      print(f"[main job] FAIL {name}: {quantity}", file=sys.stderr)
    return 1
  return 0


def cli() -> None:
  """Console-script entry point ``icljax-reproduce``.

  Raises:
    SystemExit: when the command ends, with the exit status of :func:`main`.

  Reference: README.md, command (1) at its top and the paragraph after it.
  """
  common.run_app(main)


if __name__ == "__main__":
  cli()
