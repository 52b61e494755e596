"""Multiclass 1-NN (Athreya & Wang): the codes and their Lemma-2 factors, the class law, the K-class model against an
independent NumPy computation, Lemma 2 by exact enumeration, the one-hot failure, the plurality law, the reference
numbers, the flow run's read-offs, and the audit's cases (issue 28: a frozen xi2 fails its reference row; checks
that never see training are not theory; the short clock still catches a wrong step)."""

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from icljax import stats, validation
from icljax.experiment import configs, fields
from icljax.experiment.api import RunRef
from icljax.experiment.checks import Checker
from icljax.models import nearest_neighbor_multiclass as model
from icljax.results import nearest_neighbor_multiclass as mc
from icljax.results.nearest_neighbor_multiclass import checks, enumeration, flow
from icljax.results.nearest_neighbor_multiclass import plan as mc_plan
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


@pytest.mark.slow
def test_model_equals_an_independent_numpy_computation():
  K, d, N = 4, 5, 7
  batch = task.sample(jax.random.key(0), task.make_spec(d, N, K), 6)
  w = np.asarray(jax.random.normal(jax.random.key(1), (d + K + 1, d + K + 1)), np.float64)
  logits = model.apply({"W": jnp.asarray(w, jnp.float32)}, batch, task.code(batch["c"], K))
  for b in range(6):
    ref = _numpy_logits(w, np.asarray(batch["x"][b]), np.asarray(batch["c"][b]), np.asarray(batch["x_query"][b]), K)
    np.testing.assert_allclose(logits[b], ref, atol=2e-6)
    assert abs(float(jnp.sum(logits[b]))) < 1e-6                                   # sum_k l_k = 0 (P1)


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.parametrize("N,K,ref", [(16, 3, 0.401), (32, 3, 0.371), (64, 3, 0.366), (16, 5, 0.265),
                                     (16, 10, 0.160), (16, 2, 0.500)])
@pytest.mark.slow
def test_plurality_accuracy_matches_the_reference(N, K, ref):
  assert abs(theory.plurality_accuracy(N, K) - ref) <= 2e-3   # the reference computation states +-0.002


def test_plurality_accuracy_matches_brute_force():
  N, K = 5, 3
  wins = sum(all(c.count(c[0]) > c.count(k) for k in range(K) if k != c[0])
             for c in itertools.product(range(K), repeat=N))   # c[0] plays the 1-NN token
  assert theory.plurality_accuracy(N, K) == pytest.approx(wins / K**N, abs=1e-12)


@pytest.mark.slow
def test_reduced_values_match_the_reference_table():
  """The loss at W_0 and the reduced values (K = 3 column, d = N = 4): f times the binary label-integrated loss."""
  assert theory.loss_at_zero(16, 3.0, 3) == pytest.approx(0.312500, abs=5e-7)
  assert theory.loss_at_zero(16, 3.0, 10) == pytest.approx(0.421875, abs=5e-7)
  tau = binary_task.sample_tau(jax.random.key(5), 4, 4, 200_000)
  for xi, ref in (((2.0, 5.0), 0.11890), ((4.0, 8.0), 0.06675)):
    per = 2 / 3 * np.asarray(binary.per_prompt(jnp.array(xi), tau)["loss"], np.float64)
    assert abs(per.mean() - ref) <= 4 * per.std() / np.sqrt(per.size) + 5e-6 + 1e-4   # + the reference's MC error


def test_bad_K_is_one_line_config_error():
  with pytest.raises(validation.ConfigError, match="config.K"):
    configs.load("nearest_neighbor_multiclass:K=1")


@pytest.mark.parametrize("probs", [(0.5, 0.5), (0.5, 0.3, 0.3)])
def test_a_class_law_that_is_not_K_probabilities_names_class_probs(probs):
  """The cross-field rule of setup: K positive numbers summing to 1."""
  config = configs.load(RunRef("nearest_neighbor_multiclass", (), {"class_probs": probs}))
  with pytest.raises(validation.ConfigError, match="config.class_probs"):
    mc.EXPERIMENT.setup(config)


def test_main_job_run_names_are_derived_from_the_fields():
  names = [configs.run_name(configs.load(r)) for r in mc.EXPERIMENT.main_job]
  assert names == ["nearest_neighbor_multiclass_steps5000", "nearest_neighbor_multiclass",
                   "nearest_neighbor_multiclass_p0.5-0.3-0.2_recentred_steps2000"]
  assert len(set(names)) == len(names)
  config = fields.replace(configs.load("nearest_neighbor_multiclass"), K=5, seed=2)
  assert configs.run_name(config) == "nearest_neighbor_multiclass_K5_seed2"


