"""Test configuration: CPU only, strict rank promotion to catch silent broadcasting in attention code, and one
persistent compilation cache shared by every process of the session (xdist workers and the subprocesses tests
start inherit the directory through the environment), so a program compiled by one test is reused by the others."""

import os
import shutil
import tempfile

os.environ.setdefault("JAX_PLATFORMS", "cpu")
if "ICLJAX_COMPILATION_CACHE" not in os.environ:   # set once, by the first pytest process of the session
  os.environ["ICLJAX_COMPILATION_CACHE"] = tempfile.mkdtemp(prefix="icljax-test-cache-")
  os.environ["ICLJAX_TEST_CACHE_OWNER"] = str(os.getpid())
  # JAX's own variables, for subprocesses that are not icljax entry points (benchmark scripts, fake-device helpers).
  os.environ["JAX_COMPILATION_CACHE_DIR"] = os.environ["ICLJAX_COMPILATION_CACHE"]
  os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"

import jax

from icljax import compilation_cache

jax.config.update("jax_numpy_rank_promotion", "raise")
compilation_cache.enable()


def pytest_sessionfinish(session, exitstatus):
  del session, exitstatus
  if os.environ.get("ICLJAX_TEST_CACHE_OWNER") == str(os.getpid()):
    shutil.rmtree(os.environ["ICLJAX_COMPILATION_CACHE"], ignore_errors=True)
