"""Regression prompt sampler: shapes, purity, moments against closed forms, validation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from icljax import validation
from icljax.tasks import regression, regression_statistics


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


@pytest.mark.slow
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


def _stat_columns(stats, params):
  """Per-prompt statistics whose means pin down the first two moments the LSA loss depends on: the Gram entries,
  their squares and products with y_query, and the loss of fixed reduced parameters."""
  from icljax.models import lsa  # pylint: disable=import-outside-toplevel
  g = stats["gram"]
  b = g.shape[0]
  iu = np.triu_indices(g.shape[1])
  upper = g[:, iu[0], iu[1]]
  y = stats["y_query"]
  cols = [upper, upper**2, upper * y[:, None], (stats["x_query"] * y[:, None]), y[:, None] ** 2]
  for p in params:
    spec = lsa.LsaSpec(g.shape[1] - 1, 1, normalization="sum")
    cols.append(((lsa.apply(p, stats, spec) - y) ** 2)[:, None])
  return jnp.concatenate([c.reshape(b, -1) for c in cols], axis=1)


@pytest.mark.parametrize("kwargs", [
    dict(d=3, n=12, sigma=0.5),
    dict(d=3, n=4, sigma=0.0),                                            # n = d + 1, noiseless: singular corner
    dict(d=2, n=30, sigma=1.0, spectrum=(3.0, 0.5), rotation="random", prior="inv_cov")])
@pytest.mark.slow
def test_wishart_statistics_have_the_direct_samplers_law(kwargs):
  """Bartlett sampler vs direct sampler: every mean in ``_stat_columns`` (69 to 120 of them) agrees within 5
  two-sample standard errors on 2e5 prompts each, and E[gram] equals n E[Cov(v)] in closed form."""
  spec = regression.make_spec(**kwargs)
  size = 200_000
  rng = np.random.default_rng(0)
  p = spec.d + 1
  params = [{"w": jnp.asarray(rng.normal(size=p) / 3, jnp.float32),
             "M": jnp.asarray(rng.normal(size=(p, p)) / (3 * spec.n), jnp.float32)} for _ in range(3)]
  cols = {}
  for method in ("direct", "wishart"):
    stats = jax.jit(lambda k, m=method: regression_statistics.sample_statistics(k, spec, size, m))(jax.random.key(7))
    c = np.asarray(_stat_columns(stats, params), np.float64)
    cols[method] = (c.mean(0), c.std(0) / np.sqrt(size))
    gram_mean = np.asarray(stats["gram"], np.float64).mean(0)
    cov = np.asarray(spec.cov, np.float64)
    ww = np.linalg.inv(cov) if spec.prior == "inv_cov" else np.eye(spec.d)
    expected = np.zeros((p, p))
    expected[:-1, :-1] = cov
    expected[-1, -1] = np.trace(cov @ ww) + float(spec.sigma) ** 2
    se = np.asarray(stats["gram"], np.float64).std(0) / np.sqrt(size)
    assert np.all(np.abs(gram_mean - spec.n * expected) <= 5 * se + 1e-6), (method, gram_mean, spec.n * expected)
  (m1, s1), (m2, s2) = cols["direct"], cols["wishart"]
  z = np.abs(m1 - m2) / np.sqrt(s1**2 + s2**2 + 1e-30)
  assert z.max() < 5.0, f"largest two-sample z = {z.max():.2f} at column {z.argmax()}"


def test_sampler_choice_and_its_errors():
  assert regression_statistics.resolve_sampler(regression.make_spec(5, 200), "auto") == "wishart"
  assert regression_statistics.resolve_sampler(regression.make_spec(5, 5), "auto") == "direct"
  assert regression_statistics.resolve_sampler(regression.make_spec(5, 20, target="relu"), "auto") == "direct"
  with pytest.raises(validation.ConfigError, match="sampler"):
    regression_statistics.resolve_sampler(regression.make_spec(5, 3), "wishart")
  with pytest.raises(validation.ConfigError, match="sampler"):
    regression_statistics.resolve_sampler(regression.make_spec(5, 20), "bartlett")


@pytest.mark.parametrize("dof", [1.0, 1.5, 2.0, 5.0, 20.0, 199.0])
def test_chi_square_sampler_matches_scipy(dof):
  """Kolmogorov-Smirnov against scipy's chi^2 CDF on 2e5 draws, and the mean and variance within 5 s.e."""
  from scipy import stats  # pylint: disable=import-outside-toplevel
  x = np.asarray(jax.jit(regression_statistics.chi_square)(jax.random.key(3), jnp.full((200_000,), dof)), np.float64)
  assert np.all(x > 0)
  assert stats.kstest(x, stats.chi2(dof).cdf).pvalue > 1e-3
  assert abs(x.mean() - dof) < 5 * np.sqrt(2 * dof / x.size)
  assert abs(x.var() / (2 * dof) - 1) < 5 * np.sqrt(2 / x.size) * np.sqrt(1 + 6 / dof)
