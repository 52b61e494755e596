"""Throughput of the reduced 1-NN system (Li et al.): the toolkit's step against a straightforward JAX step.

    python benchmarks/nn_reduced_steps.py [--steps 1000000] [--d 4] [--N 4] [--samples 4000]

Toolkit: closed-form gradient (``theory.loss_and_grads_blocks``) on inner products sorted and laid out as
(blocks, N, 1024). Reference, measured in the same run: ``jax.grad`` of the label-integrated loss on (B, N) rows
(argmax and gathers every step). Both run ``--steps`` GD steps inside one ``lax.scan`` (compile time excluded and
printed apart). The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time

import jax
import jax.numpy as jnp

from icljax.tasks import nearest_neighbor as task
from icljax.theory import nearest_neighbor as theory


def _runner(grad_fn, data, steps: int, scale: jax.Array):
  @jax.jit
  def run(xi, data):
    return jax.lax.fori_loop(0, steps, lambda i, x: x - scale * grad_fn(x, data), xi)
  return lambda xi: run(xi, data)


def _time(fn, xi):
  t0 = time.perf_counter()
  jax.block_until_ready(fn(xi))          # includes compilation
  first = time.perf_counter() - t0
  t0 = time.perf_counter()
  out = jax.block_until_ready(fn(xi))
  return time.perf_counter() - t0, first, out


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--steps", type=int, default=1_000_000)
  parser.add_argument("--reference-steps", type=int, default=20_000)
  parser.add_argument("--d", type=int, default=4)
  parser.add_argument("--N", type=int, default=4)
  parser.add_argument("--samples", type=int, default=4000)
  args = parser.parse_args()
  tau = task.sample_tau(jax.random.key(0), args.d, args.N, args.samples)
  scale = jnp.array([0.05 / args.d, 0.05])
  xi0 = jnp.array([0.0, 3.0])
  fast = _runner(lambda x, t: theory.loss_and_grads_blocks(x, t)[1], theory.prepare_tau(tau), args.steps, scale)
  ref = _runner(jax.grad(theory.loss), tau, args.reference_steps, scale)
  fast_s, fast_first, xi = _time(fast, xi0)
  ref_s, ref_first, _ = _time(ref, xi0)
  toolkit = args.steps / fast_s
  reference = args.reference_steps / ref_s
  print(f"device: {jax.devices()[0].device_kind}; d={args.d} N={args.N} prompts={args.samples}")
  print(f"toolkit   : {toolkit:12.0f} steps/s  ({args.steps} steps in {fast_s:.1f} s; compile+first run "
        f"{fast_first - fast_s:.1f} s); final xi = {[round(float(v), 3) for v in xi]}")
  print(f"reference : {reference:12.0f} steps/s  (jax.grad on (B, N) rows, {args.reference_steps} steps)")
  print(f"ratio     : {toolkit / reference:.2f}x")
  print(json.dumps({"result": "nn_reduced", "toolkit_per_s": toolkit, "jax_reference_per_s": reference,
                    "ratio_vs_jax_reference": toolkit / reference, "seconds_for_steps": fast_s,
                    "steps": args.steps, "d": args.d, "N": args.N, "prompts": args.samples}))


if __name__ == "__main__":
  main()
