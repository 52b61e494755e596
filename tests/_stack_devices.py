"""Helper run in a subprocess with 8 fake CPU devices: trains stacks of runs of every result on meshes of 1 and
8 devices and prints whether every run's final state is bitwise identical."""

import os

os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"
os.environ["JAX_PLATFORMS"] = "cpu"

import jax  # noqa: E402
import numpy as np  # noqa: E402

from experiments.configs import lsa_isotropic, nn_landscape, recall  # noqa: E402
from icljax import sweep  # noqa: E402
from icljax.pipelines import lsa, nn, recall as recall_pipeline  # noqa: E402


def plans():
  out = {"lsa": [], "nn": [], "recall": []}
  for seed in range(2):
    for sigma in (0.0, 1.0):
      c = lsa_isotropic.get_config()
      c.update(dict(seed=seed, sigma=sigma, steps=20, batch_size=64, log_every=10, theory_prompts=1000))
      out["lsa"].append(lsa.plan(c))
      c = nn_landscape.get_config()
      c.update(dict(seed=seed, sigma=3.0 + sigma, steps=20, log_every=10, tau_samples=500, eval_tau_samples=500,
                    extras=()))
      out["nn"].append(nn.plan(c))
      c = recall.get_config()
      c.update(dict(seed=seed, alpha=0.3 + 0.2 * sigma, steps=6, log_every=3, H=16, batch_size=16, eval_size=16,
                    test_size=16))
      out["recall"].append(recall_pipeline.plan(c))
  return out


assert len(jax.devices()) == 8
for name, group in plans().items():
  one = sweep.train_stack(group, mesh=sweep.make_mesh(1), vmap_size=1)
  eight = sweep.train_stack(group, mesh=sweep.make_mesh(8), vmap_size=1)
  pairs = [(np.asarray(a, np.float64), np.asarray(b, np.float64)) for s1, s8 in zip(one, eight)
           for a, b in zip(jax.tree.leaves(s1), jax.tree.leaves(s8))]
  same = all(np.array_equal(a, b) for a, b in pairs)
  worst = max(float(np.max(np.abs(a - b), initial=0.0)) for a, b in pairs)
  print(f"{name} runs={len(group)} max_abs_diff={worst:.3g} bitwise_identical={same}")
