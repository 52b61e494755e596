"""Helper run in a subprocess with 8 fake CPU devices: trains stacks of runs of one result (argv[1]) on meshes of 1
and 8 devices and prints whether every run's final state is bitwise identical (``all``: every result, one process)."""

import os
import sys

os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"
os.environ["JAX_PLATFORMS"] = "cpu"

import jax
import numpy as np

from icljax import sweep, train
from icljax.experiment import configs

SPECS = {
    "lsa": "lsa_isotropic:steps=10,batch_size=64,log_every=5,theory_prompts=1000,sigma={h}",
    "nearest_neighbor": ("nearest_neighbor_landscape:steps=10,log_every=5,tau_samples=500,eval_tau_samples=500,"
                         "extras=(),sigma={h}"),
    "recall": "recall:steps=4,log_every=2,H=16,batch_size=16,eval_size=16,test_size=16,alpha={h}",
}
HPARAMS = {"lsa": (0.0, 1.0), "nearest_neighbor": (3.0, 4.0), "recall": (0.3, 0.5)}


def plans(name):
  out = []
  for seed in range(2):
    for h in HPARAMS[name]:
      config = configs.load(SPECS[name].format(h=h) + f",seed={seed}")
      experiment = configs.experiment_of(config)
      out.append(experiment.plan(experiment.setup(config)))
  return out


def train_on(group, devices, steps, log_every):
  states = [train.init_state(p.params, p.optimizer) for p in group]
  return sweep.train_stack(group[0].objective, group[0].optimizer, states, [p.data_key for p in group],
                           [p.hparams for p in group], steps=steps, log_every=log_every,
                           mesh=sweep.make_mesh(devices), vmap_size=1)


assert len(jax.devices()) == 8
for name, steps, log_every in (("lsa", 10, 5), ("nearest_neighbor", 10, 5), ("recall", 4, 2)):
  if sys.argv[1] not in (name, "all"):
    continue
  group = plans(name)
  one, eight = train_on(group, 1, steps, log_every), train_on(group, 8, steps, log_every)
  pairs = [(np.asarray(a, np.float64), np.asarray(b, np.float64)) for s1, s8 in zip(one, eight)
           for a, b in zip(jax.tree.leaves(s1), jax.tree.leaves(s8))]
  same = all(np.array_equal(a, b) for a, b in pairs)
  worst = max(float(np.max(np.abs(a - b), initial=0.0)) for a, b in pairs)
  print(f"{name} runs={len(group)} max_abs_diff={worst:.3g} bitwise_identical={same}")
