"""Chain of thought (Huang et al. 2025): the closed forms against the digest's numbers and an independent NumPy
computation, the model's identities (construction = GD, cached = literal, sparse = dense, the gauge), the sampler's
w*, an end-to-end run, mutations that must fail, and bad input."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from icljax import configs, runs, validation
from icljax.experiment import driver, registry
from icljax.models import cot_lsa as model
from icljax.tasks import regression
from icljax.theory import chain_of_thought as theory


def _numpy_chain(x, y, v, w, k):
  """Digest A.5 transcribed: column layout, f(Z) = Z + V Z (Z^T W Z)/n, append the last column (float64)."""
  n, d = x.shape
  z = np.zeros((2 * d + 2, n + 1))
  z[:d, :n], z[d, :n], z[2 * d + 1, n] = x.T, y, 1.0
  out = []
  for _ in range(k):
    f = z + v @ z @ (z.T @ w @ z) / n
    out.append(f[:, -1])
    z = np.hstack([z, f[:, -1:]])
  return np.array(out)


@pytest.mark.parametrize("k,value", [(0, 5.0), (1, 1.625), (2, 0.81562)])
def test_exact_gd_errors_match_the_digest_p12(k, value):
  assert theory.gd_error(5, 20, 0.5, k) == pytest.approx(value, abs=5e-6)


def test_exact_gd_errors_match_an_independent_numpy_monte_carlo():
  """E|w_k - w*|^2 by explicit GD on NumPy prompts, k = 1..3, at a setting the digest does not tabulate."""
  rng = np.random.default_rng(0)
  d, n, eta, reps = 3, 7, 0.4, 200_000
  x = rng.standard_normal((reps, n, d))
  w_star = rng.standard_normal((reps, d))
  y = np.einsum("knd,kd->kn", x, w_star)
  s, g = np.einsum("kni,knj->kij", x, x) / n, np.einsum("kni,kn->ki", x, y) / n
  w = np.zeros_like(w_star)
  for k in range(1, 4):
    w = w - eta * (np.einsum("kij,kj->ki", s, w) - g)
    err = ((w - w_star) ** 2).sum(1)
    assert abs(err.mean() - theory.gd_error(d, n, eta, k)) <= 4 * err.std() / np.sqrt(reps)


@pytest.mark.parametrize("d,n,value", [(5, 20, 1.153846), (10, 20, 3.548387), (10, 200, 0.521327)])
def test_no_cot_optimum_matches_the_digest_p11_and_is_one_gd_step(d, n, value):
  assert theory.no_cot_error(d, n) == pytest.approx(value, abs=5e-7)
  assert theory.gd_error(d, n, theory.no_cot_step(d, n), 1) == pytest.approx(theory.no_cot_error(d, n), abs=1e-12)


def test_no_cot_step_minimises_the_one_step_error():
  eta = theory.no_cot_step(5, 20)
  for other in (0.95 * eta, 1.05 * eta):
    assert theory.gd_error(5, 20, other, 1) > theory.gd_error(5, 20, eta, 1)


def test_the_construction_generates_gd_iterates_exactly_in_float64():
  """P10: generated w_hat_i = w_i to 1e-13; the x/y slots stay 0 and the indicator 1; the teacher-forced CoT loss is
  0; the cached, literal and NumPy (digest A.5) chains agree."""
  with jax.enable_x64(True):
    d, n, eta, k = 5, 20, 0.5, 8
    spec = model.CotSpec(d, n)
    prompts = regression.sample(jax.random.PRNGKey(1), regression.make_spec(d, n), 16, weights=True)
    params = {"V31": -eta * jnp.eye(d), "W13": jnp.eye(d)}
    gen, lit = model.generate(params, prompts, k, spec), model.literal(params, prompts, k, spec)
    chain = theory.gd_iterates(prompts, eta, k)
    np.testing.assert_allclose(model.w_slot(gen, spec), chain[:, 1:], atol=1e-13)
    np.testing.assert_allclose(lit, gen, atol=1e-13)
    assert np.all(gen[..., :d + 1] == 0) and np.all(gen[..., -1] == 1)
    forced = model.teacher_forced(params, prompts, chain[:, :-1], spec)
    np.testing.assert_allclose(forced, model.token(chain[:, 1:], spec), atol=1e-13)
    v, w = theory.construction(d, eta)
    np.testing.assert_allclose([np.asarray(a) for a in model.full(params, spec)], [v, w], atol=0)
    ref = _numpy_chain(np.asarray(prompts["x"][3]), np.asarray(prompts["y"][3]), v, w, k)
    np.testing.assert_allclose(np.asarray(gen[3]), ref, atol=1e-13)


def test_dense_model_equals_numpy_and_has_the_gauge_of_the_digest():
  """A random dense (V, W): cached generation = NumPy transcription; (V_31, W_13, W_24) -> (V_31/c, c W_13, c W_24)
  with every other entry of V zero leaves the chain unchanged."""
  with jax.enable_x64(True):
    d, n, k = 3, 6, 4
    spec = model.CotSpec(d, n, "dense")
    prompts = regression.sample(jax.random.PRNGKey(2), regression.make_spec(d, n), 4, weights=True)
    rng = np.random.default_rng(3)
    v, w = 0.3 * rng.standard_normal((2, 2 * d + 2, 2 * d + 2))
    gen = model.generate({"V": jnp.asarray(v), "W": jnp.asarray(w)}, prompts, k, spec)
    np.testing.assert_allclose(np.asarray(gen[1]), _numpy_chain(np.asarray(prompts["x"][1]),
                                                                np.asarray(prompts["y"][1]), v, w, k), atol=1e-12)
    v_s, w_s = theory.construction(d, 0.3)
    v_s[d + 1:2 * d + 1, :d] += 0.05 * rng.standard_normal((d, d))
    c = 2.5
    v_g, w_g = v_s.copy(), w_s.copy()
    v_g[d + 1:2 * d + 1, :d] /= c
    w_g[:d, d + 1:2 * d + 1] *= c
    w_g[d, 2 * d + 1] *= c
    one = lambda a, b: model.generate({"V": jnp.asarray(a), "W": jnp.asarray(b)}, prompts, k, spec)
    np.testing.assert_allclose(one(v_g, w_g), one(v_s, w_s), atol=1e-12)
    products = theory.dense_products(v_g, w_g, d)
    np.testing.assert_allclose(products["V31W24"], -v_s[d + 1:2 * d + 1, :d], atol=1e-12)


def test_sampler_weights_are_the_targets_and_change_nothing_else():
  spec = regression.make_spec(4, 9, 0.0, spectrum=(1.0, 2.0, 0.5, 0.25), rotation="random")
  key = jax.random.PRNGKey(4)
  with_w, without = regression.sample(key, spec, 32, weights=True), regression.sample(key, spec, 32)
  assert set(with_w) == set(without) | {"w"}
  for name, value in without.items():
    np.testing.assert_array_equal(with_w[name], value)
  np.testing.assert_allclose(jnp.einsum("bnd,bd->bn", with_w["x"], with_w["w"]), with_w["y"], atol=1e-5)
  with pytest.raises(ValueError, match="linear targets"):
    regression.sample(key, regression.make_spec(4, 9, target="relu"), 2, weights=True)


@functools.cache
def _plan(arg):
  experiment = registry.get("lsa_chain_of_thought")
  setup = experiment.setup(configs.load(f"lsa_chain_of_thought:{arg}"))
  return experiment, setup, experiment.plan(setup)


def _evaluate_at(v_scale=1.0, no_cot_scale=1.0, arg="eval_prompts=20000"):
  """The run's checks at the construction (V_31 scaled) and at the no-CoT optimum (scaled), no training."""
  experiment, setup, plan = _plan(arg)
  d, eta, step = setup.model.d, setup.eta, plan.context.no_cot_step
  params = {"cot": {"V31": -eta * v_scale * jnp.eye(d), "W13": jnp.eye(d)},
            "no_cot": {"V31": -step * no_cot_scale * jnp.eye(d), "W13": jnp.eye(d)}}
  evaluation = experiment.evaluate(setup, plan.context, params, [{"step": 0, "loss": 0.0}])
  return {c.entry for c in evaluation.checks if c.kind == "theory" and not c.passed}, evaluation


