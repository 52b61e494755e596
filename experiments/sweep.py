"""Runs a grid of configs as stacks of runs: one compiled program per group, sharded across devices.

    python -m experiments.sweep --config=experiments/configs/lsa_isotropic.py --workdir=sweeps/eta \\
        --sweep="n=5,10,20,40,80;sigma=0.0,0.5,1.0,2.0;seed=0,1" --config.steps=1500

``--sweep`` is ``field=v1,v2,...`` terms joined by ``;``; values are Python literals of the field's type. Every
grid point gets a content-addressed run directory ``<workdir>/<name>-<hash>`` with the artefacts of a single run.
Finished points are skipped; an interrupted group is trained again (its finished points are kept). The index
``<workdir>/runs.jsonl`` and ``runs.csv`` lists every point's swept fields and summary, and ``SWEEP.md`` holds the
aggregated table and figures. ``--multihost`` calls ``jax.distributed.initialize()``; only process 0 writes.
Bad input (unknown field, empty grid, wrong type) prints one line on stderr and exits with status 2.
"""

from __future__ import annotations

import ast
import contextlib
import csv
import io
import itertools
import time
from pathlib import Path
from typing import Any

from absl import flags, logging
from ml_collections import config_flags

from experiments import cli as cli_lib

_CONFIG = config_flags.DEFINE_config_file("config", None, "Experiment config file.", lock_config=True)
_WORKDIR = flags.DEFINE_string("workdir", None, "Sweep directory (index, aggregated report, one folder per point).")
_SWEEP = flags.DEFINE_string("sweep", None, "Grid: 'field=v1,v2;field2=...'.")
_DEVICES = flags.DEFINE_integer("devices", None, "Devices to shard the run axis over (default: all local).")
_MULTIHOST = flags.DEFINE_bool("multihost", False, "Call jax.distributed.initialize() (multi-host runs).")


def parse_sweep(spec: str | None, config) -> list[tuple[str, list[Any]]]:
  """Parses ``field=v1,v2;...`` against a config: fields must exist, grids be non-empty, values fit the type."""
  from icljax import validation  # pylint: disable=import-outside-toplevel
  if not spec or not spec.strip():
    raise validation.ConfigError("--sweep", spec, "'field=v1,v2;field2=...' with at least one value per field")
  grid = []
  for term in spec.split(";"):
    if not term.strip():
      continue
    field, sep, values = term.partition("=")
    field = field.strip()
    if not sep or field not in config:
      raise validation.ConfigError("--sweep", term, f"a config field before '=' (fields: {', '.join(sorted(config))})")
    if field in (f for f, _ in grid):
      raise validation.ConfigError("--sweep", term, f"each field once ('{field}' repeats)")
    try:
      parsed = [ast.literal_eval(v.strip()) for v in _split(values) if v.strip()]
    except (ValueError, SyntaxError):
      raise validation.ConfigError("--sweep", term, "Python literals after '=' (numbers, 'strings', tuples)") from None
    if not parsed:
      raise validation.ConfigError("--sweep", term, f"at least one value for '{field}'")
    for value in parsed:
      probe = config.copy_and_resolve_references()
      try:
        with probe.unlocked():
          probe[field] = value
      except TypeError:
        raise validation.ConfigError("--sweep", f"{field}={value!r}", f"values of the type of config.{field} "
                                     f"({type(config[field]).__name__})") from None
    grid.append((field, parsed))
  return grid


def _split(values: str) -> list[str]:
  """Splits on commas outside parentheses, so tuples such as (1.0,0.5) stay whole."""
  out, depth, cur = [], 0, ""
  for ch in values:
    depth += 1 if ch in "([" else (-1 if ch in ")]" else 0)
    if ch == "," and depth == 0:
      out.append(cur)
      cur = ""
    else:
      cur += ch
  return out + [cur]


def expand(config, grid):
  """Every grid point as a resolved config (the product of the value lists, in order)."""
  points = []
  for values in itertools.product(*(v for _, v in grid)):
    point = config.copy_and_resolve_references()
    with point.unlocked():
      for (field, _), value in zip(grid, values):
        point[field] = value
    points.append(point)
  return points


