"""Sweeps: a grid over config fields, every point in its own content-addressed run directory, all through the one
driver (points that share shapes train as one stacked program), then an index and the experiment's aggregate.

``--sweep`` specs are ``field=v1,v2,...`` terms joined by ``;``; values are Python literals of the field's type.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jax

from icljax import runs, sweep, validation
from icljax.experiment import configs, driver, fields
from icljax.experiment.checks import summarize

Grid = list[tuple[str, list[Any]]]


def parse(spec: str | None, config: fields.Config) -> Grid:
  """Parses ``field=v1,v2;...`` against a config: fields must be declared, grids non-empty, values accepted.

  Args:
    spec: the sweep spec.
    config: the base config.

  Returns:
    ``[(field, [values])]`` in the order given.

  Raises:
    ConfigError: on ``--sweep`` for an empty spec, a field that is not declared (or is ``preset`` or ``name``),
      a repeated field or a field without values; on ``config.<field>`` for a value outside its range.

  Reference: docs page "concepts/runs", section "Sweeps".
  """
  if not spec or not spec.strip():
    raise validation.ConfigError("--sweep", spec, "'field=v1,v2;field2=...' with at least one value per field")
  grid: Grid = []
  declared = fields.declarations(type(config))
  for term in spec.split(";"):
    if not term.strip():
      continue
    field, sep, values = term.partition("=")
    field = field.strip()
    if not sep or field not in declared or field in type(config).FIXED + ("name",):
      raise validation.ConfigError("--sweep", term, f"a config field before '=' (fields: "
                                   f"{', '.join(k for k in declared if k not in ('preset', 'name'))})")
    if field in (f for f, _ in grid):
      raise validation.ConfigError("--sweep", term, f"each field once ('{field}' repeats)")
    parsed = [fields.parse_text(type(config), field, v.strip()) for v in configs.split_top_level(values) if v.strip()]
    if not parsed:
      raise validation.ConfigError("--sweep", term, f"at least one value for '{field}'")
    for value in parsed:
      fields.replace(config, **{field: value})   # each value is checked against the field's declaration
    grid.append((field, parsed))
  return grid


def expand(config: fields.Config, grid: Grid) -> list[fields.Config]:
  """Every grid point as a config, named ``<run name>-<content address>``.

  Args:
    config: the base config.
    grid: from :func:`parse`.

  Returns:
    The product of the value lists, in order.

  Reference: docs page "concepts/runs", section "Sweeps".
  """
  points = []
  for values in itertools.product(*(v for _, v in grid)):
    point = fields.replace(config, **{field: value for (field, _), value in zip(grid, values)})
    address = sweep.point_id(runs.to_jsonable(point.to_dict()))
    points.append(fields.replace(point, name=f"{configs.run_name(point)}-{address}"))
  return points


def run(config: fields.Config, workdir: Path, grid: Grid, *, devices: int | None = None,
        printer: Callable[[str], None] = print) -> list[dict[str, Any]]:
  """Validates every point, trains the unfinished ones (stacks where shapes allow), writes the index and the
  theorem's aggregate report.

  Args:
    config: the base config.
    workdir: the sweep directory (index, aggregate, one folder per point).
    grid: from :func:`parse`.
    devices: devices to shard stacks over (default: all local).
    printer: where progress lines go.

  Returns:
    The index rows (one per finished point).

  Reference: docs page "concepts/runs", section "Sweeps".
  """
  points = [driver.prepare(c, workdir / c.name) for c in expand(config, grid)]
  swept = [f for f, _ in grid]
  todo = sum(p.status != "finished" for p in points)
  mesh = sweep.make_mesh(devices)
  printer(f"[sweep] {len(points)} points, {len(points) - todo} finished, {todo} to run on {mesh.devices.size} "
          f"device(s)")
  writer = jax.process_index() == 0
  with runs.WorkdirLock(workdir) if writer else contextlib.nullcontext():
    driver.run_points(points, printer=printer, mesh=mesh,
                      on_done=lambda i, s: write_index(workdir, points, swept) if writer else None)
    index = write_index(workdir, points, swept) if writer else []
    experiment = configs.experiment_of(config)
    if writer and experiment.aggregate is not None and index:
      runs.atomic_write_text(workdir / "SWEEP.md", experiment.aggregate(workdir, index, swept))
      printer(f"[sweep] aggregated report: {workdir / 'SWEEP.md'}")
  return index


def write_index(workdir: Path, points: Sequence[driver.Point], swept: Sequence[str]) -> list[dict[str, Any]]:
  """``runs.jsonl`` and ``runs.csv``: one row per finished point (swept fields, checks, numeric scalars).

  Args:
    workdir: the sweep directory.
    points: every point of the sweep.
    swept: the swept fields.

  Returns:
    The rows.

  Reference: docs page "concepts/runs", section "Sweeps".
  """
  rows = []
  for p in points:
    path = p.workdir / runs.SUMMARY
    if not path.exists():
      continue
    s = runs.read_json(path)
    tally = summarize(s["comparisons"])
    row = {"dir": p.workdir.name, **{f: p.cfg[f] for f in swept}, "checks_passed": tally.passed,
           "checks": tally.total, "all_passed": tally.status == "pass", "status": tally.status}
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
