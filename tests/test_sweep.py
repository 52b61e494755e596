"""Sweeps: stacks on 1 vs 8 fake devices are bitwise identical; the grid rejects bad specs, indexes every point,
and a sweep killed midway neither redoes nor loses a point; stacked and single runs agree."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from icljax import sweep, validation
from icljax.experiment import configs as typed_configs
from icljax.experiment import driver, grid, registry

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--config.steps=40", "--config.batch_size=64", "--config.log_every=20", "--config.eval_prompts=1000",
        "--config.theory_prompts=1000"]


def _env():
  """Processes these tests kill must not share the session's compilation cache: JAX writes a cache entry with a
  plain write, so a process interrupted mid-write can leave a truncated entry for the next reader."""
  env = dict(os.environ, JAX_PLATFORMS="cpu", ICLJAX_COMPILATION_CACHE="0")
  env.pop("JAX_COMPILATION_CACHE_DIR", None)
  return env


@pytest.fixture(scope="module")
def device_report():
  """One subprocess with 8 fake devices trains every result's stack on 1 and 8 devices (one JAX start, not three)."""
  proc = subprocess.run([sys.executable, "tests/_stack_devices.py", "all"], cwd=ROOT, env=_env(),
                        capture_output=True, text=True, timeout=400)
  assert proc.returncode == 0, proc.stderr[-3000:]
  return {line.split()[0]: line for line in proc.stdout.splitlines() if "bitwise_identical" in line}


@pytest.mark.parametrize("result", ["lsa", "nearest_neighbor", "recall"])
def test_stacks_are_bitwise_identical_on_1_and_8_devices(device_report, result):
  line = device_report[result]
  assert line.endswith("bitwise_identical=True"), line


def test_sweep_spec_parsing_and_grouping():
  config = typed_configs.load("lsa_isotropic")
  spec = grid.parse("n=5,10;sigma=0.0,1.0;seed=0,1", config)
  assert spec == [("n", [5, 10]), ("sigma", [0.0, 1.0]), ("seed", [0, 1])]
  points = [p.to_dict() for p in grid.expand(config, spec)]
  assert len(points) == 8 and len({p["name"] for p in points}) == 8
  lsa = registry.get("lsa")
  assert len({sweep.group_key(p, lsa.stack_fields) for p in points}) == 2   # n changes shapes
  assert grid.parse("spectrum=(1.0,1.0,1.0,1.0,2.0),(2.0,1.0,1.0,1.0,1.0)", config)[0][1][1] == (
      2.0, 1.0, 1.0, 1.0, 1.0)
  recall = registry.get("recall")
  keys = {sweep.group_key({"alpha": a, "x": 1}, recall.stack_fields,
                          recall.static(typed_configs.load(f"recall:alpha={a}"))) for a in (0.0, 0.2, 0.5)}
  assert len(keys) == 2   # alpha = 0 is the noiseless task: another static structure


@pytest.mark.parametrize("spec,fragment", [
    ("nope=1,2", "a config field"), ("n=", "at least one value"), ("n=5;n=6", "each field once"),
    ("sigma='big'", "config.sigma='big' is invalid: expected a finite number >= 0"),
    ("", "at least one value per field"), ("n=5,)", "config.n=')' is invalid: expected an integer >= 1")])
def test_bad_sweep_specs_are_rejected(spec, fragment):
  with pytest.raises(validation.ConfigError, match=re.escape(fragment)):
    grid.parse(spec, typed_configs.load("lsa_isotropic"))


def test_stacked_points_match_single_runs(tmp_path):
  config = typed_configs.load("lsa_isotropic:steps=40,batch_size=64,log_every=20,eval_prompts=1000,"
                              "theory_prompts=1000")
  index = grid.run(config, tmp_path / "sw", grid.parse("sigma=0.0,1.0;seed=1", config), printer=lambda s: None)
  assert len(index) == 2 and (tmp_path / "sw" / "SWEEP.md").exists()
  row = next(r for r in index if r["sigma"] == 1.0 and r["seed"] == 1)
  single_cfg = typed_configs.load("lsa_isotropic:steps=40,batch_size=64,log_every=20,eval_prompts=1000,"
                                  "theory_prompts=1000,sigma=1.0,seed=1")
  single = driver.run(single_cfg, tmp_path / "single", printer=lambda s: None)
  stacked = runs_params(tmp_path / "sw" / row["dir"])
  alone = runs_params(tmp_path / "single")
  for k in ("W_K", "W_Q", "W_V", "h"):   # vmapped vs plain program: float32 rounding only
    np.testing.assert_allclose(stacked[k], alone[k], rtol=1e-4, atol=1e-6)
  assert single["scalars"]["B_diag_mean"] == pytest.approx(row["B_diag_mean"], rel=1e-4)


def runs_params(path):
  with np.load(path / "params.npz") as p:
    return {k: p[k] for k in p.files}


def test_bad_sweep_spec_on_the_cli_is_one_line_exit_2(tmp_path):
  proc = subprocess.run([sys.executable, "-m", "icljax.apps.sweep", "--config=lsa_isotropic",
                         f"--workdir={tmp_path / 'sw'}", "--sweep=nonexistent=1,2"], cwd=ROOT, env=_env(),
                        capture_output=True, text=True, timeout=120)
  assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1 and "--sweep" in proc.stderr
  assert not (tmp_path / "sw").exists()


def test_killed_sweep_neither_redoes_nor_loses_a_point(tmp_path):
  workdir = tmp_path / "sw"
  cmd = [sys.executable, "-m", "icljax.apps.sweep", "--config=lsa_isotropic", f"--workdir={workdir}",
         "--sweep=n=3,4;seed=0,1", *TINY]
  proc = subprocess.Popen(cmd, cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
  deadline = time.time() + 300
  while time.time() < deadline and not (workdir / "runs.jsonl").exists():  # first group finished
    time.sleep(0.05)
  proc.send_signal(signal.SIGKILL)
  proc.communicate(timeout=60)
  first = [json.loads(line) for line in (workdir / "runs.jsonl").read_text().splitlines()]
  assert 2 <= len(first) < 4
  stamps = {r["dir"]: (workdir / r["dir"] / "summary.json").stat().st_mtime_ns for r in first}
  again = subprocess.run(cmd, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=300)
  # tiny runs fail their checks (exit 1, "points with a failing check"): this test is about resuming
  assert again.returncode in (0, 1) and "Traceback" not in again.stderr, again.stderr[-2000:]
  assert f"{len(first)} finished" in again.stdout
  final = [json.loads(line) for line in (workdir / "runs.jsonl").read_text().splitlines()]
  assert len(final) == 4 and sorted((r["n"], r["seed"]) for r in final) == sorted(
      (n, s) for n in (3, 4) for s in (0, 1))
  for d, stamp in stamps.items():   # finished points were not redone
    assert (workdir / d / "summary.json").stat().st_mtime_ns == stamp
  assert (workdir / "runs.csv").read_text().count("\n") == 5
