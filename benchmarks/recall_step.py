"""Result 3 (noisy in-context recall): throughput of one normalised-GD training step on fresh sentences.

    python -m benchmarks.recall_step [--batch 512] [--H 256] [--seconds 2]

Measured in one process, in sentences per second (compile time printed apart), for the Reparam-Linear-FA model
(alpha = 0.5, V = 60, d = 120) and the Origin model (trainable W, V, F):

* **toolkit**: the experiment's own step (``train.make_chunk``, 10 steps per call): sentences generated inside
  the compiled step (``tasks.recall.sample``), logits by index arithmetic (``models.recall.parts``: gathers and
  segment sums, never (B, H, d) one-hot tensors), NGD as an optax transformation;
* **dense JAX**: the literal Eq. (1) step (``models.recall.dense_logits``: one-hot (B, H, d) inputs and d x d
  matrices), same generator and optimiser, one jitted call per step;
* **PyTorch eager**: the dense step in torch, sentence generation included, one Python iteration per step; for
  Reparam also the toolkit's index arithmetic transcribed to torch. ``ratio_vs_torch`` in the JSON is against
  the faster torch form.

The last line is one JSON object.
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import optax

from benchmarks import _harness as h
from icljax import optim
from icljax.experiment import configs, fields
from icljax.models import recall as model
from icljax.tasks import recall as task

CHUNK = 10


def _config(kind: str, batch: int, H: int):
  return fields.replace(configs.load("recall"), model=kind, batch_size=batch, H=H, steps=10**6)


def _plan(config):
  """The plan ``icljax-run`` trains for a typed config."""
  experiment = configs.experiment_of(config)
  return experiment.plan(experiment.setup(config))


def toolkit(config, seconds: float) -> tuple[float, float, float]:
  """(sentences/s, compile s, peak MiB) of the experiment's own training chunk."""
  steps, comp, mib = h.pipeline_steps(_plan(config), CHUNK, seconds)
  return steps * config.batch_size, comp, mib


def dense_jax(config, seconds: float) -> tuple[float, float, float]:
  plan = _plan(config)
  spec, m = plan.hparams["spec"], plan.hparams["model"]
  opt = optim.normalized_gd(config.eta)

  def loss(p, key):
    b = task.sample(key, spec, config.batch_size)
    return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(model.dense_logits(p, b, m), b["target"]))

  @jax.jit
  def step(p, s, key):
    g = jax.grad(loss)(p, key)
    u, s = opt.update(g, s, p)
    return optax.apply_updates(p, u), s

  state = [plan.params, opt.init(plan.params), plan.data_key]
  compiled, comp, mib = h.jax_compile(step, *state)

  def call():
    state[2] = jax.random.fold_in(state[2], 1)
    state[0], state[1] = compiled(*state)
    return state[0]

  return h.rate(call, seconds) * config.batch_size, comp, mib


