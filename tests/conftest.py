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
import pytest

from icljax import compilation_cache

jax.config.update("jax_numpy_rank_promotion", "raise")
compilation_cache.enable()


def pytest_sessionfinish(session, exitstatus):
  del session, exitstatus
  if os.environ.get("ICLJAX_TEST_CACHE_OWNER") == str(os.getpid()):
    shutil.rmtree(os.environ["ICLJAX_COMPILATION_CACHE"], ignore_errors=True)


def _shared_fixtures(item) -> set[str]:
  """The instances of this project's module-, package- or session-scoped fixtures that ``item`` uses (a
  parametrised fixture's instance includes its parameter)."""
  info = getattr(item, "_fixtureinfo", None)
  if info is None:
    return set()
  keys = set()
  for name in item.fixturenames:
    defs = info.name2fixturedefs.get(name)
    if not defs or defs[-1].scope not in ("module", "package", "session") or not defs[-1].baseid.startswith("tests"):
      continue
    param = getattr(getattr(item, "callspec", None), "params", {}).get(name, "")
    keys.add(".".join(filter(None, (defs[-1].baseid.rsplit("/", 1)[-1].removesuffix(".py"), name, str(param)))))
  return keys


# Whole modules of end-to-end runs (subprocesses, trained gates, the mutant catalogue, benchmark scripts).
END_TO_END = {"test_science_gate", "test_multiprocess", "test_reliability", "test_benchmarks", "test_sweep",
              "test_experiments", "test_readme", "test_plugin"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
  """Tests that share an expensive fixture (a module-scoped run, a two-process sweep) run in one xdist worker, which
  builds it once; otherwise ``--dist loadgroup`` may hand them to both workers and each builds it (the two-process
  sweep was built twice, 30 s each). Tests linked through any shared fixture instance form one group (union-find);
  an explicit ``xdist_group`` mark wins. Runs before pytest-xdist's own hook, which turns the marks into groups.

  The fast tier (``pytest -m "not slow"``) leaves out what trains: tests marked ``slow``, the end-to-end modules and
  every test that reads a shared (module- or session-scoped) run."""
  del config
  for item in items:
    if item.module.__name__.rsplit(".", 1)[-1] in END_TO_END or _shared_fixtures(item):
      item.add_marker(pytest.mark.slow)
  parent: dict[str, str] = {}

  def find(k):
    while parent.setdefault(k, k) != k:
      k = parent[k]
    return k

  keyed = [(item, sorted(_shared_fixtures(item))) for item in items if not item.get_closest_marker("xdist_group")]
  for _, keys in keyed:
    for k in keys[1:]:
      parent[find(k)] = find(keys[0])
  for item, keys in keyed:
    if keys:
      item.add_marker(pytest.mark.xdist_group(find(keys[0])))


def pytest_collection_finish(session):
  """pytest-xdist (3.8) groups tests by appending ``@group`` to each node id; pytest 9 keeps node ids elsewhere, so
  there the groups were silently ignored (every shared fixture built in both workers). Refuse to run that way."""
  if not getattr(session.config.option, "loadgroup", False):
    return
  lost = [i.nodeid for i in session.items if i.get_closest_marker("xdist_group") and "@" not in i.nodeid]
  if lost:
    raise pytest.UsageError(f"pytest-xdist's --dist loadgroup is not honoured by pytest {pytest.__version__} "
                            f"({len(lost)} grouped tests lost their group, e.g. {lost[0]}): install the test extra's "
                            "pytest (pyproject.toml)")
