"""Sweeps: stacks on 1 vs 8 fake devices are bitwise identical; the CLI rejects bad specs, indexes every point,
and a sweep killed midway neither redoes nor loses a point."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from experiments import sweep as sweep_cli
from experiments.configs import lsa_isotropic
from icljax import sweep, validation

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--config.steps=40", "--config.batch_size=64", "--config.log_every=20", "--config.eval_prompts=1000",
        "--config.theory_prompts=1000"]


def _env():
  return dict(os.environ, JAX_PLATFORMS="cpu")


@pytest.fixture(scope="module")
def device_report():
  proc = subprocess.run([sys.executable, "tests/_stack_devices.py"], cwd=ROOT, env=_env(), capture_output=True,
                        text=True, timeout=400)
  assert proc.returncode == 0, proc.stderr[-3000:]
  return {l.split()[0]: l for l in proc.stdout.splitlines() if "bitwise_identical" in l}


@pytest.mark.parametrize("result", ["lsa", "nn", "recall"])
def test_stacks_are_bitwise_identical_on_1_and_8_devices(device_report, result):
  assert device_report[result].endswith("bitwise_identical=True"), device_report[result]


def test_sweep_spec_parsing_and_grouping():
  config = lsa_isotropic.get_config()
  grid = sweep_cli.parse_sweep("n=5,10;sigma=0.0,1.0;seed=0,1", config)
  assert grid == [("n", [5, 10]), ("sigma", [0.0, 1.0]), ("seed", [0, 1])]
  points = [p.to_dict() for p in sweep_cli.expand(config, grid)]
  assert len(points) == 8 and len({sweep.point_id(p) for p in points}) == 8
  assert len({sweep.group_key(p) for p in points}) == 2    # n changes shapes; sigma and seed are vmapped
  assert sweep_cli.parse_sweep("spectrum=(1.0,1.0,1.0,1.0,2.0),(2.0,1.0,1.0,1.0,1.0)", config)[0][1][1] == (
      2.0, 1.0, 1.0, 1.0, 1.0)


@pytest.mark.parametrize("spec,fragment", [
    ("nope=1,2", "a config field"), ("n=", "at least one value"), ("n=5;n=6", "each field once"),
    ("sigma='big'", "type of config.sigma"), ("", "at least one value per field"), ("n=5,)", "Python literals")])
def test_bad_sweep_specs_are_rejected(spec, fragment):
  with pytest.raises(validation.ConfigError, match=fragment.replace("(", r"\(")):
    sweep_cli.parse_sweep(spec, lsa_isotropic.get_config())


def test_bad_sweep_spec_on_the_cli_is_one_line_exit_2(tmp_path):
  proc = subprocess.run([sys.executable, "-m", "experiments.sweep", "--config=experiments/configs/lsa_isotropic.py",
                         f"--workdir={tmp_path / 'sw'}", "--sweep=nonexistent=1,2"], cwd=ROOT, env=_env(),
                        capture_output=True, text=True, timeout=120)
  assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1 and "--sweep" in proc.stderr
  assert not (tmp_path / "sw").exists()


def test_killed_sweep_neither_redoes_nor_loses_a_point(tmp_path):
  workdir = tmp_path / "sw"
  cmd = [sys.executable, "-m", "experiments.sweep", "--config=experiments/configs/lsa_isotropic.py",
         f"--workdir={workdir}", "--sweep=n=3,4,5;seed=0,1", *TINY]
  proc = subprocess.Popen(cmd, cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
  deadline = time.time() + 300
  while time.time() < deadline and not (workdir / "runs.jsonl").exists():  # first group finished
    time.sleep(0.05)
  proc.send_signal(signal.SIGKILL)
  proc.communicate(timeout=60)
  first = [json.loads(l) for l in (workdir / "runs.jsonl").read_text().splitlines()]
  assert 2 <= len(first) < 6
  stamps = {r["dir"]: (workdir / r["dir"] / "summary.json").stat().st_mtime_ns for r in first}
  again = subprocess.run(cmd, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=300)
  assert again.returncode == 0, again.stderr[-2000:]
  assert f"{len(first)} finished" in again.stdout
  final = [json.loads(l) for l in (workdir / "runs.jsonl").read_text().splitlines()]
  assert len(final) == 6 and sorted((r["n"], r["seed"]) for r in final) == sorted(
      (n, s) for n in (3, 4, 5) for s in (0, 1))
  for d, stamp in stamps.items():   # finished points were not redone
    assert (workdir / d / "summary.json").stat().st_mtime_ns == stamp
  assert (workdir / "runs.csv").read_text().count("\n") == 7
