"""In-context one-nearest-neighbour prompts on the sphere, and shifted test distributions.

Training distribution (Li et al. 2024, Assumption 1): ``x_1..x_{N+1}`` i.i.d. uniform on ``S^{d-1}``, labels
``y_1..y_N`` i.i.d. (Rademacher or N(0, 1)) independent of the inputs; the target is the label of the nearest
neighbour, ``y_{i*}`` with ``i* = argmax_j <x_j, x_{N+1}>``.

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

Reference: Li et al. (2024), digest sections 1, 5 (distribution shift) and 6 (Appendix B).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from icljax import prng, validation
from icljax._pytree import pytree_dataclass, static_field

LABELS = ("rademacher", "gaussian")
SHIFTS = ("appendix_b", "clustered", "low_dim", "smooth_labels")


@pytree_dataclass
class NNSpec:
  """Training distribution of 1-NN prompts."""

  d: int = static_field()
  N: int = static_field()
  labels: str = static_field(default="rademacher")


@pytree_dataclass
class ShiftSpec:
  """A shifted test distribution (Assumption 3); unused parameters are ignored by the other kinds."""

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


def make_spec(d: int, N: int, labels: str = "rademacher") -> NNSpec:
  """Validated training spec: ``d >= 2``, ``N >= 1``, labels Rademacher or Gaussian."""
  return NNSpec(d=validation.integer("d", d, low=2), N=validation.integer("N", N, low=1),
                labels=validation.choice("labels", labels, LABELS))


def make_shift(kind: str, d: int, N: int, *, delta: float = 0.5, kappa: float = 20.0,
               clusters: int = 3, k: int = 2, eps: float = 0.05, scale: float = 2.0, R: float = 3.0) -> ShiftSpec:
  """Validated shifted-test spec; see the module docstring for the meaning of each kind."""
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
def sphere(key: jax.Array, shape: tuple[int, ...], d: int) -> jax.Array:
  """Uniform points on ``S^{d-1}`` (normalised Gaussians), shape ``shape + (d,)``."""
  z = jax.random.normal(key, shape + (d,))
  return z / jnp.linalg.norm(z, axis=-1, keepdims=True)


def _labels(key: jax.Array, shape: tuple[int, ...], kind: str) -> jax.Array:
  if kind == "rademacher":
    return jnp.where(jax.random.bernoulli(key, 0.5, shape), 1.0, -1.0)
  return jax.random.normal(key, shape)


def with_target(x: jax.Array, y: jax.Array, x_query: jax.Array) -> dict[str, jax.Array]:
  """Adds ``tau_j = <x_j, x_query>``, the nearest neighbour ``i*`` and its label ``target``."""
  tau = jnp.einsum("bnd,bd->bn", x, x_query)
  i_star = jnp.argmax(tau, axis=-1)
  target = jnp.take_along_axis(y, i_star[:, None], axis=-1)[:, 0]
  return {"x": x, "y": y, "x_query": x_query, "tau": tau, "i_star": i_star, "target": target}


@prng.sampler
def sample(key: jax.Array, spec: NNSpec, batch_size: int) -> dict[str, jax.Array]:
  """Training prompts: ``x (B, N, d)``, ``y (B, N)``, ``x_query (B, d)``, ``tau (B, N)``, ``i_star``, ``target``."""
  k_x, k_y = jax.random.split(key)
  pts = sphere(k_x, (batch_size, spec.N + 1), spec.d)
  y = _labels(k_y, (batch_size, spec.N), spec.labels)
  return with_target(pts[:, : spec.N], y, pts[:, spec.N])


@prng.sampler
def sample_tau(key: jax.Array, d: int, N: int, batch_size: int) -> jax.Array:
  """Inner products ``tau_j = <x_j, x_query>`` directly: ``2 Beta((d-1)/2, (d-1)/2) - 1``, shape (B, N).

  For d = 2 the law is arcsine (Beta(1/2, 1/2)); the reduced estimators need nothing else of the inputs.
  """
  a = (d - 1) / 2.0
  return 2.0 * jax.random.beta(key, a, a, (batch_size, N)) - 1.0


@prng.sampler
def sample_shift(key: jax.Array, spec: ShiftSpec, batch_size: int) -> dict[str, jax.Array]:
  """Prompts from a shifted test distribution, with the same fields as :func:`sample`."""
  d, n, b = spec.d, spec.N, batch_size
  k1, k2, k3, k4 = jax.random.split(key, 4)
  if spec.kind == "appendix_b":
    x = sphere(k1, (b, n), d)
    i_star = jax.random.randint(k2, (b,), 0, n)
    xq = jnp.take_along_axis(x, i_star[:, None, None], axis=1)[:, 0]
    sq_dist = jnp.sum((x - xq[:, None, :]) ** 2, -1)
    close = (sq_dist <= spec.delta) & (jnp.arange(n)[None, :] != i_star[:, None])
    x = jnp.where(close[..., None], -x, x)
    y = jnp.clip(jax.random.normal(k3, (b, n)), -spec.R, spec.R)
    return with_target(x, y, xq)
  if spec.kind == "clustered":
    centres = sphere(k1, (b, spec.clusters), d)
    which = jax.random.randint(k2, (b, n + 1), 0, spec.clusters)
    mu = jnp.take_along_axis(centres, which[..., None], axis=1)
    pts = _vmf(k3, mu, spec.kappa)
    y = jnp.where(jax.random.bernoulli(k4, 0.5, (b, n)), 1.0, -1.0) * jnp.minimum(spec.R, 1.0)
    return with_target(pts[:, :n], y, pts[:, n])
  if spec.kind == "low_dim":
    basis = jnp.linalg.qr(jax.random.normal(k1, (b, d, spec.k)))[0]      # (b, d, k) orthonormal columns
    coeffs = sphere(k2, (b, n + 1), spec.k)
    pts = jnp.einsum("bdk,btk->btd", basis, coeffs) + spec.eps * jax.random.normal(k3, (b, n + 1, d))
    pts = pts / jnp.linalg.norm(pts, axis=-1, keepdims=True)
    y = jnp.where(jax.random.bernoulli(k4, 0.5, (b, n)), 1.0, -1.0) * jnp.minimum(spec.R, 1.0)
    return with_target(pts[:, :n], y, pts[:, n])
  pts = sphere(k1, (b, n + 1), d)
  a = spec.scale * jax.random.normal(k2, (b, d)) / jnp.sqrt(d)
  y = spec.R * jnp.tanh(jnp.einsum("bnd,bd->bn", pts[:, :n], a))
  return with_target(pts[:, :n], y, pts[:, n])


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


def sign_patterns(d: int) -> jax.Array:
  """Sign flips ``s_b in {+1, -1}^d`` whose average kills every odd-in-one-coordinate and mixed entry.

  Coordinate k gets the character ``b -> (-1)^{popcount(b & (k+1))}`` of ``(Z_2)^m``, ``m = ceil(log2(d+1))``:
  the d characters are distinct and nontrivial, so the average over the ``2^m`` group elements of ``s_k`` and of
  ``s_k s_l`` (k != l) is 0. That is ``2^m <= 2d`` images instead of the ``2^d`` of all sign flips.
  """
  m = max(1, (d).bit_length())
  b = jnp.arange(2**m)[:, None]
  k = jnp.arange(1, d + 1)[None, :]
  bits = jnp.bitwise_and(b, k)
  parity = jnp.zeros_like(bits)
  for i in range(m):
    parity = parity ^ ((bits >> i) & 1)
  return 1.0 - 2.0 * parity.astype(jnp.float32)


def symmetrize(prompts: dict[str, jax.Array]) -> dict[str, jax.Array]:
  """Closes a sample under cyclic coordinate shifts x sign patterns x a global label flip.

  For W in the family ``diag(xi1 I, 0, -xi2)`` the full-W gradient of the loss on the closed sample lies in the
  family exactly (BUILD_NOTES.md gives the argument): sign patterns kill the off-diagonal x-x entries and the
  x-indicator entries, cyclic shifts equalise the x-x diagonal, the label flip kills the label-row entries, and the
  label column has zero gradient for every prompt. Images per prompt: ``d * 2^m * 2`` (256 for d = 8).

  Args:
    prompts: fields ``x (B, N, d)``, ``y (B, N)``, ``x_query (B, d)``.

  Returns:
    The closed sample (with ``tau``, ``i_star`` and ``target`` recomputed), batch ``B * d * 2^m * 2``.
  """
  x, y, xq = prompts["x"], prompts["y"], prompts["x_query"]
  d = x.shape[-1]
  signs = sign_patterns(d)                                       # (S, d)
  xs, xqs = [], []
  for shift in range(d):
    xr, xqr = jnp.roll(x, shift, axis=-1), jnp.roll(xq, shift, axis=-1)
    xs.append(xr[:, None] * signs[None, :, None, :])             # (B, S, N, d)
    xqs.append(xqr[:, None] * signs[None, :, :])                 # (B, S, d)
  x_all = jnp.stack(xs, 1)                                       # (B, d, S, N, d)
  xq_all = jnp.stack(xqs, 1)
  x_all = jnp.stack([x_all, x_all], 3)                           # (B, d, S, 2, N, d): label flip axis
  xq_all = jnp.stack([xq_all, xq_all], 3)
  y_all = jnp.broadcast_to(jnp.stack([y, -y], 1)[:, None, None], x_all.shape[:-1])
  n, total = x.shape[1], x_all.shape[0] * d * signs.shape[0] * 2
  return with_target(x_all.reshape(total, n, d), y_all.reshape(total, n), xq_all.reshape(total, d))


def check_assumption3(prompts: dict[str, jax.Array], R: float, atol: float = 1e-4) -> None:
  """Raises ``ConfigError`` unless every input is on the unit sphere (to ``atol``) and every label has |y| <= R."""
  for name in ("x", "x_query"):
    dev = float(np.max(np.abs(np.linalg.norm(np.asarray(prompts[name]), axis=-1) - 1.0)))
    if not dev <= atol:
      raise validation.ConfigError(f"test batch {name}", f"max | |x| - 1 | = {dev:.3g}",
                                   f"inputs on the unit sphere S^(d-1) (Assumption 3, tolerance {atol:g})")
  y_max = float(np.max(np.abs(np.asarray(prompts["y"]))))
  if not y_max <= R:
    raise validation.ConfigError("test batch y", f"max |y| = {y_max:.3g}", f"labels with |y| <= R = {R:g}")
