"""The main job: every result's runs, then REPORT.md with claims, figures and every trained-vs-theory check.

    icljax-reproduce --workdir=icljax-reproduce            # full
    icljax-reproduce --workdir=icljax-reproduce --headline # each result's headline run at full size
    icljax-reproduce --workdir=/tmp/repro --quick          # smoke: tiny runs, under a minute
    icljax-reproduce --workdir=icljax-reproduce --only=lsa # one result (finished runs of the others stay listed)

Exit status: 0 when no check fails (or in quick mode), 1 when a check fails, 2 on bad input.
"""

from __future__ import annotations

import sys

from absl import flags

from icljax.apps import common
from icljax.experiment import main_job

_WORKDIR = flags.DEFINE_string("workdir", "icljax-reproduce", "Directory for REPORT.md and the runs.")
_QUICK = flags.DEFINE_bool("quick", False, "Tiny runs (under a minute in all) to check the machinery.")
_HEADLINE = flags.DEFINE_bool("headline", False, "Only the first (headline) run of each result, at full size; its "
                              "checks must pass as in the full job, which reuses these runs.")
_ONLY = flags.DEFINE_list("only", [], "Run only these results (experiment names, e.g. lsa,nn,recall).")


def main(argv: list[str]) -> int:
  if _QUICK.value and _HEADLINE.value:
    common.fail("--quick and --headline exclude each other (tiny headline runs, or full-size headline runs)")
  common.start(argv)
  profile = "quick" if _QUICK.value else "headline" if _HEADLINE.value else "full"
  path, failed, table = common.guarded(main_job.run, _WORKDIR.value, profile=profile, only=_ONLY.value,
                                       printer=common.printer())
  if not common.quiet():
    print(table)
  print(f"[main job] {'all checks pass' if not failed else f'{len(failed)} checks fail'}; report: {path.resolve()}")
  if failed and not _QUICK.value:
    for name, quantity in failed:
      print(f"[main job] FAIL {name}: {quantity}", file=sys.stderr)
    return 1
  return 0


def cli() -> None:
  """Console-script entry point ``icljax-reproduce``."""
  common.run_app(main)


if __name__ == "__main__":
  cli()
