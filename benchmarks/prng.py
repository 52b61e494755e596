"""PRNG choice by measurement: each result's training step (and result 2's sampler) under every JAX PRNG.

    python -m benchmarks.prng [--seconds 2]

Variants: ``threefry2x32`` with the toolkit's samplers drawing non-partitionable bits (the toolkit's choice,
``icljax.prng``), ``threefry2x32`` partitionable (JAX's default layout), ``rbg`` and ``unsafe_rbg``. Steps are
those of ``benchmarks/lsa_step.py`` (d=5, n=20 and n=200, batch 4096; Wishart statistics) and
``benchmarks/recall_step.py`` (Reparam-Linear-FA, batch 512, H=256); result 2 trains on a fixed sample, so its
row is the inner-product sampler (``tasks.nearest_neighbor.sample_tau``, Beta variates, 4000 x 4). The last line
is one JSON object with every throughput and the fastest variant per row.
"""

from __future__ import annotations

import argparse
import json

import jax

from benchmarks import _harness as h
from benchmarks import lsa_step, recall_step
from icljax import prng
from icljax.tasks import nearest_neighbor as nn_task

VARIANTS = (("threefry2x32", False), ("threefry2x32", True), ("rbg", None), ("unsafe_rbg", None))


def _name(impl: str, partitionable: bool | None) -> str:
  if partitionable is None:
    return impl
  return f"{impl} ({'partitionable' if partitionable else 'non-partitionable: toolkit'})"


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--seconds", type=float, default=2.0)
  args = parser.parse_args()
  s = args.seconds
  table: dict[str, dict[str, float]] = {}
  for impl, part in VARIANTS:
    jax.config.update("jax_default_prng_impl", impl)
    prng.PARTITIONABLE = bool(part)
    name = _name(impl, part)
    tau = jax.jit(lambda k: nn_task.sample_tau(k, 4, 4, 4000))
    key = jax.random.key(0)
    table[name] = {
        "lsa n=20 (prompts/s)": lsa_step.toolkit(lsa_step._config(5, 20, 4096), s)[0],
        "lsa n=200 (prompts/s)": lsa_step.toolkit(lsa_step._config(5, 200, 4096), s)[0],
        "lsa n=20 direct sampler (prompts/s)": lsa_step.toolkit(lsa_step._config(5, 20, 4096, sampler="direct"),
                                                                s)[0],
        "nn sample_tau (prompts/s)": h.rate(lambda: tau(key), s) * 4000,
        "recall (sentences/s)": recall_step.toolkit(recall_step._config("reparam", 512, 256), s)[0],
    }
  jax.config.update("jax_default_prng_impl", "threefry2x32")
  prng.PARTITIONABLE = False
  rows = list(next(iter(table.values())))
  print(f"# PRNG variants per training step\n# {h.machine()}")
  print(f"{'step':38s}" + "".join(f"{n[:24]:>26s}" for n in table))
  for r in rows:
    print(f"{r:38s}" + "".join(f"{table[n][r]:26,.0f}" for n in table))
  best = {r: max(table, key=lambda n, r=r: table[n][r]) for r in rows}
  print(json.dumps({"result": "prng", "machine": h.machine(), "throughput": table, "fastest": best}))


if __name__ == "__main__":
  main()
