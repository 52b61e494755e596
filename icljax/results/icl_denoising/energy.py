"""The attention layer as one gradient step on an energy (Section 4, App. I), the mixture's posterior identities
(Prop. 4 against Tweedie's formula; eq. (8) at sigma0 = 0 as the softmax layer), and the Fig. 5 landscapes.

Reference: Smart, Bietti & Sengupta (2025), Section 4, eqs. (16)-(17), App. I, Prop. 4, eq. (8), Fig. 5; docs page
"icl_denoising", entries energy_step, tweedie, empirical_posterior and fig5_*.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from icljax.experiment.checks import Checker
from icljax.models import icl_denoising as model
from icljax.results.icl_denoising import plan
from icljax.results.icl_denoising.plan import DenoisingContext
from icljax.results.icl_denoising.setup import DenoisingSetup
from icljax.tasks import icl_denoising as task
from icljax.theory import icl_denoising as theory
from icljax.theory import icl_denoising_energy as energy_theory

PROBE = 512            # prompts of the identity checks
FIG5_PROMPTS = 4000    # prompts of the Fig. 5 risks
FIG5_MINIMA = 100      # prompts whose energy minima are counted (100 steps from each token)
FIG5_SIGMAS = (0.1, 10.0)   # the authors' code and the caption


def _rel(a: jax.Array, b: jax.Array) -> float:
  return float(jnp.max(jnp.abs(a - b)) / jnp.maximum(jnp.max(jnp.abs(b)), 1e-30))


def _linear_step(query: jax.Array, context: jax.Array, gamma: float) -> jax.Array:
  grad = jax.vmap(jax.grad(energy_theory.linear_energy), in_axes=(0, 0, None))
  return query - gamma * grad(query, context, gamma)


def identity_checks(c: Checker, setup: DenoisingSetup, ctx: DenoisingContext, params: Any) -> None:
  """Energy-step identities at replica 0's trained scalars, and the mixture's posterior identities.

  Args:
    c: the run's checker.
    setup: the run's specs.
    ctx: the evaluation context.
    params: trained parameters.

  Returns:
    None; the checks are added to ``c``.

  Reference: Smart, Bietti & Sengupta (2025), eqs. (16)-(17), App. I (A.14-A.17), Prop. 4 and eq. (8); docs page
  "icl_denoising", entries energy_step, tweedie and empirical_posterior.
  """
  spec, n = setup.task, setup.task.n
  batch = task.sample(jax.random.fold_in(ctx.eval_key, 1), spec, PROBE)
  q, x = batch["query"], batch["context"]
  a, b = (float(v[0]) for v in plan.diag_means(params["softmax"]))
  layer = model.apply(model.scaled_identity(a, b, n), batch, "softmax")
  c("energy_step", "softmax layer at (alpha I, beta I) vs one step on the energy (16) (replica 0)", 0.0,
    _rel(layer, energy_theory.energy_descent(q, x, a, b, 1)))
  a, b = (float(v[0]) for v in plan.diag_means(params["linear"]))
  layer = model.apply(model.scaled_identity(a, b, n), batch, "linear")
  c("energy_step", "linear layer at (alpha I, beta I) vs one step on App. I's energy (replica 0)", 0.0,
    _rel(layer, _linear_step(q, x, a * b)))
  if spec.family != "mixture":
    return
  log_w = jnp.full((spec.K,), -jnp.log(float(spec.K)))
  args = (q, batch["centres"], log_w, spec.sigma0_sq, spec.sigma_z_sq)
  c("tweedie", "Prop. 4's posterior mean vs Tweedie's formula (autodiff)", 0.0,
    _rel(theory.mixture_bayes_denoiser(*args), theory.mixture_tweedie_denoiser(*args)))
  zero = task.sample(jax.random.fold_in(ctx.eval_key, 2), dataclasses.replace(spec, sigma0_sq=0.0), PROBE)
  layer = model.apply(model.scaled_identity(1.0, 1.0 / spec.sigma_z_sq, n), zero, "softmax")
  empirical = theory.mixture_bayes_denoiser(zero["query"], zero["context"], jnp.full((spec.L,), -jnp.log(spec.L)),
                                            0.0, spec.sigma_z_sq)
  c("empirical_posterior", "sigma0 = 0: softmax at (I, I/sigma_z^2) vs the posterior mean with weights n_a/L", 0.0,
    _rel(layer, empirical))


def _count_minima(ends: np.ndarray, tol: float = 1e-3) -> np.ndarray:
  """Distinct end points per prompt (B, S, n) -> (B,)."""
  dist = np.linalg.norm(ends[:, :, None] - ends[:, None, :], axis=-1)
  earlier = np.tril(dist < tol, -1)
  return np.sum(~earlier.any(-1), -1)


@jax.jit
def _fig5_errors(batch: dict[str, jax.Array], beta: jax.Array) -> jax.Array:
  q, x, target = batch["query"], batch["context"], batch["target"]
  one = energy_theory.energy_descent(q, x, 1.0, beta, 1)
  many = energy_theory.energy_descent(q, x, 1.0, beta, 50)
  nearest = jnp.take_along_axis(x, jnp.argmax(jnp.einsum("bln,bn->bl", x, q), -1)[:, None, None], 1)[:, 0]
  err = lambda f: jnp.sum((f - target) ** 2, -1)
  return jnp.stack([err(one), err(many), err(nearest), err(jnp.zeros_like(q))], -1)


@jax.jit
def _fig5_ends(context: jax.Array, beta: jax.Array) -> jax.Array:
  b, length, n = context.shape
  starts = context.reshape(b * length, n)
  tokens = jnp.repeat(context, length, axis=0)
  return energy_theory.energy_descent(starts, tokens, 1.0, beta, 100).reshape(b, length, n)


def fig5(c: Checker, key: jax.Array) -> dict[str, np.ndarray]:
  """Fig. 5's setting (a circle: n = 2, d = 1, L = 20, alpha = 1, beta = 1/sigma_z^2) at the code's and the
  caption's noise: the risks of one and 50 energy steps, of nearest-token retrieval and of 0, and the number of
  energy minima reached from the context tokens.

  Args:
    c: the run's checker.
    key: PRNG key.

  Returns:
    Arrays for the figure: risks (2, 4) and mean minima (2,) per sigma_z^2, and one prompt's tokens per sigma_z^2.

  Reference: Smart, Bietti & Sengupta (2025), Section 4 and Fig. 5 (caption: sigma_z^2 = 10; the authors' code:
  0.1); docs page "icl_denoising", entries fig5_valleys, fig5_caption_valleys and fig5_one_step.
  """
  risks, minima, tokens = [], [], []
  for i, sz in enumerate(FIG5_SIGMAS):
    spec = task.make_spec("sphere", 2, 1, 20, 0.0, sz)
    batch = task.sample(jax.random.fold_in(key, i), spec, FIG5_PROMPTS)
    errs = np.asarray(_fig5_errors(batch, jnp.float32(1.0 / sz)), np.float64)
    ends = np.asarray(_fig5_ends(batch["context"][:FIG5_MINIMA], jnp.float32(1.0 / sz)), np.float64)
    risks.append(errs.mean(0))
    minima.append(float(np.mean(_count_minima(ends))))
    tokens.append(np.asarray(batch["context"][0]))
    z = lambda d: float(d.mean() / (d.std() / np.sqrt(len(d))))
    if sz == FIG5_SIGMAS[0]:
      c("fig5_valleys", f"sigma_z^2 = {sz:g}: mean number of energy minima reached from the tokens", 0.0, minima[-1])
      c("fig5_one_step", "50 energy steps minus one step, paired risk, in s.e.", 0.0, z(errs[:, 1] - errs[:, 0]))
      c("fig5_one_step", "nearest-token retrieval minus one step, paired risk, in s.e.", 0.0,
        z(errs[:, 2] - errs[:, 0]))
    else:
      c("fig5_caption_valleys", f"sigma_z^2 = {sz:g} (caption): mean number of energy minima", 0.0, minima[-1])
  return {"fig5_sigma_z_sq": np.array(FIG5_SIGMAS), "fig5_risks": np.array(risks), "fig5_minima": np.array(minima),
          "fig5_tokens": np.array(tokens)}


def checks(c: Checker, setup: DenoisingSetup, ctx: DenoisingContext, params: Any) -> dict[str, np.ndarray]:
  """The identity checks, and Fig. 5 in sphere runs.

  Args:
    c: the run's checker.
    setup: the run's specs.
    ctx: the evaluation context.
    params: trained parameters.

  Returns:
    Arrays for the figures.

  Reference: docs page "icl_denoising", section "What is checked and why".
  """
  identity_checks(c, setup, ctx, params)
  return fig5(c, jax.random.fold_in(ctx.eval_key, 3)) if setup.task.family == "sphere" else {}
