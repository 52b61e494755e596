"""In-context denoising (Smart, Bietti & Sengupta 2025): the theory against independent computations (SciPy's
Bessel functions, NumPy Monte Carlo on prompts drawn here, brute-force posterior means, reference values computed
independently of this code in float64 NumPy/SciPy), the task laws, the models' structure, an end-to-end quick run,
and the science gates."""

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from icljax import validation
from icljax.experiment import configs, driver, fields, main_job, registry
from icljax.models import icl_denoising as model
from icljax.tasks import icl_denoising as task
from icljax.theory import icl_denoising as theory
from icljax.theory import icl_denoising_energy as energy_theory
from icljax.theory import icl_denoising_linear as linear_theory
from icljax.theory import icl_denoising_mc as theory_mc

RNG = np.random.default_rng(0)


# ---------------------------------------------------------------- Bessel ratio and the sphere's posterior mean


@pytest.mark.parametrize("p", [2, 3, 5, 9, 15])
def test_bessel_ratio_matches_scipy(p):
  kappa = np.array([0.0, 1e-3, 0.3, 2.0, 10.0, 75.0, 500.0, 5000.0])
  with jax.enable_x64(True):
    ours = np.asarray(theory.bessel_ratio(p, jnp.asarray(kappa)))
  ref = np.array([0.0 if k == 0 else sp.ive(p / 2, k) / sp.ive(p / 2 - 1, k) for k in kappa])
  np.testing.assert_allclose(ours, ref, rtol=1e-11, atol=1e-300)


@pytest.mark.slow
@settings(max_examples=30, deadline=None)
@given(p=st.integers(2, 20), kappa=st.floats(0.01, 300.0))
def test_bessel_ratio_is_a_mean_resultant_length(p, kappa):
  """0 < A_p < 1, increasing in kappa, decreasing in p (more dimensions, less concentration)."""
  with jax.enable_x64(True):
    a = float(theory.bessel_ratio(p, jnp.float64(kappa)))
    assert 0 < a < 1
    assert float(theory.bessel_ratio(p, jnp.float64(kappa * 1.1))) > a
    assert float(theory.bessel_ratio(p + 1, jnp.float64(kappa))) < a


def test_shrink_factors_of_the_paper_and_of_the_code():
  """Prop. 3's A_{d+1}(10) against brute-force vMF means (0.9487, 0.9003, 0.6634 at d = 1, 2, 8), and the authors'
  code's orders I_{d-1/2}/I_{d-3/2} (1.0000, 0.9000, 0.5080): equal only at d = 2."""
  with jax.enable_x64(True):
    paper = [float(theory.bessel_ratio(d + 1, jnp.float64(10.0))) for d in (1, 2, 8)]
    code = [float(theory.bessel_ratio(2 * d - 1, jnp.float64(10.0))) for d in (1, 2, 8)]
  np.testing.assert_allclose(paper, [0.9486, 0.9000, 0.6645], atol=2e-4)
  np.testing.assert_allclose(code, [1.0000, 0.9000, 0.5080], atol=2e-4)
  # brute force: the posterior mean of a uniform point on S^d given x = R e_1 + noise with ||x_par|| = 1, kappa = 10
  for d, expected in ((1, 0.9487), (2, 0.9003), (8, 0.6634)):
    u = RNG.normal(size=(400_000, d + 1))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    w = np.exp(10.0 * (u[:, 0] - 1))
    assert abs(np.sum(w * u[:, 0]) / np.sum(w) - expected) < 5e-3


@pytest.mark.parametrize(("d", "sz", "expected"), [(8, 0.1, 0.463884), (2, 0.1, 0.188082), (1, 0.1, 0.106988),
                                                   (1, 10.0, 0.952331)])
def test_sphere_bayes_risk_quadrature_matches_reference_values(d, sz, expected):
  assert abs(theory.sphere_bayes_risk(d, 1.0, sz) - expected) < 2e-6


