"""The benchmark scripts run end to end at toy sizes and end with their JSON line (a smoke test: nothing here
times anything; speed is measured by running the scripts themselves, see benchmarks/README.md)."""

import json
import math
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
KEYS = {"result", "toolkit_per_s", "torch_per_s", "jax_reference_per_s", "ratio_vs_torch"}


@pytest.mark.parametrize("module,args", [
    ("benchmarks.lsa_step", ["--seconds=0.05", "--batch=64", "--scan=20", "--big-n=30", "--fixed-n=30"]),
    ("benchmarks.nn_step", ["--seconds=0.05", "--steps=200", "--reference-steps=20", "--prompts=256", "--sym-dims=2"]),
    ("benchmarks.recall_step", ["--seconds=0.05", "--batch=16", "--H=16"]),
])
def test_benchmark_script_ends_with_its_json_line(module, args):
  proc = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True, timeout=600)
  assert proc.returncode == 0, proc.stderr[-3000:]
  summary = json.loads(proc.stdout.strip().splitlines()[-1])
  assert KEYS <= set(summary)
  assert summary["toolkit_per_s"] > 0 and summary["jax_reference_per_s"] > 0
  assert math.isnan(summary["torch_per_s"]) or summary["torch_per_s"] > 0   # NaN where torch is not installed


def test_time_to_theory_prints_its_table_and_json_line():
  proc = subprocess.run([sys.executable, "-m", "benchmarks.time_to_theory", "--budget=1", "--eps=1e-1"], cwd=ROOT,
                        capture_output=True, text=True, timeout=600)
  assert proc.returncode == 0, proc.stderr[-3000:]
  summary = json.loads(proc.stdout.strip().splitlines()[-1])
  assert summary["result"] == "time_to_theory" and "exact (L-BFGS, float64)" in summary
  assert math.isfinite(summary["exact (L-BFGS, float64)"]["best_error"])
  assert "not reached" in proc.stdout or "s " in proc.stdout
