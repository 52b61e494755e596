"""Reliability: runs killed by SIGTERM, SIGINT or SIGKILL resume to bitwise-identical artefacts; corrupted
artefacts are reported and left untouched; a workdir in use is refused; NaN stops a run with its last good
checkpoint intact. The same config and seed give identical artefacts: each resumed run (its second process)
must equal the uninterrupted reference byte for byte."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from icljax import runs

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--config=lsa_isotropic", "--config.steps=600", "--config.batch_size=256",
        "--config.log_every=20", "--config.eval_prompts=2000", "--config.theory_prompts=1000"]
ARTEFACTS = ["config.json", "metrics.jsonl", "summary.json", "params.npz", "checkpoint.npz", "figures/loss.png",
             "figures/B.png"]


def _cmd(workdir, extra=()):
  return [sys.executable, "-m", "icljax.apps.run", *ARGS, f"--workdir={workdir}", *extra]


# Processes these tests kill must not share the session's compilation cache: JAX writes a cache entry with a plain
# write, so a process interrupted mid-write can leave a truncated entry for the next reader. They share this
# worker's private cache instead, which the uninterrupted reference run fills first: JAX writes an entry only on a
# miss, so a killed process (same config, same programs) only reads it.
_CACHE = tempfile.mkdtemp(prefix="icljax-reliability-cache-")


def _env():
  env = dict(os.environ, JAX_PLATFORMS="cpu", ICLJAX_COMPILATION_CACHE=_CACHE,
             ICLJAX_PERSIST_SECONDS="0")   # a checkpoint at every log, so a kill lands between two
  env.pop("JAX_COMPILATION_CACHE_DIR", None)
  return env


def _complete(workdir, extra=()):
  return subprocess.run(_cmd(workdir, extra), cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
  workdir = tmp_path_factory.mktemp("reference") / "run"
  proc = _complete(workdir)
  assert proc.returncode in (0, 1), proc.stderr[-2000:]
  yield workdir
  shutil.rmtree(_CACHE, ignore_errors=True)


def _same_artefacts(a, b):
  for name in ARTEFACTS:
    assert (a / name).read_bytes() == (b / name).read_bytes(), name


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_killed_run_resumes_to_identical_artefacts(reference, tmp_path, sig):
  workdir = tmp_path / "run"
  proc = subprocess.Popen(_cmd(workdir), cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)
  deadline = time.time() + 240
  metrics = workdir / "metrics.jsonl"
  while time.time() < deadline:  # kill midway: after a few checkpoints, before the end
    if metrics.exists() and len(metrics.read_text().splitlines()) >= 5:
      break
    time.sleep(0.05)
  proc.send_signal(sig)
  _, err = proc.communicate(timeout=120)
  expected = {signal.SIGTERM: 143, signal.SIGINT: 130, signal.SIGKILL: -9}[sig]
  assert proc.returncode == expected, err[-2000:]
  assert not (workdir / "summary.json").exists()
  done = len(runs.read_jsonl(metrics))
  assert 5 <= done < 30
  resumed = _complete(workdir)
  assert resumed.returncode in (0, 1), resumed.stderr[-2000:]
  assert "resuming from the checkpoint at step" in resumed.stdout
  _same_artefacts(reference, workdir)


def _partial_copy(reference, tmp_path):
  """A finished run turned back into an interrupted one (its summary removed)."""
  workdir = tmp_path / "run"
  workdir.mkdir()
  for path in reference.rglob("*"):
    if path.is_file() and path.name not in ("summary.json", "timing.json", ".lock"):
      target = workdir / path.relative_to(reference)
      target.parent.mkdir(parents=True, exist_ok=True)
      target.write_bytes(path.read_bytes())
  return workdir


@pytest.mark.parametrize("victim,damage", [
    ("checkpoint.npz", lambda b: b[: len(b) // 2]),
    ("checkpoint.npz", lambda b: b"not a zip file"),
    ("metrics.jsonl", lambda b: b + b'{"step": 40, "loss": \\n'),
])
def test_corrupted_artefacts_are_reported_and_left_untouched(reference, tmp_path, victim, damage):
  workdir = _partial_copy(reference, tmp_path)
  target = workdir / victim
  target.write_bytes(damage(target.read_bytes()))
  before = {p: p.read_bytes() for p in workdir.rglob("*") if p.is_file() and p.name != ".lock"}
  proc = _complete(workdir)
  assert proc.returncode == 2, proc.stderr[-2000:]
  lines = proc.stderr.strip().splitlines()
  assert len(lines) == 1 and victim in lines[0] and "left as it is" in lines[0], proc.stderr
  after = {p: p.read_bytes() for p in workdir.rglob("*") if p.is_file() and p.name != ".lock"}
  assert after == before


def test_a_workdir_in_use_is_refused(reference, tmp_path):
  workdir = _partial_copy(reference, tmp_path)
  before = {p: p.read_bytes() for p in workdir.rglob("*") if p.is_file()}
  with runs.WorkdirLock(workdir):
    proc = _complete(workdir)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "in use by pid" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
  after = {p: p.read_bytes() for p in workdir.rglob("*") if p.is_file() and p.name != ".lock"}
  assert after == {p: b for p, b in before.items() if p.name != ".lock"}


def test_nan_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path):
  workdir = tmp_path / "run"
  proc = _complete(workdir, ["--config.optimizer=sgd", "--config.schedule=constant", "--config.learning_rate=3.0",
                             "--config.init_scale=1.0"])
  assert proc.returncode == 3, (proc.returncode, proc.stderr[-2000:])
  line = proc.stderr.strip().splitlines()[-1]
  assert "non-finite" in line and "at step" in line and "last good checkpoint" in line
  assert not (workdir / "summary.json").exists()
  if (workdir / "checkpoint.npz").exists():
    arrays = runs.load_npz(workdir / "checkpoint.npz")
    assert all(np.all(np.isfinite(a)) for a in arrays.values())
    step = int(line.split("(step ")[1].split(")")[0])
    assert runs.read_jsonl(workdir / "metrics.jsonl")[-1]["step"] == step
