"""Shared measurement helpers of the benchmark scripts (not a test; nothing here asserts a speed).

* :func:`rate`: calls a function repeatedly for at least ``seconds`` after a warm-up call and returns calls/s;
* :func:`jax_compile`: lowers and compiles a jitted function, returning the executable, the compile time and
  XLA's own buffer sizes (arguments + outputs + temporaries) as the peak memory of one call;
* :func:`peak_rss`: the growth of the process's resident-set high-water mark while a function runs (Linux:
  ``/proc/self/clear_refs`` resets the mark), used for the PyTorch reference, which has no XLA accounting;
* :func:`emit`: prints a table and, as the last line, one JSON object.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from typing import Any

import jax


def block(x: Any) -> Any:
  """Waits for JAX arrays (no-op for anything else)."""
  return jax.block_until_ready(x)


def rate(fn: Callable[[], Any], seconds: float = 2.0, min_calls: int = 3) -> float:
  """Calls per second of ``fn`` (its result is waited for), after one untimed warm-up call."""
  block(fn())
  calls, t0 = 0, time.perf_counter()
  while True:
    block(fn())
    calls += 1
    elapsed = time.perf_counter() - t0
    if calls >= min_calls and elapsed >= seconds:
      return calls / elapsed


def jax_compile(jitted: Callable, *args: Any) -> tuple[Callable, float, float]:
  """``(executable, compile seconds, peak MiB)`` of a ``jax.jit`` function at ``args``."""
  t0 = time.perf_counter()
  compiled = jitted.lower(*args).compile()
  seconds = time.perf_counter() - t0
  mem = compiled.memory_analysis()
  mib = float("nan")
  if mem is not None:
    mib = (mem.argument_size_in_bytes + mem.output_size_in_bytes + mem.temp_size_in_bytes) / 2**20
  return compiled, seconds, mib


def plan_of(config: Any) -> Any:
  """The experiment plan of a config (what ``icljax-run`` trains)."""
  from icljax.experiment import configs  # pylint: disable=import-outside-toplevel
  experiment = configs.experiment_of(config)
  return experiment.plan(experiment.setup(config))


def pipeline_steps(plan: Any, chunk: int, seconds: float) -> tuple[float, float, float]:
  """``(steps/s, compile s, peak MiB)`` of an experiment plan's own training chunk (``train.make_chunk``,
  ``chunk`` optimiser steps per call inside ``lax.scan``), the step ``icljax-run`` trains with."""
  from icljax import train  # pylint: disable=import-outside-toplevel
  fn = jax.jit(train.make_chunk(plan.objective, plan.optimizer, chunk))
  state = [train.init_state(plan.params, plan.optimizer)]
  compiled, comp, mib = jax_compile(fn, state[0], plan.data_key, plan.hparams)

  def call():
    state[0], losses = compiled(state[0], plan.data_key, plan.hparams)
    return losses

  return rate(call, seconds) * chunk, comp, mib


def _status_kib(field: str) -> int | None:
  try:
    with open("/proc/self/status", encoding="ascii") as f:
      for line in f:
        if line.startswith(field + ":"):
          return int(line.split()[1])
  except OSError:
    return None
  return None


def peak_rss(fn: Callable[[], Any]) -> tuple[Any, float]:
  """``(fn(), MiB)``: how far the resident set's high-water mark rose above its level at the start."""
  try:
    with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
      f.write("5")
  except OSError:
    return fn(), float("nan")
  start = _status_kib("VmRSS")
  out = block(fn())
  peak = _status_kib("VmHWM")
  return out, (peak - start) / 1024 if peak is not None and start is not None else float("nan")


def machine() -> str:
  """One line naming the machine and the JAX device the figures were taken on."""
  import os  # pylint: disable=import-outside-toplevel
  dev = jax.devices()[0]
  return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; JAX {jax.__version__} on "
          f"{dev.platform} ({dev.device_kind}); PRNG {jax.config.jax_default_prng_impl}")


def emit(title: str, rows: list[tuple[str, float, str, float, float]], summary: dict[str, Any]) -> None:
  """Prints ``rows`` of (name, throughput, unit, compile s, peak MiB) and the summary JSON as the last line."""
  print(f"# {title}\n# {machine()}")
  print(f"{'implementation':58s} {'throughput':>14s}  {'unit':12s} {'compile s':>9s} {'peak MiB':>9s}")
  for name, value, unit, comp, mib in rows:
    print(f"{name:58s} {value:14,.{0 if abs(value) >= 100 else 2}f}  {unit:12s} {comp:9.2f} {mib:9.1f}")
  summary = {"machine": machine(), **summary}
  print(json.dumps(summary, sort_keys=False))
