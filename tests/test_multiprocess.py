"""Multi-process sweeps, tested on one machine: two processes on the loopback address (``jax.distributed`` on CPU,
gloo collectives) run one sweep across both, each process with one CPU device. Every point's artefacts are
bitwise identical to a one-process run on two (fake) CPU devices, the same layout of runs per device, and only
process 0 writes: process 1 is given a workdir of its own, which must stay empty. When process 1 is killed in the
middle of the stack, process 0 stops at its next logged step with one line and exit status 4 (it does not wait
for JAX's shutdown barrier), nothing is half-written, and the same command on both processes resumes to the
artefacts of an uninterrupted run."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from icljax import runs

ROOT = Path(__file__).resolve().parents[1]
SWEEP = ["--config=recall", "--config.steps=300", "--config.log_every=10", "--config.H=16", "--config.eval_size=64",
         "--config.test_size=64", "--config.batch_size=32", "--sweep=seed=0,1", "--nocompilation_cache"]
COMPARED = (runs.SUMMARY, runs.PARAMS, runs.METRICS, runs.CHECKPOINT, runs.CONFIG)


def _env(devices: int) -> dict[str, str]:
  env = dict(os.environ, JAX_PLATFORMS="cpu", XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}",
             ICLJAX_PERSIST_SECONDS="0")
  env.pop("JAX_COMPILATION_CACHE_DIR", None)
  return env


def _free_port() -> int:
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def _sweep(workdir: Path, *extra: str) -> list[str]:
  return [sys.executable, "-m", "icljax.apps.sweep", f"--workdir={workdir}", *SWEEP, *extra]


@pytest.fixture(scope="module")
def two_process_sweep(tmp_path_factory):
  root = tmp_path_factory.mktemp("multiprocess")
  port = _free_port()
  multi = lambda i: ["--multihost", f"--coordinator_address=127.0.0.1:{port}", "--num_processes=2",
                     f"--process_id={i}"]
  procs = [subprocess.Popen(_sweep(root / f"process{i}", *multi(i)), cwd=ROOT, env=_env(1), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True) for i in range(2)]
  outs = [p.communicate(timeout=300) for p in procs]
  for p, (out, err) in zip(procs, outs):
    assert p.returncode == 0, (out[-2000:], err[-3000:])
  single = subprocess.run(_sweep(root / "single"), cwd=ROOT, env=_env(2), capture_output=True, text=True,
                          timeout=300)
  assert single.returncode == 0, single.stderr[-3000:]
  return root, outs


def test_two_processes_train_one_sweep_with_the_artefacts_of_one_process(two_process_sweep):
  root, outs = two_process_sweep
  assert "on 2 device(s)" in outs[0][0]   # one device per process, one mesh over both
  multi, single = root / "process0", root / "single"
  points = sorted(p.parent.name for p in single.glob(f"*/{runs.SUMMARY}"))
  assert len(points) == 2 and sorted(p.parent.name for p in multi.glob(f"*/{runs.SUMMARY}")) == points
  for point in points:
    for name in COMPARED:
      assert (multi / point / name).read_bytes() == (single / point / name).read_bytes(), (point, name)
  assert (multi / "runs.jsonl").read_bytes() == (single / "runs.jsonl").read_bytes()


def test_only_process_0_writes(two_process_sweep):
  root, outs = two_process_sweep
  written = [str(p.relative_to(root)) for p in (root / "process1").rglob("*")]
  assert written == []
  # No progress lines from process 1 (gloo's own connection line is printed by the C++ runtime).
  assert [line for line in outs[1][0].splitlines() if not line.startswith("[Gloo]")] == []
  assert "done in" in outs[0][0]


def test_a_killed_process_stops_the_other_with_one_line_and_the_rerun_resumes_identically(two_process_sweep):
  root, _ = two_process_sweep
  shared = root / "killed"   # both processes see one workdir, as on a cluster's shared file system
  port = _free_port()
  multi = lambda i: _sweep(shared, "--multihost", f"--coordinator_address=127.0.0.1:{port}", "--num_processes=2",
                           f"--process_id={i}")
  procs = [subprocess.Popen(multi(i), cwd=ROOT, env=_env(1), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True) for i in range(2)]
  deadline = time.monotonic() + 120
  while not any(_steps_persisted(p) >= 30 for p in shared.glob(f"*/{runs.METRICS}")):
    assert time.monotonic() < deadline and procs[0].poll() is None, "no checkpoint appeared"
    time.sleep(0.05)
  procs[1].kill()
  t_kill = time.monotonic()
  out, err = procs[0].communicate(timeout=60)
  procs[1].communicate()
  assert procs[0].returncode == 4, err[-2000:]
  assert time.monotonic() - t_kill < 30
  lines = [line for line in err.splitlines() if line.strip()]
  assert len(lines) == 1 and lines[0].startswith("error: [recall stack of 2] process 0 of 2 lost another process")
  assert "last good checkpoints kept" in lines[0] and "run the same command again on every process" in lines[0]
  assert not list(shared.glob(f"*/{runs.SUMMARY}")) and not list(shared.rglob("*.tmp"))
  # The same command on both processes resumes from the checkpoints to the uninterrupted run's artefacts.
  port = _free_port()
  procs = [subprocess.Popen(_sweep(shared, "--multihost", f"--coordinator_address=127.0.0.1:{port}",
                                   "--num_processes=2", f"--process_id={i}"), cwd=ROOT, env=_env(1),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
  outs = [p.communicate(timeout=300) for p in procs]
  assert [p.returncode for p in procs] == [0, 0], outs[0][1][-2000:]
  assert "resuming from the checkpoint" in outs[0][0]
  single = root / "single"
  for point in sorted(p.parent.name for p in single.glob(f"*/{runs.SUMMARY}")):
    for name in COMPARED:
      assert (shared / point / name).read_bytes() == (single / point / name).read_bytes(), (point, name)


def _steps_persisted(metrics: Path) -> int:
  try:
    lines = metrics.read_text().splitlines()
    return int(json.loads(lines[-1])["step"]) if lines else 0
  except (OSError, ValueError, KeyError):
    return 0
