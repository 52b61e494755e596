"""Measurements of the trained finite-L layers with error bars computed in the run.

* The fixed training sample makes each trained layer an M-estimator: its sampling covariance is the sandwich
  ``H^+ V H^+ / M`` (``icljax.stats.sandwich_covariance``) on fresh prompts, and the standard errors of
  ``t = (tr(Sigma A)/d)^2``, of the product ``b tr(Sigma A)/d`` and of the Sigma^-1 shape coefficient follow by the
  delta method.
* The excess risk ``E(y_hat - w^T x)^2`` of each layer is a mean over fresh test prompts (w and noise integrated
  per prompt), softmax and linear attention on the same prompts (paired differences). A fixed-sample minimiser's
  expected excess exceeds the optimum by ``tr(H_loss Cov)`` (``H_loss``: the Hessian of the 1/2-loss), which is
  added to the references.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from icljax import stats
from icljax.models import softmax_as_linear as model
from icljax.results.softmax_as_linear import plan as plan_lib
from icljax.results.softmax_as_linear.setup import SalSetup
from icljax.tasks import softmax_as_linear as task

HESSIAN_PROMPTS = 1024   # training prompts of the Hessian (Newton step, fixed-sample allowance)


@dataclasses.dataclass(frozen=True)
class LayerFit:
  """One trained layer's scalars, their standard errors and the fixed-sample excess allowance.

  Attributes:
    values: ``t``, ``product``, ``shape`` (Sigma^-1 coefficient of Sigma b A; 0 when Sigma is isotropic) and
      ``context_product`` (``tr(Gamma_ctx b A)/d``).
    se: their standard errors.
    allowance: ``tr(H_loss Cov)``, the expected excess of the fixed-sample minimiser above the optimum.
    newton: how far the training objective's Newton step ``H^+ g`` would still move ``t`` and the product, in
      their standard errors (training converged: << 1; linear attention: the product only, its scale is free).
  """

  values: dict[str, float]
  se: dict[str, float]
  allowance: float
  newton: float


def shape_direction(cov: np.ndarray) -> np.ndarray:
  """``P = Sigma^-1 - (tr Sigma^-1 / d) I``: the traceless direction of the O(1/L) shape of ``Sigma b A``."""
  inv = np.linalg.inv(cov)
  return inv - np.trace(inv) / len(cov) * np.eye(len(cov))


def derived(layer: dict[str, jax.Array], cov: jax.Array, ctx_cov: jax.Array, direction: jax.Array) -> jax.Array:
  """``(t, product, shape, context product)`` of one layer (JAX, differentiable)."""
  d = cov.shape[0]
  a = jnp.trace(cov @ layer["A"]) / d
  m = layer["b"] * cov @ layer["A"]
  norm = jnp.sum(direction * direction)
  shape = jnp.where(norm > 0, jnp.sum(m * direction) / jnp.where(norm > 0, norm, 1.0), 0.0)
  return jnp.stack([a * a, layer["b"] * a, shape, layer["b"] * jnp.trace(ctx_cov @ layer["A"]) / d])


def fit_layer(setup: SalSetup, layer: dict[str, Any], attention: str, key: jax.Array, ref: plan_lib.Reference,
              train_sample: dict[str, jax.Array]) -> LayerFit:
  """The sandwich covariance of a trained layer, the standard errors of its scalars, and how far the training
  objective's Newton step still is (in standard errors).

  Args:
    setup: the run's specs.
    layer: the trained ``{'A', 'b'}``.
    attention: ``'softmax'`` or ``'linear'``.
    key: key of the fresh prompts.
    ref: the run's reference (Sigma, the context covariance).
    train_sample: the fixed training sample (its gradient and Hessian at the trained layer).

  Returns:
    The fit.
  """
  theta, unravel = ravel_pytree(layer)
  draw = task.sample if setup.estimator == "prompts" else task.sample_inputs
  data = draw(key, setup.task, setup.sandwich_prompts)

  def per_example(th, batch):
    params = unravel(th)
    if setup.estimator == "marginal":
      return 0.5 * plan_lib.marginal_loss(params, batch, setup.task, attention)
    return 0.5 * (model.predict(params, batch, attention) - batch["y_query"]) ** 2

  chunk = min(setup.sandwich_prompts, 1024)
  cov = stats.sandwich_covariance(per_example, theta, data, setup.train_prompts, chunk=chunk)
  train_loss = lambda th, batch: jnp.mean(per_example(th, batch))
  head = jax.tree.map(lambda a: a[:HESSIAN_PROMPTS], train_sample)   # the Hessian from part of the sample
  hess = np.asarray(jax.jit(jax.hessian(train_loss))(theta, head), np.float64)
  grad = np.asarray(jax.jit(jax.grad(train_loss))(theta, train_sample), np.float64)
  step = np.linalg.pinv((hess + hess.T) / 2, rcond=1e-6, hermitian=True) @ grad
  with jax.enable_x64(True):
    args = [jnp.asarray(m, jnp.float64) for m in (ref.cov, ref.ctx_cov, shape_direction(ref.cov))]
    fn = lambda th: derived(unravel(th), *args)
    values, jac = jax.jit(lambda th: (fn(th), jax.jacfwd(fn)(th)))(jnp.asarray(theta, jnp.float64))
    values, jac = np.asarray(values), np.asarray(jac)
  se = np.sqrt(np.maximum(np.einsum("ip,pq,iq->i", jac, cov, jac), 0.0))
  moved = np.abs(jac @ step) / np.maximum(se, 1e-30)
  names = ("t", "product", "shape", "context_product")
  return LayerFit(values=dict(zip(names, map(float, values))), se=dict(zip(names, map(float, se))),
                  allowance=float(np.trace(hess @ cov)),
                  newton=float(moved[1] if attention == "linear" else max(moved[0], moved[1])))


def excess_on_test(setup: SalSetup, params: dict[str, Any], key: jax.Array) -> dict[str, np.ndarray]:
  """Per-prompt excess ``E_w,noise[(y_hat - w^T x)^2]`` of each trained finite-L layer on the same fresh prompts.

  Args:
    setup: the run's specs.
    params: all trained layers.
    key: key of the test prompts.

  Returns:
    ``{'softmax': mean and s.e., 'linear': ..., 'difference': softmax - linear (paired)}``, each
    ``np.array([mean, se])``.
  """
  layers = [k for k in plan_lib.LAYERS if k in params]
  sigma2 = setup.task.sigma**2

  def stat(batch):
    cols = [plan_lib.marginal_loss(params[k], batch, setup.task, k) - sigma2 for k in layers]
    if len(cols) == 2:
      cols.append(cols[0] - cols[1])
    return jnp.stack(cols, -1)

  sampler = lambda k, b: task.sample_inputs(k, setup.task, b)
  chunk = max(1, min(setup.test_prompts, 2**21 // setup.task.L))
  mean, se = jax.jit(lambda k: stats.monte_carlo(stat, sampler, k, setup.test_prompts, chunk=chunk))(key)
  names = layers + (["difference"] if len(layers) == 2 else [])
  return {n: np.array([float(mean[i]), float(se[i])]) for i, n in enumerate(names)}
