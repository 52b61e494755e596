"""Independent runs in several processes: the main job's lever on a CPU with several cores.

A small model's training step is a chain of small XLA operations that one core runs faster than several can share,
so on a 2-core CPU two processes, each training its own runs, finish the job sooner than one process with two
threads. The parent hands out whole groups of points (a stack is never split) to ``jobs`` spawned workers, largest
first; each worker runs them through the one driver (:func:`icljax.experiment.driver.run_points`) with the same
compilation cache, plug-ins and flags as the parent, and returns the summaries. Results do not depend on the
process that computed them: every program is compiled for the same CPU.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
from collections.abc import Callable, Sequence
from typing import Any

from icljax import compilation_cache
from icljax.experiment import driver, fields, registry

# One thread per worker: XLA's CPU thread pool would otherwise put every worker's operations on every core.
WORKER_XLA_FLAGS = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def default_jobs(platform: str) -> int:
  """Processes for the main job: the CPU's cores (at most 4) on a CPU, 1 on an accelerator (one device, whose
  memory one process preallocates).

  Args:
    platform: ``jax.default_backend()``.

  Returns:
    The number of worker processes.

  Reference: docs page "concepts/runs", section "The main job".
  """
  return max(1, min(os.cpu_count() or 1, 4)) if platform == "cpu" else 1


def _init(plugins: Sequence[str], cache: str | None, quiet: bool) -> None:
  os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + WORKER_XLA_FLAGS).strip()
  for spec in plugins:
    registry.load_plugin(spec)
  if cache:
    compilation_cache.enable(cache)
  _QUIET[0] = quiet


_QUIET = [False]


def _run(items: Sequence[tuple[str, dict[str, Any], str]]) -> list[dict[str, Any]]:
  points = [driver.prepare(fields.from_dict(registry.get(name).config, cfg), workdir) for name, cfg, workdir in items]
  printer = (lambda s: None) if _QUIET[0] else (lambda s: print(s, flush=True))
  return driver.run_points(points, printer=printer)


def run_points(points: Sequence[driver.Point], jobs: int, *, printer: Callable[[str], None] = print,
               on_done: Callable[[int, dict[str, Any]], object] | None = None, quiet: bool = False,
               cache: str | None = None) -> list[dict[str, Any]]:
  """Runs validated points in ``jobs`` processes, whole groups at a time; like ``driver.run_points``.

  Args:
    points: from :func:`icljax.experiment.driver.prepare`.
    jobs: worker processes (1: in this process).
    printer: where this process's lines go (workers print their own progress unless ``quiet``).
    on_done: called with ``(index, summary)`` as each point finishes.
    quiet: silence the workers' progress lines.
    cache: the persistent compilation cache directory the workers use (None: off).

  Returns:
    The summary of every point, in order.

  Reference: docs page "concepts/runs", section "The main job".
  """
  finished = [i for i, p in enumerate(points) if p.status == "finished"]
  groups = driver.groups(points)
  if jobs <= 1 or len(groups) <= 1:
    return driver.run_points(points, printer=printer, on_done=on_done)
  out: list[dict[str, Any] | None] = [None] * len(points)
  for i in finished:
    done = driver.run_points([points[i]], printer=printer)[0]
    out[i] = done
    if on_done is not None:
      on_done(i, done)
  groups.sort(key=lambda idx: -sum(points[i].config.steps for i in idx))   # long groups first
  context = multiprocessing.get_context("spawn")
  with concurrent.futures.ProcessPoolExecutor(min(jobs, len(groups)), mp_context=context, initializer=_init,
                                              initargs=(registry.plugins(), cache, quiet)) as pool:
    futures = {pool.submit(_run, [(points[i].experiment.name, points[i].config.to_dict(), str(points[i].workdir))
                                  for i in idx]): idx for idx in groups}
    try:
      for future in concurrent.futures.as_completed(futures):
        for i, summary in zip(futures[future], future.result()):
          out[i] = summary
          if on_done is not None:
            on_done(i, summary)
    except BaseException:
      for f in futures:
        f.cancel()
      raise
  return out  # type: ignore[return-value]