def test_late_slope_reads_a_logarithmic_law_and_a_power_law():
  """The log_rate claim's criterion: c / ln t fitted over a decade has slope -1/ln t_mid (so the claim can pass);
  t^(-1/3) has -1/3 (0.25 away from it at t ~ 3e5: the claim's 0.05 separates the two)."""
  t = np.geomspace(1e3, 1e6, 300)
  assert abs(flow.late_slope(t, 2.0 / np.log(t), 1e5) + 1 / np.log(np.sqrt(1e5 * 1e6))) < 0.01
  assert abs(flow.late_slope(t, 5.0 * t ** (-1 / 3), 1e5) + 1 / 3) < 1e-9


@pytest.mark.slow
def test_reduced_kclass_loss_falls_polynomially_not_logarithmically():
  """The late-time rate at the paper's d = 8, N = 16, K = 3, sigma = 3, eta = 0.05: 1e6 K-class steps
  as binary GD at step 1 with f eta t held; the late slope is near -1/3, far from a logarithmic rate's -0.08."""
  f = theory.factor(3)
  tau = binary_task.sample_tau(jax.random.key(0), 8, 16, 800)   # slope -0.365 (-0.380 at 2000 prompts)
  t = np.arange(1, 201) * (round(f * 0.05 * 1e6) // 200)
  xi, loss = theory.gd_points(jnp.array([[0.0, 3.0]]), mc_plan.prepare_stack(tau[None]), jnp.array([1.0]),
                              jnp.array([8.0]), jnp.asarray(t[None], jnp.int32), jnp.zeros((1, t.size)))
  loss = np.asarray(loss[0], np.float64)
  k_steps = t / (f * 0.05)
  slope = flow.late_slope(k_steps, f * loss, k_steps[-1] / 10)
  assert -0.4 < slope < -0.25 and abs(slope + 1 / np.log(np.sqrt(0.1) * k_steps[-1])) > 0.05
  assert np.all(np.diff(loss) <= 1e-7) and xi.shape == (1, t.size, 2)


P4 = (0.5, 0.3, 0.2)


def test_codings_have_the_lemma2_factor_of_their_mean_zero_law():
  """Unit codes have norm 1; re-centred codes have mean 0 under their law; the factor is E||u_c||^2 where the mean
  is 0 and None where it is not (one-hot codes, centred codes under a non-uniform law)."""
  c = jnp.arange(3)
  np.testing.assert_allclose(np.linalg.norm(task.code(c, 3, "unit"), axis=-1), 1.0, atol=1e-6)
  recentred = np.asarray(task.code(c, 3, "recentred", P4), np.float64)
  np.testing.assert_allclose(np.asarray(P4) @ recentred, 0.0, atol=1e-7)
  assert theory.code_factor(3, "recentred", P4) == pytest.approx(np.asarray(P4) @ np.sum(recentred**2, -1))
  assert theory.code_factor(3, "recentred", P4) == pytest.approx(0.62)
  assert theory.code_factor(3) == pytest.approx(2 / 3) and theory.code_factor(3, "recentred") == pytest.approx(2 / 3)
  assert theory.code_factor(5, "unit") == 1.0
  assert theory.code_factor(3, "onehot") is None and theory.code_factor(3, "centred", P4) is None


def test_sampler_draws_the_class_law():
  batch = task.sample(jax.random.key(7), task.make_spec(4, 16, 3, P4), 4000)
  freq = np.bincount(np.asarray(batch["c"]).ravel(), minlength=3) / batch["c"].size
  se = np.sqrt(np.asarray(P4) * (1 - np.asarray(P4)) / batch["c"].size)
  assert np.all(np.abs(freq - P4) < 4 * se), freq
  with pytest.raises(validation.ConfigError, match="class_probs"):
    task.make_spec(4, 16, 3, (0.5, 0.5, 0.5))


def test_each_coding_by_exact_enumeration():
  """Per prompt (d = N = 4, K = 3): unit codes give L_bin, codes re-centred at p give (1 - sum p^2) L_bin, the
  paper's centred code under p has no constant ratio (0.6206 at (1, 2), 0.652 at (5, 2) in the mean)."""
  prompts = task.sample(jax.random.key(8), task.make_spec(4, 4, 3), 100)
  ratios = []
  for xi1, xi2 in [(1.0, 2.0), (5.0, 2.0)]:
    w, xi = model.to_W(xi1, xi2, 4, 3), jnp.array([xi1, xi2])
    bin_pp = np.asarray(binary.per_prompt(xi, prompts["tau"])["loss"], np.float64)
    np.testing.assert_allclose(theory.enumerated_loss(w, prompts, 3, "unit"), bin_pp, atol=2e-6)
    np.testing.assert_allclose(theory.enumerated_loss(w, prompts, 3, "recentred", P4), 0.62 * bin_pp, atol=2e-6)
    ratios.append(float(np.mean(theory.enumerated_loss(w, prompts, 3, "centred", P4)) / bin_pp.mean()))
  assert abs(ratios[0] - 0.62058) < 2e-3 and abs(ratios[1] - 0.65238) < 1e-2 and ratios[1] - ratios[0] > 0.02


@pytest.mark.slow
@pytest.mark.parametrize("probs", [None, P4])
def test_code_loss_is_the_enumerated_loss_for_every_code(probs):
  """Per prompt, Var(u) L_bin + |E u|^2 q_self^2 / 2 for every code and law (Lemma 2 where E u = 0)."""
  prompts = task.sample(jax.random.key(10), task.make_spec(4, 4, 3), 64)
  for xi1, xi2 in [(0.0, 0.0), (5.0, 2.0), (2.0, 5.0)]:
    w, xi = model.to_W(xi1, xi2, 4, 3), jnp.array([xi1, xi2])
    for coding in task.CODINGS:
      np.testing.assert_allclose(theory.enumerated_loss(w, prompts, 3, coding, probs),
                                 theory.code_loss(xi, prompts["tau"], 3, coding, probs), atol=2e-6,
                                 err_msg=f"{coding} {probs} ({xi1}, {xi2})")


@pytest.mark.slow
def test_gd_points_reads_the_flow_between_steps():
  """Whole steps are binary GD's steps; a read-off between steps is one Euler step of the fraction; trajectories of
  a stack are independent."""
  tau = binary_task.sample_tau(jax.random.key(9), 8, 16, 512)
  blocks = binary.prepare_tau(tau)
  start = jnp.array([0.0, 3.0])
  steps, frac = jnp.array([[5, 40], [2, 20]]), jnp.array([[0.0, 0.5], [0.5, 0.25]])   # s = 10 and 81 for both
  xi, loss = theory.gd_points(jnp.stack([start, start]), jnp.stack([blocks, blocks]), jnp.array([2.0, 4.0]),
                              jnp.array([8.0, 8.0]), steps, frac)
  whole = binary.reduced_gd(start, blocks, 2.0, 8, 5)
  np.testing.assert_allclose(xi[0, 0], whole, rtol=1e-6)
  np.testing.assert_allclose(loss[0, 0], binary.loss_and_grads_blocks(whole, blocks)[0], rtol=1e-6)
  at40 = binary.reduced_gd(start, blocks, 2.0, 8, 40)
  np.testing.assert_allclose(xi[0, 1], binary.reduced_gd(at40, blocks, 1.0, 8, 1), rtol=1e-6)   # half a step of 2
  at2 = binary.reduced_gd(start, blocks, 4.0, 8, 2)
  np.testing.assert_allclose(xi[1, 0], binary.reduced_gd(at2, blocks, 2.0, 8, 1), rtol=1e-6)
  # the same flow time s = 41 read from step 2 and from step 4 agrees to the step's O(h) bias
  np.testing.assert_allclose(xi[0, 1], xi[1, 1], rtol=2e-3)


def test_rounding_is_half_a_unit_of_the_last_printed_digit():
  assert flow.rounding(3.0004) == pytest.approx(5e-5)
  assert flow.rounding(1.849) == pytest.approx(5e-4)
  assert flow.rounding(0.0271) == pytest.approx(5e-5)
  assert flow.rounding(22.051) == pytest.approx(5e-4)


@pytest.fixture(scope="module")
def gate_setup():
  """The science gate's setting without its long flow run, with its plan (samples, W_0)."""
  gate = mc.EXPERIMENT.gate
  setup = mc.EXPERIMENT.setup(configs.load(RunRef(gate.preset, gate.variants, {**gate.overrides, "lemma12_steps": 0})))
  return setup, mc.EXPERIMENT.plan(setup).context


def _rows_at(setup, ctx, xi_pop, step):
  """A metric row at ``step`` whose reduced system sits at ``xi_pop`` (R, 2) and whose chains track it."""
  K = setup.task.K
  pop = mc_plan.population(jnp.asarray(xi_pop, jnp.float32), ctx.eval_prompts["tau"], ctx.eval_prompts["c"], K,
                           theory.factor(K))
  row = {"step": step, "label_columns_moved": 0.0, "pop0_xi1": float(xi_pop[0, 0]), "pop0_xi2": float(xi_pop[0, 1])}
  for i in (0, 1):
    mean, se = stats.mean_se(xi_pop[:, i])
    row.update({f"pop_xi{i + 1}": float(mean), f"pop_xi{i + 1}_se": float(se), f"sgd_xi{i + 1}": float(mean),
                f"sgd_xi{i + 1}_se": float(se)})
  for key, name in (("pop_loss", "loss"), ("accuracy", "accuracy")):
    mean, se = stats.mean_se(np.asarray(pop[name], np.float64))
    row.update({key: float(mean), f"{key}_se": float(se), f"{key}_eval_se": float(pop[f"{name}_eval_se"])})
  return row


def test_audit_case5_a_frozen_xi2_fails_its_reference_row(gate_setup):
  """Issue 28, case 5: the reference rows' tolerance was 4e-3 of xi2's full value (sigma = 3 included), 30x xi2's
  whole movement at t = 1e3, so a frozen xi2 passed. Now the error bar is computed from the increments' noise and
  the reference's rounding: the true trajectory passes, a frozen xi2 fails."""
  setup, ctx = gate_setup
  f, t = theory.factor(setup.task.K), 1000
  xi_pop = checks._binary_gd(setup, ctx, f, t)   # the K-class reduced system at t (Lemma 2: binary at f eta)
  fl = flow.run(setup, ctx.tau_flow, (f * setup.eta * t,))
  row = _rows_at(setup, ctx, xi_pop, t)
  ref_xi2 = setup.references[0][2]
  assert 4e-3 * ref_xi2 > 10 * (ref_xi2 - setup.model.sigma)   # the old floor dwarfed xi2's movement
  for frozen, expect in ((False, True), (True, False)):
    moved = dict(row, pop_xi2=setup.model.sigma, pop_xi2_se=0.0) if frozen else row
    c = Checker(mc.EXPERIMENT.tolerances)
    checks._trajectory(c, setup, [moved], fl)
    xi2 = [ch for ch in c.checks if ch.entry == "reference" and ch.quantity.startswith("xi2")]
    assert len(xi2) == 1 and xi2[0].passed is expect, xi2
    assert xi2[0].tolerance < 0.25 * (ref_xi2 - setup.model.sigma)
    assert all(ch.passed for ch in c.checks if ch.entry == "reference" and not ch.quantity.startswith("xi2"))


def test_audit_case8_checks_that_never_see_training_are_not_theory(gate_setup):
  """Issue 28, case 8: the enumeration (Lemma 2 and the codings at fixed points), the loss and plurality law at W_0
  take no trained parameter and no metric row: none of their checks may be labelled theory. The clock and the
  label columns are true at any parameter value: identities."""
  setup, ctx = gate_setup
  c, out = Checker(mc.EXPERIMENT.tolerances), {"scalars": {}, "arrays": {}}
  enumeration.lemma2(c, setup, out)
  enumeration.codings(c, setup)
  checks._initial(c, setup, ctx, out)
  kinds = {ch.entry: ch.kind for ch in c.checks}
  assert {"lemma2_enumerated", "onehot_excess", "onehot_ratio", "p2_initial", "plurality", "p4_unit",
          "p4_recentred", "p4_centred", "p4_centred_closed"} <= set(kinds)
  assert "theory" not in kinds.values() and all(ch.passed for ch in c.checks if ch.kind != "claim"), c.checks
  table = mc.EXPERIMENT.tolerances
  assert table["clock"].kind == table["label_columns"].kind == table["init_is_plurality"].kind == "identity"
  assert {e for e, t in table.items() if t.kind == "theory"} == {"reference", "flow_rows", "accuracy", "sgd_tracks"}


def test_the_short_clock_still_catches_a_wrong_step(gate_setup):
  """Issue 31's lever: the binary system is no longer trained beside the K-class one; the clock identity compares the
  trained K-class system with binary GD at f eta over the first logged interval only. A K-class system stepping at
  eta (no factor) or 2% off f eta fails it; the right one passes."""
  setup, ctx = gate_setup
  f, t = theory.factor(setup.task.K), 100
  for scale, passes in ((f, True), (1.0, False), (f * 1.02, False)):
    row = _rows_at(setup, ctx, checks._binary_gd(setup, ctx, scale, t), t)
    c = Checker(mc.EXPERIMENT.tolerances)
    checks._clock(c, setup, ctx, [row])
    assert c.checks[0].entry == "clock" and c.checks[0].passed is passes, (scale, c.checks[0])
