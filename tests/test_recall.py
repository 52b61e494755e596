"""Result 3: recall sentences, index-arithmetic models vs the dense Eq. (1), NGD, and the closed forms P1-P9."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from icljax import optim, runs, train, validation
from icljax.experiment import configs, driver, fields, main_job, registry
from icljax.experiment.checks import Checker
from icljax.models import recall as model
from icljax.results.recall import checks as recall_checks
from icljax.results.recall import finite_law
from icljax.results.recall.tolerances import TOLERANCES
from icljax.tasks import recall as task
from icljax.theory import recall as theory


@pytest.mark.slow
@pytest.mark.parametrize("alpha", [0.0, 0.3])
def test_sentences_follow_the_generator(alpha):
  spec = task.make_spec(alpha, H=32)
  b = {k: np.asarray(v) for k, v in task.sample(jax.random.key(0), spec, 400).items()}
  z, q = b["z"], b["z"][:, -1]
  assert np.all(np.isin(q, spec.triggers)) and (not spec.noisy or np.all(q == spec.triggers[0]))
  for i in range(len(z)):
    pos = np.flatnonzero(z[i, :-1] == q[i])
    followers = z[i, pos + 1]
    assert b["y"][i] in followers                                      # one (q, y) bigram
    assert set(followers.tolist()) <= {int(b["y"][i]), spec.tau}       # every (q, x) has x in {y, tau}
    assert (spec.tau in followers) == spec.noisy                        # one (q, tau) bigram when noisy
    assert z[i, -2] != q[i] or not spec.noisy
  assert np.all(np.isin(b["y"], spec.outputs))
  assert np.all(b["target"] == np.where(b["noise"], spec.tau, b["y"]))
  if spec.noisy:
    assert abs(b["noise"].mean() - alpha) < 4 * np.sqrt(alpha * (1 - alpha) / len(z))
  unseen = np.asarray(task.sample(jax.random.key(1), spec, 200, unseen=True)["y"])
  assert np.all(np.isin(unseen, spec.unseen)) and not np.any(np.isin(unseen, spec.outputs))


@pytest.mark.parametrize("kind,attention,kappa,alpha", list(itertools.product(
    model.KINDS, model.ATTENTIONS, (0, 1), (0.0, 0.4))))
@pytest.mark.slow
def test_index_arithmetic_equals_dense_equation_1(kind, attention, kappa, alpha):
  spec = task.make_spec(alpha, H=12)
  batch = task.sample(jax.random.key(2), spec, 16)
  m = model.make_model(kind, attention, kappa, V=spec.V, triggers=spec.triggers, noisy=spec.noisy, gamma=-0.7)
  params = jax.tree.map(lambda a: 0.4 * jax.random.normal(jax.random.key(3), a.shape), model.init(None, m))
  np.testing.assert_allclose(model.apply(params, batch, m), model.dense_logits(params, batch, m), atol=1e-5)


def test_p1_p2_p4_p5_p9_closed_forms_match_the_tabulated_values():
  np.testing.assert_allclose([theory.loss_noisy(0.0, a) for a in (.2, .5, .8)], [4.359025, 4.094345, 3.034099],
                             atol=1e-6)
  table = {.2: (3.394634, 0.772443, 0.502507), .5: (3.150040, 0.871628, 0.694463), .8: (2.161940, 0.575658, 0.500929)}
  for a, values in table.items():
    np.testing.assert_allclose([theory.loss_noisy(lam, a) for lam in (1, 5, 10)], values, atol=1e-6)
  assert theory.entropy(0.2) == pytest.approx(0.500402, abs=1e-6) and theory.entropy(0.5) == pytest.approx(np.log(2))
  np.testing.assert_allclose([theory.loss_noiseless(np.full(5, lam)) for lam in (1, 2, 5, 10)],
                             [3.122580, 2.195532, 0.334713, 2.675e-3], atol=1e-6)
  np.testing.assert_allclose([theory.kappa0_optimum(a)[1] for a in (.2, .5, .8)], [1.5906, 2.7319, 2.6931], atol=1e-4)
  lam_star, best = theory.kappa0_optimum(0.5)
  assert theory.loss_noisy(lam_star, 0.5, kappa=0) == pytest.approx(best, abs=1e-9)
  assert theory.loss_noisy(5.0, 0.5) - np.log(2) == pytest.approx(0.17848, abs=1e-5)   # P3 at eta t = 5
  assert theory.softmax_plateau(0.0) == pytest.approx(3.122580, abs=1e-6)
  # P7 limit: H(alpha) + KL(alpha || alpha_hat).
  assert theory.loss_noisy(80.0, 0.2, gamma_hat=theory.gamma(0.21)) == pytest.approx(
      theory.entropy(0.2) + theory.kl_bernoulli(0.2, 0.21), abs=1e-9)


@pytest.mark.slow
@pytest.mark.parametrize("alpha,attention", [(0.0, "linear"), (0.5, "linear"), (0.2, "relu"), (0.8, "linear")])
def test_reparam_monte_carlo_loss_equals_closed_form(alpha, attention):
  spec = task.make_spec(alpha)
  m = model.make_model("reparam", attention, 1, V=spec.V, triggers=spec.triggers, noisy=spec.noisy,
                       gamma=theory.gamma(alpha) if alpha else 0.0)
  batch = task.sample(jax.random.key(4), spec, 256, unseen=True)
  params = {"Lam": jnp.array(3.0)} if spec.noisy else {"lam": jnp.array([1.0, 2.0, 3.0, 4.0, 5.0])}
  logp = jax.nn.log_softmax(model.apply(params, batch, m), -1)
  log_py = np.asarray(jnp.take_along_axis(logp, batch["y"][:, None], -1)[:, 0], np.float64)
  if spec.noisy:
    per = -(1 - alpha) * log_py - alpha * np.asarray(logp[:, spec.tau], np.float64)
    expected = theory.loss_noisy(3.0, alpha)
    np.testing.assert_allclose(per, expected, atol=2e-5)   # every sentence has the same loss (ReLU: +1e-8 terms)
  else:
    q_idx = np.asarray(batch["z"][:, -1])
    expected = np.log1p(59 * np.exp(-(q_idx + 1.0)))
    np.testing.assert_allclose(-log_py, expected, atol=2e-5)


def test_normalised_gd_skips_zero_gradients_and_normalises_per_tensor():
  opt = optim.normalized_gd(0.5)
  params = {"a": jnp.zeros(3), "b": jnp.zeros((2, 2)), "c": jnp.zeros(())}
  grads = {"a": jnp.array([3.0, 0.0, 4.0]), "b": jnp.zeros((2, 2)), "c": jnp.array(-1e-30)}
  updates, _ = opt.update(grads, opt.init(params), params)
  np.testing.assert_allclose(updates["a"], [-0.3, 0.0, -0.4], rtol=1e-6)
  assert np.all(np.asarray(updates["b"]) == 0) and not np.any(np.isnan(np.asarray(updates["b"])))
  assert float(updates["c"]) == pytest.approx(0.5)


@pytest.mark.slow
def test_ngd_noisy_reparam_moves_lam_by_exactly_eta():
  spec = task.make_spec(0.5, H=64)
  m = model.make_model("reparam", "linear", 1, V=spec.V, triggers=spec.triggers, noisy=True, gamma=0.0)
  loss = lambda p, b: jnp.mean(optax.softmax_cross_entropy_with_integer_labels(model.apply(p, b, m), b["target"]))
  opt = optim.normalized_gd(0.1)
  params = {"Lam": jnp.array(0.0)}
  state = opt.init(params)
  for t in range(20):
    g = jax.grad(loss)(params, task.sample(jax.random.key(t), spec, 64))
    assert float(g["Lam"]) < 0          # every minibatch gradient is negative (P3)
    updates, state = opt.update(g, state, params)
    params = optax.apply_updates(params, updates)
  assert float(params["Lam"]) == pytest.approx(2.0, abs=1e-5)


@pytest.mark.slow
def test_origin_linear_f_never_uses_attention():
  # P10: with W = V = 0, linear attention and kappa = 0 the attention tensors get exactly zero gradient.
  spec = task.make_spec(0.5, H=16)
  m = model.make_model("origin", "linear", 0, V=spec.V, triggers=spec.triggers, noisy=True)
  batch = task.sample(jax.random.key(5), spec, 32)
  loss = lambda p: jnp.mean(optax.softmax_cross_entropy_with_integer_labels(model.apply(p, batch, m), batch["target"]))
  g = jax.grad(loss)(model.init(None, m))
  assert float(jnp.abs(g["W"]).max()) == 0.0 and float(jnp.abs(g["V"]).max()) == 0.0
  assert float(jnp.abs(g["F"]).max()) > 0.0


@pytest.mark.parametrize("kwargs,field", [
    (dict(alpha=1.0), "alpha"), (dict(alpha=-0.1), "alpha"), (dict(outputs=(4, 5)), "outputs"),
    (dict(triggers=(0, 59)), "triggers"), (dict(H=3), "H"), (dict(alpha=0.5, H=5), "H"),
    (dict(unseen=(5, 9)), "unseen")])
def test_bad_arguments(kwargs, field):
  with pytest.raises(validation.ConfigError) as e:
    task.make_spec(**kwargs)
  assert e.value.field == field


@pytest.mark.parametrize("override,field", [
    ("triggers=(0,59)", "config.triggers"), ("outputs=(4,5)", "config.outputs"), ("H=5", "config.H"),
    ("M=100", "config.M"), ("d=100", "config.d"), ("V=8,outputs=(5,7),triggers=(0,)", "config.outputs")])
def test_cross_field_rules_name_the_field(override, field):
  """The rules that tie fields together (each field's own range is a generated test in tests/test_validation.py):
  token ids in 0..V-2 and disjoint, H >= 6 when noisy, M = 0 or M >= batch_size, d >= 2V."""
  config = configs.load(f"recall:{override}")
  with pytest.raises(validation.ConfigError) as e:
    registry.get("recall").setup(config)
  assert e.value.field == field and "\n" not in str(e.value)


def test_run_names_are_derived_from_the_fields():
  """``--config=recall --config.model=origin`` is named after the origin model (it was named after the default's
  model when names were strings written beside the fields); the main job's names, key runs included."""
  assert configs.run_name(configs.load("recall", {"model": "origin"})) == "recall_origin_linear_FA_a0.5"
  names = [configs.run_name(configs.load(r)) for r in registry.get("recall").main_job]
  assert len(names) == len(set(names)) == 36
  assert names[:2] == ["recall_reparam_linear_FA_a0.5", "recall_reparam_linear_FA_a0_steps500"]
  assert names[-4:] == ["recall_reparam_linear_FA_a0.5_steps600_float64",
                        "recall_reparam_relu_FA_a0.5_M2048_eta0.05_steps400",
                        "recall_reparam_w_relu_FA_a0.5_M2048_eta0.05_steps400",
                        "recall_origin_relu_FA_a0.5_M2048_eta0.05_steps400"]
  assert configs.run_name(fields.replace(configs.load("recall"), seed=3, x64=True, H=64)) == \
      "recall_reparam_linear_FA_a0.5_H64_seed3_float64"


def test_key_fig1_runs_are_the_first_steps_of_the_full_runs():
  """The default profile's Fig. 1 runs differ from the full-size runs in ``steps`` only (batch t is drawn from
  ``fold_in(data_key, t)``, so they train the first KEY_STEPS steps of the same trajectory); Fig. 2 runs at full
  size."""
  experiment = registry.get("recall")
  full = {r.variants: configs.load(r) for r in experiment.main_job if not r.key}
  key = [r for r in experiment.main_job if r.key]
  assert len(key) == 13 and sum(r.figure == "fig2_finite" for r in key) == 3
  assert len(main_job.profile_runs(experiment, "full")) == 26   # the archive: today's runs, at full size
  for run in key:
    config, twin = configs.load(run), full.get(run.variants, full[()] if run.variants == (
        "reparam_linear_FA_a0.5",) else None)
    if run.figure == "fig2_finite":
      assert run.overrides == {} and not run.reduced
      continue
    assert run.reduced
    assert twin is not None and twin.steps == 2000 and config.steps == 500
    assert fields.replace(config, steps=2000) == twin


def test_noise_bigram_position_is_uniform_over_allowed_positions():
  """(p, p_noise): p uniform on 0..H-3, p_noise uniform on the positions of 0..H-3 at distance > 1 from p
  (chi-square goodness of fit over every allowed pair, 2e5 sentences at H = 8)."""
  from scipy import stats  # pylint: disable=import-outside-toplevel
  spec = task.make_spec(0.3, H=8)
  z = np.asarray(jax.jit(lambda k: task.sample(k, spec, 200_000)["z"])(jax.random.key(5)))
  q = spec.triggers[0]
  rows, cols = np.nonzero(z[:, :-1] == q)
  assert np.all(np.bincount(rows) == 2)                   # exactly the two bigrams before the final query
  first, second = cols[0::2], cols[1::2]
  is_y = z[np.arange(len(z)), first + 1] != spec.tau
  p = np.where(is_y, first, second)
  p_noise = np.where(is_y, second, first)
  h = spec.H
  pairs = [(a, b) for a in range(h - 2) for b in range(h - 2) if abs(a - b) > 1]
  counts = dict.fromkeys(pairs, 0)
  for a, b in zip(p.tolist(), p_noise.tolist()):
    counts[(a, b)] += 1                                    # KeyError if a forbidden pair ever appears
  allowed = {a: sum(1 for x, _ in pairs if x == a) for a in range(h - 2)}
  expected = np.array([len(z) / (h - 2) / allowed[a] for a, _ in pairs])
  observed = np.array([counts[pair] for pair in pairs])
  assert stats.chisquare(observed, expected).pvalue > 1e-3


def test_expected_kl_binomial_against_numpy_draws_and_the_asymptote():
  rng = np.random.default_rng(0)
  for alpha, m in ((0.5, 128), (0.2, 512)):
    hats = rng.binomial(m, alpha, 400_000) / m
    hats = hats[(hats > 0) & (hats < 1)]
    kl = alpha * np.log(alpha / hats) + (1 - alpha) * np.log((1 - alpha) / (1 - hats))
    assert abs(kl.mean() - theory.expected_kl_binomial(alpha, m)) < 4 * kl.std() / np.sqrt(len(kl))
  assert 2 * 8192 * theory.expected_kl_binomial(0.5, 8192) == pytest.approx(1.0, abs=1e-3)


def test_noise_flags_are_the_flags_sample_draws():
  spec = task.make_spec(0.3, H=16)
  key = jax.random.key(5)
  np.testing.assert_array_equal(task.noise_flags(key, spec, 64), task.sample(key, spec, 64)["noise"])


@pytest.mark.slow
def test_finite_law_checks_pass_and_fail_for_a_sampler_without_binomial_noise(monkeypatch):
  spec = task.make_spec(0.5, H=16)
  c = Checker(TOLERANCES)
  arrays, _ = finite_law.checks(c, spec, sizes=(128, 2048), seeds=1000)
  assert all(ch.passed for ch in c.checks) and len(c.checks) == 4
  assert set(arrays) == {"law_M", "law_mean", "law_se", "law_exact", "law_used"}
  # Mutation: a sampler that puts exactly round(alpha M) noisy sentences in every training set (no binomial noise).
  exact_fraction = lambda key, spec, b: jax.random.permutation(key, jnp.arange(b) < round(float(spec.alpha) * b))
  monkeypatch.setattr(task, "noise_flags", exact_fraction)
  c = Checker(TOLERANCES)
  finite_law.checks(c, spec, sizes=(128, 2048), seeds=1000)
  assert not any(ch.passed for ch in c.checks if ch.entry == "kl_law")


@pytest.fixture(scope="module")
def origin_f_run(tmp_path_factory):
  """A short Origin-Linear-F run (P10) and its setup, plan and final parameters."""
  spec = "recall:origin_linear_F_a0.5,steps=40,log_every=20,H=32,batch_size=64,eval_size=512,test_size=64"
  workdir = tmp_path_factory.mktemp("p10") / "run"
  summary = driver.run(configs.load(spec), workdir, printer=lambda s: None)
  experiment = registry.get("recall")
  setup = experiment.setup(configs.load(spec))
  plan = experiment.plan(setup)
  state = runs.load_checkpoint(workdir / runs.CHECKPOINT, train.init_state(plan.params, plan.optimizer))
  return summary, experiment, setup, plan, state.params, runs.read_jsonl(workdir / runs.METRICS)


def test_origin_linear_f_never_moves_its_attention_and_a_moved_v_fails(origin_f_run):
  summary, experiment, setup, plan, params, rows = origin_f_run
  status = {c["entry"]: c["passed"] for c in summary["comparisons"]}
  assert status["p10_attention_unused"] and np.max(np.abs(np.asarray(params["F"]))) > 0
  moved = dict(params, V=params["V"] + 1e-3)
  evaluation = experiment.evaluate(setup, plan.context, moved, rows)
  assert not {c.entry: c.passed for c in evaluation.checks}["p10_attention_unused"]
  # The context-free optimum the plateau is compared with (P10's figures).
  assert [round(theory.context_free_loss(a, 4), 4) for a in (0.0, 0.2, 0.5, 0.8)] == [1.3863, 1.6094, 1.3863, 0.7777]


def test_layer_split_counts_where_each_layers_logits_peak(monkeypatch, origin_f_run):
  _, experiment, setup, plan, params, rows = origin_f_run
  pop, tau = plan.context.pop, plan.context.model.tau
  one_hot = lambda idx: jax.nn.one_hot(idx, plan.context.model.V) * 5.0
  split = {"xi_A": one_hot(pop["y"]), "xi_F": one_hot(jnp.full_like(pop["y"], tau))}
  swapped = {"xi_A": split["xi_F"], "xi_F": split["xi_A"]}
  for parts, ok in ((split, True), (swapped, False)):
    monkeypatch.setattr(model, "parts", lambda p, b, m, parts=parts: parts)
    c = Checker(TOLERANCES)
    out = {"scalars": {}, "notes": []}
    recall_checks._layer_split(c, setup, plan.context, params, out)
    assert [ch.passed for ch in c.checks] == [ok, ok]
    assert out["scalars"]["frac_ff_argmax_y"] == (0.0 if ok else 1.0)
