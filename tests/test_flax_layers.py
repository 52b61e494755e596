"""flax NNX modules (``icljax.flax_layers``): each equals the pure ``apply`` of its model to float rounding, trains
with optax through ``nnx.Optimizer`` to the same parameters as the pure optax loop, and the base package never imports
flax."""

import subprocess
import sys
import tomllib
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

nnx = pytest.importorskip("flax.nnx")

from icljax import flax_layers  # noqa: E402  (after the importorskip: flax is the optional extra)
from icljax.models import lsa, recall  # noqa: E402
from icljax.models import nearest_neighbor as nn_model  # noqa: E402
from icljax.tasks import nearest_neighbor, regression  # noqa: E402
from icljax.tasks import recall as recall_task  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _cases():
  """(module, pure apply, spec, batches, loss on the model's output and the batch) for the three models."""
  key = jax.random.key(0)
  lsa_spec, reg = lsa.LsaSpec(3, 8), regression.make_spec(3, 8, 0.1)
  nn_spec, nn_task = nn_model.NNModelSpec(4, 3.0, "random", 0.1), nearest_neighbor.make_spec(4, 6)
  rec_task = recall_task.make_spec(0.5, V=12, triggers=(0,), outputs=(1, 2), H=16)
  rec_model = recall.make_model("origin", "linear", 1, V=12, triggers=(0,), noisy=True)
  mse = lambda out, b: jnp.mean((out - b["y_query"]) ** 2)
  mse_1nn = lambda out, b: jnp.mean((out - b["target"]) ** 2)
  ce = lambda out, b: jnp.mean(optax.softmax_cross_entropy_with_integer_labels(out, b["target"]))
  return {
      "lsa": (flax_layers.LinearSelfAttention(lsa_spec, rngs=nnx.Rngs(0)), lsa.apply, lsa_spec,
              [regression.sample(jax.random.fold_in(key, t), reg, 64) for t in range(20)], mse),
      "nn": (flax_layers.SoftmaxAttention1NN(nn_spec, rngs=nnx.Rngs(1)), nn_model.apply, nn_spec,
             [nearest_neighbor.sample(jax.random.fold_in(key, t), nn_task, 64) for t in range(20)], mse_1nn),
      "recall": (flax_layers.RecallTransformer(rec_model), recall.apply, rec_model,
                 [recall_task.sample(jax.random.fold_in(key, t), rec_task, 64) for t in range(20)], ce),
  }


@pytest.fixture(scope="module")
def cases():
  return _cases()


@pytest.mark.parametrize("name", ["lsa", "nn", "recall"])
def test_module_equals_the_pure_apply(cases, name):
  module, apply, spec, batches, _ = cases[name]
  params = module.pure_params()
  assert set(nnx.state(module, nnx.Param).keys()) == set(params)
  np.testing.assert_allclose(module(batches[0]), apply(params, batches[0], spec), rtol=1e-6, atol=1e-6)
  # Inside nnx.jit as in a bigger network.
  np.testing.assert_allclose(nnx.jit(lambda m, b: m(b))(module, batches[1]), apply(params, batches[1], spec),
                             rtol=1e-6, atol=1e-6)


def test_modules_initialise_as_the_pure_init():
  spec = lsa.LsaSpec(3, 8)
  module = flax_layers.LinearSelfAttention(spec, rngs=nnx.Rngs(params=jax.random.key(7)))
  expected = lsa.init(nnx.Rngs(params=jax.random.key(7)).params(), spec)   # the stream's first key
  assert all(np.array_equal(module.pure_params()[k], expected[k]) for k in expected)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["lsa", "nn", "recall"])
def test_module_trains_with_optax_to_the_same_parameters(name):
  module, apply, spec, batches, loss = _cases()[name]
  tx = optax.adam(1e-2)
  params, opt_state = module.pure_params(), tx.init(module.pure_params())
  optimizer = nnx.Optimizer(module, tx, wrt=nnx.Param)

  @nnx.jit
  def module_step(m, opt, batch):
    grads = nnx.grad(lambda m_: loss(m_(batch), batch))(m)
    opt.update(m, grads)

  @jax.jit
  def pure_step(p, s, batch):
    updates, s = tx.update(jax.grad(lambda p_: loss(apply(p_, batch, spec), batch))(p), s, p)
    return optax.apply_updates(p, updates), s

  for batch in batches:
    module_step(module, optimizer, batch)
    params, opt_state = pure_step(params, opt_state, batch)
  trained = module.pure_params()
  moved = max(float(jnp.max(jnp.abs(params[k] - _cases()[name][0].pure_params()[k]))) for k in params)
  assert moved > 1e-3   # the comparison is not between two untouched initialisations
  for k in params:
    np.testing.assert_allclose(trained[k], params[k], rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_base_install_does_not_pull_flax():
  deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
  assert not any(d.startswith("flax") for d in deps["dependencies"])
  assert any(d.startswith("flax") for d in deps["optional-dependencies"]["flax"])
  code = ("import sys, icljax, icljax.experiment, icljax.results, icljax.apps.reproduce; "
          "assert 'flax' not in sys.modules, 'flax imported'")
  subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
