"""The main job: runs the headline experiment of every implemented result and writes REPORT.md.

    icljax-reproduce --workdir=icljax-reproduce            # full: about 4 minutes on a 2-core CPU
    icljax-reproduce --workdir=/tmp/repro --quick          # smoke: one tiny run per result, under a minute

Each run goes to ``<workdir>/<run>`` (``<run>-quick`` in quick mode) with the usual artefacts; finished runs are
not redone. ``<workdir>/REPORT.md`` holds, per result, its claim, figures and the table of every
trained-vs-theory comparison; it is rewritten after every run, so an interrupted job still leaves a report.
Exit status: 0 when every check passes (or in quick mode), 1 when a check fails, 2 on bad input.
"""

from __future__ import annotations

import dataclasses
import importlib
import sys
import time
from pathlib import Path
from typing import Any

from absl import app, flags, logging

from experiments import cli as cli_lib

_WORKDIR = flags.DEFINE_string("workdir", "icljax-reproduce", "Directory for REPORT.md and the runs.")
_QUICK = flags.DEFINE_bool("quick", False, "Tiny runs (under a minute in all) to check the machinery.")
_ONLY = flags.DEFINE_list("only", [], "Run only these results (keys: lsa, nn).")


@dataclasses.dataclass(frozen=True)
class RunSpec:
  name: str
  config: str                       # module under experiments.configs
  overrides: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Result:
  key: str
  title: str
  claim: str
  runs: tuple[RunSpec, ...]
  quick: dict[str, Any]             # overrides that make every run of this result tiny


RESULTS = (
    Result(
        key="lsa",
        title="Result 1: linear self-attention = one step of gradient descent (Mahankali, Hashimoto, Ma 2023)",
        claim=("A one-layer linear self-attention trained on in-context linear regression implements one step of "
               "GD with step eta* = n/(n+d+1+sigma^2); with x ~ N(0, Sigma) and w* ~ N(0, Sigma^-1) one step of GD "
               "preconditioned by Sigma^-1; with random-network targets still plain GD, with a smaller step."),
        runs=(RunSpec("lsa_isotropic", "lsa_isotropic"),
              RunSpec("lsa_preconditioned", "lsa_preconditioned"),
              RunSpec("lsa_preconditioned_identity_prior", "lsa_preconditioned", {"prior": "identity"}),
              RunSpec("lsa_nonlinear_relu", "lsa_nonlinear"),
              RunSpec("lsa_nonlinear_tanh", "lsa_nonlinear", {"activation": "tanh"})),
        quick={"steps": 150, "batch_size": 512, "log_every": 50, "eval_prompts": 10_000,
               "theory_prompts": 10_000}),
    Result(
        key="nn",
        title="Result 2: softmax attention learns one-nearest-neighbour (Li et al. 2024)",
        claim=("A one-layer softmax attention trained by GD from W_0 = diag(0, 0, -sigma) stays on the two-parameter "
               "family diag(xi1 I, 0, -xi2), its loss goes to zero (in practice like t^-1/3) and it predicts like "
               "the 1-NN rule, also under distribution shift."),
        runs=(RunSpec("nn_dynamics", "nn_dynamics"), RunSpec("nn_long", "nn_long"), RunSpec("nn_shift", "nn_shift"),
              RunSpec("nn_landscape", "nn_landscape")),
        quick={"steps": 200, "log_every": 50, "sample_size": 2, "tau_samples": 500, "eval_tau_samples": 1000,
               "test_prompts": 100, "references": ()}),
)


def build_config(run: RunSpec, quick_overrides: dict[str, Any] | None):
  config = importlib.import_module(f"experiments.configs.{run.config}").get_config()
  config.name = run.name
  for key, value in {**run.overrides, **(quick_overrides or {})}.items():
    setattr(config, key, value)
  return config


