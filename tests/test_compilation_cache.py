"""The persistent compilation cache: where it lives, how it is turned off, and that a second process reads back
what the first wrote."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from icljax import compilation_cache

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = """
import sys, jax, jax.numpy as jnp
from icljax import compilation_cache
print(compilation_cache.enable(sys.argv[1]))
print(float(jax.jit(lambda x: jnp.sin(x) * 3.0)(jnp.arange(4.0)).sum()))
"""


def test_the_directory_follows_the_environment(monkeypatch, tmp_path):
  monkeypatch.setenv(compilation_cache.ENV, str(tmp_path / "mine"))
  assert compilation_cache.default_dir() == tmp_path / "mine"
  for off in ("0", "off", "False", "no"):
    monkeypatch.setenv(compilation_cache.ENV, off)
    assert compilation_cache.default_dir() is None
  monkeypatch.setenv(compilation_cache.ENV, "1")
  monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
  assert compilation_cache.default_dir() == tmp_path / "icljax" / "jax"



@pytest.mark.slow
def test_a_second_process_reads_the_cache_back(tmp_path):
  env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_COMPILATION_CACHE")}
  run = lambda: subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "c")], cwd=ROOT, capture_output=True,
                               text=True, timeout=120, env=dict(env, JAX_PLATFORMS="cpu"))
  first = run()
  assert first.returncode == 0, first.stderr[-2000:]
  assert first.stdout.split()[0] == str(tmp_path / "c")
  entries = sorted(p.name for p in (tmp_path / "c").iterdir())
  assert entries
  second = run()
  assert second.returncode == 0 and second.stdout == first.stdout and "Error reading" not in second.stderr
  assert sorted(p.name for p in (tmp_path / "c").iterdir()) == entries   # read back, nothing compiled anew
