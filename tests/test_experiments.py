"""End to end: a tiny run of every packaged config through the driver (in process), artefacts read back; the CLI's
exit codes and one-line errors (subprocess); the quick main job (in process)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from icljax import runs, validation
from icljax.experiment import configs as typed_configs
from icljax.experiment import driver, main_job, registry

ROOT = Path(__file__).resolve().parents[1]
LSA_TINY = "quick,steps=20,batch_size=128,log_every=10,eval_prompts=1000,theory_prompts=1000"
NN_TINY = "quick,steps=40,log_every=20,sample_size=2,tau_samples=500,eval_tau_samples=500,test_prompts=50"
RECALL_TINY = "quick,steps=20,log_every=10,H=32,batch_size=64,eval_size=128,test_size=64"


def _run(spec, workdir):
  lines = []
  summary = driver.run(typed_configs.load(spec), workdir, printer=lines.append)
  return summary, lines


def _common_artefacts(workdir, summary, steps):
  cfg = json.loads((workdir / "config.json").read_text())
  rows = runs.read_jsonl(workdir / "metrics.jsonl")
  assert [r["step"] for r in rows] == steps and all(np.isfinite(r["loss"]) for r in rows)
  assert summary == json.loads((workdir / "summary.json").read_text())
  assert summary["comparisons"] and all({"quantity", "theory", "measured", "tolerance", "relation", "kind", "entry",
                                         "passed"} <= set(c) for c in summary["comparisons"])
  assert summary["all_passed"] == all(c["passed"] for c in summary["comparisons"])
  for fig in summary["figures"]:
    assert (workdir / fig).stat().st_size > 1000
  assert {"train_seconds", "total_seconds"} <= set(runs.read_json(workdir / "timing.json"))
  return cfg, rows


# lsa_isotropic, nn_long and the default recall run at CI size in tests/test_science_gate.py, where their theory
# checks must pass.
@pytest.mark.parametrize("spec,param_names", [
    ("lsa_preconditioned:identity_prior", {"W_K", "W_Q", "W_V", "h", "B", "B_theory"}),
    ("lsa_nonlinear:tanh,parameterization=reduced", {"W_K", "W_Q", "W_V", "h", "w", "M"}),
    ("lsa_isotropic:estimator=fixed,sample_size=512,sampler=direct", {"W_K", "W_Q", "W_V", "h"}),
])
def test_tiny_lsa_runs_write_every_artefact(tmp_path, spec, param_names):
  spec += ("," if ":" in spec else ":") + LSA_TINY
  summary, _ = _run(spec, tmp_path / "run")
  cfg, _ = _common_artefacts(tmp_path / "run", summary, [10, 20])
  with np.load(tmp_path / "run" / "params.npz") as params:
    assert param_names <= set(params.files)
    assert params["W_K"].shape == (cfg["d"] + 1, cfg["d"] + 1) and params["h"].shape == (cfg["d"] + 1,)
  _, lines = _run(spec, tmp_path / "run")   # a finished run is not redone
  assert any("not redone" in line for line in lines)


@pytest.mark.parametrize("spec", ["nearest_neighbor_dynamics:d=3,N=4",
                                  "nearest_neighbor_long:ratio_sigmas=(3.0,10.0),extras=('sigma_ratio',)",
                                  "nearest_neighbor_shift", "nearest_neighbor_landscape:landscape_points=5"])
def test_tiny_nn_runs_write_every_artefact(tmp_path, spec):
  spec += ("," if ":" in spec else ":") + NN_TINY
  summary = driver.run(typed_configs.load(spec), tmp_path / "run", printer=lambda s: None)
  cfg, rows = _common_artefacts(tmp_path / "run", summary, [20, 40])
  with np.load(tmp_path / "run" / "params.npz") as params:
    assert {"xi1", "xi2"} <= set(params.files)
    if cfg["model"] != "reduced":
      assert params["W"].shape == (cfg["d"] + 2, cfg["d"] + 2)
  if spec.startswith("nearest_neighbor_dynamics"):   # estimator (a): on the family at every logged step
    assert max(r["off_family"] for r in rows) < 1e-5 and max(r["label_column"] for r in rows) == 0.0
    assert any("skipped" in n for n in summary["notes"])   # the reference rows are for d = 8, N = 16


@pytest.mark.parametrize("extra,names", [
    ("alpha=0.0,attention=relu", {"lam"}),
    ("model=origin,attention=softmax,kappa=0", {"W", "V", "F"}),
    ("model=reparam_w,M=128,x64=True", {"W"}),
])
def test_tiny_recall_runs_write_every_artefact(tmp_path, extra, names):
  config = typed_configs.load(f"recall:{RECALL_TINY}" + (f",{extra}" if extra else ""))
  summary = driver.run(config, tmp_path / "run", printer=lambda s: None)
  _, rows = _common_artefacts(tmp_path / "run", summary, [10, 20])
  assert all({"loss", "test_loss", "pop_loss"} <= set(r) for r in rows)
  assert all(("Lam" in r) == ("Lam" in names) for r in rows)
  with np.load(tmp_path / "run" / "params.npz") as params:
    assert names <= set(params.files)
    if "x64=True" in extra:
      assert params["W"].dtype == np.float64


def test_the_main_job_profiles_are_computed_from_the_theorems(tmp_path):
  """key: every theorem's key runs (its first run if it marks none); quick: their tiny variants; full: the archive
  at full size (reduced key variants have their full-size twins there). Run names are derived from the fields and
  never collide within a profile."""
  profiles = {p: main_job._entries(tmp_path, p) for p in main_job.PROFILES}   # pylint: disable=protected-access
  for name in registry.names():
    experiment = registry.get(name)
    key = [r for r in experiment.main_job if r.key] or list(experiment.main_job[:1])
    assert [e[1] for e in profiles["key"] if e[0] is experiment] == key
    assert [e[1] for e in profiles["quick"] if e[0] is experiment] == key
    assert [e[1] for e in profiles["full"] if e[0] is experiment] == [r for r in experiment.main_job if not r.reduced]
    assert all(r.key for r in experiment.main_job if r.reduced), f"{name}: a reduced run that is not key"
  for profile, entries in profiles.items():
    paths = [path for *_, path in entries]
    assert len(set(paths)) == len(paths), f"{profile}: two runs share a workdir"
  assert all(path.name.endswith("-quick") for *_, path in profiles["quick"])
  assert all(c.steps <= k.steps for (_, _, c, _), (_, _, k, _) in zip(profiles["quick"], profiles["key"]))
  with pytest.raises(validation.ConfigError, match="profile"):
    main_job.run(tmp_path, profile="fast")


def _cli(args, cwd=ROOT, timeout=120):
  return subprocess.run([sys.executable, "-m", *args], cwd=cwd, env=dict(os.environ, JAX_PLATFORMS="cpu"),
                        capture_output=True, text=True, timeout=timeout)


# One case per kind of failure (library range, unknown field, flag type, unknown config); every field's range is
# tested in process (tests/test_validation.py).
BAD = [("lsa_isotropic", "--config.sigma=-1.0", "config.sigma"),
       ("nearest_neighbor_shift", "--config.nonexistent=3", "config.nonexistent"),
       ("recall", "--config.kappa=abc", "config.kappa"), ("no_such_config", "--config.n=1", "--config")]


@pytest.mark.parametrize("config,override,field", BAD)
def test_bad_input_on_the_cli_is_one_line_exit_2_nothing_written(tmp_path, config, override, field):
  workdir = tmp_path / "run"
  proc = _cli(["icljax.apps.run", f"--config={config}", f"--workdir={workdir}", override], timeout=60)
  assert proc.returncode == 2, proc.stderr[-2000:]
  lines = proc.stderr.strip().splitlines()
  assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
  assert lines[0].startswith("error: ") and field in lines[0]
  assert not workdir.exists()


def test_quick_and_full_exclude_each_other_on_the_cli(tmp_path):
  proc = _cli(["icljax.apps.reproduce", "--quick", "--full", f"--workdir={tmp_path / 'job'}"], timeout=60)
  assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr[-2000:]
  assert "--quick and --full" in proc.stderr and not (tmp_path / "job").exists()


def test_help_lists_the_commands_own_flags_and_how_to_list_configs():
  for app, flag in (("run", "--describe"), ("sweep", "--sweep"), ("reproduce", "--full")):
    proc = _cli([f"icljax.apps.{app}", "--help"], timeout=60)
    assert proc.returncode == 0 and flag in proc.stdout and "--plugin" in proc.stdout, proc.stdout[-2000:]
    assert "--list" in proc.stdout and "--describe" in proc.stdout and "Try --helpfull" not in proc.stdout


def test_cli_from_another_directory_by_config_name_exits_1_when_a_check_fails(tmp_path):
  proc = _cli(["icljax.apps.run", f"--config=lsa_isotropic:{LSA_TINY}", f"--workdir={tmp_path / 'run'}", "--quiet"],
              cwd=tmp_path)
  assert proc.returncode == 1, proc.stderr[-2000:]    # a 20-step run does not reach eta*
  assert proc.stdout == "" and (tmp_path / "run" / "summary.json").exists()