def test_sphere_bayes_risk_against_monte_carlo_and_the_code_baseline():
  """Quadrature vs the posterior mean's Monte-Carlo risk on the task's prompts; the code's orders are 4.2% worse at
  d = 8 (0.48348)."""
  spec = task.make_spec("sphere", 16, 8, 1, 0.0, 0.1)
  b = task.sample(jax.random.key(1), spec, 100_000)
  err = lambda f: np.sum((np.asarray(f) - np.asarray(b["target"])) ** 2, -1)
  bayes = err(theory.sphere_bayes_denoiser(b["query"], b["basis"], 1.0, 0.1))
  code = err(theory.sphere_code_baseline(b["query"], b["basis"], 1.0, 0.1))
  assert abs(bayes.mean() - theory.sphere_bayes_risk(8, 1.0, 0.1)) < 4 * bayes.std() / math.sqrt(len(bayes))
  assert abs(code.mean() - 0.48348) < 4 * code.std() / math.sqrt(len(code))
  diff = code - bayes
  assert diff.mean() > 10 * diff.std() / math.sqrt(len(diff))


# ---------------------------------------------------------------- linear subspaces


def _numpy_subspace_prompts(n, d, L, s0, sz, m, rng):
  """Prompts drawn here in NumPy (Haar subspaces by QR of Gaussians), independent of the task sampler."""
  q, r = np.linalg.qr(rng.normal(size=(m, n, d)))
  u = q * np.sign(np.diagonal(r, axis1=1, axis2=2))[:, None, :]
  g = math.sqrt(s0) * rng.normal(size=(m, L + 1, d))
  x = np.einsum("mnd,mtd->mtn", u, g)
  return x[:, :L], x[:, L], x[:, L] + math.sqrt(sz) * rng.normal(size=(m, n)), u


def test_subspace_risks_closed_forms_against_numpy():
  """Prop. 2's Bayes risk d s0 sz/(s0 + sz) = 5.3333 and the plain projection's d sz = 8 (not eq. (4)'s 5.3333) at
  the paper's n = 16, d = 8, sigma0^2 = 2, sigma_z^2 = 1."""
  _, x, xq, u = _numpy_subspace_prompts(16, 8, 1, 2.0, 1.0, 50_000, RNG)
  proj = np.einsum("mnd,md->mn", u, np.einsum("mnd,mn->md", u, xq))
  for f, ref in ((2 / 3 * proj, theory.subspace_bayes_risk(8, 2.0, 1.0)), (proj, theory.projection_risk(8, 1.0))):
    e = np.sum((f - x) ** 2, -1)
    assert abs(e.mean() - ref) < 4 * e.std() / math.sqrt(len(e))
  assert theory.subspace_bayes_risk(8, 2.0, 1.0) == pytest.approx(16 / 3)
  assert theory.projection_risk(8, 1.0) == 8.0
  bayes = theory.subspace_bayes_denoiser(jnp.asarray(xq, jnp.float32), jnp.asarray(u, jnp.float32), 2.0, 1.0)
  np.testing.assert_allclose(np.asarray(bayes), 2 / 3 * proj, atol=1e-4)


@pytest.mark.parametrize(("L", "expected"), [(19, 0.22619), (29, 0.25439), (99, 0.30556), (499, 0.32743)])
def test_gamma_star_reference_values(L, expected):
  assert linear_theory.linear_gamma_star(8, L, 2.0, 1.0) == pytest.approx(expected, abs=1e-5)
  assert linear_theory.linear_gamma_limit(2.0, 1.0) == pytest.approx(1 / 3)


