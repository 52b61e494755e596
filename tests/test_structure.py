"""Structure extractors and assertions: exact identities, and assertions that fail on wrong structures."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from icljax import structure
from icljax.models import lsa
from icljax.tasks import regression
from icljax.theory import lsa as theory


def _gd_params(d, b, u_y=2.0):
  """Reduced params implementing y_hat = x^T B g: u = [0; u_y], M_11 = B^T / u_y, m_21 = 0."""
  m = np.zeros((d + 1, d + 1), np.float32)
  m[:d, :d] = np.asarray(b).T / u_y
  m[:, d] = 0.37  # last column of M never matters
  w = np.zeros(d + 1, np.float32)
  w[d] = u_y
  return {"w": jnp.asarray(w), "M": jnp.asarray(m)}


@pytest.mark.slow
def test_odd_part_of_predictions_is_x_B_g():
  # Independent of the block algebra: (y_hat(D) - y_hat(-D))/2 over a label flip must equal x^T B g.
  prompts = regression.sample(jax.random.key(0), regression.make_spec(4, 9, 0.3), 32)
  params = lsa.init(jax.random.key(1), lsa.LsaSpec(4, 9, init_scale=0.6))
  for normalization in lsa.NORMALIZATIONS:
    spec = lsa.LsaSpec(4, 9, normalization=normalization)
    flipped = dict(prompts, y=-prompts["y"])
    odd = 0.5 * (lsa.apply(params, prompts, spec) - lsa.apply(params, flipped, spec))
    b = structure.lsa_blocks(params, spec)["B"]
    expected = np.einsum("bd,de,be->b", prompts["x_query"], b, theory.gd_statistic(prompts))
    np.testing.assert_allclose(odd, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_gd_construction_passes_and_matches_one_step_gd():
  d, n = 4, 10
  eta = theory.eta_star(n, d, 0.5)
  params = lsa.lift(_gd_params(d, eta * np.eye(d)))
  spec = lsa.LsaSpec(d, n)
  assert structure.assert_lsa_structure(params, eta * np.eye(d), spec) == ""
  leak = structure.leakage(structure.lsa_blocks(params, spec))
  assert leak == {"u_x": 0.0, "m_21": 0.0}
  prompts = regression.sample(jax.random.key(2), regression.make_spec(d, n, 0.5), 64)
  np.testing.assert_allclose(lsa.apply(params, prompts, spec), theory.one_step_gd_predict(prompts, eta), rtol=1e-4,
                             atol=1e-5)
  cos = structure.sensitivity_cosine(lambda p: lsa.apply(params, p, spec),
                                     lambda p: theory.one_step_gd_predict(p, eta), prompts)
  assert cos == pytest.approx(1.0, abs=1e-5)


def test_assertion_fails_on_a_wrong_step_size():
  d, n = 3, 20
  eta = theory.eta_star(n, d, 0.0)
  wrong = lsa.lift(_gd_params(d, 1.1 * eta * np.eye(d)))
  with pytest.raises(AssertionError, match="relative error"):
    structure.assert_lsa_structure(wrong, eta * np.eye(d), lsa.LsaSpec(d, n), rtol=0.03)


def test_assertion_fails_on_a_non_preconditioned_B():
  cov = regression.covariance(3, (1.0, 0.5, 0.1), "random", 0)
  eta = theory.eta_star(20, 3, 0.0)
  plain = lsa.lift(_gd_params(3, eta * np.eye(3)))
  with pytest.raises(AssertionError):
    structure.assert_lsa_structure(plain, eta * np.linalg.inv(cov), lsa.LsaSpec(3, 20))


def test_assertion_fails_on_leakage():
  d, n = 3, 20
  b = theory.eta_star(n, d, 0.0) * np.eye(d)
  params = _gd_params(d, b)
  leaky = dict(params, w=params["w"].at[0].set(0.2))  # u_x != 0: label-even term, B itself is unchanged
  np.testing.assert_allclose(structure.lsa_blocks(leaky, lsa.LsaSpec(d, n))["B"], b, atol=1e-6)
  with pytest.raises(AssertionError, match="leakage u_x"):
    structure.assert_lsa_structure(leaky, b, lsa.LsaSpec(d, n))


def test_d1_second_branch_is_reported_not_failed():
  # d = 1: u_y = 0, M_11 = 0, u_x m_21 = eta* is a second optimum with the same predictions (derived on the docs page
  # "lsa", for Mahankali et al.'s Theorem 1).
  eta = theory.eta_star(10, 1, 0.0)
  branch = {"w": jnp.array([2.0, 0.0]), "M": jnp.array([[0.0, 0.0], [eta / 2.0, 0.0]])}
  note = structure.assert_lsa_structure(branch, np.array([[eta]]), lsa.LsaSpec(1, 10))
  assert "second optimum branch" in note


def test_dist_to_identity_and_whiten():
  assert structure.dist_to_identity(3.0 * np.eye(4)) == pytest.approx(0.0, abs=1e-12)
  a = np.diag([1.0, 2.0])
  assert structure.dist_to_identity(a) == pytest.approx(np.linalg.norm(a - 1.5 * np.eye(2)) / np.linalg.norm(a))
  cov = regression.covariance(3, (2.0, 1.0, 0.3), "random", 5)
  np.testing.assert_allclose(structure.whiten(np.linalg.inv(cov), cov), np.eye(3), atol=1e-10)
