"""Multiclass 1-NN (Athreya & Wang): the codes, the K-class model against an independent NumPy computation,
Lemma 2 by exact enumeration, the one-hot failure, P10's plurality law and the digest's numbers."""

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from icljax import configs, validation
from icljax.experiment import driver
from icljax.models import softmax_attention_multiclass as model
from icljax.results.nn import extras as nn_extras
from icljax.tasks import nearest_neighbor as binary_task
from icljax.tasks import nearest_neighbor_multiclass as task
from icljax.theory import nearest_neighbor as binary
from icljax.theory import nearest_neighbor_multiclass as theory


@pytest.mark.parametrize("K", [2, 3, 5, 10])
def test_centred_codes_are_the_simplex_code(K):
  u = np.asarray(task.code(jnp.arange(K), K), np.float64)
  gram = u @ u.T
  np.testing.assert_allclose(u.sum(1), 0.0, atol=1e-7)                              # P1
  np.testing.assert_allclose(np.diag(gram), (K - 1) / K, atol=1e-7)
  np.testing.assert_allclose(gram[~np.eye(K, dtype=bool)], -1 / K, atol=1e-7)
  dist = np.linalg.norm(u[:, None] - u[None], axis=-1)[~np.eye(K, dtype=bool)]
  np.testing.assert_allclose(dist, math.sqrt(2), atol=1e-6)


def _numpy_logits(w, x, c, xq, K):
  """Eqs. (2)-(5) literally: the (d+K+1) x (N+1) matrix H, column-wise softmax of H^T W H, label rows of the query
  column of H softmax(.)."""
  d, N = x.shape[1], x.shape[0]
  H = np.zeros((d + K + 1, N + 1))
  H[:d, :N], H[:d, N], H[d + K, N] = x.T, xq, 1.0
  H[d:d + K, :N] = (np.eye(K)[c] - 1 / K).T
  s = H.T @ w @ H
  a = np.exp(s - s.max(0)) / np.exp(s - s.max(0)).sum(0)
  return (H @ a)[d:d + K, N]


def test_model_equals_an_independent_numpy_computation():
  K, d, N = 4, 5, 7
  batch = task.sample(jax.random.key(0), task.make_spec(d, N, K), 6)
  w = np.asarray(jax.random.normal(jax.random.key(1), (d + K + 1, d + K + 1)), np.float64)
  logits = model.apply({"W": jnp.asarray(w, jnp.float32)}, batch, task.code(batch["c"], K))
  for b in range(6):
    ref = _numpy_logits(w, np.asarray(batch["x"][b]), np.asarray(batch["c"][b]), np.asarray(batch["x_query"][b]), K)
    np.testing.assert_allclose(logits[b], ref, atol=2e-6)
    assert abs(float(jnp.sum(logits[b]))) < 1e-6                                   # sum_k l_k = 0 (P1)


@pytest.mark.parametrize("K", [2, 3, 5])
def test_lemma2_holds_per_prompt_and_onehot_adds_q_self_squared(K):
  """P3(a) and P4 by exact enumeration over all K^N class assignments, d = N = 4."""
  prompts = task.sample(jax.random.key(2), task.make_spec(4, 4, K), 200)
  for xi1, xi2 in [(0.0, 0.0), (1.0, 2.0), (2.0, 5.0), (5.0, 2.0), (8.0, 15.0)]:
    w, xi = model.to_W(xi1, xi2, 4, K), jnp.array([xi1, xi2])
    bin_pp = binary.per_prompt(xi, prompts["tau"])["loss"]
    np.testing.assert_allclose(theory.enumerated_loss(w, prompts, K, "centred"), (K - 1) / K * bin_pp, atol=2e-6)
    np.testing.assert_allclose(theory.enumerated_loss(w, prompts, K, "onehot"),
                               (K - 1) / K * bin_pp + theory.onehot_excess(xi, prompts["tau"], K), atol=2e-6)