def write_report(workdir: Path, done: list[tuple[Result, RunSpec, Path, dict[str, Any]]], quick: bool,
                 pending: int) -> Path:
  from icljax import report, runs  # pylint: disable=import-outside-toplevel
  lines = ["# icljax reproduction report", ""]
  total = sum(len(s["comparisons"]) for *_, s in done)
  passed = sum(c["passed"] for *_, s in done for c in s["comparisons"])
  lines.append(f"{passed}/{total} trained-vs-theory checks pass over {len(done)} runs"
               + (f" ({pending} runs not finished)" if pending else "") + ".")
  if quick:
    lines += ["", "**Quick mode**: tiny runs that exercise the machinery; the checks are not expected to pass."]
  lines += ["", "| run | checks passed | seconds | workdir |", "|---|---|---|---|"]
  for _, run, path, s in done:
    n_pass = sum(c["passed"] for c in s["comparisons"])
    lines.append(f"| {run.name} | {n_pass}/{len(s['comparisons'])} | {s.get('total_seconds', 0):.0f} | "
                 f"{path.relative_to(workdir)} |")
  lines.append("")
  seen = []
  for result, run, path, s in done:
    if result.key not in seen:
      seen.append(result.key)
      lines += [f"## {result.title}", "", f"**Claim.** {result.claim}", ""]
    rel = path.relative_to(workdir)
    comparisons = [report.Comparison.from_dict(c) for c in s["comparisons"]]
    lines.append(report.section(f"{run.name}: {s['scalars'].get('setting', '')}", "", comparisons,
                                [f"{rel}/{f}" for f in s.get("figures", [])], s.get("notes", []), level=3))
  out = workdir / "REPORT.md"
  runs.atomic_write_text(out, "\n".join(lines) + "\n")
  return out


def main(argv):
  if len(argv) > 1:
    cli_lib.fail(f"unexpected arguments: {' '.join(argv[1:])}")
  logging.set_verbosity(logging.WARNING)
  from icljax import pipelines, runs, validation  # pylint: disable=import-outside-toplevel
  keys = [r.key for r in RESULTS]
  for key in _ONLY.value:
    if key not in keys:
      cli_lib.fail(f"--only={key} is invalid: expected a comma-separated list of {', '.join(keys)}")
  selected = [r for r in RESULTS if not _ONLY.value or r.key in _ONLY.value]
  quick = _QUICK.value
  workdir = Path(_WORKDIR.value)
  # Quick mode runs the headline (first) run of each result; the full job runs them all.
  plan = [(r, run) for r in selected for run in (r.runs[:1] if quick else r.runs)]
  # Validate every config before any run starts, so bad input writes nothing.
  configs = []
  for result, run in plan:
    config = build_config(run, result.quick if quick else None)
    run_dir = workdir / (run.name + ("-quick" if quick else ""))
    try:
      pipelines.base.validate(config)
      runs.check_workdir(run_dir, config.to_dict())
    except validation.ConfigError as e:
      cli_lib.fail(str(e))
    configs.append((result, run, config, run_dir))
  t0 = time.perf_counter()
  done = []
  for i, (result, run, config, run_dir) in enumerate(configs):
    print(f"[reproduce] experiment {i + 1}/{len(configs)}: {run.name} ({time.perf_counter() - t0:.0f}s elapsed)",
          flush=True)
    summary = pipelines.run(config, run_dir, printer=lambda s: print(s, flush=True))
    done.append((result, run, run_dir, summary))
    report_path = write_report(workdir, done, quick, len(configs) - i - 1)
  failed = [(run.name, c["quantity"]) for _, run, _, s in done for c in s["comparisons"] if not c["passed"]]
  print(f"[reproduce] finished in {time.perf_counter() - t0:.0f}s; "
        f"{'all checks pass' if not failed else f'{len(failed)} checks fail'}; report: {report_path.resolve()}")
  if failed and not quick:
    for name, quantity in failed:
      print(f"[reproduce] FAIL {name}: {quantity}", file=sys.stderr)
    return 1
  return 0


def cli():
  import jax  # pylint: disable=import-outside-toplevel
  jax.config.parse_flags_with_absl()
  app.run(main, flags_parser=cli_lib.parse_flags)


if __name__ == "__main__":
  cli()
