# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The library without the driver
#
# Every piece the theorems use is a plain function you can call: **tasks** sample prompts, **models** are
# `init(key, spec)` / `apply(params, batch, spec)` over plain dicts of arrays, **theory** holds the closed forms,
# **estimators** turn a loss into a population-loss estimate, **train** runs optax inside `jax.lax.scan`, and
# **structure** reads the structure a theorem predicts off trained parameters. Here we train the one-layer linear
# self-attention of Mahankali et al. (2023) by hand and watch it become one step of gradient descent with the
# predicted step size $\eta^* = n/(n+d+1+\sigma^2)$.

# %%
import jax
import jax.numpy as jnp
import numpy as np
import optax

from icljax import estimators, structure, train
from icljax.models import lsa
from icljax.tasks import regression, regression_statistics
from icljax.theory import lsa as theory

d, n, sigma = 5, 20, 0.5
spec = regression.make_spec(d=d, n=n, sigma=sigma)      # x ~ N(0, I), w* ~ N(0, I), label noise sigma
model = lsa.LsaSpec(d=d, n=n)                             # the 1/n convention, query not among the keys

prompts = regression.sample(jax.random.key(0), spec, 4)   # a batch of raw prompts: a dict of arrays
print({k: v.shape for k, v in prompts.items()})

# %% [markdown]
# ## The task generator and its sufficient statistics
#
# A linear attention layer sees a prompt only through its token Gram matrix, so training can draw the statistics
# directly (a Wishart/Bartlett draw, $O((d+1)^2)$ per prompt whatever $n$ is). `lsa.apply` takes either form: the
# same function.

# %%
params = lsa.init(jax.random.key(1), model)
stats = regression_statistics.sample_statistics(jax.random.key(2), spec, 4)
print(lsa.apply(params, prompts, model), lsa.apply(params, stats, model).shape)

# %% [markdown]
# ## Training: optax in `lax.scan`
#
# `estimators.fresh` draws a fresh batch at every step (the batch of step $t$ is a pure function of the data key
# and $t$); `train.fit` runs the optimiser for `steps` steps as one compiled scan.

# %%
sampler = lambda key, b: regression_statistics.sample_statistics(key, spec, b)
objective = estimators.fresh(estimators.squared_error(lambda p, b: lsa.apply(p, b, model)), sampler,
                             batch_size=2048)
state, losses = train.fit(objective, params, optax.adam(optax.cosine_decay_schedule(5e-3, 1500)), steps=1500,
                          data_key=jax.random.key(3))
print(f"loss {float(losses[:50].mean()):.3f} -> {float(losses[-50:].mean()):.3f}; "
      f"theory L* = {theory.optimal_loss(n, d, sigma):.4f}")

# %% [markdown]
# ## Reading the structure off the parameters
#
# The layer's prediction is $x_q^\top B\, g$ with $g = X^\top y/n$; the theorem says $B = \eta^* I$.

# %%
B = structure.lsa_blocks(state.params, model)["B"]
eta = theory.eta_star(n, d, sigma)
print(np.round(B, 3))
print(f"tr(B)/d = {np.trace(B) / d:.4f}, eta* = {eta:.4f}, relative error "
      f"{structure.relative_error(B, eta * np.eye(d)):.3%}")
print(structure.assert_lsa_structure(state.params, eta * np.eye(d), model, rtol=0.05))

# %% [markdown]
# ## The same layer as a flax module
#
# `icljax.flax_layers` (the `flax` extra) wraps the pure models as flax NNX modules holding the same parameters, so
# the layers drop into bigger networks; the module and `lsa.apply` compute the same thing.

# %%
from flax import nnx  # noqa: E402

from icljax import flax_layers  # noqa: E402

layer = flax_layers.LinearSelfAttention(model, rngs=nnx.Rngs(0))
print(jnp.max(jnp.abs(layer(prompts) - lsa.apply(layer.pure_params(), prompts, model))))

# %% [markdown]
# ## Other theorems' pieces
#
# The nearest-neighbour theorem (Li et al. 2024) reduces softmax attention to two scalars $(\xi_1, \xi_2)$ whose
# population loss depends on the prompts only through the inner products $\langle x_j, x_q\rangle$:

# %%
from icljax.tasks import nearest_neighbor  # noqa: E402
from icljax.theory import nearest_neighbor as nn_theory  # noqa: E402

tau = nearest_neighbor.sample_tau(jax.random.key(0), d=4, N=4, batch_size=4000)
loss, grad = nn_theory.loss_and_grads_blocks(jnp.array([4.0, 8.0]), nn_theory.prepare_tau(tau))
print(f"loss at xi = (4, 8): {float(loss):.4f}; at the origin: {nn_theory.loss_at_zero(4, 3.0):.6f}")
