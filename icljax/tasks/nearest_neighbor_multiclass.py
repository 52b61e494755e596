"""K-class in-context 1-NN prompts on the sphere (Athreya & Wang 2026, Assumption 1) and the label codings.

``x_1..x_{N+1}`` i.i.d. uniform on ``S^{d-1}``, class labels ``c_1..c_N`` i.i.d. uniform on ``{0..K-1}``
independent of the inputs; the target is the nearest neighbour's class ``c_{i*}``, ``i* = argmax_j <x_j, x_{N+1}>``.
A coding maps a class to its label vector in R^K: ``centred`` (the paper's simplex code ``e_c - 1/K``) or
``onehot`` (``e_c``, which breaks Lemma 2; digest P4).

Reference: Athreya & Wang (2026), Assumption 1 and eq. (1) (athreya digest sections 1-2).
"""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np

from icljax import prng, validation
from icljax._pytree import pytree_dataclass, static_field
from icljax.tasks import nearest_neighbor

CODINGS = ("centred", "onehot")


@pytree_dataclass
class MulticlassSpec:
  """Training distribution of K-class 1-NN prompts."""

  d: int = static_field()
  N: int = static_field()
  K: int = static_field()


def make_spec(d: int, N: int, K: int) -> MulticlassSpec:
  """Validated spec: ``d >= 2``, ``N >= 1``, ``K >= 2``.

  Args:
    d: input dimension.
    N: context examples.
    K: classes.

  Returns:
    The spec; bad values raise ``ConfigError``.

  Reference: Athreya & Wang (2026), Assumption 1.
  """
  return MulticlassSpec(d=validation.integer("d", d, low=2), N=validation.integer("N", N, low=1),
                        K=validation.integer("K", K, low=2))


def code(c: jax.Array, K: int, coding: str = "centred") -> jax.Array:
  """Label vectors of classes ``c`` (any shape), shape ``c.shape + (K,)``.

  Args:
    c: integer classes in ``0..K-1``.
    K: classes.
    coding: ``'centred'`` (``e_c - 1/K``: sum 0, squared norm (K-1)/K) or ``'onehot'`` (``e_c``).

  Returns:
    The codes.

  Reference: Athreya & Wang (2026), eq. (1); digest P4 for one-hot.
  """
  onehot = jax.nn.one_hot(c, K)
  return onehot - 1.0 / K if coding == "centred" else onehot


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
  c = jax.random.randint(k_c, (batch_size, spec.N), 0, spec.K)
  x, xq = pts[:, : spec.N], pts[:, spec.N]
  tau = jnp.einsum("bnd,bd->bn", x, xq)
  i_star = jnp.argmax(tau, axis=-1)
  return {"x": x, "c": c, "x_query": xq, "tau": tau, "i_star": i_star,
          "c_star": jnp.take_along_axis(c, i_star[:, None], axis=-1)[:, 0]}


def label_configurations(N: int, K: int) -> np.ndarray:
  """Every assignment of K classes to N context tokens, shape (K^N, N): labels integrated by enumeration.

  Args:
    N: context examples (K^N rows: keep it small).
    K: classes.

  Returns:
    The configurations, each with probability K^-N under Assumption 1.
  """
  return np.array(list(itertools.product(range(K), repeat=N)), np.int32).reshape(-1, N)
