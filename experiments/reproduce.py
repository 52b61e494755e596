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

from absl import flags, logging

from experiments import cli as cli_lib

_WORKDIR = flags.DEFINE_string("workdir", "icljax-reproduce", "Directory for REPORT.md and the runs.")
_QUICK = flags.DEFINE_bool("quick", False, "Tiny runs (under a minute in all) to check the machinery.")
_ONLY = flags.DEFINE_list("only", [], "Run only these results (keys: lsa, nn, recall).")


@dataclasses.dataclass(frozen=True)
class RunSpec:
  name: str
  config: str                       # module under experiments.configs
  overrides: dict[str, Any] = dataclasses.field(default_factory=dict)
  figure: str = ""                  # a result-level figure this run is drawn in (pipeline.report_figures)


@dataclasses.dataclass(frozen=True)
class Result:
  key: str
  title: str
  claim: str
  runs: tuple[RunSpec, ...]
  quick: dict[str, Any]             # overrides that make every run of this result tiny



def _recall(name, figure="", **overrides):
  return RunSpec(name, "recall", overrides, figure)


_FIG1 = [("reparam", "linear", 1), ("reparam", "softmax", 1), ("reparam_w", "linear", 1), ("origin", "linear", 1),
         ("origin", "softmax", 0)]


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
    Result(
        key="recall",
        title="Result 3: linear/ReLU attention is Bayes-optimal for noisy in-context recall (Nguyen & Nguyen-Tang 2025)",
        claim=("The reparameterised one-layer transformer with linear or ReLU attention, trained by normalised GD, "
               "reaches the Bayes risk H(alpha) at a linear rate and generalises to unseen output tokens; softmax "
               "attention and the kappa = 0 feed-forward plateau above it; unconstrained models fit the training "
               "distribution but not unseen outputs."),
        runs=tuple(
            [_recall("recall_reparam_linear_FA_a0.5", "fig1_noisy")]
            + [_recall(f"recall_{m}_{a}_{'FA' if k else 'F'}_a{alpha:g}", f"fig1_{'noisy' if alpha else 'noiseless'}",
                       model=m, attention=a, kappa=k, alpha=alpha)
               for alpha in (0.0, 0.5) for (m, a, k) in _FIG1 if (m, a, k, alpha) != ("reparam", "linear", 1, 0.5)]
            + [_recall(f"recall_reparam_{a}_FA_a{alpha:g}", attention=a, alpha=alpha, steps=1000)
               for a in ("linear", "relu") for alpha in (0.2, 0.8)]
            + [_recall("recall_reparam_relu_FA_a0.5", attention="relu", steps=1000),
               _recall("recall_reparam_linear_F_a0.5", kappa=0, steps=1000),
               _recall("recall_reparam_linear_FA_a0.5_float64", x64=True, steps=600)]
            + [_recall(f"recall_finite_{m}_relu_FA", "fig2_finite", model=m, attention="relu", M=2048, steps=400,
                       log_every=4, eta=0.05) for m in ("reparam", "reparam_w", "origin")]),
        quick={"steps": 20, "log_every": 10, "H": 32, "batch_size": 64, "eval_size": 256, "test_size": 64}),
)


def build_config(run: RunSpec, quick_overrides: dict[str, Any] | None):
  config = importlib.import_module(f"experiments.configs.{run.config}").get_config()
  config.name = run.name
  for key, value in {**run.overrides, **(quick_overrides or {})}.items():
    setattr(config, key, value)
  return config


def _result_figures(workdir: Path, result: Result, done) -> list[str]:
  """Figures across the runs of one result (e.g. the paper's Fig. 1), drawn from the runs' artefacts."""
  from icljax import pipelines, runs as runs_lib  # pylint: disable=import-outside-toplevel
  mine = [(run, path) for res, run, path, _ in done if res.key == result.key]
  if not mine:
    return []
  module = pipelines.get_experiment(runs_lib.read_json(mine[0][1] / runs_lib.CONFIG)["experiment"])
  make = getattr(module, "report_figures", None)
  groups: dict[str, list] = {}
  for run, path in mine:
    if run.figure:
      groups.setdefault(run.figure, []).append((runs_lib.read_json(path / runs_lib.CONFIG),
                                                runs_lib.read_jsonl(path / runs_lib.METRICS)))
  if make is None or not groups:
    return []
  out_dir = workdir / "figures" / result.key
  return [str(Path(p).relative_to(workdir)) for p in make(out_dir, groups)]


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
    seconds = runs.read_json(path / runs.TIMING)["total_seconds"] if (path / runs.TIMING).exists() else 0.0
    lines.append(f"| {run.name} | {n_pass}/{len(s['comparisons'])} | {seconds:.0f} | "
                 f"{path.relative_to(workdir)} |")
  lines.append("")
  seen = []
  for result, run, path, s in done:
    if result.key not in seen:
      seen.append(result.key)
      lines += [f"## {result.title}", "", f"**Claim.** {result.claim}", ""]
      lines += [f"![{f}]({f})" for f in _result_figures(workdir, result, done)] + [""]
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
  # Finished runs of results not selected by --only stay in the report.
  for result in RESULTS:
    if result in selected:
      continue
    for run in (result.runs[:1] if quick else result.runs):
      run_dir = workdir / (run.name + ("-quick" if quick else ""))
      if (run_dir / runs.SUMMARY).exists():
        done.append((result, run, run_dir, runs.read_json(run_dir / runs.SUMMARY)))
  report_path = workdir / "REPORT.md"
  for i, (result, run, config, run_dir) in enumerate(configs):
    print(f"[reproduce] experiment {i + 1}/{len(configs)}: {run.name} ({time.perf_counter() - t0:.0f}s elapsed)",
          flush=True)
    summary = cli_lib.guarded(pipelines.run, config, run_dir, printer=lambda s: print(s, flush=True))
    done.append((result, run, run_dir, summary))
    order = {r.key: k for k, r in enumerate(RESULTS)}
    done.sort(key=lambda item: order[item[0].key])
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
  cli_lib.run_app(main)


if __name__ == "__main__":
  cli()