def torch_dense(config, seconds: float, form: str = "dense") -> tuple[float, float, float]:
  """The step in PyTorch eager mode: generator, Eq. (1), cross-entropy, NGD.

  ``form='dense'``: one-hot (B, H, d) inputs and d x d matrices. ``form='index'`` (Reparam only): the toolkit's
  index arithmetic transcribed to torch (scores from token comparisons, attention sums by ``scatter_add``).
  """
  import math  # pylint: disable=import-outside-toplevel

  import torch  # pylint: disable=import-outside-toplevel
  torch.manual_seed(0)
  V, H, B, d, alpha = config.V, config.H, config.batch_size, 2 * config.V, float(config.alpha)
  q, tau = config.triggers[0], V - 1
  outputs = torch.tensor(config.outputs)
  filler = torch.tensor([t for t in range(V - 1) if t not in config.triggers])
  eye = torch.eye(d)
  gamma = math.log(alpha / (1 - alpha))
  f_fixed = torch.outer(eye[tau], gamma * eye[q] + eye[V + q])
  if config.model == "origin":
    params = {k: torch.zeros(d, d, requires_grad=True) for k in ("W", "V", "F")}
  else:
    params = {"Lam": torch.zeros((), requires_grad=True)}
  rows = torch.arange(B)

  def sample():
    y = outputs[torch.randint(len(outputs), (B,))]
    z = filler[torch.randint(len(filler), (B, H))]
    z[:, H - 1] = q
    p = torch.randint(0, H - 2, (B,))
    z[rows, p] = q
    z[rows, p + 1] = y
    lo, hi = (p - 1).clamp(min=0), (p + 1).clamp(max=H - 3)       # the toolkit's uniform draw, transcribed
    width = hi - lo + 1
    r = (torch.rand(B) * (H - 2 - width)).long()
    p_noise = torch.where(r < lo, r, r + width)
    z[rows, p_noise] = q
    z[rows, p_noise + 1] = tau
    noise = torch.rand(B) < alpha
    return z, torch.where(noise, torch.full_like(y, tau), y)

  def index_logits(z, prev):
    valid = (prev >= 0).float()
    s = params["Lam"] * (z[:, -1] == q).float()[:, None] * ((prev == q).float() - (z == tau).float())
    a = torch.zeros(B, d).scatter_add(1, z, s).scatter_add(1, (V + prev).clamp(min=0), s * valid)
    u = config.kappa * a
    u = u + torch.nn.functional.one_hot(z[:, -1], d) + torch.nn.functional.one_hot(V + z[:, -2], d)
    xi_f = torch.nn.functional.one_hot(torch.tensor(tau), V)[None, :] * (gamma * u[:, q] + u[:, V + q])[:, None]
    return a[:, :V] + xi_f

  def step():
    z, target = sample()
    prev = torch.cat([torch.full_like(z[:, :1], -1), z[:, :-1]], 1)
    if form == "index":
      loss = torch.nn.functional.cross_entropy(index_logits(z, prev), target)
      (g,) = torch.autograd.grad(loss, [params["Lam"]])
      with torch.no_grad():
        if g.abs() > 0:
          params["Lam"].sub_(config.eta * g / g.abs())
      return loss
    x = torch.nn.functional.one_hot(z, d).float()
    x = x + torch.nn.functional.one_hot((V + prev).clamp(min=0), d).float() * (prev >= 0)[..., None].float()
    if config.model == "origin":
      w, v, f = params["W"], params["V"], params["F"]
    else:
      w = params["Lam"] * torch.outer(eye[q], eye[V + q] - eye[tau])
      v, f = eye, f_fixed
    x_last = x[:, -1]
    s = torch.einsum("bi,ij,bhj->bh", x_last, w, x)
    a = torch.einsum("bh,bhd->bd", s, x)
    logits = (a @ v.T)[:, :V] + ((x_last + config.kappa * a) @ f.T)[:, :V]
    loss = torch.nn.functional.cross_entropy(logits, target)
    grads = torch.autograd.grad(loss, list(params.values()))
    with torch.no_grad():
      for t, g in zip(params.values(), grads):
        norm = torch.linalg.norm(g)
        if norm > 0:
          t.sub_(config.eta * g / norm)
    return loss

  _, mib = h.peak_rss(lambda: [step() for _ in range(3)])
  return h.rate(step, seconds) * B, 0.0, mib


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--batch", type=int, default=512)
  parser.add_argument("--H", type=int, default=256)
  parser.add_argument("--seconds", type=float, default=2.0)
  args = parser.parse_args()
  rows, out = [], {}
  for kind in ("reparam", "origin"):
    c = _config(kind, args.batch, args.H)
    out[kind] = {"toolkit": toolkit(c, args.seconds), "dense": dense_jax(c, args.seconds)}
    try:
      out[kind]["torch"] = torch_dense(c, args.seconds)
      if kind == "reparam":
        out[kind]["torch_index"] = torch_dense(c, args.seconds, "index")
    except ImportError:
      out[kind]["torch"] = out[kind]["torch_index"] = (float("nan"),) * 3
    label = {"reparam": "Reparam-Linear-FA", "origin": "Origin-Linear-FA"}[kind]
    rows += [(f"toolkit {label}: index arithmetic", *out[kind]["toolkit"]),
             (f"dense JAX {label}: one-hot Eq. (1)", *out[kind]["dense"]),
             (f"PyTorch eager {label}: dense", *out[kind]["torch"])]
    if "torch_index" in out[kind]:
      rows.append((f"PyTorch eager {label}: index arithmetic", *out[kind]["torch_index"]))
  r = out["reparam"]
  torch_best = max(r["torch"][0], r["torch_index"][0])
  h.emit(f"result 3: NGD step on fresh sentences (batch {args.batch}, H={args.H}, V=60, d=120, alpha=0.5)",
         [(name, v, "sentences/s", comp, mib) for name, v, comp, mib in rows], {
             "result": "recall", "toolkit_per_s": r["toolkit"][0], "torch_per_s": torch_best,
             "torch_dense_per_s": r["torch"][0], "torch_index_per_s": r["torch_index"][0],
             "jax_reference_per_s": r["dense"][0], "ratio_vs_torch": r["toolkit"][0] / torch_best,
             "ratio_vs_torch_dense": r["toolkit"][0] / r["torch"][0],
             "ratio_vs_jax_reference": r["toolkit"][0] / r["dense"][0], "unit": "sentences/s",
             "origin_ratio_vs_torch": out["origin"]["toolkit"][0] / out["origin"]["torch"][0],
             "origin_ratio_vs_dense_jax": out["origin"]["toolkit"][0] / out["origin"]["dense"][0],
             "batch": args.batch, "H": args.H})


if __name__ == "__main__":
  main()