def run_sweep(config, workdir: Path, grid, *, devices: int | None = None, printer=print) -> list[dict[str, Any]]:
  """Validates every point, then trains each group of unfinished points as one stack and writes its artefacts."""
  import jax  # pylint: disable=import-outside-toplevel
  from icljax import runs, sweep, train  # pylint: disable=import-outside-toplevel
  from icljax.pipelines import base  # pylint: disable=import-outside-toplevel
  points = expand(config, grid)
  swept = [f for f, _ in grid]
  entries = []
  for point in points:
    experiment = base.validate(point)
    cfg = point.to_dict()
    with point.unlocked():
      point.name = f"{cfg.get('name', cfg['experiment'])}-{sweep.point_id(cfg)}"
    cfg = point.to_dict()
    run_dir = workdir / cfg["name"]
    status = runs.check_workdir(run_dir, cfg)
    entries.append({"config": point, "cfg": cfg, "dir": run_dir, "status": status, "experiment": experiment})
  writer = jax.process_index() == 0
  mesh = sweep.make_mesh(devices)
  groups: dict[str, list[dict[str, Any]]] = {}
  for e in entries:
    if e["status"] != "finished":
      groups.setdefault(sweep.group_key(e["cfg"]), []).append(e)
  todo = sum(len(g) for g in groups.values())
  printer(f"[sweep] {len(entries)} points, {len(entries) - todo} finished, {todo} to run in {len(groups)} "
          f"compiled groups on {mesh.devices.size} device(s)")
  lock = runs.WorkdirLock(workdir) if writer else None
  with lock if lock else contextlib.nullcontext():
    for gi, group in enumerate(groups.values()):
      t0 = time.perf_counter()
      plans = [e["experiment"].plan(e["config"]) for e in group]
      rows: list[list[dict[str, Any]]] = [[] for _ in group]
      progress = train.Progress(f"sweep group {gi + 1}/{len(groups)} ({len(group)} runs)", plans[0].steps,
                                printer=printer)

      def on_log(step, states, losses, plans=plans, rows=rows, progress=progress):
        for i, plan in enumerate(plans):
          row = {"step": step, "loss": float(losses[i].mean()), "loss_last": float(losses[i][-1])}
          if plan.track is not None:
            row.update({k: float(v) for k, v in plan.track(jax.tree.map(lambda a: a[i], states.params)).items()})
          rows[i].append(row)
        progress.update(step, float(losses[:, -1].mean()), force=step >= plans[0].steps)

      states = sweep.train_stack(plans, mesh=mesh, on_log=on_log)
      train_s = time.perf_counter() - t0
      for e, plan, state, r in zip(group, plans, states, rows):
        if not writer:
          continue
        e["dir"].mkdir(parents=True, exist_ok=True)
        runs.atomic_write_json(e["dir"] / runs.CONFIG, e["cfg"])
        runs.write_metrics(e["dir"] / runs.METRICS, r)
        runs.save_checkpoint(e["dir"] / runs.CHECKPOINT, state)
        summary, timing = base.finish(e["experiment"], plan, e["config"], e["cfg"], e["dir"], r, state.params,
                                      train_s / len(group), t0)
        runs.atomic_write_json(e["dir"] / runs.TIMING, timing)
        runs.atomic_write_json(e["dir"] / runs.SUMMARY, summary)
      if writer:
        write_index(workdir, entries, swept)
  index = write_index(workdir, entries, swept) if writer else []
  return index


def write_index(workdir: Path, entries, swept) -> list[dict[str, Any]]:
  """``runs.jsonl`` and ``runs.csv``: one row per finished point (swept fields, checks, numeric scalars)."""
  from icljax import runs  # pylint: disable=import-outside-toplevel
  rows = []
  for e in entries:
    path = e["dir"] / runs.SUMMARY
    if not path.exists():
      continue
    s = runs.read_json(path)
    row = {"dir": e["dir"].name, **{f: e["cfg"][f] for f in swept},
           "checks_passed": sum(c["passed"] for c in s["comparisons"]), "checks": len(s["comparisons"]),
           "all_passed": s["all_passed"]}
    row.update({k: v for k, v in s["scalars"].items() if isinstance(v, (int, float)) and not isinstance(v, bool)})
    rows.append(row)
  runs.write_metrics(workdir / "runs.jsonl", rows)
  columns = list(dict.fromkeys(k for r in rows for k in r))
  buf = io.StringIO()
  w = csv.DictWriter(buf, fieldnames=columns)
  w.writeheader()
  w.writerows(rows)
  runs.atomic_write_text(workdir / "runs.csv", buf.getvalue())
  return rows


def main(argv):
  if len(argv) > 1:
    cli_lib.fail(f"unexpected arguments: {' '.join(argv[1:])}")
  if _CONFIG.value is None or not _WORKDIR.value:
    cli_lib.fail("--config and --workdir are required")
  logging.set_verbosity(logging.WARNING)
  import jax  # pylint: disable=import-outside-toplevel
  if _MULTIHOST.value:
    jax.distributed.initialize()
  from icljax.pipelines import base  # pylint: disable=import-outside-toplevel

  def go():
    grid = parse_sweep(_SWEEP.value, _CONFIG.value)
    index = run_sweep(_CONFIG.value, Path(_WORKDIR.value), grid, devices=_DEVICES.value,
                      printer=lambda s: print(s, flush=True))
    experiment = base.get_experiment(_CONFIG.value.experiment)
    if hasattr(experiment, "aggregate") and jax.process_index() == 0:
      report = experiment.aggregate(Path(_WORKDIR.value), index, [f for f, _ in grid])
      print(f"[sweep] aggregated report: {report}")
    return index

  index = cli_lib.guarded(go)
  print(f"[sweep] {len(index)} points indexed in {Path(_WORKDIR.value) / 'runs.jsonl'}")
  return 0


def cli():
  cli_lib.run_app(main)


if __name__ == "__main__":
  cli()
