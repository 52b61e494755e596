"""Softmax as linear attention at large prompts (Boursier & Boyer 2025): the closed forms against the paper's setting
computed independently (NumPy Monte Carlo of the model and sampler, quadrature against Monte Carlo, numbers worked
out by hand), the sampler's laws, the model's forms, an end-to-end quick run and the science gate's theory checks."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from icljax.experiment import configs, driver, registry
from icljax.models import softmax_as_linear as model
from icljax.results.softmax_as_linear import plan as plan_lib
from icljax.results.softmax_as_linear import setup as setup_lib
from icljax.tasks import softmax_as_linear as task
from icljax.theory import softmax_as_linear as theory
from icljax.theory import softmax_as_linear_exact as exact
from icljax.theory import softmax_as_linear_finite as finite


def _np_softmax_operator(U, V, x, z):
  """The operator written out in NumPy float64: sum_i exp(x_i^T U z) V x_i / sum_j exp(x_j^T U z)."""
  s = x @ (U @ z)
  w = np.exp(s - s.max())
  return (w / w.sum()) @ x @ V.T


# ---- the sampler and the model ----

@pytest.mark.parametrize("tokens", task.TOKENS)
def test_tokens_have_the_toeplitz_covariance(tokens):
  spec = task.make_spec(3, 8, tokens=tokens, covariance_kind="toeplitz", rho=0.5, scale=1.5)
  x = np.asarray(task.sample_tokens(jax.random.key(0), spec, (200_000,)), np.float64)
  expected = 2.25 * 0.5 ** np.abs(np.arange(3)[:, None] - np.arange(3)[None, :])
  np.testing.assert_allclose(np.cov(x.T), expected, atol=0.03)
  u = np.asarray(task.unit_draws(jax.random.key(1), tokens, (100_000,)))
  assert abs(u.mean()) < 0.02 and abs(u.var() - 1) < 0.02


def test_the_authors_sampler_draws_context_r_sigma_r_and_identity_queries():
  spec = task.make_spec(5, 50, covariance_kind="toeplitz", rho=0.5, data_bug=True)
  batch = task.sample_inputs(jax.random.key(0), spec, 4000)
  x = np.asarray(batch["x"], np.float64).reshape(-1, 5)
  np.testing.assert_allclose(np.cov(x.T), spec.context_cov(), atol=0.05)
  np.testing.assert_allclose(np.linalg.eigvalsh(spec.context_cov()), [0.130, 0.212, 0.483, 1.50, 5.00], atol=0.01)
  np.testing.assert_allclose(np.cov(np.asarray(batch["x_query"], np.float64).T), np.eye(5), atol=0.1)


def test_operator_and_layers_written_out():
  rng = np.random.default_rng(0)
  U, V, x, z = rng.normal(size=(3, 3)), rng.normal(size=(2, 3)), rng.normal(size=(7, 3)), rng.normal(size=3)
  got = model.operator(jnp.asarray(U), jnp.asarray(V), jnp.asarray(x), jnp.asarray(z))
  np.testing.assert_allclose(got, _np_softmax_operator(U, V, x, z), rtol=1e-5)
  params = model.init(jax.random.key(0), 3, 0.3)
  assert abs(float(jnp.linalg.norm(params["A"])) - float(params["b"])) < 1e-6   # Eq. (9): |A|_F = b
  batch = {"x": jnp.asarray(x[None]), "y": jnp.asarray(rng.normal(size=(1, 7))), "x_query": jnp.asarray(z[None])}
  A, b, y = np.asarray(params["A"]), float(params["b"]), np.asarray(batch["y"][0])
  s = x @ A @ z
  np.testing.assert_allclose(model.predict(params, batch, "linear")[0], b * np.mean(s * y), rtol=1e-5)
  w = np.exp(s - s.max())
  np.testing.assert_allclose(model.predict(params, batch)[0], b * (w / w.sum()) @ y, rtol=1e-5)


@pytest.mark.slow
def test_marginal_loss_is_the_mean_over_w_and_noise():
  spec = task.make_spec(3, 16, 0.4, prior_var=0.7)
  params = {"A": 0.4 * jnp.eye(3), "b": jnp.asarray(2.0)}
  inputs = task.sample_inputs(jax.random.key(0), spec, 4)
  keys = jax.random.split(jax.random.key(1), 20000)

  def sampled(k):
    w = jnp.sqrt(spec.prior_var) * jax.random.normal(k, (4, 3))
    eps = spec.sigma * jax.random.normal(jax.random.fold_in(k, 1), (4, 17))
    batch = {**inputs, "y": jnp.einsum("bld,bd->bl", inputs["x"], w) + eps[:, :16]}
    return (model.predict(params, batch) - jnp.einsum("bd,bd->b", inputs["x_query"], w) - eps[:, 16]) ** 2

  mc = np.asarray(jax.vmap(sampled)(keys), np.float64)
  got = np.asarray(plan_lib.marginal_loss(params, inputs, spec, "softmax"))
  np.testing.assert_allclose(got, mc.mean(0), atol=5 * mc.std(0).max() / math.sqrt(len(keys)))


# ---- Lemma 2.1, its quadrature and its non-Gaussian controls ----

def test_gauss_hermite_is_the_probabilists_rule():
  x, w = theory.gauss_hermite(20)
  np.testing.assert_allclose([w @ x**k for k in range(6)], [1, 0, 1, 0, 3, 0], atol=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_quadrature_tilt_is_lemma_2_1_for_singular_gaussians(seed):
  rng = np.random.default_rng(seed)
  m, b, a = rng.normal(size=3), rng.normal(size=(3, 2)), rng.normal(size=3)
  mean, cov = theory.tilt_by_quadrature(m, b, a, 40)
  np.testing.assert_allclose(mean, m + b @ b.T @ a, atol=1e-10)
  np.testing.assert_allclose(cov, b @ b.T, atol=1e-10)


@pytest.mark.parametrize(("tokens", "c", "value"), [
    ("rademacher", 2.0, 0.9640), ("uniform", 0.5, 0.4767), ("uniform", 1.0, 0.8440), ("uniform", 2.0, 1.2354),
    ("rademacher", 0.5, 0.4621), ("gaussian", 2.0, 2.0)])
def test_mean_map_values(tokens, c, value):
  assert abs(float(theory.mean_map(tokens, c)) - value) < 1e-4


def test_uniform_mean_map_against_quadrature_and_its_series():
  u, w = np.polynomial.legendre.leggauss(200)
  u = u * math.sqrt(3.0)
  for c in (1e-4, 0.3, 1.7):
    np.testing.assert_allclose(theory.mean_map("uniform", c), (w * u * np.exp(c * u)).sum() / (w * np.exp(c * u)).sum(),
                               rtol=1e-9)


@settings(max_examples=30, deadline=None)
@given(st.floats(-5, 5))
def test_non_gaussian_mean_maps_are_odd_and_below_the_linear_form(c):
  for tokens in ("uniform", "rademacher"):
    v = float(theory.mean_map(tokens, c))
    assert abs(v + float(theory.mean_map(tokens, -c))) < 1e-12
    assert abs(v) <= abs(c) + 1e-12 and v * c >= 0


@pytest.mark.parametrize("tokens", task.TOKENS)
def test_operator_limit_against_monte_carlo(tokens):
  spec = task.make_spec(2, 4, tokens=tokens, covariance_kind="toeplitz", rho=0.3)
  root = np.asarray(spec.root, np.float64)
  U, V, m, z = np.array([[0.8, 0.2], [-0.1, 0.6]]), np.eye(2), np.array([0.3, -0.2]), np.array([1.0, 0.7])
  x = np.asarray(task.sample_tokens(jax.random.key(3), spec, (400_000,)), np.float64) + m
  got = _np_softmax_operator(U, V, x, z)
  limit = theory.operator_limit(tokens, m, root, U, V, z)
  np.testing.assert_allclose(got, limit, atol=0.01)
  linear = theory.operator_limit("gaussian", m, root, U, V, z)
  np.testing.assert_allclose(linear, m + root @ root.T @ U @ z, atol=1e-12)
  if tokens != "gaussian":
    assert np.max(np.abs(limit - linear)) > 0.03


# ---- concentration ----

@pytest.mark.parametrize(("d", "trace", "value"), [(2, 2.0, 2.812), (2, 8.0, 11.25), (5, 5.0, 9.826)])
def test_concentration_constant_values(d, trace, value):
  assert abs(theory.output_error_expansion(d, trace, 0.1)[0] - value) < 1e-3
  cov = np.eye(d) * trace / d
  U = math.sqrt(0.1) * np.eye(d) / math.sqrt(trace / d)
  assert abs(theory.output_error_constant(cov, U, np.eye(d)) - value) < 1e-3


@pytest.mark.slow
def test_concentration_expansion_against_monte_carlo():
  d, L, lam = 3, 32, 0.05
  cov = task.toeplitz(d, 0.4)
  evals, evecs = np.linalg.eigh(cov)
  U = math.sqrt(lam) * (evecs / np.sqrt(evals)) @ evecs.T
  spec = task.make_spec(d, L, covariance_kind="toeplitz", rho=0.4)
  x = task.sample_tokens(jax.random.key(0), spec, (40_000, L))
  z = jax.random.normal(jax.random.key(1), (40_000, d))
  err = model.operator(jnp.asarray(U, jnp.float32), jnp.eye(d), x, z) - z @ jnp.asarray(cov @ U, jnp.float32).T
  e = np.asarray(jnp.sum(err**2, -1), np.float64)
  c1, c2 = theory.output_error_expansion(d, float(np.trace(cov)), lam)
  assert abs(L * e.mean() - (c1 + c2 / L)) < 4 * L * e.std() / math.sqrt(e.size)
  one = theory.error_at_one_token(cov, U, np.eye(d))
  assert abs(one - (np.trace(cov) + np.sum((cov @ U) ** 2))) < 1e-12


# ---- the infinite-prompt layer ----

@pytest.mark.parametrize(("cov", "a", "b"), [(np.eye(2), 0.8409, 1.1892), (np.eye(5), 0.6687, 1.4953),
                                             (task.toeplitz(5, 0.5), 0.5044, 1.9824)])
def test_balanced_end_point_values_and_stationarity(cov, a, b):
  A, bb = theory.balanced_endpoint(cov)
  np.testing.assert_allclose(A, a * np.linalg.inv(cov), atol=1e-4)
  assert abs(bb - b) < 1e-4 and abs(np.sum(A * A) - bb**2) < 1e-12
  with jax.enable_x64(True):
    g = jax.grad(lambda p: theory.population_risk(p[0], p[1], jnp.asarray(cov), 1.0))((jnp.asarray(A), bb))
  assert max(float(jnp.max(jnp.abs(g[0]))), abs(float(g[1]))) < 1e-10
  A2, b2 = theory.balanced_endpoint(cov, 0.3)
  assert abs(np.sum(A2 * A2) - b2**2 - 0.3) < 1e-10 and np.allclose(b2 * A2, np.linalg.inv(cov))


def test_population_risk_against_monte_carlo():
  rng = np.random.default_rng(0)
  cov = task.toeplitz(3, 0.5)
  A, b = rng.normal(size=(3, 3)) * 0.5, 1.3
  x = rng.multivariate_normal(np.zeros(3), cov, 400_000)
  w = math.sqrt(0.6) * rng.normal(size=(400_000, 3))
  err = 0.5 * (b * np.einsum("nd,de,ef,nf->n", w, cov, A, x) - np.einsum("nd,nd->n", w, x)) ** 2
  got = float(theory.population_risk(jnp.asarray(A), b, jnp.asarray(cov), 0.6))
  assert abs(got - err.mean()) < 4 * err.std() / math.sqrt(err.size)


def test_linear_attention_optimum_isotropic_and_monte_carlo():
  B, ex = theory.linear_attention_optimum(np.eye(4), 30, 0.2)
  eta = 30 / (30 + 4 + 1 + 0.2)
  np.testing.assert_allclose(B, eta * np.eye(4), atol=1e-12)
  assert abs(ex - 4 * (1 - eta)) < 1e-12
  spec = task.make_spec(3, 12, 0.5, covariance_kind="toeplitz", rho=0.5, prior_var=1.0)
  B, ex = theory.linear_attention_optimum(np.asarray(spec.cov, np.float64), 12, 0.25)
  inputs = task.sample_inputs(jax.random.key(0), spec, 200_000)
  e = np.asarray(plan_lib.marginal_loss({"A": jnp.asarray(B, jnp.float32), "b": jnp.asarray(1.0)}, inputs, spec,
                                        "linear"), np.float64) - 0.25
  assert abs(e.mean() - ex) < 4 * e.std() / math.sqrt(e.size)


# ---- the finite-L optimum ----

@pytest.mark.parametrize(("d", "noise", "ts", "F", "kappa"), [
    (1, 0.0, 0.2324, 8.44, 5.88), (2, 0.0, 0.1910, 22.18, 8.47), (2, 0.1, 0.1926, 23.03, 8.87),
    (3, 0.0, 0.1615, 41.30, 11.12), (5, 0.0, 0.1228, 95.78, 16.47), (5, 0.1, 0.1231, 97.42, 16.80),
    (10, 0.0, 0.0764, 326.95, 29.99), (20, 0.0, 0.0434, 1196.9, 57.13)])
def test_first_order_values(d, noise, ts, F, kappa):
  t = finite.t_star(d, float(d), noise)
  assert abs(t - ts) < 1e-4
  assert abs(finite.first_order_excess(t, d, float(d), noise) / F - 1) < 1e-3
  assert abs(finite.kappa(t, d, float(d), noise) / kappa - 1) < 1e-3
  h = 1e-6   # t* minimises F
  assert finite.first_order_excess(t + h, d, d, noise) > finite.first_order_excess(t, d, d, noise)
  assert finite.first_order_excess(t - h, d, d, noise) > finite.first_order_excess(t, d, d, noise)


def test_first_order_at_the_authors_scale():
  """d = 5, w ~ N(0, I/5), sigma^2 = 0.1, tr Sigma = 5: t* = 0.1242, L excess -> 20.80."""
  t = finite.t_star(5, 5.0, 0.1 / 0.2)
  assert abs(t - 0.1242) < 1e-4 and abs(finite.first_order_excess(t, 5, 5.0, 0.5, 0.2) - 20.80) < 0.01


@pytest.mark.parametrize(("d", "noise"), [(3, 0.0), (5, 0.0), (5, 0.1), (8, 0.3)])
def test_the_expansion_first_order_is_the_closed_form(d, noise):
  for t in (0.05, 0.1, 0.14):
    e = finite.expansion(t, d, 1.7 * d, noise)
    assert abs(e["F"] - finite.first_order_excess(t, d, 1.7 * d, noise)) < 1e-9 * e["F"]
    assert abs(e["kappa"] - finite.kappa(t, d, 1.7 * d, noise)) < 1e-9 * e["kappa"]


def test_isotropic_sigma_has_no_anisotropic_shape():
  k, theta = finite.anisotropic_product(0.12, 2.0 * np.eye(4), 0.1)
  assert abs(k - finite.kappa(0.12, 4, 8.0, 0.1)) < 1e-12
  del theta


@pytest.mark.slow
@pytest.mark.parametrize(("alpha", "L"), [(0.7, 16), (2.0, 100), (0.3, 5)])
def test_exact_self_normalised_moments_against_monte_carlo(alpha, L):
  rng = np.random.default_rng(0)
  u = rng.normal(size=(300_000, L))
  w = np.exp(alpha * u - (alpha * u).max(1, keepdims=True))
  p = w / w.sum(1, keepdims=True)
  s1, pi2 = (p * u).sum(1), (p * p).sum(1)
  with jax.enable_x64(True):
    got = [float(v[0]) for v in exact.snis_moments(jnp.array([alpha]), jnp.float64(L))]
  for g, sample in zip(got, (s1, s1**2, pi2)):
    assert abs(g - sample.mean()) < 4 * sample.std() / math.sqrt(sample.size)


@pytest.mark.slow
def test_exact_valley_against_the_model_on_sampled_prompts():
  """The quadrature's excess at (t, L) against the trained model's own loss on sampled prompts (independent)."""
  d, L, t = 3, 24, 0.2
  spec = task.make_spec(d, L, 0.3, covariance_kind="toeplitz", rho=0.4)
  cov = np.asarray(spec.cov, np.float64)
  ex, prod = exact.valley(np.array([t]), L, d, float(np.trace(cov)), 0.09)
  b = prod[0] / math.sqrt(t)
  params = {"A": jnp.asarray(math.sqrt(t) * np.linalg.inv(cov), jnp.float32), "b": jnp.asarray(b, jnp.float32)}
  e = np.asarray(plan_lib.marginal_loss(params, task.sample_inputs(jax.random.key(2), spec, 200_000), spec,
                                        "softmax"), np.float64) - 0.09
  assert abs(e.mean() - ex[0]) < 4 * e.std() / math.sqrt(e.size)


@pytest.mark.slow
def test_exact_optimum_approaches_the_first_order_forms():
  """d = 5: the exact finite-L optimum against t*, 1 - kappa/L and F(t*); the remainders shrink and stay below the
  second-order terms (L = 256: t_L = 0.1506, b a = 0.9450, L excess = 84.99)."""
  sec = finite.second_order_at_optimum(5, 5.0)
  assert abs(sec["tau1"] - 50.16) < 0.05 and abs(sec["F2"] + 6901.0) < 1.0
  rem = []
  for L in (256, 4096):
    opt = exact.finite_optimum(L, 5, 5.0)
    rem.append((opt["t"] - sec["t_star"], 1 - sec["kappa"] / L - opt["product"], sec["F"] - L * opt["excess"]))
    assert 0 < rem[-1][0] < sec["tau1"] / L and 0 < -rem[-1][1] < sec["kappa2_opt"] / L**2
    assert 0 < rem[-1][2] < -sec["F2"] / L
  assert abs(exact.finite_optimum(256, 5, 5.0)["t"] - 0.1506) < 5e-4
  assert all(abs(b) < abs(a) for a, b in zip(*rem))


# ---- configs and runs ----

@pytest.mark.parametrize("arg", [None, "quick", "gate", "L64", "L1024", "noisy", "toeplitz", "uniform", "rademacher",
                                 "two_scales", "official_bug"])
def test_every_variant_parses(arg):
  config = configs.load("softmax_as_linear" + (f":{arg}" if arg else ""))
  setup_lib.parse(config)


def test_run_names_are_derived_from_the_fields():
  names = {ref.variants: configs.run_name(configs.load(ref)) for ref in registry.get("softmax_as_linear").main_job}
  assert names[()] == "softmax_as_linear" and names[("L64",)] == "softmax_as_linear_L64_M16384"
  assert names[("official_bug",)] == "softmax_as_linear_toeplitz_data_bug_L1000_sigma0.316228_prior_var0.2_M1024"
  assert len(set(names.values())) == len(names)
  assert configs.run_name(configs.load(registry.get("softmax_as_linear").gate)) == "softmax_as_linear_L64_M2048"


@pytest.mark.slow
def test_quick_run_writes_its_artefacts(tmp_path):
  summary = driver.run(configs.load("softmax_as_linear:quick"), tmp_path / "run", printer=lambda s: None)
  assert (tmp_path / "run" / "params.npz").exists() and summary["figures"]
  assert {c["entry"] for c in summary["comparisons"]} >= {"operator_identity", "finite_t", "population_endpoint"}


@pytest.mark.slow
def test_the_gate_theory_checks_pass(tmp_path):
  summary = driver.run(configs.load(registry.get("softmax_as_linear").gate), tmp_path / "run", printer=lambda s: None)
  theory_checks = [c for c in summary["comparisons"] if c["kind"] == "theory"]
  assert len(theory_checks) >= 15
  assert all(c["passed"] for c in theory_checks), [c for c in theory_checks if not c["passed"]]
  assert {c["entry"] for c in summary["comparisons"] if c["status"] == "disagrees"} == {"prop31_at_one"}
