"""In-context one-nearest-neighbour prompts on the sphere, and shifted test distributions.

Training distribution (Li et al. 2024, Assumption 1): ``x_1..x_{N+1}`` i.i.d. uniform on ``S^{d-1}``, labels
``y_1..y_N`` i.i.d. (Rademacher or N(0, 1)) independent of the inputs; the target is the label of the nearest
neighbour, ``y_{i*}`` with ``i* = argmax_j <x_j, x_{N+1}>``.

Shifted test distributions: ``icljax.tasks.nearest_neighbor_shift``.

Reference: Li et al. (2024), Assumptions 1 and 3, Appendix B.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from icljax import prng, validation
from icljax._pytree import pytree_dataclass, static_field

LABELS = ("rademacher", "gaussian")


@pytree_dataclass
class NNSpec:
  """Training distribution of 1-NN prompts.

  Attributes:
    d: input dimension (inputs uniform on S^{d-1}).
    N: context examples per prompt.
    labels: ``'rademacher'`` or ``'gaussian'`` (mean 0, variance 1, independent of the inputs).

  Reference: Li et al. (2024), Assumption 1.
  """

  d: int = static_field()
  N: int = static_field()
  labels: str = static_field(default="rademacher")


def make_spec(d: int, N: int, labels: str = "rademacher") -> NNSpec:
  """Validated training spec: ``d >= 2``, ``N >= 1``, labels Rademacher or Gaussian.

  Args:
    d: input dimension, >= 2.
    N: context examples, >= 1.
    labels: ``'rademacher'`` or ``'gaussian'`` (mean 0, variance 1, independent of the inputs).

  Returns:
    The spec; bad values raise ``ConfigError``.

  Reference: Li et al. (2024), Assumption 1.
  """
  return NNSpec(d=validation.integer("d", d, low=2), N=validation.integer("N", N, low=1),
                labels=validation.choice("labels", labels, LABELS))


@prng.sampler
def sphere(key: jax.Array, shape: tuple[int, ...], d: int) -> jax.Array:
  """Uniform points on ``S^{d-1}`` (normalised Gaussians), shape ``shape + (d,)``.

  Args:
    key: PRNG key.
    shape: leading shape.
    d: dimension of the ambient space.

  Returns:
    Unit vectors of shape ``shape + (d,)``.

  Reference: Li et al. (2024), Assumption 1 (inputs uniform on the unit sphere).
  """
  z = jax.random.normal(key, shape + (d,))
  return z / jnp.linalg.norm(z, axis=-1, keepdims=True)


def _labels(key: jax.Array, shape: tuple[int, ...], kind: str) -> jax.Array:
  if kind == "rademacher":
    return jnp.where(jax.random.bernoulli(key, 0.5, shape), 1.0, -1.0)
  return jax.random.normal(key, shape)


def with_target(x: jax.Array, y: jax.Array, x_query: jax.Array) -> dict[str, jax.Array]:
  """Adds ``tau_j = <x_j, x_query>``, the nearest neighbour ``i*`` and its label ``target``.

  Args:
    x: context inputs (B, N, d).
    y: context labels (B, N).
    x_query: queries (B, d).

  Returns:
    The prompt dict with ``tau`` (B, N), ``i_star`` (B,) and ``target`` (B,) added.

  Reference: Li et al. (2024), Eq. (2.5) (the 1-NN label y_{i*}, i* = argmax_j <x_j, x_{N+1}>).
  """
  tau = jnp.einsum("bnd,bd->bn", x, x_query)
  i_star = jnp.argmax(tau, axis=-1)
  target = jnp.take_along_axis(y, i_star[:, None], axis=-1)[:, 0]
  return {"x": x, "y": y, "x_query": x_query, "tau": tau, "i_star": i_star, "target": target}


@prng.sampler
def sample(key: jax.Array, spec: NNSpec, batch_size: int) -> dict[str, jax.Array]:
  """Training prompts: ``x (B, N, d)``, ``y (B, N)``, ``x_query (B, d)``, ``tau (B, N)``, ``i_star``, ``target``.

  Args:
    key: PRNG key; the batch is a pure function of (key, spec, batch_size).
    spec: the training distribution.
    batch_size: number of prompts B.

  Returns:
    The prompts.

  Reference: Li et al. (2024), Assumption 1.
  """
  k_x, k_y = jax.random.split(key)
  pts = sphere(k_x, (batch_size, spec.N + 1), spec.d)
  y = _labels(k_y, (batch_size, spec.N), spec.labels)
  return with_target(pts[:, : spec.N], y, pts[:, spec.N])


@prng.sampler
def sample_tau(key: jax.Array, d: int, N: int, batch_size: int) -> jax.Array:
  """Inner products ``tau_j = <x_j, x_query>`` directly: ``2 Beta((d-1)/2, (d-1)/2) - 1``, shape (B, N).

  For d = 2 the law is arcsine (Beta(1/2, 1/2)); the reduced estimators need nothing else of the inputs.

  Args:
    key: PRNG key.
    d: input dimension.
    N: context examples.
    batch_size: number of prompts B.

  Returns:
    Inner products of shape (B, N), with the law of ``<x_j, x_query>`` for independent uniform unit vectors.

  Reference: Li et al. (2024), sphere facts (Lemmas 17-20).
  """
  a = (d - 1) / 2.0
  return 2.0 * jax.random.beta(key, a, a, (batch_size, N)) - 1.0


def sign_patterns(d: int) -> jax.Array:
  """Sign flips ``s_b in {+1, -1}^d`` whose average kills every odd-in-one-coordinate and mixed entry.

  Coordinate k gets the character ``b -> (-1)^{popcount(b & (k+1))}`` of ``(Z_2)^m``, ``m = ceil(log2(d+1))``:
  the d characters are distinct and nontrivial, so the average over the ``2^m`` group elements of ``s_k`` and of
  ``s_k s_l`` (k != l) is 0. That is ``2^m <= 2d`` images instead of the ``2^d`` of all sign flips.

  Args:
    d: input dimension.

  Returns:
    A (2^m, d) array of signs in {+1, -1}.

  Reference: docs page "nearest_neighbor", section "Setting" (the symmetrised estimator).
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
  family exactly (the docs page, section "Setting", gives the argument): sign patterns kill the off-diagonal x-x
  entries and the x-indicator entries, cyclic shifts equalise the x-x diagonal, the label flip kills the label-row
  entries, and the label column has zero gradient for every prompt. Images per prompt: ``d * 2^m * 2`` (256 for d = 8).

  Args:
    prompts: fields ``x (B, N, d)``, ``y (B, N)``, ``x_query (B, d)``.

  Returns:
    The closed sample (with ``tau``, ``i_star`` and ``target`` recomputed), batch ``B * d * 2^m * 2``.

  Reference: Li et al. (2024), Lemma 2 (the family is invariant); docs page "nearest_neighbor", section "Setting" (the
    symmetrised estimator).
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


