"""Sweep throughput: 64 seeds in one stacked program against 64 sequential runs, and scaling over fake devices.

    python benchmarks/sweep_scaling.py [--seeds 64] [--steps 200] [--batch 512] [--devices 1,2,4,8]

Config: result 1, lsa_isotropic (d=5, n=20) with small batches. Both sides include compilation (the sequential
side compiles once per run, as 64 separate jobs would). Device scaling runs the stacked program in a subprocess
per device count (fake CPU devices share the same cores, so on a CPU this measures overhead, not speed-up).
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time


def _plans(seeds: int, steps: int, batch: int):
  from benchmarks import _harness as h  # pylint: disable=import-outside-toplevel
  from icljax.experiment import configs  # pylint: disable=import-outside-toplevel
  out = []
  for seed in range(seeds):
    c = configs.load(f"lsa_isotropic:seed={seed},steps={steps},batch_size={batch},log_every={steps},"
                     "theory_prompts=1000")
    out.append(h.plan_of(c))
  return out


def _train(plans, steps: int, mesh) -> list:
  from icljax import sweep, train  # pylint: disable=import-outside-toplevel
  states = [train.init_state(p.params, p.optimizer) for p in plans]
  return sweep.train_stack(plans[0].objective, plans[0].optimizer, states, [p.data_key for p in plans],
                           [p.hparams for p in plans], steps=steps, log_every=steps, mesh=mesh)


def stacked(seeds: int, steps: int, batch: int, devices: int | None = None) -> float:
  import jax  # pylint: disable=import-outside-toplevel

  from icljax import sweep  # pylint: disable=import-outside-toplevel
  plans = _plans(seeds, steps, batch)
  t0 = time.perf_counter()
  states = _train(plans, steps, sweep.make_mesh(devices))
  jax.block_until_ready(states[-1].params)
  return time.perf_counter() - t0


def sequential(seeds: int, steps: int, batch: int) -> float:
  import jax  # pylint: disable=import-outside-toplevel

  from icljax import sweep  # pylint: disable=import-outside-toplevel
  plans = _plans(seeds, steps, batch)
  t0 = time.perf_counter()
  for p in plans:   # one program per run, as separate jobs would compile
    state = _train([p], steps, sweep.make_mesh(1))[0]
    jax.block_until_ready(state.params)
  return time.perf_counter() - t0


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--seeds", type=int, default=64)
  parser.add_argument("--steps", type=int, default=200)
  parser.add_argument("--batch", type=int, default=512)
  parser.add_argument("--devices", default="1,2,4,8")
  parser.add_argument("--child", type=int, default=0, help=argparse.SUPPRESS)
  args = parser.parse_args()
  prompts = args.seeds * args.steps * args.batch
  if args.child:
    print(json.dumps({"devices": args.child, "seconds": stacked(args.seeds, args.steps, args.batch, args.child)}))
    return
  one_single = sequential(1, args.steps, args.batch)
  stack_s = stacked(args.seeds, args.steps, args.batch)
  seq_s = sequential(args.seeds, args.steps, args.batch)
  print(f"single run            : {one_single:7.2f} s  ({args.steps * args.batch / one_single:,.0f} prompts/s)")
  print(f"{args.seeds} seeds stacked     : {stack_s:7.2f} s  ({prompts / stack_s:,.0f} prompts/s)")
  print(f"{args.seeds} seeds sequential  : {seq_s:7.2f} s  ({prompts / seq_s:,.0f} prompts/s)")
  scaling = {}
  for n in (int(v) for v in args.devices.split(",")):
    env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={n}", JAX_PLATFORMS="cpu")
    out = subprocess.run([sys.executable, __file__, f"--seeds={args.seeds}", f"--steps={args.steps}",
                          f"--batch={args.batch}", f"--child={n}"], env=env, capture_output=True, text=True,
                         check=True)
    scaling[n] = json.loads(out.stdout.strip().splitlines()[-1])["seconds"]
    print(f"stacked on {n} fake device(s): {scaling[n]:7.2f} s")
  print(json.dumps({"result": "sweep_lsa", "seeds": args.seeds, "stacked_seconds": stack_s,
                    "sequential_seconds": seq_s, "wall_ratio_sequential_over_stacked": seq_s / stack_s,
                    "per_prompt_ratio_stacked_vs_single": (prompts / stack_s) / (args.steps * args.batch / one_single),
                    "device_seconds": scaling}))


if __name__ == "__main__":
  sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
  main()
