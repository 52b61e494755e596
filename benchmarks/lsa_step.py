"""Result 1 (LSA on in-context regression): throughput of one Adam training step on fresh prompts.

    python benchmarks/lsa_step.py [--seconds 2] [--batch 4096] [--d 5]

Measured in one process, in prompts per second (batch x steps / wall time, compile time printed apart):

* **toolkit**: the step ``icljax-run`` trains with: ``train.make_chunk`` (optax Adam inside ``lax.scan``, 50
  steps per call) on the sufficient statistics of fresh prompts (``tasks.regression_statistics.sample_statistics``, the
  Bartlett/Wishart sampler where ``sampler='auto'`` picks it; ``models.lsa.apply on statistics``);
* **JAX reference**: a straightforward jitted step, one call per step: draw the prompt tokens, run the attention
  form, ``jax.value_and_grad``, ``optax.adam``;
* **PyTorch eager**: the same step as the JAX reference in torch (``pip install -e .[bench]``), with matched
  arithmetic (only the query's output) and as a standard attention layer (all n+1 outputs); ``ratio_vs_torch``
  in the JSON is against the faster of the two.

Further sections: the fresh-sample step at n = 200 (``--big-n``; toolkit vs JAX reference and torch), the
fixed-sample step (one sample of statistics, full-batch steps) at n = 20 vs n = 400, and the direct vs Wishart
sampler over n (``--scan``; where 'auto' switches). The last line is one JSON object.
"""

from __future__ import annotations

import argparse
from typing import Any

import jax
import jax.numpy as jnp
import optax

from benchmarks import _harness as h
from icljax.experiment import configs, fields

CHUNK = 50


def _config(d: int, n: int, batch: int, **over) -> Any:
  return fields.replace(configs.load("lsa_isotropic"), d=d, n=n, batch_size=batch, sigma=0.5, steps=10**6, **over)


def toolkit(config: Any, seconds: float) -> tuple[float, float, float]:
  """(prompts/s, compile s, peak MiB) of the experiment's own training chunk."""
  steps, comp, mib = h.pipeline_steps(h.plan_of(config), CHUNK, seconds)
  return steps * (config.batch_size if config.estimator == "fresh" else config.sample_size), comp, mib


def jax_reference(d: int, n: int, batch: int, sigma: float, seconds: float) -> tuple[float, float, float]:
  """Straightforward JAX: tokens drawn, attention form, value_and_grad, optax.adam; one jitted call per step."""
  k = jax.random.key(0)
  params = {name: 0.1 * jax.random.normal(jax.random.fold_in(k, i), shape) for i, (name, shape) in enumerate(
      [("W_K", (d + 1, d + 1)), ("W_Q", (d + 1, d + 1)), ("W_V", (d + 1, d + 1)), ("h", (d + 1,))])}
  opt = optax.adam(1e-3)

  def loss(p, key):
    kx, kw, ke = jax.random.split(key, 3)
    x = jax.random.normal(kx, (batch, n + 1, d))
    w = jax.random.normal(kw, (batch, d))
    y = jnp.einsum("bnd,bd->bn", x, w) + sigma * jax.random.normal(ke, (batch, n + 1))
    ctx = jnp.concatenate([x[:, :n], y[:, :n, None]], -1)
    q = jnp.concatenate([x[:, n], jnp.zeros((batch, 1))], -1)
    scores = jnp.einsum("bik,bk->bi", ctx @ p["W_K"].T, q @ p["W_Q"].T)
    out = jnp.einsum("bi,bie->be", scores, ctx @ p["W_V"].T) / n
    return jnp.mean((out @ p["h"] - y[:, n]) ** 2)

  @jax.jit
  def step(p, s, key):
    value, g = jax.value_and_grad(loss)(p, key)
    u, s = opt.update(g, s, p)
    return optax.apply_updates(p, u), s, value

  state = [params, opt.init(params), k]
  compiled, comp, mib = h.jax_compile(step, *state)

  def call():
    state[2] = jax.random.fold_in(state[2], 1)
    state[0], state[1], value = compiled(*state)
    return value

  return h.rate(call, seconds) * batch, comp, mib


def torch_reference(d: int, n: int, batch: int, sigma: float, seconds: float,
                    layer: str = "matched") -> tuple[float, float, float]:
  """The JAX reference's step in PyTorch eager mode (CPU, default threads).

  ``layer='matched'``: the same arithmetic as the JAX reference (only the query's output is computed).
  ``layer='standard'``: a standard self-attention layer over all n+1 tokens (the (n+1) x (n+1) score matrix
  with the query masked out as a key, every position's output computed, the prediction read off the query's),
  the form ICL code in PyTorch usually takes.
  """
  import torch  # pylint: disable=import-outside-toplevel
  torch.manual_seed(0)
  p = {name: (0.1 * torch.randn(*shape)).requires_grad_() for name, shape in
       [("W_K", (d + 1, d + 1)), ("W_Q", (d + 1, d + 1)), ("W_V", (d + 1, d + 1)), ("h", (d + 1,))]}
  opt = torch.optim.Adam(list(p.values()), lr=1e-3)
  mask = torch.ones(n + 1, n + 1)
  mask[:, n] = 0.0                                                          # the query is not a key

  def step():
    x = torch.randn(batch, n + 1, d)
    w = torch.randn(batch, d)
    y = torch.einsum("bnd,bd->bn", x, w) + sigma * torch.randn(batch, n + 1)
    ctx = torch.cat([x[:, :n], y[:, :n, None]], -1)
    q = torch.cat([x[:, n], torch.zeros(batch, 1)], -1)
    if layer == "matched":
      scores = torch.einsum("bik,bk->bi", ctx @ p["W_K"].T, q @ p["W_Q"].T)
      out = torch.einsum("bi,bie->be", scores, ctx @ p["W_V"].T) / n
    else:
      z = torch.cat([ctx, q[:, None]], 1)                                   # (B, n+1, d+1)
      scores = (z @ p["W_Q"].T) @ (z @ p["W_K"].T).transpose(1, 2)          # (B, n+1, n+1)
      scores = scores * mask
      out = (scores @ (z @ p["W_V"].T))[:, -1] / n
    loss = torch.mean((out @ p["h"] - y[:, n]) ** 2)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()

  _, mib = h.peak_rss(lambda: [step() for _ in range(3)])
  return h.rate(step, seconds) * batch, 0.0, mib


