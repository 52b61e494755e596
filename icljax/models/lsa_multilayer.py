"""L-layer linear transformer of Ahn et al. (2023): the sparse class B_l = 0 (Theorem 3) or with B_l (Theorem 4).

Tokens ``z_i = [x_i; y_i]`` (context), ``z_q = [x_q; 0]``, as columns of Z (d+1) x (n+1). A layer (paper layout)::

    Z <- Z + (1/n) P Z M (Z^T Q Z),   M = diag(1, ..., 1, 0) (the query is no key/value),
    P = [[B_l, 0], [0, 1]],   Q = -[[A_l, 0], [0, 0]],       prediction = -[Z_L]_{d+1, n+1}.

With B_l = 0 only the label row moves: ``r_j <- r_j - (1/n) sum_{i<=n} r_i x_i^T A_l x_j`` for every token j (the
query too); with B_l the covariates move as well. The model is implemented literally, with the full P and Q;
Lemma 1 (that the B_l = 0 model is L steps of GD preconditioned by ``A_l^T``) and the Gram form of the layer with
B_l (``theory.lsa_multilayer.gram_form_predict``) are checks, not assumptions.

Reference: Ahn, Cheng, Daneshmand, Sra (2023), arXiv 2306.00297: the linear transformer of its section 2 (the
layer, the 1/n normalisation, the read-out), Lemma 1, Theorems 3-4; docs page "lsa_multilayer", section "Setting".
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
    init_scale: standard deviation of the i.i.d. normal entries of every A_l (and B_l) at initialisation.
    train_b: False: the sparse class B_l = 0 (Theorem 3); True: B_l trained too (Theorem 4's class).

  Reference: docs page "lsa_multilayer", section "Setting" (the model and its two classes).
  """

  d: int
  n: int
  L: int
  init_scale: float = 1e-4
  train_b: bool = False


def init(key: jax.Array, spec: MultilayerSpec) -> dict[str, jax.Array]:
  """``{'A': (L, d, d)}`` (and ``'B'`` of the same shape with ``train_b``), i.i.d. N(0, init_scale^2) entries.

  Args:
    key: PRNG key.
    spec: the model.

  Returns:
    The parameters.

  Reference: the authors' code (github.com/chengxiang/LinearTransformer, ``allparam.normal_(0, 1e-4)``: 1e-4 is
  the standard deviation); docs page "lsa_multilayer", section "Setting" (why this package's default is 0.1).
  """
  key_a, key_b = jax.random.split(key)
  shape = (spec.L, spec.d, spec.d)
  params = {"A": spec.init_scale * jax.random.normal(key_a, shape)}
  return {**params, "B": spec.init_scale * jax.random.normal(key_b, shape)} if spec.train_b else params


def layer_matrices(a: jax.Array, b: jax.Array | None = None) -> tuple[jax.Array, jax.Array]:
  """``P = [[B, 0], [0, 1]]`` and ``Q = -[[A, 0], [0, 0]]`` of one layer, (d+1) x (d+1) each.

  Args:
    a: (d, d).
    b: (d, d), or None for B = 0.

  Returns:
    ``(P, Q)``.

  Reference: Ahn et al. (2023), section 2: the sparse parameterisation P_l = [[B_l, 0], [0, 1]],
  Q_l = -[[A_l, 0], [0, 0]] of Lemma 1 and Theorems 3-4.
  """
  d = a.shape[0]
  p = jnp.zeros((d + 1, d + 1)).at[d, d].set(1.0)
  p = p if b is None else p.at[:d, :d].set(b)
  q = jnp.zeros((d + 1, d + 1)).at[:d, :d].set(-a)
  return p, q


def apply(params: dict[str, jax.Array], prompts: dict[str, jax.Array], spec: MultilayerSpec) -> jax.Array:
  """The prediction ``-[Z_L]_{d+1, n+1}`` for every prompt, shape (B,).

  Args:
    params: ``{'A': (L, d, d)}``, with ``'B'`` (L, d, d) in Theorem 4's class.
    prompts: ``x (B, n, d)``, ``y (B, n)``, ``x_query (B, d)``.
    spec: the model.

  Returns:
    Predictions of the query labels.

  Reference: Ahn et al. (2023), section 2: the L-layer linear transformer and its read-out -[Z_L]_{d+1, n+1};
  docs page "lsa_multilayer", section "Setting".
  """
  x, y, xq = prompts["x"], prompts["y"], prompts["x_query"]
  tokens = jnp.concatenate([jnp.concatenate([x, y[..., None]], -1),
                            jnp.concatenate([xq, jnp.zeros_like(xq[..., :1])], -1)[:, None]], axis=1)
  z = jnp.swapaxes(tokens, 1, 2)                                   # (B, d+1, n+1)
  mask = jnp.ones((spec.n + 1,)).at[-1].set(0.0)                    # M
  for layer, a in enumerate(params["A"]):
    p, q = layer_matrices(a, params["B"][layer] if "B" in params else None)
    scores = jnp.einsum("bki,kl,blj->bij", z, q, z)                 # Z^T Q Z
    z = z + jnp.einsum("kl,bli,i,bij->bkj", p, z, mask, scores) / spec.n
  return -z[:, -1, -1]
