"""K-class in-context 1-NN prompts on the sphere (Athreya & Wang 2026, Assumption 1) and the label codings.

``x_1..x_{N+1}`` i.i.d. uniform on ``S^{d-1}``, class labels ``c_1..c_N`` i.i.d. on ``{0..K-1}`` independent of the
inputs (uniform, the paper's law, or a given law ``p``); the target is the nearest neighbour's class ``c_{i*}``,
``i* = argmax_j <x_j, x_{N+1}>``. A coding maps a class to its label vector in R^K:

* ``centred``: the paper's simplex code ``e_c - 1/K`` (eq. (1));
* ``onehot``: ``e_c``, which breaks Lemma 2;
* ``recentred``: ``e_c - p``, centred at the label law's mean (Lemma 2 holds with factor ``1 - sum_c p_c^2``);
* ``unit``: the simplex code scaled to unit norm, ``sqrt(K/(K-1)) (e_c - 1/K)`` (Lemma 2 with factor 1).

The paper uses the centred code with uniform labels only. Its proof of Lemma 2 needs the code to have mean zero
under the label law and tokens to be uncorrelated (Lemma 3), so the identity holds with factor ``E||u_c||^2`` for
``recentred`` codes under any law and for ``unit`` codes under the uniform law, and fails for ``onehot`` codes and
for ``centred`` codes under a non-uniform law (derived in the theorem's docs page).

Reference: Athreya & Wang (2026), Assumption 1, eq. (1), Lemmas 2-3.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from icljax import prng, validation
from icljax._pytree import pytree_dataclass, static_field
from icljax.tasks import nearest_neighbor

CODINGS = ("centred", "onehot", "recentred", "unit")


@pytree_dataclass
class MulticlassSpec:
  """Training distribution of K-class 1-NN prompts.

  Attributes:
    d: input dimension.
    N: context examples.
    K: classes.
    probs: the class law (``None``: uniform, the paper's).

  Reference: Athreya & Wang (2026), Assumption 1.
  """

  d: int = static_field()
  N: int = static_field()
  K: int = static_field()
  probs: tuple[float, ...] | None = static_field(default=None)


def make_spec(d: int, N: int, K: int, probs: Sequence[float] | None = None) -> MulticlassSpec:
  """Validated spec: ``d >= 2``, ``N >= 1``, ``K >= 2``, ``probs`` empty/None (uniform) or K positive numbers
  summing to 1.

  Args:
    d: input dimension.
    N: context examples.
    K: classes.
    probs: the class law (``None`` or empty: uniform).

  Returns:
    The spec; bad values raise ``ConfigError``.

  Reference: Athreya & Wang (2026), Assumption 1.
  """
  K = validation.integer("K", K, low=2)
  law = None
  if probs is not None and len(probs):
    law = validation.positive_vector("class_probs", probs, length=K)
    if abs(sum(law) - 1.0) > 1e-9:
      raise validation.ConfigError("class_probs", tuple(probs), f"{K} positive numbers summing to 1")
  return MulticlassSpec(d=validation.integer("d", d, low=2), N=validation.integer("N", N, low=1), K=K, probs=law)


def class_law(K: int, probs: Sequence[float] | None = None) -> np.ndarray:
  """The class probabilities as an array (uniform when ``probs`` is None).

  Args:
    K: classes.
    probs: the class law or None.

  Returns:
    (K,) probabilities.

  Reference: Athreya & Wang (2026), Assumption 1 (uniform classes); docs page "nearest_neighbor_multiclass",
  section "Setting" (the class law).
  """
  return np.full(K, 1.0 / K) if probs is None else np.asarray(probs, np.float64)


def code(c: jax.Array, K: int, coding: str = "centred", probs: Sequence[float] | None = None) -> jax.Array:
  """Label vectors of classes ``c`` (any shape), shape ``c.shape + (K,)``.

  Args:
    c: integer classes in ``0..K-1``.
    K: classes.
    coding: ``'centred'`` (``e_c - 1/K``: sum 0, squared norm (K-1)/K), ``'onehot'`` (``e_c``), ``'recentred'``
      (``e_c - p``) or ``'unit'`` (``sqrt(K/(K-1)) (e_c - 1/K)``).
    probs: the class law ``p`` of ``'recentred'`` (None: uniform, the same as ``'centred'``).

  Returns:
    The codes.

  Reference: Athreya & Wang (2026), eq. (1) and the codings of its Lemma 3.
  """
  onehot = jax.nn.one_hot(c, K)
  if coding == "onehot":
    return onehot
  if coding == "recentred":
    return onehot - jnp.broadcast_to(jnp.asarray(class_law(K, probs), onehot.dtype), onehot.shape)
  centred = onehot - 1.0 / K
  return centred * math.sqrt(K / (K - 1)) if coding == "unit" else centred


@prng.sampler
def sample(key: jax.Array, spec: MulticlassSpec, batch_size: int) -> dict[str, jax.Array]:
  """Prompts ``x (B, N, d)``, classes ``c (B, N)``, ``x_query (B, d)``, ``tau (B, N)``, ``i_star`` and the target
  class ``c_star`` (B,).

  Args:
    key: PRNG key; the batch is a pure function of (key, spec, batch_size).
    spec: the distribution.
    batch_size: number of prompts B.

  Returns:
    The prompts.

  Reference: Athreya & Wang (2026), Assumption 1.
  """
  k_x, k_c = jax.random.split(key)
  pts = nearest_neighbor.sphere(k_x, (batch_size, spec.N + 1), spec.d)
  if spec.probs is None:
    c = jax.random.randint(k_c, (batch_size, spec.N), 0, spec.K)
  else:
    c = jax.random.categorical(k_c, jnp.log(jnp.asarray(spec.probs)), shape=(batch_size, spec.N))
  x, xq = pts[:, : spec.N], pts[:, spec.N]
  tau = jnp.einsum("bnd,bd->bn", x, xq)
  i_star = jnp.argmax(tau, axis=-1)
  return {"x": x, "c": c, "x_query": xq, "tau": tau, "i_star": i_star,
          "c_star": jnp.take_along_axis(c, i_star[:, None], axis=-1)[:, 0]}


def label_configurations(N: int, K: int,
                         probs: Sequence[float] | None = None) -> tuple[np.ndarray, np.ndarray]:
  """Every assignment of K classes to N context tokens and its probability: labels integrated by enumeration.

  Args:
    N: context examples (K^N rows: keep it small).
    K: classes.
    probs: the class law (None: uniform, every configuration K^-N).

  Returns:
    The configurations (K^N, N) and their probabilities (K^N,) under i.i.d. classes of law ``probs``.

  Reference: Athreya & Wang (2026), eq. (7) with the labels integrated (Lemma 2's expectation over the classes).
  """
  configs = np.array(list(itertools.product(range(K), repeat=N)), np.int32).reshape(-1, N)
  weights = np.prod(class_law(K, probs)[configs], axis=1)
  return configs, weights
