"""Regression prompt sampler: shapes, purity, moments against closed forms, validation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from icljax import validation
from icljax.tasks import regression


def test_shapes_and_purity():
  spec = regression.make_spec(3, 7, 0.1)
  a = regression.sample(jax.random.key(0), spec, 11)
  b = regression.sample(jax.random.key(0), spec, 11)
  assert {k: v.shape for k, v in a.items()} == {"x": (11, 7, 3), "y": (11, 7), "x_query": (11, 3),
                                                 "y_query": (11,)}
  for k in a:
    np.testing.assert_array_equal(a[k], b[k])
  c = regression.sample(jax.random.key(1), spec, 11)
  assert not np.allclose(a["x"], c["x"])


def test_covariance_construction():
  spec = np.array([1.0, 1.0, 0.25, 0.0625, 1.0])
  np.testing.assert_allclose(regression.covariance(5, spec, "none"), np.diag(spec))
  cov = regression.covariance(5, spec, "random", rotation_seed=3)
  np.testing.assert_allclose(np.sort(np.linalg.eigvalsh(cov)), np.sort(spec), atol=1e-12)
  assert not np.allclose(cov, np.diag(spec))
  u = regression.haar_rotation(6, 0)
  np.testing.assert_allclose(u @ u.T, np.eye(6), atol=1e-12)


def _moments(spec, batch=200_000, key=0):
  p = regression.sample(jax.random.key(key), spec, batch)
  x = np.asarray(p["x"][:, 0], np.float64)
  y = np.asarray(p["y_query"], np.float64)
  return x, y


@pytest.mark.parametrize("prior", ["identity", "inv_cov"])
def test_label_variance_matches_theory(prior):
  # E[y^2] = tr(Sigma Cov(w*)) + sigma^2: d + sigma^2 under inv_cov (whitening), tr(Sigma) + sigma^2 under identity.
  spectrum = (2.0, 1.0, 0.5, 0.25)
  spec = regression.make_spec(4, 3, 0.5, spectrum=spectrum, rotation="random", prior=prior)
  x, y = _moments(spec)
  expected = (4 if prior == "inv_cov" else sum(spectrum)) + 0.25
  se = np.std(y**2) / np.sqrt(len(y))
  assert abs(np.mean(y**2) - expected) < 5 * se
  cov_hat = x.T @ x / len(x)
  np.testing.assert_allclose(cov_hat, np.asarray(spec.cov), atol=0.03)


@pytest.mark.parametrize("target,second_moment", [("relu", 5 / 2), ("tanh", None)])
def test_nonlinear_target_moments(target, second_moment):
  # Random ReLU nets: E[f^2] = E|x|^2 / 2 = d/2 whatever the width; both families are odd-symmetric (E f = 0).
  spec = regression.make_spec(5, 4, 0.0, target=target, width=8)
  _, y = _moments(spec)
  se = np.std(y) / np.sqrt(len(y))
  assert abs(np.mean(y)) < 5 * se
  if second_moment is not None:
    assert abs(np.mean(y**2) - second_moment) < 5 * np.std(y**2) / np.sqrt(len(y))


@pytest.mark.parametrize("kwargs,field", [
    (dict(d=0, n=5), "d"), (dict(d=2, n=0), "n"), (dict(d=2, n=5, sigma=-0.1), "sigma"),
    (dict(d=2, n=5, spectrum=(1.0, 0.0)), "spectrum"), (dict(d=2, n=5, spectrum=(1.0,)), "spectrum"),
    (dict(d=2, n=5, prior="flat"), "prior"), (dict(d=2, n=5, target="gelu"), "target"),
    (dict(d=2, n=5, rotation="haar"), "rotation"), (dict(d=2, n=5, width=0), "width"),
    (dict(d=2, n=5, target="relu", prior="inv_cov"), "prior"),
])
def test_bad_arguments_name_the_field(kwargs, field):
  with pytest.raises(validation.ConfigError) as e:
    regression.make_spec(**kwargs)
  assert e.value.field == field
  assert "\n" not in str(e.value) and str(e.value).startswith(f"{field}=")


def test_spec_is_a_pytree_that_vmaps_over_sigma():
  specs = [regression.make_spec(2, 3, s) for s in (0.0, 1.0)]
  stacked = jax.tree.map(lambda *a: jnp.stack(a), *specs)
  out = jax.vmap(lambda s: regression.sample(jax.random.key(0), s, 4)["y"])(stacked)
  assert out.shape == (2, 4, 3)
