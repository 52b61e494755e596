"""Population-loss estimators: exact agreement with direct computation, gradients against finite differences."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from icljax import estimators, stats
from icljax.models import lsa
from icljax.tasks import regression

SPEC = lsa.LsaSpec(3, 5)


@pytest.fixture(scope="module")
def setup():
  spec = regression.make_spec(3, 5, 0.2)
  sampler = lambda k, b: regression.sample(k, spec, b)
  loss_fn = estimators.squared_error(lambda p, b: lsa.apply(p, b, SPEC))
  return spec, sampler, loss_fn


def test_fresh_and_fixed_objectives_equal_direct_mse(setup):
  _, sampler, loss_fn = setup
  params = lsa.init(jax.random.key(0), lsa.LsaSpec(3, 5, init_scale=0.5))
  key = jax.random.key(1)
  batch = sampler(key, 64)
  direct = np.mean((np.asarray(lsa.apply(params, batch, SPEC)) - np.asarray(batch["y_query"])) ** 2)
  assert float(jax.jit(estimators.fresh(loss_fn, sampler, 64))(params, key)) == pytest.approx(direct, rel=1e-5)
  assert float(estimators.fixed(loss_fn, batch)(params, jax.random.key(9))) == pytest.approx(direct, rel=1e-5)


def test_gradient_matches_finite_differences(setup):
  # float64 for a clean central difference; the objective on a fixed key is a smooth polynomial of the params.
  _, sampler, loss_fn = setup
  with jax.enable_x64(True):
    params = lsa.init(jax.random.key(0), lsa.LsaSpec(3, 5, init_scale=0.5))
    params = jax.tree.map(lambda a: a.astype(jnp.float64), params)
    objective = estimators.fresh(loss_fn, lambda k, b: jax.tree.map(lambda a: a.astype(jnp.float64),
                                                                    sampler(k, b)), 32)
    key = jax.random.key(2)
    grads = jax.grad(objective)(params, key)
    direction = jax.tree.map(lambda a: jax.random.normal(jax.random.key(3), a.shape, jnp.float64), params)
    eps = 1e-5
    plus = objective(jax.tree.map(lambda p, v: p + eps * v, params, direction), key)
    minus = objective(jax.tree.map(lambda p, v: p - eps * v, params, direction), key)
    fd = (plus - minus) / (2 * eps)
    analytic = sum(jnp.vdot(g, v) for g, v in zip(jax.tree.leaves(grads), jax.tree.leaves(direction)))
    assert float(analytic) == pytest.approx(float(fd), rel=1e-6)


def test_monte_carlo_mean_and_standard_error(setup):
  _, sampler, _ = setup
  key = jax.random.key(4)
  mean, se = jax.jit(lambda k: stats.monte_carlo(lambda p: p["y_query"] ** 2, sampler, k, 4000, 1000))(key)
  # Recompute the same draws directly: chunk keys are jax.random.split(key, 4).
  values = np.concatenate([np.asarray(sampler(k, 1000)["y_query"]) ** 2 for k in jax.random.split(key, 4)])
  assert float(mean) == pytest.approx(values.mean(), rel=1e-5)
  assert float(se) == pytest.approx(values.std() / np.sqrt(values.size), rel=1e-3)


def test_objective_vmaps_over_parameters_and_keys(setup):
  _, sampler, loss_fn = setup
  objective = estimators.fresh(loss_fn, sampler, 16)
  params = jax.vmap(lambda k: lsa.init(k, SPEC))(jax.random.split(jax.random.key(0), 4))
  keys = jax.random.split(jax.random.key(1), 4)
  batched = jax.vmap(objective)(params, keys)
  single = [objective(jax.tree.map(lambda a: a[i], params), keys[i]) for i in range(4)]
  np.testing.assert_allclose(batched, single, rtol=1e-5)
