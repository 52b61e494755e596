"""Tolerances from a statistic's null distribution computed in the run: the chi-square quantile, the weighted
chi-square quantile (Liu, Tang & Zhang), the M-estimator (sandwich) covariance and the null of Dist(X, I)^2, each
against closed forms, SciPy or Monte Carlo; and the checker's ``quantile=`` option."""

import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats as sps

from icljax import stats, structure
from icljax.experiment.checks import Checker, Tolerance


@pytest.mark.parametrize("dof,tail", [(1.0, 0.05), (7.3, 6.3e-5), (24.0, 1e-3), (0.4, 1e-2)])
def test_chi2_isf_matches_scipy(dof, tail):
  assert stats.chi2_isf(dof, tail) == pytest.approx(sps.chi2.isf(tail, dof), rel=1e-8)


def test_quadratic_form_quantile_is_exact_for_equal_weights():
  tail = 2 * sps.norm.sf(4.0)
  assert stats.quadratic_form_quantile([0.3] * 6 + [0.0], 4.0) == pytest.approx(0.3 * sps.chi2.isf(tail, 6), rel=1e-8)
  assert stats.quadratic_form_quantile(np.zeros(3)) == 0.0
  with pytest.raises(ValueError, match="negative weight"):
    stats.quadratic_form_quantile([1.0, -0.5])


def test_quadratic_form_quantile_has_its_tail_for_unequal_weights():
  # k = 3 (two-sided normal tail 2.7e-3): 2e6 draws put the empirical tail within ~1.4% (1 s.e.).
  w = np.array([5.0, 1.0, 1.0, 0.5, 0.1, 0.1, 0.02])
  q = stats.quadratic_form_quantile(w, 3.0)
  z = np.random.default_rng(0).standard_normal((2_000_000, w.size))
  tail = float(np.mean((z**2) @ w > q))
  assert tail == pytest.approx(2 * sps.norm.sf(3.0), rel=0.1)
  assert q < w.max() * sps.chi2.isf(2 * sps.norm.sf(3.0), w.size)   # tighter than the largest-weight bound


def _ols(theta, batch):
  return (batch["y"] - batch["x"] @ theta) ** 2


def _heteroscedastic(rng, m):
  """y = x . theta* + eps |x_0|, x ~ N(0, D), D = diag(1, 4, 1/4): H = 2 D, V = 4 E[x x^T x_0^2 eps^2] =
  4 diag(3, 4, 1/4), so the OLS minimiser's covariance H^-1 V H^-1 / M is diag(3, 1/4, 4) / M, not the
  homoscedastic Var(resid) (X^T X)^-1 = diag(1, 1/4, 4) / M nor V / 4 / M = diag(3, 4, 1/4) / M."""
  x = rng.standard_normal((m, 3)) * np.sqrt([1.0, 4.0, 0.25])
  return {"x": x, "y": x @ np.array([1.0, -2.0, 0.5]) + rng.standard_normal(m) * np.abs(x[:, 0])}


def test_sandwich_covariance_is_the_m_estimators_covariance():
  rng = np.random.default_rng(1)
  data = {k: jnp.asarray(v) for k, v in _heteroscedastic(rng, 100_000).items()}
  cov = stats.sandwich_covariance(_ols, jnp.array([1.0, -2.0, 0.5]), data, size=200)
  # Closed form; the estimate's own error is ~2% on the (0, 0) entry (E x^8 eps^4 / 1e5).
  np.testing.assert_allclose(np.diag(cov) * 200, [3.0, 0.25, 4.0], rtol=0.08)
  assert np.max(np.abs(cov - np.diag(np.diag(cov))) / np.sqrt(np.outer(np.diag(cov), np.diag(cov)))) < 0.05
  # Against the minimisers themselves: 2000 data sets of M = 200.
  fits = np.array([np.linalg.lstsq(b["x"], b["y"], rcond=None)[0] for b in
                   (_heteroscedastic(rng, 200) for _ in range(2000))])
  np.testing.assert_allclose(np.diag(np.cov(fits, rowvar=False)), np.diag(cov), rtol=0.15)


def test_dist_noise_weights_give_the_mean_of_dist_squared():
  rng = np.random.default_rng(2)
  d, c = 3, 0.7
  root = rng.standard_normal((d * d, d * d)) * 1e-3
  noise_cov = root @ root.T
  w = structure.dist_noise_weights(c * np.eye(d), noise_cov)
  assert w.shape == (d * d,) and np.min(w) >= 0 and np.sum(w < 1e-15) >= 1   # the trace direction carries none
  draws = rng.standard_normal((100_000, d * d)) @ root.T
  dist2 = np.array([structure.dist_to_identity(c * np.eye(d) + e.reshape(d, d)) ** 2 for e in draws[:20_000]])
  se = dist2.std() / np.sqrt(dist2.size)
  assert abs(dist2.mean() - w.sum()) <= 4 * se + 1e-3 * w.sum()   # + the linearisation (noise ~ 1e-3)


def test_checker_takes_a_tolerance_from_a_null_quantile():
  c = Checker({"iso": Tolerance(4.0, "max", "standard error", "test", per_se=True)})
  weights = np.full(8, 1e-4)
  bound = np.sqrt(stats.quadratic_form_quantile(weights, 4.0))
  low, high = (c("iso", "Dist", 0.0, m, quantile=lambda k: float(np.sqrt(stats.quadratic_form_quantile(weights, k))))
               for m in (0.9 * bound, 1.1 * bound))
  assert low.passed and not high.passed and low.tolerance == pytest.approx(bound)
