"""Result 1's negative control (a prior that is not rotation invariant: the optimum is not plain GD), the main
job's eta* grid over sigma^2 x n (issue 12, item 6), and the audit's cases for result 1 (issue 28: paired standard
errors, honest check kinds).

The control's closed form B* = Psi Sigma G^-1 is tested against the known special cases, an independent NumPy Monte
Carlo of its loss, the JAX Monte-Carlo normal equations and the exact (cubature) population loss; the run trained on
the exact loss lands on it to float rounding, and its checks fail when the trained B is replaced by plain GD.
"""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from icljax import runs, structure, sweep, train, validation
from icljax.experiment import configs, driver, registry
from icljax.models import lsa
from icljax.results.lsa import checks
from icljax.results.lsa import figures as lsa_figures
from icljax.results.lsa import mutants as lsa_mutants
from icljax.results.lsa.plan import plan as lsa_plan
from icljax.tasks import regression
from icljax.theory import lsa as theory
from icljax.theory import lsa_exact as exact
from icljax.theory import lsa_mc as theory_mc

PSI = (4.0, 2.0, 1.0, 0.5, 0.25)


def test_general_optimum_reduces_to_the_papers_closed_forms():
  cov = regression.covariance(4, (2.0, 1.0, 0.3, 0.1), "random", 4)
  for n, sigma in ((12, 0.4), (3, 0.0), (50, 2.0)):
    np.testing.assert_allclose(theory.optimal_b_general(np.eye(4), np.eye(4), n, sigma),
                               theory.eta_star(n, 4, sigma) * np.eye(4), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(theory.optimal_b_general(cov, np.linalg.inv(cov), n, sigma),
                               theory.eta_star(n, 4, sigma) * np.linalg.inv(cov), rtol=1e-10)
    np.testing.assert_allclose(theory.optimal_b_general(cov, np.eye(4), n, sigma), theory.gamma_star(cov, n, sigma),
                               rtol=1e-10)
    assert theory.optimal_loss_general(cov, np.eye(4), n, sigma) == pytest.approx(
        theory.optimal_loss_identity_prior(cov, n, sigma), rel=1e-12)
    assert theory.optimal_loss_general(np.eye(4), np.eye(4), n, sigma) == pytest.approx(
        theory.optimal_loss(n, 4, sigma), rel=1e-12)


def test_control_optimum_and_loss_against_numpy_monte_carlo():
  """Independent NumPy prompts with w* ~ N(0, diag(PSI)): the normal equations of x^T B g and the MSE at B*."""
  rng = np.random.default_rng(3)
  batch, n, d, sigma = 200_000, 20, 5, 0.5
  x = rng.standard_normal((batch, n + 1, d))
  w = rng.standard_normal((batch, d)) * np.sqrt(PSI)
  y = np.einsum("bnd,bd->bn", x, w) + sigma * rng.standard_normal((batch, n + 1))
  g = np.einsum("bnd,bn->bd", x[:, :n], y[:, :n]) / n
  b_star = theory.optimal_b_general(np.eye(d), np.diag(PSI), n, sigma)
  err = (np.einsum("bd,de,be->b", x[:, n], b_star, g) - y[:, n]) ** 2
  expected = theory.optimal_loss_general(np.eye(d), np.diag(PSI), n, sigma)
  assert abs(err.mean() - expected) < 4 * err.std() / np.sqrt(batch)
  # Sigma = I: E[(x_q^T (B g - w))^2] = E|B g - w|^2, so each row of B solves E[g g^T] b_j = E[g w_j].
  b_mc = np.linalg.solve(g.T @ g / batch, g.T @ w / batch).T
  assert structure.relative_error(b_mc, b_star) < 0.02   # ~0.3% MC error per entry at 2e5 prompts


@pytest.mark.slow
def test_spectrum_prior_sampler_has_covariance_psi_and_the_mc_normal_equations_agree():
  spec = regression.make_spec(5, 20, 0.5, prior="spectrum", prior_spectrum=PSI)
  w = np.asarray(regression.sample(jax.random.key(0), spec, 200_000, weights=True)["w"], np.float64)
  np.testing.assert_allclose(np.cov(w.T), np.diag(PSI), atol=4 * 4.0 * np.sqrt(2 / 200_000) + 1e-3)
  mc = theory_mc.optimal_B_mc(jax.random.key(1), spec, 400_000, chunk=20_000)
  assert structure.relative_error(mc, theory.optimal_b_general(np.eye(5), np.diag(PSI), 20, 0.5)) < 0.03


def test_exact_population_loss_of_the_control_equals_the_closed_form():
  with jax.enable_x64(True):
    spec = regression.make_spec(5, 20, 0.5, prior="spectrum", prior_spectrum=PSI, spectrum=(2.0, 1.0, 1.0, 0.5, 0.3),
                                rotation="random")
    cov, psi = np.asarray(spec.cov), np.asarray(spec.prior_cov)
    b = theory.optimal_b_general(cov, psi, 20, 0.5)
    params = {"w": jnp.zeros(6).at[5].set(1.0), "M": jnp.zeros((6, 6)).at[:5, :5].set(b.T)}
    model = lsa.LsaSpec(5, 20, parameterization="reduced")
    assert float(exact.population_loss(params, model, spec)) == pytest.approx(
        theory.optimal_loss_general(cov, psi, 20, 0.5), rel=1e-10)


@pytest.mark.slow
def test_control_run_lands_on_the_derived_optimum_and_plain_gd_fails_its_checks(tmp_path):
  summary = driver.run(configs.load("lsa_isotropic:control,exact,init_scale=0.1,eval_prompts=20000"), tmp_path / "run",
                       printer=lambda s: None)
  by_entry = {c["entry"]: c for c in summary["comparisons"]}
  assert summary["status"] == "pass" and by_entry["B_exact"]["measured"] < 1e-6
  assert by_entry["not_plain_gd"]["passed"] and by_entry["not_plain_gd"]["kind"] == "control"
  # Mutation: the trained model replaced by plain GD with the theorem's eta* (the hypothesis the control rejects).
  setup = registry.get("lsa").setup(configs.load("lsa_isotropic:control,exact,init_scale=0.1,eval_prompts=20000"))
  with jax.enable_x64(True):
    plan = lsa_plan(setup)
    eta = theory.eta_star(20, 5, 0.5)
    gd = {"w": jnp.zeros(6).at[5].set(1.0), "M": jnp.zeros((6, 6)).at[:5, :5].set(eta * jnp.eye(5))}
    evaluation = checks.evaluate(setup, plan.context, lsa.lift(gd), [])
  failed = {c.entry for c in evaluation.checks if not c.passed}
  assert {"B_exact", "not_plain_gd", "exact_loss"} <= failed


def test_spectrum_prior_needs_its_spectrum_and_only_then():
  with pytest.raises(validation.ConfigError, match="prior_spectrum"):
    regression.make_spec(3, 5, prior="spectrum")
  with pytest.raises(validation.ConfigError, match="prior_spectrum"):
    regression.make_spec(3, 5, prior="identity", prior_spectrum=(1.0, 1.0, 1.0))
  with pytest.raises(validation.ConfigError, match="prior_spectrum"):
    regression.make_spec(3, 5, prior="spectrum", prior_spectrum=(1.0, -1.0, 1.0))


def test_grid_runs_are_named_by_n_and_sigma_and_stack_by_n():
  names = [configs.run_name(configs.load(f"lsa_isotropic:n={n},sigma={s},exact")) for n in (5, 80) for s in (0.0, 2.0)]
  assert names == ["lsa_isotropic_n5_sigma0_exact", "lsa_isotropic_n5_sigma2_exact", "lsa_isotropic_n80_sigma0_exact",
                   "lsa_isotropic_n80_sigma2_exact"]
  experiment = registry.get("lsa")
  grid = [r for r in experiment.main_job if r.figure == "eta_grid" and not r.reduced]
  assert len(grid) == 20   # sigma^2 in {0, 0.25, 1, 4} x n in {5, 10, 20, 40, 80}
  keys = {sweep.group_key(configs.load(r).to_dict(), experiment.stack_fields) for r in grid if r.overrides}
  assert len(keys) == 5   # one compiled stack per n (lsa_isotropic_exact, at 100000 prompts, trains on its own)


@pytest.mark.slow
def test_sigma_free_step_fails_the_noise_claim_and_the_b_check():
  """Mutation: a model that learned the noise-free step n/(n+d+1) at sigma^2 = 4 fails the float-precision checks."""
  config = configs.load("lsa_isotropic:n=10,sigma=2.0,exact,eval_prompts=20000")
  setup = registry.get("lsa").setup(config)
  with jax.enable_x64(True):
    plan = lsa_plan(setup)
    for step, ok in ((theory.eta_star(10, 5, 2.0), True), (10 / 16, False)):
      p = {"w": jnp.zeros(6).at[5].set(1.0), "M": jnp.zeros((6, 6)).at[:5, :5].set(step * jnp.eye(5))}
      evaluation = checks.evaluate(setup, plan.context, p, [])
      status = {c.entry: c.passed for c in evaluation.checks}
      assert status["sigma_free_gap"] is ok and status["B_exact"] is ok


def test_eta_grid_figure_is_drawn_from_run_summaries(tmp_path):
  group = [(configs.load(f"lsa_isotropic:n={n},sigma={s},exact"), [],
            {"scalars": {"B_diag_mean": theory.eta_star(n, 5, s)}}) for n in (5, 20) for s in (0.0, 2.0)]
  paths = lsa_figures.group_figures(tmp_path, {"eta_grid": group})
  assert [p.endswith("eta_grid.png") for p in paths] == [True] and (tmp_path / "eta_grid.png").stat().st_size > 0


def test_workdir_refusal_names_a_field_present_on_one_side_only(tmp_path):
  runs.atomic_write_json(tmp_path / runs.CONFIG, {"a": 1})
  with pytest.raises(validation.ConfigError, match="differs in b"):
    runs.check_workdir(tmp_path, {"a": 1, "b": None})


@pytest.mark.slow
def test_tanh_mse_check_is_paired_and_fails_when_b_is_scaled(tmp_path):
  """Audit case 3: for tanh targets L* is the theory predictor's MSE on the same prompts, so the comparison is paired:
  at the main job's 2e5 evaluation prompts the trained B scaled by 1.05 (h x 1.05) fails it, while a tolerance of 4
  s.e. of the model's MSE alone (the old check) would pass it, being many paired s.e. wide."""
  config = configs.load(lsa_mutants.TANH)
  summary = driver.run(config, tmp_path / "run", printer=lambda s: None)
  assert summary["status"] == "pass"
  experiment = registry.get("lsa")
  setup = dataclasses.replace(experiment.setup(config), eval_prompts=200_000)   # the main job's evaluation size
  plan = experiment.plan(setup)
  state = runs.load_checkpoint(tmp_path / "run" / runs.CHECKPOINT, train.init_state(plan.params, plan.optimizer))
  params = state.params
  unchanged = experiment.evaluate(setup, plan.context, params, [])
  assert all(c.passed for c in unchanged.checks)
  evaluation = experiment.evaluate(setup, plan.context, dict(params, h=params["h"] * 1.05), [])
  check = next(c for c in evaluation.checks if c.entry == "mse_vs_theory_predictor")
  assert check.kind == "theory" and not check.passed, check
  scalars = evaluation.scalars
  assert abs(check.measured) <= 4 * scalars["eval_mse_se"]           # the old check passed it
  paired = next(c for c in unchanged.checks if c.entry == "mse_vs_theory_predictor")
  assert scalars["eval_mse_se"] > 5 * paired.tolerance / 4           # the MSE alone: > 5x the paired s.e.


@pytest.mark.slow
def test_checks_true_at_any_parameters_are_identities():
  """Audit case 8 for result 1: the closed-form eta_F against its Monte-Carlo estimate involves no trained quantity
  (the same at the initial and at any other parameters), so it is an identity; the B check at the initial
  parameters fails. The negative controls are controls: a wrong formula that must not match."""
  experiment = registry.get("lsa")
  setup = experiment.setup(configs.load("lsa_nonlinear:quick"))
  plan = experiment.plan(setup)
  first, second = (experiment.evaluate(setup, plan.context, p, []) for p in (
      plan.params, jax.tree.map(lambda a: 2.0 * a + 0.1, plan.params)))
  for evaluation in (first, second):
    by_entry = {c.entry: c for c in evaluation.checks}
    assert by_entry["eta_F_mc"].kind == "identity" and by_entry["eta_F_mc"].passed
    assert by_entry["B_rel_err"].kind == "theory" and not by_entry["B_rel_err"].passed
  table = experiment.tolerances
  assert table["not_plain_gd"].kind == table["sigma_free_gap"].kind == "control"
  assert table["sensitivity_cosine"].kind == "identity"


def test_exact_estimator_runs_in_float64():
  with pytest.raises(validation.ConfigError, match=r"config\.x64"):
    registry.get("lsa").setup(configs.load("lsa_isotropic:exact,x64=False"))