def tk_sampler(d: int, n: int) -> str:
  from icljax.tasks import regression, regression_statistics  # pylint: disable=import-outside-toplevel
  return regression_statistics.resolve_sampler(regression.make_spec(d, n), "auto")


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--seconds", type=float, default=2.0, help="timed seconds per measurement")
  parser.add_argument("--batch", type=int, default=4096)
  parser.add_argument("--d", type=int, default=5)
  parser.add_argument("--scan", default="6,12,20,24,48,200", help="n values of the direct-vs-Wishart scan")
  parser.add_argument("--big-n", type=int, default=200, help="n of the fresh-sample comparison at large n")
  parser.add_argument("--fixed-n", type=int, default=400, help="the larger n of the fixed-sample pair (20 and it)")
  args = parser.parse_args()
  scan_ns = [int(v) for v in args.scan.split(",")]
  big = args.big_n
  d, b, s = args.d, args.batch, args.seconds
  rows = []

  tk = toolkit(_config(d, 20, b), s)
  tk_direct = toolkit(_config(d, 20, b, sampler="direct"), s)
  ref = jax_reference(d, 20, b, 0.5, s)
  nan = (float("nan"),) * 3
  try:
    th, th_std = (torch_reference(d, 20, b, 0.5, s, layer) for layer in ("matched", "standard"))
    th200 = torch_reference(d, big, b, 0.5, s)
  except ImportError:
    th = th_std = th200 = nan
  rows += [(f"toolkit, n=20 (sampler auto = {tk_sampler(d, 20)})", *tk, "prompts/s"),
           ("toolkit, n=20, sampler direct", *tk_direct, "prompts/s"),
           ("straightforward JAX, n=20", *ref, "prompts/s"),
           ("PyTorch eager, n=20, matched arithmetic", *th, "prompts/s"),
           ("PyTorch eager, n=20, standard attention layer", *th_std, "prompts/s")]

  tk200 = toolkit(_config(d, big, b), s)
  ref200 = jax_reference(d, big, b, 0.5, s)
  rows += [(f"toolkit, n={big} (sampler auto = {tk_sampler(d, big)})", *tk200, "prompts/s"),
           (f"straightforward JAX, n={big}", *ref200, "prompts/s"),
           (f"PyTorch eager, n={big}, matched arithmetic", *th200, "prompts/s")]

  fixed = {n: toolkit(_config(d, n, b, estimator="fixed", sample_size=b), s) for n in (20, args.fixed_n)}
  rows += [(f"toolkit fixed sample (statistics), n={n}", *v, "prompts/s") for n, v in fixed.items()]

  # The direct-vs-Wishart scan; points measured above (n = 20 and n = big) are reused, not measured twice.
  scan = {(20, tk_sampler(d, 20)): tk, (20, "direct"): tk_direct, (big, tk_sampler(d, big)): tk200}
  for n in scan_ns:
    for sampler in ("direct", "wishart"):
      if (n, sampler) not in scan:
        scan[(n, sampler)] = toolkit(_config(d, n, b, sampler=sampler), s / 2)
      rows.append((f"toolkit, n={n}, sampler {sampler}", *scan[(n, sampler)], "prompts/s"))

  h.emit(f"result 1: LSA Adam step on fresh prompts (d={d}, batch {b})",
         [(name, v, unit, comp, mib) for name, v, comp, mib, unit in rows], {
             "result": "lsa", "toolkit_per_s": tk[0], "torch_per_s": max(th[0], th_std[0]),
             "jax_reference_per_s": ref[0], "ratio_vs_torch": tk[0] / max(th[0], th_std[0]),
             "ratio_vs_torch_matched": tk[0] / th[0], "ratio_vs_torch_standard_layer": tk[0] / th_std[0],
             "ratio_vs_jax_reference": tk[0] / ref[0], "large_n_ratio_vs_torch": tk200[0] / th200[0],
             "large_n_toolkit_per_s": tk200[0], "large_n_jax_reference_per_s": ref200[0],
             "large_n_ratio_vs_jax_reference": tk200[0] / ref200[0],
             "fixed_n20_per_s": fixed[20][0], "fixed_n400_per_s": fixed[args.fixed_n][0],
             "fixed_n400_over_n20": fixed[args.fixed_n][0] / fixed[20][0], "fixed_n": args.fixed_n,
             "wishart_over_direct": {str(n): scan[(n, "wishart")][0] / scan[(n, "direct")][0]
                                     for n in scan_ns},
             "large_n": big, "d": d, "batch": b, "unit": "prompts/s"})


if __name__ == "__main__":
  main()
