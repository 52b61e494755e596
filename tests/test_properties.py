"""Property-based tests (hypothesis) of the models and samplers: shapes, symmetries, no NaN at extremes."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from icljax.models import lsa
from icljax.models import nearest_neighbor as nn_model
from icljax.models import recall as recall_model
from icljax.tasks import nearest_neighbor as nn_task
from icljax.tasks import recall as recall_task
from icljax.tasks import regression
from icljax.theory import lsa as lsa_theory
from icljax.theory import nearest_neighbor as nn_theory

SETTINGS = settings(max_examples=10, deadline=None)  # each new shape recompiles: keep CI short
FEW = settings(max_examples=3, deadline=None)      # the compile-bound model properties


@pytest.mark.slow
@FEW
@given(d=st.integers(1, 6), n=st.integers(1, 12), batch=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_lsa_shapes_and_context_permutation_invariance(d, n, batch, seed):
  @jax.jit
  def both(key):   # one compiled program per shape
    prompts = regression.sample(key, regression.make_spec(d, n, 0.3), batch)
    params = lsa.init(jax.random.fold_in(key, 1), lsa.LsaSpec(d, n, init_scale=0.5))
    perm = jax.random.permutation(jax.random.fold_in(key, 2), n)
    permuted = dict(prompts, x=prompts["x"][:, perm], y=prompts["y"][:, perm])
    out = [(lsa.apply(params, prompts, spec), lsa.apply(params, permuted, spec))
           for spec in (lsa.LsaSpec(d, n, normalization=z) for z in lsa.NORMALIZATIONS)]
    return prompts, out

  prompts, out = both(jax.random.key(seed))
  assert prompts["x"].shape == (batch, n, d) and prompts["y_query"].shape == (batch,)
  for a, b in out:
    assert a.shape == (batch,)
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@functools.partial(jax.jit, static_argnames=("d", "n"))
def _structured_lsa(key, eta, d, n):
  """The LSA at the theorem's structure (u_x = 0, m_21 = 0) on prompts and on their label-flipped copies, and one GD
  step's prediction: one compiled program per shape (eager ops would compile one program each)."""
  prompts = regression.sample(key, regression.make_spec(d, n, 0.5), 4)
  m = jnp.zeros((d + 1, d + 1)).at[:d, :d].set(eta * jnp.eye(d)).at[:, d].set(0.7)
  params = lsa.lift({"w": jnp.zeros(d + 1).at[d].set(1.0), "M": m})
  spec = lsa.LsaSpec(d, n)
  return (lsa.apply(params, dict(prompts, y=-prompts["y"]), spec), lsa.apply(params, prompts, spec),
          lsa_theory.one_step_gd_predict(prompts, eta))


@pytest.mark.slow
@SETTINGS
@given(d=st.integers(2, 6), n=st.integers(1, 12), eta=st.floats(0.01, 2.0), seed=st.integers(0, 2**16))
def test_flipping_all_labels_negates_the_gd_structured_lsa(d, n, eta, seed):
  # On the structure the theorem predicts (u_x = 0, m_21 = 0) the LSA is odd in the labels.
  flipped, plain, gd = _structured_lsa(jax.random.key(seed), eta, d=d, n=n)
  np.testing.assert_allclose(flipped, -plain, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(plain, gd, rtol=1e-4, atol=1e-5)


@FEW
@given(d=st.integers(2, 6), n=st.integers(1, 10), xi1=st.floats(0, 60), xi2=st.floats(-10, 80),
       seed=st.integers(0, 2**16))
@pytest.mark.slow
def test_softmax_attention_permutation_invariance_and_no_nan(d, n, xi1, xi2, seed):
  prompts = nn_task.sample(jax.random.key(seed), nn_task.make_spec(d, n, "gaussian"), 8)
  params = {"W": nn_model.to_W(xi1, xi2, d)}
  perm = jax.random.permutation(jax.random.key(seed + 1), n)
  permuted = dict(prompts, x=prompts["x"][:, perm], y=prompts["y"][:, perm])
  a, b = nn_model.apply(params, prompts), nn_model.apply(params, permuted)
  assert np.all(np.isfinite(np.asarray(a)))
  np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
  loss, grads = nn_theory.loss_and_grads_blocks(jnp.array([xi1, xi2]), nn_theory.prepare_tau(prompts["tau"]))
  assert np.isfinite(float(loss)) and np.all(np.isfinite(np.asarray(grads)))


@pytest.mark.slow
@SETTINGS
@given(sigma=st.floats(0.0, 1e-6), n=st.sampled_from([1, 2, 500]), seed=st.integers(0, 2**16))
def test_tiny_noise_and_long_contexts_give_finite_theory_and_predictions(sigma, n, seed):
  spec = regression.make_spec(3, n, sigma)
  prompts = regression.sample(jax.random.key(seed), spec, 4)
  eta = lsa_theory.eta_star(n, 3, sigma)
  for pred in (lsa_theory.one_step_gd_predict(prompts, eta), lsa_theory.ridge_predict(prompts, sigma**2 + 1e-6),
               lsa.apply(lsa.init(jax.random.key(seed), lsa.LsaSpec(3, n)), prompts, lsa.LsaSpec(3, n))):
    assert np.all(np.isfinite(np.asarray(pred)))
  assert np.isfinite(lsa_theory.optimal_loss(n, 3, sigma))


@SETTINGS
@given(lam=st.floats(0.0, 200.0), alpha=st.sampled_from([0.0, 0.2, 0.5]), attention=st.sampled_from(
    recall_model.ATTENTIONS), seed=st.integers(0, 2**16))
@pytest.mark.slow
def test_recall_logits_finite_for_large_parameters(lam, alpha, attention, seed):
  spec = recall_task.make_spec(alpha, H=24)
  batch = recall_task.sample(jax.random.key(seed), spec, 4)
  m = recall_model.make_model("reparam", attention, 1, V=spec.V, triggers=spec.triggers, noisy=spec.noisy,
                              gamma=0.3)
  params = {"Lam": jnp.array(lam)} if spec.noisy else {"lam": jnp.full((5,), lam)}
  logits = recall_model.apply(params, batch, m)
  assert logits.shape == (4, spec.V) and np.all(np.isfinite(np.asarray(jax.nn.log_softmax(logits))))
