"""End to end: a tiny run of every config through the CLI, artefacts read back; bad input; the quick main job."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--config.steps=20", "--config.batch_size=128", "--config.log_every=10", "--config.eval_prompts=1000",
        "--config.theory_prompts=1000"]


def _run(args, timeout=240):
  env = dict(os.environ, JAX_PLATFORMS="cpu")
  return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                        timeout=timeout)


@pytest.mark.parametrize("config,extra,param_names", [
    ("lsa_isotropic", [], ["W_K", "W_Q", "W_V", "h"]),
    ("lsa_preconditioned", ["--config.prior=identity"], ["W_K", "W_Q", "W_V", "h"]),
    ("lsa_nonlinear", ["--config.activation=tanh", "--config.parameterization=reduced"],
     ["W_K", "W_Q", "W_V", "h", "w", "M"]),
    ("lsa_isotropic", ["--config.estimator=fixed", "--config.sample_size=512", "--config.sampler=direct"],
     ["W_K", "W_Q", "W_V", "h"]),
])
def test_tiny_run_writes_every_artefact(tmp_path, config, extra, param_names):
  workdir = tmp_path / "run"
  proc = _run(["-m", "experiments.run", f"--config=experiments/configs/{config}.py", f"--workdir={workdir}",
               *TINY, *extra])
  assert proc.returncode in (0, 1), proc.stderr[-2000:]  # 1: a tiny run need not pass its checks
  cfg = json.loads((workdir / "config.json").read_text())
  assert cfg["steps"] == 20 and {"d", "n", "sigma", "steps", "batch_size", "seed"} <= set(cfg)
  rows = [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]
  assert [r["step"] for r in rows] == [10, 20] and all(np.isfinite(r["loss"]) for r in rows)
  summary = json.loads((workdir / "summary.json").read_text())
  assert summary["comparisons"] and all({"quantity", "theory", "measured", "tolerance", "passed"} <= set(c)
                                        for c in summary["comparisons"])
  assert summary["all_passed"] == (proc.returncode == 0)
  with np.load(workdir / "params.npz") as params:
    assert set(param_names) <= set(params.files)
    d = cfg["d"]
    assert params["W_K"].shape == (d + 1, d + 1) and params["h"].shape == (d + 1,)
  for fig in summary["figures"]:
    assert (workdir / fig).stat().st_size > 1000
  # A finished run is not redone.
  again = _run(["-m", "experiments.run", f"--config=experiments/configs/{config}.py", f"--workdir={workdir}",
                *TINY, *extra])
  assert "not redone" in again.stdout


NN_TINY = ["--config.steps=40", "--config.log_every=20", "--config.sample_size=2", "--config.tau_samples=500",
           "--config.eval_tau_samples=500", "--config.test_prompts=50", "--config.references=()",
           "--config.shift_references=()"]


@pytest.mark.parametrize("config,extra", [
    ("nn_dynamics", ["--config.d=3", "--config.N=4"]),
    ("nn_long", ["--config.landscape_points=5", "--config.ratio_sigmas=(3.0,10.0)"]),
    ("nn_shift", []),
    ("nn_landscape", ["--config.landscape_points=5", "--config.landscape_references=()"]),
])
def test_tiny_nn_runs_write_every_artefact(tmp_path, config, extra):
  workdir = tmp_path / "run"
  proc = _run(["-m", "experiments.run", f"--config=experiments/configs/{config}.py", f"--workdir={workdir}",
               *NN_TINY, *extra])
  assert proc.returncode in (0, 1), proc.stderr[-2000:]
  cfg = json.loads((workdir / "config.json").read_text())
  assert {"d", "N", "sigma", "eta", "steps", "seed"} <= set(cfg)
  rows = [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]
  assert [r["step"] for r in rows] == [20, 40]
  summary = json.loads((workdir / "summary.json").read_text())
  assert summary["comparisons"] and all((workdir / f).exists() for f in summary["figures"])
  with np.load(workdir / "params.npz") as params:
    assert {"xi1", "xi2"} <= set(params.files)
    if cfg["model"] != "reduced":
      assert params["W"].shape == (cfg["d"] + 2, cfg["d"] + 2)
  if config == "nn_dynamics":  # estimator (a): on the family at every logged step
    assert max(r["off_family"] for r in rows) < 1e-5 and max(r["label_column"] for r in rows) == 0.0


RECALL_TINY = ["--config.steps=20", "--config.log_every=10", "--config.H=32", "--config.batch_size=64",
               "--config.eval_size=128", "--config.test_size=64"]


@pytest.mark.parametrize("extra,names", [
    ([], {"Lam"}),
    (["--config.alpha=0.0", "--config.attention=relu"], {"lam"}),
    (["--config.model=origin", "--config.attention=softmax", "--config.kappa=0"], {"W", "V", "F"}),
    (["--config.model=reparam_w", "--config.M=128", "--config.x64=True"], {"W"}),
])
def test_tiny_recall_runs_write_every_artefact(tmp_path, extra, names):
  workdir = tmp_path / "run"
  proc = _run(["-m", "experiments.run", "--config=experiments/configs/recall.py", f"--workdir={workdir}",
               *RECALL_TINY, *extra])
  assert proc.returncode in (0, 1), proc.stderr[-2000:]
  rows = [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]
  assert [r["step"] for r in rows] == [10, 20]
  assert all({"loss", "test_loss", "pop_loss"} <= set(r) for r in rows)
  assert all(("Lam" in r) == ("Lam" in names) for r in rows)
  summary = json.loads((workdir / "summary.json").read_text())
  assert summary["comparisons"] and all((workdir / f).exists() for f in summary["figures"])
  with np.load(workdir / "params.npz") as params:
    assert names <= set(params.files)
    if "--config.x64=True" in extra:
      assert params["W"].dtype == np.float64


LSA, NN, RECALL = (f"experiments/configs/{n}.py" for n in ("lsa_isotropic", "nn_shift", "recall"))
BAD = [
    (LSA, ["--config.d=0"], "config.d"), (LSA, ["--config.n=0"], "config.n"),
    (LSA, ["--config.sigma=-1.0"], "config.sigma"),
    (LSA, ["--config.spectrum=(1.0,1.0,0.0,1.0,1.0)"], "config.spectrum"),
    (LSA, ["--config.spectrum=(1.0,2.0)"], "config.spectrum"),
    (LSA, ["--config.prior=flat"], "config.prior"), (LSA, ["--config.activation=gelu"], "config.activation"),
    (LSA, ["--config.rotation=haar"], "config.rotation"), (LSA, ["--config.nonexistent=3"], "--config.nonexistent"),
    (LSA, ["--config.n=abc"], "--config.n"), (LSA, ["--config.learning_rate=0.0"], "config.learning_rate"),
    (LSA, ["--config.sampler=wishart", "--config.activation=relu"], "config.sampler"),
    (LSA, ["--config.estimator=replay"], "config.estimator"),
    (NN, ["--config.d=1"], "config.d"), (NN, ["--config.N=0"], "config.N"), (NN, ["--config.sigma=0.0"], "config.sigma"),
    (NN, ["--config.eta=-0.1"], "config.eta"), (NN, ["--config.shifts=('rotated',)"], "config.shifts"),
    (NN, ["--config.model=mlp"], "config.model"),
    (RECALL, ["--config.alpha=1.0"], "config.alpha"), (RECALL, ["--config.outputs=(3,4,5)"], "config.outputs"),
    (RECALL, ["--config.H=4"], "config.H"), (RECALL, ["--config.attention=gelu"], "config.attention"),
    (RECALL, ["--config.model=mamba"], "config.model"), (RECALL, ["--config.kappa=2"], "config.kappa"),
]


@pytest.mark.parametrize("config,override,field", BAD)
def test_bad_input_is_one_line_exit_2_nothing_written(tmp_path, config, override, field):
  workdir = tmp_path / "run"
  proc = _run(["-m", "experiments.run", f"--config={config}", f"--workdir={workdir}", *override], timeout=60)
  assert proc.returncode == 2, proc.stderr[-2000:]
  lines = proc.stderr.strip().splitlines()
  assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
  assert lines[0].startswith("error: ") and field in lines[0]
  assert not workdir.exists()


def test_quick_main_job_writes_the_report(tmp_path):
  proc = _run(["-m", "experiments.reproduce", "--quick", f"--workdir={tmp_path}"], timeout=120)
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert "report:" in proc.stdout and "experiment 1/" in proc.stdout and "ETA" in proc.stdout
  text = (tmp_path / "REPORT.md").read_text()
  assert "## Result 1" in text and "## Result 2" in text and "## Result 3" in text and "| quantity | theory | measured | tolerance | pass |" in text
  for line in text.splitlines():
    if line.startswith("!["):
      assert (tmp_path / line.split("(")[1].rstrip(")")).exists()
