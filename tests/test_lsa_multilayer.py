"""Several layers (Ahn et al.): exact Wishart trace moments, the best L-step PGD against the digest, Lemma 1 (the
literal L-layer forward pass is L steps of preconditioned GD) against an independent NumPy transcription, and the
run's checks: they pass at the theory's optimum and fail on perturbed step sizes or a non-isotropic layer."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from icljax import configs, runs
from icljax.experiment import driver, registry
from icljax.models import multilayer_lsa as model
from icljax.tasks import regression
from icljax.theory import multistep_gd as theory

SPECTRUM = (1.0, 1.0, 0.25, 0.0625, 1.0)


def test_trace_moments_match_the_digest_and_monte_carlo():
  np.testing.assert_allclose(theory.trace_moments(5, 20, 4), [5, 5, 13 / 2, 201 / 20, 349 / 20], rtol=1e-14)
  rng = np.random.default_rng(0)
  z = rng.standard_normal((200_000, 20, 5))
  lam = np.linalg.eigvalsh(np.einsum("bnd,bne->bde", z, z) / 20)
  for k, exact in enumerate(theory.trace_moments(5, 20, 6)[5:], start=5):
    per = (lam**k).sum(1)
    assert abs(per.mean() - exact) <= 4 * per.std() / np.sqrt(per.size)


@pytest.mark.parametrize("L,steps,loss,tol_steps,tol_loss,const,const_loss,tol_const", [
    (1, [0.769231], 1.153846, 5e-7, 5e-7, 0.769231, 1.153846, 5e-7),
    (2, [0.515371, 1.249572], 0.361240, 5e-7, 5e-7, 0.742518, 0.499007, 5e-7),
    (3, [0.423, 0.690, 1.716], 0.1339, 0.002, 4 * 0.0004, 0.7155, 0.2689, 4 * 0.0003),   # digest SAA +- stated
])
def test_best_pgd_matches_the_digest(L, steps, loss, tol_steps, tol_loss, const, const_loss, tol_const):
  a, f, c, fc = theory.optimal_steps(L, 5, 20)
  np.testing.assert_allclose(a, steps, atol=tol_steps)
  assert abs(f - loss) <= tol_loss and abs(fc - const_loss) <= tol_const and abs(c - const) <= max(tol_steps, 1e-4)


def _numpy_forward(a, x, y, xq):
  """The paper's layer literally, float64: Z <- Z + (1/n) P Z M (Z^T Q Z)."""
  n, d = x.shape
  z = np.zeros((d + 1, n + 1))
  z[:d, :n], z[d, :n], z[:d, n] = x.T, y, xq
  m = np.diag(np.r_[np.ones(n), 0.0])
  for a_l in a:
    p = np.zeros((d + 1, d + 1))
    p[d, d] = 1.0
    q = np.zeros((d + 1, d + 1))
    q[:d, :d] = -a_l
    z = z + p @ z @ m @ (z.T @ q @ z) / n
  return -z[d, n]


def test_forward_pass_is_preconditioned_gd_and_matches_numpy():
  spec = regression.make_spec(5, 20, prior="inv_cov", spectrum=SPECTRUM, rotation="random")
  batch = regression.sample(jax.random.key(0), spec, 16)
  a = 0.3 * jax.random.normal(jax.random.key(1), (3, 5, 5))           # not symmetric: Lemma 1 uses A_l^T
  pred = model.apply({"A": a}, batch, model.MultilayerSpec(5, 20, 3))
  np.testing.assert_allclose(pred, theory.pgd_predict(a, batch), rtol=2e-5, atol=2e-5)
  for b in range(4):
    ref = _numpy_forward(np.asarray(a, np.float64), *(np.asarray(batch[k][b], np.float64)
                                                      for k in ("x", "y", "x_query")))
    assert abs(float(pred[b]) - ref) <= 2e-5 * max(1.0, abs(ref))


def test_pgd_loss_matches_monte_carlo_of_whitened_steps():
  spec = regression.make_spec(5, 20, prior="inv_cov", spectrum=SPECTRUM, rotation="random")
  batch = regression.sample(jax.random.key(2), spec, 200_000)
  steps = jnp.array([0.5, 1.2])
  inv_cov = jnp.linalg.inv(spec.cov)
  pred = theory.pgd_predict(steps[:, None, None] * inv_cov[None], batch)
  per = np.asarray((pred - batch["y_query"]) ** 2, np.float64)
  with jax.enable_x64(True):
    exact = float(theory.pgd_loss(jnp.asarray(steps, jnp.float64), jnp.asarray(theory.trace_moments(5, 20, 4))))
  assert abs(per.mean() - exact) <= 4 * per.std() / np.sqrt(per.size)


def _evaluate_at(scale, anisotropy=0.0):
  """The run's checks at A_l = scale a*_l Sigma^-1 (+ an anisotropic term on layer 0), no training."""
  experiment = registry.get("lsa_multilayer")
  setup = experiment.setup(configs.load("lsa_multilayer:eval_prompts=50000,sample_size=10"))
  plan = experiment.plan(setup)
  inv_cov = jnp.linalg.inv(setup.task.cov)
  a = jnp.asarray(plan.context.a_star, jnp.float32)[:, None, None] * scale * inv_cov[None]
  a = a.at[0].add(anisotropy * jnp.diag(jnp.arange(5.0)) @ inv_cov)
  evaluation = experiment.evaluate(setup, plan.context, {"A": a}, [{"step": 0, "loss": 0.0}])
  return {c.entry for c in evaluation.checks if c.kind == "theory" and not c.passed}, evaluation


def test_the_checks_pass_at_the_optimum_and_fail_when_perturbed():
  failed, evaluation = _evaluate_at(1.0)
  assert not failed, [(c.quantity, c.measured, c.tolerance) for c in evaluation.checks]
  assert "loss_vs_pgd" in _evaluate_at(1.15)[0] or "steps_excess" in _evaluate_at(1.15)[0]
  assert "whitened_isotropic" in _evaluate_at(1.0, anisotropy=0.1)[0]


def test_quick_run_writes_its_artefacts(tmp_path):
  summary = driver.run(configs.load("lsa_multilayer:quick,L=2"), tmp_path / "run", printer=lambda s: None)
  with np.load(tmp_path / "run" / runs.PARAMS) as params:
    assert params["A"].shape == (2, 5, 5) and params["a_star"].shape == (2,)
  assert {c["entry"] for c in summary["comparisons"]} >= {"lemma1", "loss_vs_pgd", "whitened_isotropic"}
  assert len(summary["figures"]) == 3