def test_the_checks_pass_at_the_theory_and_fail_when_perturbed():
  failed, evaluation = _evaluate_at()
  assert not failed, [(c.quantity, c.measured, c.tolerance) for c in evaluation.checks]
  assert {c.entry for c in evaluation.checks} >= {"construction", "literal", "cot_weights", "tracks_gd", "gd_exact",
                                                  "digest_rows", "no_cot_error", "no_cot_step", "ood_tracks_gd",
                                                  "cot_beats_no_cot", "recovery"}
  assert {"cot_weights", "tracks_gd", "gd_exact", "digest_rows", "ood_tracks_gd"} <= _evaluate_at(v_scale=1.05)[0]
  assert _evaluate_at(no_cot_scale=1.05)[0] == {"no_cot_step"}


def test_the_recovery_claim_is_reported_as_a_disagreement_at_the_papers_dimensions():
  _, evaluation = _evaluate_at(arg="paper_dims,eval_prompts=20000")
  recovery = [c for c in evaluation.checks if c.entry == "recovery"]
  assert len(recovery) == 1 and recovery[0].status == "disagrees" and 0.03 < recovery[0].measured < 0.05


def test_quick_run_writes_its_artefacts(tmp_path):
  summary = driver.run(configs.load("lsa_chain_of_thought:quick"), tmp_path / "run", printer=lambda s: None)
  with np.load(tmp_path / "run" / runs.PARAMS) as params:
    assert params["cot_V"].shape == (12, 12) and params["e_hat"].shape == (8,)
  assert {c["entry"] for c in summary["comparisons"]} >= {"construction", "literal", "tracks_gd", "gd_exact"}
  assert len(summary["figures"]) == 3


@pytest.mark.parametrize("override,field", [("eta=2.0", "config.eta"),
                                            ("cot_steps=6,eval_steps=5", "config.eval_steps"),
                                            ("ood_spectrum=(1.0, 2.0)", "config.ood_spectrum"),
                                            ("parameterization='full'", "config.parameterization"),
                                            ("optimizer='lbfgs'", "config.optimizer")])
def test_bad_input_names_the_field(override, field):
  with pytest.raises(validation.ConfigError, match=field.replace(".", r"\.")):
    registry.get("lsa_chain_of_thought").setup(configs.load(f"lsa_chain_of_thought:{override}"))
