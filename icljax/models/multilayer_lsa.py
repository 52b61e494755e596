"""L-layer linear transformer of Ahn et al. (2023), sparse class B_l = 0: every layer updates every token.

Tokens ``z_i = [x_i; y_i]`` (context), ``z_q = [x_q; 0]``, as columns of Z (d+1) x (n+1). A layer (paper layout)::

    Z <- Z + (1/n) P Z M (Z^T Q Z),   M = diag(1, ..., 1, 0) (the query is no key/value),
    P = [[0, 0], [0, 1]],   Q = -[[A_l, 0], [0, 0]],       prediction = -[Z_L]_{d+1, n+1}.

Only the label row moves: ``r_j <- r_j - (1/n) sum_{i<=n} r_i x_i^T A_l x_j`` for every token j (the query too).
The model is implemented literally, with the full P and Q; Lemma 1 (that it is L steps of GD preconditioned by
``A_l^T``) is a check, not an assumption.

Reference: Ahn, Cheng, Daneshmand, Sra (2023), the model and Lemma 1 (ahn_huang digest A2-A3).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp


@dataclasses.dataclass(frozen=True)
class MultilayerSpec:
  """Dimension, examples, layers and the initialisation scale (the authors' code: std 1e-4).

  Attributes:
    d: dimension.
    n: context examples.
    L: layers.
    init_scale: standard deviation of the i.i.d. normal entries of every A_l at initialisation.
  """

  d: int
  n: int
  L: int
  init_scale: float = 1e-4


def init(key: jax.Array, spec: MultilayerSpec) -> dict[str, jax.Array]:
  """``{'A': (L, d, d)}`` with i.i.d. N(0, init_scale^2) entries.

  Args:
    key: PRNG key.
    spec: the model.

  Returns:
    The parameters.

  Reference: the authors' code, ``allparam.normal_(0, 1e-4)`` (ahn_huang digest A2).
  """
  return {"A": spec.init_scale * jax.random.normal(key, (spec.L, spec.d, spec.d))}


def layer_matrices(a: jax.Array) -> tuple[jax.Array, jax.Array]:
  """``P = [[0, 0], [0, 1]]`` and ``Q = -[[A, 0], [0, 0]]`` of one layer, (d+1) x (d+1) each.

  Args:
    a: (d, d).

  Returns:
    ``(P, Q)``.
  """
  d = a.shape[0]
  p = jnp.zeros((d + 1, d + 1)).at[d, d].set(1.0)
  q = jnp.zeros((d + 1, d + 1)).at[:d, :d].set(-a)
  return p, q


def apply(params: dict[str, jax.Array], prompts: dict[str, jax.Array], spec: MultilayerSpec) -> jax.Array:
  """The prediction ``-[Z_L]_{d+1, n+1}`` for every prompt, shape (B,).

  Args:
    params: ``{'A': (L, d, d)}``.
    prompts: ``x (B, n, d)``, ``y (B, n)``, ``x_query (B, d)``.
    spec: the model.

  Returns:
    Predictions of the query labels.

  Reference: Ahn et al. (2023), the L-layer model (ahn_huang digest A2).
  """
  x, y, xq = prompts["x"], prompts["y"], prompts["x_query"]
  tokens = jnp.concatenate([jnp.concatenate([x, y[..., None]], -1),
                            jnp.concatenate([xq, jnp.zeros_like(xq[..., :1])], -1)[:, None]], axis=1)
  z = jnp.swapaxes(tokens, 1, 2)                                   # (B, d+1, n+1)
  mask = jnp.ones((spec.n + 1,)).at[-1].set(0.0)                    # M
  for a in params["A"]:
    p, q = layer_matrices(a)
    scores = jnp.einsum("bki,kl,blj->bij", z, q, z)                 # Z^T Q Z
    z = z + jnp.einsum("kl,bli,i,bij->bkj", p, z, mask, scores) / spec.n
  return -z[:, -1, -1]