@pytest.mark.parametrize(("n", "d", "L", "s0", "sz"), [(16, 8, 19, 2.0, 1.0), (6, 3, 10, 1.0, 0.5)])
def test_gamma_star_and_risk_against_numpy_least_squares(n, d, L, s0, sz):
  """The scalar least-squares gamma = sum <C x, x0> / sum ||C x||^2 on NumPy prompts, and the risk at gamma*_L."""
  ctx, x, xq, _ = _numpy_subspace_prompts(n, d, L, s0, sz, 40_000, RNG)
  g = np.einsum("mtn,mt->mn", ctx, np.einsum("mtn,mn->mt", ctx, xq)) / L
  a, b = np.sum(g * x, -1), np.sum(g * g, -1)
  gamma = a.sum() / b.sum()
  se = np.std(a - gamma * b) / (math.sqrt(len(a)) * b.mean())
  assert abs(gamma - linear_theory.linear_gamma_star(d, L, s0, sz)) < 4 * se
  gs = linear_theory.linear_gamma_star(d, L, s0, sz)
  e = np.sum((gs * g - x) ** 2, -1)
  assert abs(e.mean() - linear_theory.linear_risk(gs, d, L, s0, sz)) < 4 * e.std() / math.sqrt(len(e))
  # the finite-L excess over Bayes: sigma0^4 d (d+1) / ((sigma0^2 + sigma_z^2)(L + d + 1))
  excess = linear_theory.linear_risk(gs, d, L, s0, sz) - theory.subspace_bayes_risk(d, s0, sz)
  assert excess == pytest.approx(s0**2 * d * (d + 1) / ((s0 + sz) * (L + d + 1)), rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(d=st.integers(1, 12), L=st.integers(1, 1000), s0=st.floats(0.1, 5.0), sz=st.floats(0.01, 5.0))
def test_gamma_star_minimises_the_risk(d, L, s0, sz):
  gs = linear_theory.linear_gamma_star(d, L, s0, sz)
  risk = lambda g: linear_theory.linear_risk(g, d, L, s0, sz)
  h = 1e-4 * gs
  assert risk(gs) <= min(risk(gs + h), risk(gs - h))
  assert gs < linear_theory.linear_gamma_limit(s0, sz)


def test_sphere_gamma_star_against_numpy_least_squares():
  """Our derivation 1/[(R^2/(d+1) + sigma_z^2)(1 + d/L)] against the scalar least squares on NumPy sphere prompts."""
  d, L, sz, R, m = 4, 7, 0.2, 1.3, 60_000
  v = RNG.normal(size=(m, L + 1, d + 1))
  v = R * v / np.linalg.norm(v, axis=-1, keepdims=True)
  ctx, x = v[:, :L], v[:, L]
  xq = x + math.sqrt(sz) * RNG.normal(size=x.shape)   # the noise outside the subspace never enters C x
  g = np.einsum("mtn,mt->mn", ctx, np.einsum("mtn,mn->mt", ctx, xq)) / L
  a, b = np.sum(g * x, -1), np.sum(g * g, -1)
  gamma = a.sum() / b.sum()
  se = np.std(a - gamma * b) / (math.sqrt(m) * b.mean())
  assert abs(gamma - linear_theory.sphere_linear_gamma_star(d, L, R, sz)) < 4 * se


@settings(max_examples=40, deadline=None)
@given(delta=st.floats(-5.0, 5.0), n=st.integers(1, 32), gamma=st.floats(1e-3, 10.0))
def test_balanced_weights_conserve_the_difference(delta, n, gamma):
  a, b = linear_theory.balanced_weights(delta, n, gamma)
  assert a > 0 and b > 0
  assert a * b == pytest.approx(gamma, rel=1e-9)
  assert n * (a * a - b * b) == pytest.approx(delta, abs=1e-9 * (1 + abs(delta) + n * gamma))


# ---------------------------------------------------------------- mixtures


@pytest.mark.slow
def test_mixture_posterior_mean_against_brute_force_and_tweedie():
  """Prop. 4 against self-normalised importance sampling of the posterior (prior draws weighted by the likelihood)
  and Tweedie's formula by autodiff."""
  n, K, s0, sz = 4, 3, 0.05, 0.3
  mu = RNG.normal(size=(K, n))
  mu /= np.linalg.norm(mu, axis=1, keepdims=True)
  xq = mu[0] + 0.3 * RNG.normal(size=n)
  draws = mu[RNG.integers(0, K, 400_000)] + math.sqrt(s0) * RNG.normal(size=(400_000, n))
  logw = -np.sum((xq - draws) ** 2, -1) / (2 * sz)
  w = np.exp(logw - logw.max())
  brute = (w[:, None] * draws).sum(0) / w.sum()
  args = (jnp.asarray(xq[None], jnp.float32), jnp.asarray(mu[None], jnp.float32), jnp.full((K,), -math.log(K)), s0,
          sz)
  closed = np.asarray(theory.mixture_bayes_denoiser(*args))[0]
  np.testing.assert_allclose(closed, brute, atol=5e-3)
  np.testing.assert_allclose(np.asarray(theory.mixture_tweedie_denoiser(*args))[0], closed, atol=1e-5)


@pytest.mark.slow
def test_mixture_bayes_risk_at_the_papers_setting():
  """Monte Carlo of Prop. 4 at n = 16, K = 8, sigma0^2 = 0.02, sigma_z^2 = 0.1 against the reference 0.36805 +-
  0.0003 (combined 4 s.e.)."""
  spec = task.make_spec("mixture", 16, 1, 1, 0.02, 0.1)
  b = task.sample(jax.random.key(2), spec, 200_000)
  f = theory.mixture_bayes_denoiser(b["query"], b["centres"], jnp.full((8,), -math.log(8)), 0.02, 0.1)
  e = np.sum((np.asarray(f) - np.asarray(b["target"])) ** 2, -1)
  assert abs(e.mean() - 0.36805) < 4 * math.hypot(e.std() / math.sqrt(len(e)), 0.0003)


# ---------------------------------------------------------------- task laws and models


@pytest.mark.slow
@pytest.mark.parametrize("family", task.FAMILIES)
def test_task_laws(family):
  spec = task.make_spec(family, 10, 3, 5, 0.7 if family != "sphere" else 0.0, 0.4, radius=1.5, K=4)
  b = {k: np.asarray(v, np.float64) for k, v in task.sample(jax.random.key(3), spec, 20_000).items()}
  noise = b["query"] - b["target"]
  assert abs(noise.var() - 0.4) < 0.02
  tokens = np.concatenate([b["context"], b["target"][:, None]], 1)
  if family == "mixture":
    np.testing.assert_allclose(np.linalg.norm(b["centres"], axis=-1), 1.5, rtol=1e-5)
    dev = tokens - np.take_along_axis(b["centres"], b["labels"][..., None].astype(int), 1)
    assert abs(dev.var() - 0.7) < 0.02
    return
  u = b["basis"]
  np.testing.assert_allclose(np.einsum("bnd,bne->bde", u, u), np.broadcast_to(np.eye(u.shape[-1]), (len(u),) * 1
                                                                              + (u.shape[-1],) * 2), atol=1e-5)
  inside = np.einsum("bnd,btd->btn", u, np.einsum("bnd,btn->btd", u, tokens))
  np.testing.assert_allclose(inside, tokens, atol=1e-5)
  if family == "sphere":
    np.testing.assert_allclose(np.linalg.norm(tokens, axis=-1), 1.5, rtol=1e-5)
  else:
    assert abs(np.mean(np.sum(tokens**2, -1)) / 3 - 0.7) < 0.02


@pytest.mark.slow
def test_models_paper_forms():
  """Linear attention at (alpha I, beta I) is (alpha beta / L) sum_t X_t <X_t, x>; the rescaling symmetry; the query
  is not a key or value (App. D.2); softmax at (alpha I, beta I) is alpha X softmax(beta X^T x)."""
  spec = task.make_spec("subspace", 6, 3, 5, 1.0, 0.3)
  b = task.sample(jax.random.key(4), spec, 64)
  x, q = np.asarray(b["context"], np.float64), np.asarray(b["query"], np.float64)
  lin = np.asarray(model.apply(model.scaled_identity(0.7, 1.3, 6), b, "linear"))
  np.testing.assert_allclose(lin, 0.91 / 5 * np.einsum("btn,bt->bn", x, np.einsum("btn,bn->bt", x, q)), rtol=1e-4)
  s = 1.3 * np.einsum("btn,bn->bt", x, q)
  w = np.exp(s - s.max(1, keepdims=True))
  w /= w.sum(1, keepdims=True)
  soft = np.asarray(model.apply(model.scaled_identity(0.7, 1.3, 6), b, "softmax"))
  np.testing.assert_allclose(soft, 0.7 * np.einsum("bt,btn->bn", w, x), rtol=1e-4, atol=1e-6)
  p = model.init(jax.random.key(5), 6)
  assert float(jnp.max(jnp.abs(p["W_PV"]))) <= 1 / math.sqrt(6)
  scaled = {"W_PV": 2.5 * p["W_PV"], "W_KQ": p["W_KQ"] / 2.5}
  np.testing.assert_allclose(model.apply(scaled, b, "linear"), model.apply(p, b, "linear"), rtol=1e-4, atol=1e-6)
  other = dict(b, query=b["query"] + 1.0)   # the output moves only through the scores
  assert not np.allclose(model.apply(p, other, "softmax"), model.apply(p, b, "softmax"))
  assert model.apply(p, b, "softmax").shape == (64, 6)


@pytest.mark.slow
def test_energy_step_is_the_softmax_layer():
  """One gradient step of size alpha on eq. (16) from the query is the layer at (alpha I, beta I) (eq. (17))."""
  spec = task.make_spec("sphere", 5, 2, 9, 0.0, 0.2)
  b = task.sample(jax.random.key(6), spec, 128)
  for a, beta in ((1.0, 5.0), (0.4, -2.0), (2.3, 0.7)):
    layer = model.apply(model.scaled_identity(a, beta, 5), b, "softmax")
    step = energy_theory.energy_descent(b["query"], b["context"], a, beta, 1)
    np.testing.assert_allclose(np.asarray(step), np.asarray(layer), rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_valley_monte_carlo_agrees_with_the_closed_forms_and_reference_valleys():
  """The theory's own prompts: linear pooling recovers gamma*_L (subspace and sphere); the sphere's softmax valley at
  L = 99 (beta* ~ 3.66, alpha* ~ 1.43)."""
  for family, dim, ref in (("subspace", 8, linear_theory.linear_gamma_star(8, 19, 2.0, 1.0)),
                           ("sphere", 9, linear_theory.sphere_linear_gamma_star(8, 19, 1.0, 0.1))):
    v = theory_mc.valley(jax.random.key(7), family, 19, dim, 2.0, 1.0 if family == "subspace" else 0.1, 1.0, 8,
                         [1.0], pool="linear", prompts=40_000)
    assert abs(v.alpha_star()[0] - ref) < 4 * v.alpha_se()[0]
  v = theory_mc.valley(jax.random.key(8), "sphere", 99, 9, 0.0, 0.1, 1.0, 8, [3.66], prompts=20_000)
  assert abs(v.alpha_star()[0] - 1.43) < 0.03
  assert v.risk(v.alpha_star())[0] - theory.sphere_bayes_risk(8, 1.0, 0.1) > 0


def test_config_validation():
  """Single fields are held to their declarations when the config is loaded; the rules that tie fields together
  (d against n and the family, sigma0^2 > 0 on subspaces) when the setup is read."""
  with pytest.raises(validation.ConfigError, match="config.task"):
    configs.load("icl_denoising:task=ring")
  with pytest.raises(validation.ConfigError, match="config.sigma_z_sq"):
    configs.load("icl_denoising:sigma_z_sq=0.0")
  with pytest.raises(validation.ConfigError, match="config.d"):
    driver.prepare(configs.load("icl_denoising:sphere,d=16"), "/tmp/unused")
  with pytest.raises(validation.ConfigError, match="config.d"):
    driver.prepare(configs.load("icl_denoising:d=17"), "/tmp/unused")
  with pytest.raises(validation.ConfigError, match="config.sigma0_sq"):
    driver.prepare(configs.load("icl_denoising:sigma0_sq=0.0"), "/tmp/unused")
  driver.prepare(configs.load("icl_denoising:d=16"), "/tmp/unused")   # d = n is a subspace, not a sphere
  assert dataclasses.is_dataclass(driver.prepare(configs.load("icl_denoising:mixture,sigma0_sq=0.0"),
                                                 "/tmp/unused").setup)


def test_run_names_are_derived_and_the_reduced_key_run_has_its_own():
  """Main-job names come from the fields; the key run drawn at half the batch never shares a workdir with its
  full-size twin in the archive."""
  experiment = registry.get("icl_denoising")
  name = lambda ref: configs.run_name(configs.load(ref))
  full = [name(r) for r in main_job.profile_runs(experiment, "full")]
  assert full == ["icl_denoising_subspace_L19", "icl_denoising_subspace_L9", "icl_denoising_subspace_L49",
                  "icl_denoising_sphere_L49", "icl_denoising_mixture_L49", "icl_denoising_sphere_L499_batch128",
                  "icl_denoising_mixture_L499_batch128"]
  (key,) = main_job.profile_runs(experiment, "key")
  assert key.reduced and name(key) == "icl_denoising_subspace_L19_batch256" and name(key) not in full
  assert name(experiment.gate) == "icl_denoising_subspace_L12_d4_sigma_z_sq0.5_batch128"
  # fields a family does not read do not name its runs; the seed does
  assert name("icl_denoising:mixture,d=3,seed=2") == "icl_denoising_mixture_L49_seed2"
  assert fields.replace(configs.load("icl_denoising"), name="mine").name == "mine"
  assert {experiment.gate.spec, *(m.gate.spec for m in experiment.mutants if m.gate)} == set(GATES)


# ---------------------------------------------------------------- runs


@pytest.mark.slow
def test_quick_run_writes_artefacts(tmp_path):
  summary = driver.run(configs.load("icl_denoising:sphere,quick"), tmp_path / "run", printer=lambda s: None)
  assert (tmp_path / "run" / "params.npz").exists() and len(summary["figures"]) >= 5
  entries = {c["entry"] for c in summary["comparisons"]}
  assert {"gamma_finite_L", "softmax_valley", "bayes_risk", "energy_step", "fig5_valleys"} <= entries


GATES = ("icl_denoising:gate,sigma_z_sq=0.5", "icl_denoising:sphere,gate", "icl_denoising:mixture,gate")


@pytest.mark.slow
@pytest.mark.parametrize("spec", GATES)
def test_gate_theory_checks_pass(spec, tmp_path):
  """The theorem's gate and its mutants' sphere and mixture gates: every theory check passes, the disputed claims
  disagree as recorded, nothing fails."""
  summary = driver.run(configs.load(spec), tmp_path / "run", printer=lambda s: None)
  theory_checks = [c for c in summary["comparisons"] if c["kind"] == "theory"]
  assert len(theory_checks) >= 5 and all(c["passed"] for c in theory_checks), theory_checks
  assert summary["status"] != "fail"
  disagree = {c["entry"] for c in summary["comparisons"] if c["status"] == "disagrees"}
  assert disagree == {"gate,sigma_z_sq=0.5": {"eq4_printed"}, "sphere,gate": {"code_baseline", "fig5_caption_valleys"},
                      "mixture,gate": set()}[spec.split(":")[1]]
