"""Result 2 (softmax attention learns 1-NN): throughput of the gradient step on the two-parameter family.

    python -m benchmarks.nn_step [--steps 1000000] [--d 4] [--N 4] [--prompts 4000] [--seconds 2]

Measured in one process (prompts/s = steps/s x prompts; compile time printed apart):

* **toolkit**: the reduced system the ``nearest_neighbor_*`` runs train: the label-integrated loss of
  ``(xi1, xi2)`` on inner products tau, closed-form gradient on rows sorted and laid out as (blocks, N, 1024)
  (``theory.loss_and_grads_blocks``), ``--steps`` GD steps inside one compiled loop. Its wall time for 10^6 steps
  is printed (the issue asks for under a minute on the 2-core CPU);
* **JAX reference**: ``jax.grad`` of the same loss on (B, N) rows (argmax and gathers every step), compiled loop;
* **PyTorch eager**: the JAX reference's step in torch, one Python iteration per step;
* **full embedding (tau-reduced vs full)**: ``jax.grad`` with respect to ``(xi1, xi2)`` of the loss of the
  softmax-attention model on the embedded prompts (``W = diag(xi1 I_d, 0, -xi2)``, (d+2)-dimensional tokens,
  sampled labels), on the same number of prompts;
* **symmetrised full-W estimator** (estimator (a) of BUILD_NOTES): one full-W gradient step on a sample closed
  under the symmetry group (``d 2^m 2`` images per prompt), cost per distinct prompt for d = 2, 4, 8, 16.

The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp

from benchmarks import _harness as h
from icljax import estimators
from icljax.models import nearest_neighbor as model
from icljax.tasks import nearest_neighbor as task
from icljax.theory import nearest_neighbor as theory

ETA = 0.05


def _loss_w(w, batch):
  """The model's loss on embedded prompts, as the pipeline's full-W objective: half the squared error."""
  return 0.5 * estimators.squared_error(lambda p, b: model.apply({"W": p}, b), "target")(w, batch)


def _loop(grad_fn, steps: int, scale: jax.Array):
  @jax.jit
  def run(xi, data):
    return jax.lax.fori_loop(0, steps, lambda i, x: x - scale * grad_fn(x, data), xi)
  return run


def _steps_per_s(grad_fn, data, steps: int, scale: jax.Array, xi0: jax.Array) -> tuple[float, float, float, float]:
  """(steps/s, compile s, peak MiB, wall seconds of ``steps`` steps) of a compiled GD loop."""
  compiled, comp, mib = h.jax_compile(_loop(grad_fn, steps, scale), xi0, data)
  t0 = time.perf_counter()
  h.block(compiled(xi0, data))
  wall = time.perf_counter() - t0
  return steps / wall, comp, mib, wall


def torch_reference(tau, d: int, seconds: float) -> tuple[float, float]:
  """Steps/s and peak MiB of the reference step in PyTorch eager mode."""
  import numpy as np  # pylint: disable=import-outside-toplevel
  import torch  # pylint: disable=import-outside-toplevel
  t = torch.from_numpy(np.array(tau))
  i_star = torch.argmax(t, -1, keepdim=True)
  xi = torch.tensor([0.0, 3.0], requires_grad=True)
  scale = torch.tensor([ETA / d, ETA])

  def step():
    s = torch.cat([xi[0] * t, (xi[0] - xi[1]).expand(t.shape[0], 1)], -1)
    q = torch.softmax(s, -1)[:, :-1]
    q_star = torch.gather(q, 1, i_star)[:, 0]
    loss = 0.5 * torch.mean(torch.sum(q * q, -1) - 2 * q_star + 1)
    (g,) = torch.autograd.grad(loss, xi)
    with torch.no_grad():
      xi.sub_(scale * g)
    return xi

  _, mib = h.peak_rss(lambda: [step() for _ in range(10)])
  return h.rate(step, seconds), mib


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--steps", type=int, default=1_000_000)
  parser.add_argument("--reference-steps", type=int, default=20_000)
  parser.add_argument("--d", type=int, default=4)
  parser.add_argument("--N", type=int, default=4)
  parser.add_argument("--prompts", type=int, default=4000)
  parser.add_argument("--seconds", type=float, default=2.0)
  parser.add_argument("--sym-dims", default="2,4,8,16", help="d values of the symmetrised full-W step")
  args = parser.parse_args()
  d, n, p = args.d, args.N, args.prompts
  scale = jnp.array([ETA / d, ETA])
  xi0 = jnp.array([0.0, 3.0])
  tau = task.sample_tau(jax.random.key(0), d, n, p)

  tk = _steps_per_s(lambda x, t: theory.loss_and_grads_blocks(x, t)[1], theory.prepare_tau(tau), args.steps, scale,
                    xi0)
  ref = _steps_per_s(jax.grad(theory.loss), tau, args.reference_steps, scale, xi0)
  try:
    th = torch_reference(tau, d, args.seconds)
  except ImportError:
    th = (float("nan"), float("nan"))

  prompts = task.sample(jax.random.key(1), task.make_spec(d, n), p)
  full_loss = lambda xi, b: _loss_w(model.to_W(xi[0], xi[1], d), b)
  full = _steps_per_s(jax.grad(full_loss), prompts, args.reference_steps, scale, xi0)

  sym = {}
  for dd in (int(v) for v in args.sym_dims.split(",")):
    distinct = 64
    images = task.symmetrize(task.sample(jax.random.key(2), task.make_spec(dd, 16), distinct))
    w0 = model.init(None, model.NNModelSpec(dd, 3.0))["W"]
    step = jax.jit(lambda w, b: w - ETA * jax.grad(_loss_w)(w, b))
    compiled, comp, mib = h.jax_compile(step, w0, images)
    rate = h.rate(lambda: compiled(w0, images), args.seconds / 2)
    per = images["x"].shape[0] // distinct
    sym[dd] = (1e6 / (rate * distinct), per, comp, mib)

  rows = [(f"toolkit: reduced closed-form step ({args.steps} steps)", tk[0] * p, "prompts/s", tk[1], tk[2]),
          ("straightforward JAX: jax.grad on (B, N) rows", ref[0] * p, "prompts/s", ref[1], ref[2]),
          ("PyTorch eager: the same step", th[0] * p, "prompts/s", 0.0, th[1]),
          ("full embedding: jax.grad through W(xi) on tokens", full[0] * p, "prompts/s", full[1], full[2])]
  rows += [(f"symmetrised full-W step, d={dd}, N=16, {v[1]} images/prompt", v[0], "us/prompt",
            v[2], v[3]) for dd, v in sym.items()]
  h.emit(f"result 2: reduced 1-NN GD step (d={d}, N={n}, {p} prompts)", rows, {
      "result": "nearest_neighbor", "toolkit_per_s": tk[0] * p, "torch_per_s": th[0] * p,
      "jax_reference_per_s": ref[0] * p,
      "ratio_vs_torch": tk[0] / th[0], "ratio_vs_jax_reference": tk[0] / ref[0], "unit": "prompts/s",
      "toolkit_steps_per_s": tk[0], "seconds_for_1e6_steps": 1e6 / tk[0], "wall_s_measured_steps": tk[3],
      "reduced_over_full_embedding": tk[0] / full[0],
      "symmetrised_us_per_prompt": {str(k): v[0] for k, v in sym.items()},
      "symmetrised_images_per_prompt": {str(k): v[1] for k, v in sym.items()},
      "d": d, "N": n, "prompts": p})


if __name__ == "__main__":
  main()
