"""The multi-layer plan: noiseless inverse-covariance prompts (fresh batches, or one fixed sample for L-BFGS), the
theory's optima computed once (Theorem 3's exactly; Theorem 4's family by SAA when B_l is trained).

Reference: Ahn, Cheng, Daneshmand, Sra (2023), arXiv 2306.00297, Theorems 3-4; docs page "lsa_multilayer", section
"Setting".
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import numpy.typing as npt

from icljax import estimators, prng, structure
from icljax.experiment.api import Plan
from icljax.models import lsa_multilayer as model
from icljax.results.lsa_multilayer import noise
from icljax.results.lsa_multilayer.setup import MultilayerSetup
from icljax.tasks import regression
from icljax.theory import lsa_multilayer as with_b
from icljax.theory import lsa_multilayer_gd as theory


@dataclasses.dataclass(frozen=True)
class Thm4Optimum:
  """The best member of Theorem 4's family found by SAA: steps a (L,), factors b (L - 1,), loss and its s.e.

  Reference: Ahn et al. (2023) Theorem 4; docs page "lsa_multilayer", section "What is checked and why"
  (`best_member`).
  """

  a: np.ndarray
  b: np.ndarray
  loss: float
  se: float


@dataclasses.dataclass(frozen=True)
class MultilayerContext:
  """The best L-step PGD (sorted steps, loss), the best constant step (and loss), Theorem 4's optimum (runs that
  train B_l), Sigma, the eval key, the isotropy checks' null at the theory's point.

  Reference: docs page "lsa_multilayer", section "What is checked and why".
  """

  a_star: np.ndarray
  loss_star: float
  a_constant: float
  loss_constant: float
  thm4: Thm4Optimum | None
  cov: jax.Array
  eval_key: jax.Array
  isotropy: noise.IsotropyNull


def layers(a: jax.Array, cov: jax.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """Per layer ``Sigma^{1/2} A_l Sigma^{1/2}`` (``a_l I`` on Theorem 3's critical point), its step
  ``tr(.)/d`` and its ``Dist(., I)``.

  Args:
    a: (L, d, d) the layers' A_l.
    cov: Sigma (d, d).

  Returns:
    ``(whitened (L, d, d), steps (L,), dists (L,))``, float64.

  Reference: Ahn et al. (2023) Theorem 3 (A_l = a_l Sigma^-1) and their Dist(M, I) = min_c |M - c I|_F / |M|_F;
  docs page "lsa_multilayer", section "What is checked and why" (`steps`, `whitened_isotropic`).
  """
  wa = np.stack([structure.whiten(a_l, cov) for a_l in np.asarray(a)])
  return wa, np.array([np.trace(w) / w.shape[0] for w in wa]), np.array([structure.dist_to_identity(w) for w in wa])


def covariate_factors(b: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
  """Per layer before the last, ``tr(B_l)/d`` (``b_l`` on Theorem 4's family) and ``Dist(B_l, I)``; the last
  layer's B never reaches the output.

  Args:
    b: (L, d, d) the layers' B_l.

  Returns:
    ``(factors (L - 1,), dists (L - 1,))``.

  Reference: Ahn et al. (2023) Theorem 4 (B_l = b_l I); docs page "lsa_multilayer", section "What is checked and
  why" (`b_isotropic`).
  """
  b = np.asarray(b)[:-1]
  return np.array([np.trace(m) / m.shape[0] for m in b]), np.array([structure.dist_to_identity(m) for m in b])


def plan(setup: MultilayerSetup) -> Plan[MultilayerContext]:
  """The plan of a multi-layer run (keys: init, data, eval).

  Args:
    setup: the run's specs.

  Returns:
    The plan: the training objective (the Gram form; on a fixed sample with the query integrated out), the
    initial parameters, the optimiser, and the context holding the theory's optima and the isotropy null.

  Reference: docs page "lsa_multilayer", section "Setting" (loss, optimiser, the Gram form used for training).
  """
  seed, spec, task = setup.run.seed, setup.model, setup.task
  a_star, loss_star, a_const, loss_const = theory.optimal_steps(spec.L, spec.d, spec.n)
  thm4 = Thm4Optimum(*with_b.thm4_optimum(spec.L, spec.d, spec.n)) if spec.train_b else None
  steps, factors = (thm4.a, thm4.b) if thm4 is not None else (a_star, None)
  isotropy = noise.isotropy_null(task, prng.stream(seed, "theory"), steps, factors, setup.noise_prompts)
  ctx = MultilayerContext(a_star=a_star, loss_star=loss_star, a_constant=a_const, loss_constant=loss_const,
                          thm4=thm4, cov=task.cov, eval_key=prng.stream(seed, "eval"), isotropy=isotropy)
  # Trained through the Gram form (Lemma 1's GD when B_l = 0), which equals the literal forward pass for every
  # parameter value (checked at the trained parameters to float rounding): O(d^3 L) per prompt from (S0, g0), not
  # O(n^2 d L). On a fixed sample the query is integrated out exactly: E_xq (<c, x_q> - <w*, x_q>)^2 =
  # (c - w*)^T Sigma (c - w*), the same population loss with less sampling noise.
  loss = estimators.squared_error(with_b.gram_form_predict)
  fresh = estimators.fresh(loss, lambda k, b: regression.sample(k, task, b), setup.batch_size)
  sample = None
  if setup.sample_size:
    prompts = regression.sample(prng.stream(seed, "sample"), task, setup.sample_size, weights=True)
    sample = {**with_b.gram_statistics(prompts), "w": prompts["w"]}

  def integrated(p, stats):
    err = with_b.effective_weights(p, stats) - stats["w"]
    return jnp.mean(jnp.einsum("bd,de,be->b", err, task.cov, err))

  objective = (lambda p, key, hp: integrated(p, hp)) if sample is not None else (lambda p, key, hp: fresh(p, key))

  def track(p) -> dict[str, float]:
    _, steps, dists = layers(p["A"], ctx.cov)
    row = {**{f"a_{layer}": float(v) for layer, v in enumerate(steps)},
           **{f"dist_{layer}": float(v) for layer, v in enumerate(dists)}}
    if "B" in p:
      factors, b_dists = covariate_factors(p["B"])
      row |= {**{f"b_{layer}": float(v) for layer, v in enumerate(factors)},
              **{f"dist_b_{layer}": float(v) for layer, v in enumerate(b_dists)}}
    return row

  return Plan(objective=objective, params=model.init(prng.stream(seed, "init"), spec), hparams=sample,
              optimizer=setup.optimizer.build(), data_key=prng.stream(seed, "data"), context=ctx, track=track)
