"""Closed forms of the lsa theorem against the docs page's reference values (an independent float64 computation of
the closed forms, rounded to 6 decimals), independent NumPy Monte Carlo and exact identities."""

import jax
import numpy as np
import pytest

from icljax import structure
from icljax.tasks import regression
from icljax.theory import lsa as theory
from icljax.theory import lsa_mc as theory_mc

# The docs page's table of eta* and L* (section "What is checked and why"): (n, d, sigma, eta*, sum-loss eta, L*).
TABLE = [(20, 5, 0, 0.769231, 0.038462, 1.153846), (20, 5, 0.5, 0.761905, 0.038095, 1.440476),
         (20, 5, 1, 0.740741, 0.037037, 2.296296), (20, 5, 2, 0.666667, 0.033333, 5.666667),
         (10, 10, 0, 0.476190, 0.047619, 5.238095), (40, 10, 1, 0.769231, 0.019231, 3.307692),
         (100, 10, 0, 0.900901, 0.009009, 0.990991), (5, 5, 0, 0.454545, 0.090909, 2.727273),
         (1, 1, 0, 0.333333, 0.333333, 0.666667)]


@pytest.mark.parametrize("n,d,sigma,eta,eta_sum,loss", TABLE)
def test_closed_forms_match_the_reference_table(n, d, sigma, eta, eta_sum, loss):
  assert theory.eta_star(n, d, sigma) == pytest.approx(eta, abs=1e-6)
  assert theory.eta_star(n, d, sigma, "sum") == pytest.approx(eta_sum, abs=1e-6)
  assert theory.optimal_loss(n, d, sigma) == pytest.approx(loss, abs=1e-6)


def test_relu_closed_forms_match_the_reference_values():
  assert theory.eta_relu_net(20, 5, 0) == pytest.approx(0.606061, abs=1e-6)
  assert theory.optimal_loss_relu_net(20, 5, 0) == pytest.approx(1.742424, abs=1e-6)
  assert theory.eta_relu_net(10, 10, 0) == pytest.approx(0.303030, abs=1e-6)
  assert theory.optimal_loss_relu_net(10, 10, 0) == pytest.approx(4.242424, abs=1e-6)


def _numpy_prompts(rng, batch, n, d, sigma, cov=None, prior="identity"):
  """Independent NumPy sampler (the JAX sampler is not used)."""
  root = np.eye(d) if cov is None else np.linalg.cholesky(cov)
  x = rng.standard_normal((batch, n + 1, d)) @ root.T
  w = rng.standard_normal((batch, d))
  if prior == "inv_cov":
    w = np.linalg.solve(root.T, w.T).T  # Cov(w) = (L L^T)^{-1} = Sigma^{-1}
  y = np.einsum("bnd,bd->bn", x, w) + sigma * rng.standard_normal((batch, n + 1))
  return x[:, :n], y[:, :n], x[:, n], y[:, n]


def test_eta_star_and_loss_against_numpy_monte_carlo():
  rng = np.random.default_rng(0)
  n, d, sigma = 20, 5, 0.5
  x, y, xq, yq = _numpy_prompts(rng, 200_000, n, d, sigma)
  p = np.einsum("bnd,bn,bd->b", x, y, xq) / n
  eta_hat = np.mean(p * yq) / np.mean(p * p)
  resid = p * yq - eta_hat * p * p
  se = np.std(resid) / np.sqrt(len(p)) / np.mean(p * p)
  assert abs(eta_hat - theory.eta_star(n, d, sigma)) < 4 * se
  err = (theory.eta_star(n, d, sigma) * p - yq) ** 2
  assert abs(err.mean() - theory.optimal_loss(n, d, sigma)) < 4 * err.std() / np.sqrt(len(err))


def test_loss_at_B_quadratic_landscape_against_monte_carlo():
  # At B = eta* I + 0.2 N(0, 1) noise (n = 20, d = 5, sigma = 0.5) the quadratic in B against NumPy Monte Carlo.
  rng = np.random.default_rng(1)
  n, d, sigma = 20, 5, 0.5
  b = theory.eta_star(n, d, sigma) * np.eye(d) + 0.2 * rng.standard_normal((d, d))
  x, y, xq, yq = _numpy_prompts(rng, 200_000, n, d, sigma)
  g = np.einsum("bnd,bn->bd", x, y) / n
  err = (np.einsum("bd,de,be->b", xq, b, g) - yq) ** 2
  assert abs(err.mean() - theory.loss_at_B(b, n, sigma)) < 4 * err.std() / np.sqrt(len(err))


@pytest.mark.slow
@pytest.mark.parametrize("prior", ["inv_cov", "identity"])
def test_optimal_B_matches_normal_equations(prior):
  # Numerical theory (MC normal equations through the JAX sampler) vs the closed forms of Thm 2 / Ahn et al.
  spec = regression.make_spec(3, 10, 0.3, spectrum=(1.0, 0.5, 0.2), rotation="random", prior=prior)
  cov = np.asarray(spec.cov, np.float64)
  closed = (theory.eta_star(10, 3, 0.3) * theory.preconditioner_inv_cov(cov) if prior == "inv_cov"
            else theory.gamma_star(cov, 10, 0.3))
  mc = theory_mc.optimal_B_mc(jax.random.key(0), spec, 400_000, chunk=20_000)
  # MC error of the 9 regression coefficients at 4e5 prompts is about 1% of |B|.
  assert structure.relative_error(mc, closed) < 0.03


