"""Shifted test distributions of in-context 1-NN (Li et al. 2024, Assumption 3).

Shifted test distributions satisfy Assumption 3 (inputs on the sphere, ``|y| <= R``) but differ from training:

* ``appendix_b`` (Li et al. Appendix B): ``x_{N+1} = x_{i*}`` for a uniform ``i*``; every other ``x_j`` within
  squared distance ``delta`` of it is reflected (``x_j -> -x_j``), so the top-two inner-product gap is
  ``>= delta/2``; labels N(0, 1) clipped to ``[-R, R]``.
* ``clustered``: inputs from an equal mixture of ``clusters`` von Mises-Fisher distributions (concentration
  ``kappa``), random labels: contexts are crowded, so nearest neighbours are near-ties.
* ``low_dim``: inputs near a random great sub-sphere of dimension ``k-1`` (Gaussian off-plane noise of scale
  ``eps``, renormalised), random labels: the effective dimension differs from training.
* ``smooth_labels``: uniform inputs, labels ``y = R tanh(a^T x)`` a bounded smooth function of x shared by the
  prompt's tokens (``a ~ N(0, I/d)·scale``), so labels are no longer independent of the inputs.

Reference: Li et al. (2024), Assumption 3 (distribution shift) and Appendix B.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from icljax import prng, validation
from icljax._pytree import pytree_dataclass, static_field
from icljax.tasks import nearest_neighbor as nn_task

SHIFTS = ("appendix_b", "clustered", "low_dim", "smooth_labels")


@pytree_dataclass
class ShiftSpec:
  """A shifted test distribution (Assumption 3); unused parameters are ignored by the other kinds.

  Reference: Li et al. (2024), Assumption 3 and Appendix B.
  """

  delta: jax.Array            # appendix_b margin, in (0, 2)
  kappa: jax.Array            # clustered: vMF concentration, > 0
  eps: jax.Array              # low_dim: off-plane noise scale, >= 0
  scale: jax.Array            # smooth_labels: slope of a^T x
  R: jax.Array                # label bound, > 0
  d: int = static_field()
  N: int = static_field()
  kind: str = static_field(default="appendix_b")
  clusters: int = static_field(default=3)
  k: int = static_field(default=2)



def make_shift(kind: str, d: int, N: int, *, delta: float = 0.5, kappa: float = 20.0,
               clusters: int = 3, k: int = 2, eps: float = 0.05, scale: float = 2.0, R: float = 3.0) -> ShiftSpec:
  """Validated shifted-test spec; see the module docstring for the meaning of each kind.

  Args:
    kind: one of :data:`SHIFTS`.
    d: input dimension.
    N: context examples (>= 2 for ``appendix_b``).
    delta: ``appendix_b`` margin in (0, 2).
    kappa: ``clustered`` vMF concentration.
    clusters: ``clustered`` mixture size.
    k: ``low_dim`` sub-sphere dimension.
    eps: ``low_dim`` off-plane noise scale.
    scale: ``smooth_labels`` slope.
    R: label bound of Assumption 3.

  Returns:
    The spec; bad values raise ``ConfigError``.

  Reference: Li et al. (2024), Assumption 3 and Appendix B.
  """
  validation.choice("shift", kind, SHIFTS)
  d = validation.integer("d", d, low=2)
  N = validation.integer("N", N, low=2 if kind == "appendix_b" else 1)
  f32 = lambda v: jnp.asarray(v, jnp.float32)
  return ShiftSpec(
      delta=f32(validation.real("delta", delta, low=0.0, high=2.0, low_open=True, high_open=True)),
      kappa=f32(validation.real("kappa", kappa, low=0.0, low_open=True)),
      eps=f32(validation.real("eps", eps, low=0.0)),
      scale=f32(validation.real("scale", scale, low=0.0)),
      R=f32(validation.real("R", R, low=0.0, low_open=True)),
      d=d, N=N, kind=kind, clusters=validation.integer("clusters", clusters, low=1),
      k=validation.integer("k", k, low=1, high=d))



@prng.sampler
def sample_shift(key: jax.Array, spec: ShiftSpec, batch_size: int) -> dict[str, jax.Array]:
  """Prompts from a shifted test distribution, with the same fields as :func:`sample`.

  Args:
    key: PRNG key.
    spec: the shifted distribution.
    batch_size: number of prompts B.

  Returns:
    The prompts (``x``, ``y``, ``x_query``, ``tau``, ``i_star``, ``target``).

  Reference: Li et al. (2024), Appendix B for ``appendix_b``; the other kinds are ours.
  """
  d, n, b = spec.d, spec.N, batch_size
  k1, k2, k3, k4 = jax.random.split(key, 4)
  if spec.kind == "appendix_b":
    x = nn_task.sphere(k1, (b, n), d)
    i_star = jax.random.randint(k2, (b,), 0, n)
    xq = jnp.take_along_axis(x, i_star[:, None, None], axis=1)[:, 0]
    sq_dist = jnp.sum((x - xq[:, None, :]) ** 2, -1)
    close = (sq_dist <= spec.delta) & (jnp.arange(n)[None, :] != i_star[:, None])
    x = jnp.where(close[..., None], -x, x)
    y = jnp.clip(jax.random.normal(k3, (b, n)), -spec.R, spec.R)
    return nn_task.with_target(x, y, xq)
  if spec.kind == "clustered":
    centres = nn_task.sphere(k1, (b, spec.clusters), d)
    which = jax.random.randint(k2, (b, n + 1), 0, spec.clusters)
    mu = jnp.take_along_axis(centres, which[..., None], axis=1)
    pts = _vmf(k3, mu, spec.kappa)
    y = jnp.where(jax.random.bernoulli(k4, 0.5, (b, n)), 1.0, -1.0) * jnp.minimum(spec.R, 1.0)
    return nn_task.with_target(pts[:, :n], y, pts[:, n])
  if spec.kind == "low_dim":
    basis = jnp.linalg.qr(jax.random.normal(k1, (b, d, spec.k)))[0]      # (b, d, k) orthonormal columns
    coeffs = nn_task.sphere(k2, (b, n + 1), spec.k)
    pts = jnp.einsum("bdk,btk->btd", basis, coeffs) + spec.eps * jax.random.normal(k3, (b, n + 1, d))
    pts = pts / jnp.linalg.norm(pts, axis=-1, keepdims=True)
    y = jnp.where(jax.random.bernoulli(k4, 0.5, (b, n)), 1.0, -1.0) * jnp.minimum(spec.R, 1.0)
    return nn_task.with_target(pts[:, :n], y, pts[:, n])
  pts = nn_task.sphere(k1, (b, n + 1), d)
  a = spec.scale * jax.random.normal(k2, (b, d)) / jnp.sqrt(d)
  y = spec.R * jnp.tanh(jnp.einsum("bnd,bd->bn", pts[:, :n], a))
  return nn_task.with_target(pts[:, :n], y, pts[:, n])



def _vmf(key: jax.Array, mu: jax.Array, kappa: jax.Array) -> jax.Array:
  """von Mises-Fisher samples around unit vectors ``mu`` (..., d) by Wood's (1994) rejection-free-in-expectation
  scheme, run as a fixed number of proposals (acceptance > 0.5 per proposal for every kappa, so 32 proposals fail
  with probability < 2^-32; a failure falls back to ``mu``)."""
  d = mu.shape[-1]
  shape = mu.shape[:-1]
  k_w, k_v = jax.random.split(key)
  b = (d - 1) / (2 * kappa + jnp.sqrt(4 * kappa**2 + (d - 1) ** 2))
  x0 = (1 - b) / (1 + b)
  c = kappa * x0 + (d - 1) * jnp.log(1 - x0**2)
  kz, ku = jax.random.split(k_w)
  z = jax.random.beta(kz, (d - 1) / 2, (d - 1) / 2, (32,) + shape)
  u = jax.random.uniform(ku, (32,) + shape)
  w = (1 - (1 + b) * z) / (1 - (1 - b) * z)
  ok = kappa * w + (d - 1) * jnp.log(1 - x0 * w) - c >= jnp.log(u)
  first = jnp.argmax(ok, axis=0)
  w = jnp.where(jnp.any(ok, axis=0), jnp.take_along_axis(w, first[None], axis=0)[0], 1.0)
  v = jax.random.normal(k_v, shape + (d,))
  v = v - jnp.sum(v * mu, -1, keepdims=True) * mu
  v = v / jnp.linalg.norm(v, axis=-1, keepdims=True)
  return w[..., None] * mu + jnp.sqrt(jnp.maximum(1 - w**2, 0.0))[..., None] * v



def check_assumption3(prompts: dict[str, jax.Array], R: float, atol: float = 1e-4) -> None:
  """Raises ``ConfigError`` unless every input is on the unit sphere (to ``atol``) and every label has |y| <= R.

  Args:
    prompts: ``x``, ``x_query`` and ``y`` of a test batch.
    R: the label bound.
    atol: tolerance on the unit norm of the inputs.

  Raises:
    ConfigError: naming the violated condition and the largest deviation.

  Reference: Li et al. (2024), Assumption 3 (inputs on S^{d-1}, |y| <= R).
  """
  for name in ("x", "x_query"):
    dev = float(np.max(np.abs(np.linalg.norm(np.asarray(prompts[name]), axis=-1) - 1.0)))
    if not dev <= atol:
      raise validation.ConfigError(f"test batch {name}", f"max | |x| - 1 | = {dev:.3g}",
                                   f"inputs on the unit sphere S^(d-1) (Assumption 3, tolerance {atol:g})")
  y_max = float(np.max(np.abs(np.asarray(prompts["y"]))))
  if not y_max <= R:
    raise validation.ConfigError("test batch y", f"max |y| = {y_max:.3g}", f"labels with |y| <= R = {R:g}")
