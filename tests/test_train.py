"""Training loop: convergence on a convex problem, chunking-invariance, vmap over seeds equals single runs."""

import jax
import jax.numpy as jnp
import numpy as np
import optax

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
  chunk = train.make_chunk(_objective, opt, 30)
  inits = [{"w": jnp.array([float(i), 0.0])} for i in range(3)]
  keys = jax.random.split(jax.random.key(2), 3)
  states = jax.tree.map(lambda *a: jnp.stack(a), *[train.init_state(p, opt) for p in inits])
  stacked, losses = jax.jit(jax.vmap(chunk))(states, keys)
  for i in range(3):
    single, single_losses = jax.jit(chunk)(train.init_state(inits[i], opt), keys[i])
    np.testing.assert_allclose(stacked.params["w"][i], single.params["w"], rtol=1e-6)
    np.testing.assert_allclose(losses[i], single_losses, rtol=1e-6)
