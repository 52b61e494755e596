"""Training loop: convergence on a convex problem, chunking-invariance, vmap over seeds equals single runs."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from icljax import train


def _objective(params, key):
  # Noisy quadratic with minimiser (1, -2).
  target = jnp.array([1.0, -2.0]) + 0.01 * jax.random.normal(key, (2,))
  return jnp.sum((params["w"] - target) ** 2)


def test_fit_converges_and_reports_losses():
  state, losses = train.fit(_objective, {"w": jnp.zeros(2)}, optax.sgd(0.1), steps=200,
                            data_key=jax.random.key(0), log_every=50)
  assert int(state.step) == 200 and losses.shape == (200,)
  np.testing.assert_allclose(state.params["w"], [1.0, -2.0], atol=0.03)
  assert losses[-1] < 1e-2 * losses[0]


@pytest.mark.slow
def test_chunking_and_resume_do_not_change_the_result():
  opt = optax.adam(0.05)
  key = jax.random.key(1)
  one, _ = train.fit(_objective, {"w": jnp.zeros(2)}, opt, steps=90, data_key=key, log_every=90)
  many, _ = train.fit(_objective, {"w": jnp.zeros(2)}, opt, steps=90, data_key=key, log_every=7)
  half, _ = train.fit(_objective, {"w": jnp.zeros(2)}, opt, steps=40, data_key=key, log_every=40)
  resumed, _ = train.fit(_objective, None, opt, steps=90, data_key=key, log_every=25, state=half)
  np.testing.assert_allclose(many.params["w"], one.params["w"], rtol=1e-6)
  np.testing.assert_allclose(resumed.params["w"], one.params["w"], rtol=1e-6)


def test_vmapped_chunk_equals_single_runs():
  opt = optax.adam(0.05)
  chunk = train.make_chunk(lambda p, k, h: _objective(p, k), opt, 30)
  inits = [{"w": jnp.array([float(i), 0.0])} for i in range(3)]
  keys = jax.random.split(jax.random.key(2), 3)
  states = jax.tree.map(lambda *a: jnp.stack(a), *[train.init_state(p, opt) for p in inits])
  stacked, losses = jax.jit(jax.vmap(chunk, in_axes=(0, 0, None)))(states, keys, None)
  for i in range(3):
    single, single_losses = jax.jit(chunk)(train.init_state(inits[i], opt), keys[i], None)
    np.testing.assert_allclose(stacked.params["w"][i], single.params["w"], rtol=1e-6)
    np.testing.assert_allclose(losses[i], single_losses, rtol=1e-6)


@pytest.mark.slow
def test_portable_adam_matches_optax_adam():
  """icljax.optim.adam has optax.adam's state layout and, to float rounding, its updates (200 steps, schedule)."""
  from icljax import optim
  schedule = optax.warmup_cosine_decay_schedule(0.0, 1e-2, 20, 200)
  ours, ref = optim.adam(schedule), optax.adam(schedule)
  params = {"w": jnp.array([3.0, -1.0, 1e-9]), "b": jnp.ones((2, 2))}
  s_ours, s_ref = ours.init(params), ref.init(params)
  assert jax.tree.structure(s_ours) == jax.tree.structure(s_ref)
  p_ref = params
  for t in range(200):
    g = jax.tree.map(lambda p: jnp.sin(p * (t + 1)) + p, p_ref)
    u_ours, s_ours = ours.update(g, s_ours, p_ref)
    u_ref, s_ref = ref.update(g, s_ref, p_ref)
    np.testing.assert_allclose(np.concatenate([np.ravel(u) for u in jax.tree.leaves(u_ours)]),
                               np.concatenate([np.ravel(u) for u in jax.tree.leaves(u_ref)]), rtol=2e-5, atol=1e-9)
    p_ref = optax.apply_updates(p_ref, u_ref)