def test_label_columns_get_exactly_zero_gradient_anywhere():
  """P6: the query's label block is 0, so W's label columns never enter a score."""
  K, d = 3, 4
  batch = task.sample(jax.random.key(3), task.make_spec(d, 5, K), 64)
  codes, target = task.code(batch["c"], K), task.code(batch["c_star"], K)
  loss = lambda w: 0.5 * jnp.mean(jnp.sum((model.apply({"W": w}, batch, codes) - target) ** 2, -1))
  w = jax.random.normal(jax.random.key(4), (d + K + 1, d + K + 1))
  grad = jax.grad(loss)(w)
  assert float(jnp.max(jnp.abs(model.label_columns(grad, d, K)))) == 0.0
  assert float(jnp.max(jnp.abs(grad))) > 1e-3


@pytest.mark.parametrize("N,K,digest", [(16, 3, 0.401), (32, 3, 0.371), (64, 3, 0.366), (16, 5, 0.265),
                                        (16, 10, 0.160), (16, 2, 0.500)])
def test_plurality_accuracy_matches_the_digest(N, K, digest):
  assert abs(theory.plurality_accuracy(N, K) - digest) <= 2e-3   # P10; the digest states +-0.002 on accuracies


def test_plurality_accuracy_matches_brute_force():
  N, K = 5, 3
  wins = sum(all(c.count(c[0]) > c.count(k) for k in range(K) if k != c[0])
             for c in itertools.product(range(K), repeat=N))   # c[0] plays the 1-NN token
  assert theory.plurality_accuracy(N, K) == pytest.approx(wins / K**N, abs=1e-12)


def test_reduced_values_match_the_digest_table():
  """P2 and P5 (K = 3 column, d = N = 4): f times the binary label-integrated loss."""
  assert theory.loss_at_zero(16, 3.0, 3) == pytest.approx(0.312500, abs=5e-7)
  assert theory.loss_at_zero(16, 3.0, 10) == pytest.approx(0.421875, abs=5e-7)
  tau = binary_task.sample_tau(jax.random.key(5), 4, 4, 200_000)
  for xi, ref in (((2.0, 5.0), 0.11890), ((4.0, 8.0), 0.06675)):
    per = 2 / 3 * np.asarray(binary.per_prompt(jnp.array(xi), tau)["loss"], np.float64)
    assert abs(per.mean() - ref) <= 4 * per.std() / np.sqrt(per.size) + 5e-6 + 1e-4   # + digest MC error


def test_bad_K_is_one_line_config_error():
  with pytest.raises(validation.ConfigError, match="config.K"):
    driver.prepare(configs.load("nn_multiclass:K=1"), "/nonexistent")


def test_late_slope_reads_a_logarithmic_law_and_a_power_law():
  """The log_rate claim's criterion: c / ln t fitted over a decade has slope -1/ln t_mid (so the claim can pass);
  t^(-1/3) has -1/3 (0.25 away from it at t ~ 3e5: the claim's 0.05 separates the two)."""
  t = np.geomspace(1e3, 1e6, 300)
  assert abs(nn_extras.late_slope(t, 2.0 / np.log(t), 1e5) + 1 / np.log(np.sqrt(1e5 * 1e6))) < 0.01
  assert abs(nn_extras.late_slope(t, 5.0 * t ** (-1 / 3), 1e5) + 1 / 3) < 1e-9


def test_reduced_kclass_loss_falls_polynomially_not_logarithmically():
  """Athreya digest P8 / section 9.5 at the paper's d = 8, N = 16, K = 3, sigma = 3, eta = 0.05: 1e6 K-class steps
  as binary GD at step 1 with f eta t held; the late slope is near -1/3, far from a logarithmic rate's -0.08."""
  f = theory.factor(3)
  tau = binary_task.sample_tau(jax.random.key(0), 8, 16, 800)   # slope -0.365 (-0.380 at 2000 prompts)
  t, xi, loss = nn_extras.population_runs(tau, (3.0,), 8, 1.0, round(f * 0.05 * 1e6))
  k_steps = t / (f * 0.05)
  slope = nn_extras.late_slope(k_steps, f * loss[0], k_steps[-1] / 10)
  assert -0.4 < slope < -0.25 and abs(slope + 1 / np.log(np.sqrt(0.1) * k_steps[-1])) > 0.05
  assert np.all(np.diff(loss[0]) <= 1e-7) and xi.shape == (1, t.size, 2)