def test_identity_prior_loss_against_numpy_monte_carlo():
  rng = np.random.default_rng(2)
  cov = regression.covariance(4, (2.0, 1.0, 0.3, 0.1), "random", 4)
  n, sigma = 12, 0.4
  x, y, xq, yq = _numpy_prompts(rng, 200_000, n, 4, sigma, cov=cov)
  g = np.einsum("bnd,bn->bd", x, y) / n
  err = (np.einsum("bd,de,be->b", xq, theory.gamma_star(cov, n, sigma), g) - yq) ** 2
  expected = theory.optimal_loss_identity_prior(cov, n, sigma)
  assert abs(err.mean() - expected) < 4 * err.std() / np.sqrt(len(err))


def test_ahn_metrics_of_the_preconditioned_covariance():
  # Ahn et al.'s spectrum (1, 1, 0.25, 0.0625, 1): Dist(Sigma^-1, I) = 0.784; Dist(Gamma*, I) = 0.603 at n = 20,
  # sigma = 0 (rotation invariant; the docs page's reference values).
  cov = regression.covariance(5, (1, 1, 0.25, 0.0625, 1), "random", 1)
  assert structure.dist_to_identity(np.linalg.inv(cov)) == pytest.approx(0.784, abs=5e-4)
  assert structure.dist_to_identity(theory.gamma_star(cov, 20, 0.0)) == pytest.approx(0.603, abs=5e-4)
  assert structure.dist_to_identity(structure.whiten(theory.gamma_star(cov, 20, 0.0), cov)) == pytest.approx(
      0.311, abs=5e-4)
  # Sigma = I reduces Gamma* to eta* I (Ahn et al. agree with Mahankali et al. there).
  np.testing.assert_allclose(theory.gamma_star(np.eye(5), 20, 0.5), theory.eta_star(20, 5, 0.5) * np.eye(5))


@pytest.mark.slow
def test_relu_eta_closed_form_against_monte_carlo():
  spec = regression.make_spec(5, 20, 0.5, target="relu", width=4)
  eta, se = theory_mc.eta_mc(jax.random.key(3), spec, 200_000, chunk=20_000)
  assert abs(eta - theory.eta_relu_net(20, 5, 0.5)) < 4 * se


def test_one_step_gd_is_a_gradient_step_on_the_empirical_risk():
  rng = np.random.default_rng(4)
  x, y, xq, _ = _numpy_prompts(rng, 3, 7, 3, 0.1)
  prompts = {"x": x.astype(np.float32), "y": y.astype(np.float32), "x_query": xq.astype(np.float32)}
  gamma = np.array([[2.0, 0.3, 0.0], [0.3, 1.0, 0.0], [0.0, 0.0, 0.5]])
  eta = 0.7
  # grad of (1/2n) sum (w^T x - y)^2 at w = 0 is -(1/n) X^T y; one preconditioned step: w1 = eta Gamma X^T y / n.
  w1 = np.stack([eta * gamma @ (x[b].T @ y[b]) / 7 for b in range(3)])
  expected = np.einsum("bd,bd->b", w1, xq)
  np.testing.assert_allclose(theory.one_step_gd_predict(prompts, eta, gamma), expected, rtol=1e-5)


@pytest.mark.slow
def test_ridge_predictor_and_bayes_risk():
  rng = np.random.default_rng(5)
  n, d, sigma = 8, 3, 0.7
  x, y, xq, yq = _numpy_prompts(rng, 100_000, n, d, sigma)
  prompts = {"x": x.astype(np.float32), "y": y.astype(np.float32), "x_query": xq.astype(np.float32)}
  gram = np.einsum("bnd,bne->bde", x, x) + sigma**2 * np.eye(d)
  w = np.linalg.solve(gram, np.einsum("bnd,bn->bd", x, y)[..., None])[..., 0]
  pred = np.einsum("bd,bd->b", w, xq)
  np.testing.assert_allclose(theory.ridge_predict(prompts, sigma**2), pred, rtol=2e-3, atol=2e-3)
  err = (pred - yq) ** 2
  risk, risk_se = theory_mc.bayes_risk_mc(jax.random.key(6), regression.make_spec(d, n, sigma), 100_000)
  assert abs(err.mean() - risk) < 4 * np.hypot(err.std() / np.sqrt(len(err)), risk_se)
  # Bayes ridge MSE 0.3370 at d=5, n=20, sigma=0.5 (an independent NumPy Monte Carlo; the docs page); the one-layer
  # LSA optimum is 1.4405.
  risk, risk_se = theory_mc.bayes_risk_mc(jax.random.key(7), regression.make_spec(5, 20, 0.5), 200_000)
  assert abs(risk - 0.3370) < 0.003
