"""One-layer softmax attention for K-class in-context 1-NN (Athreya & Wang 2026): full ``W`` on the K-row embedding.

Embedding (eq. 2): ``h_j = [x_j; u_{c_j}; 0]`` for context tokens, ``h_{N+1} = [x_{N+1}; 0_K; 1]`` for the query;
``W`` is (d+K+1) x (d+K+1), blocks x = 0..d-1, labels = d..d+K-1, indicator = d+K. Logits (eqs. 3-5), value
matrix frozen to the identity, softmax over all N+1 tokens::

    l = sum_{j<=N} q_j u_{c_j} in R^K,   q = softmax_j(h_j^T W h_{N+1}),   c_hat = argmax_k l_k.

On the family ``W = diag(xi1 I_d, 0_K, -xi2)`` the scores are those of the binary model (``xi1 tau_j`` and
``xi1 - xi2``), whatever K and the coding.

Reference: Athreya & Wang (2026), eqs. (2)-(6).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import numpy.typing as npt

from icljax.models import nearest_neighbor


@dataclasses.dataclass(frozen=True)
class MulticlassModelSpec:
  """Input dimension, classes and initialisation (Assumption 2, optionally perturbed).

  Attributes:
    d: input dimension.
    K: classes.
    sigma: the indicator entry of W_0 is ``-sigma``.
    init: ``'paper'`` (W_0 exactly) or ``'random'`` (plus i.i.d. N(0, init_scale^2) on every entry, Fig. 5).
    init_scale: standard deviation of the perturbation.

  Reference: Athreya & Wang (2026), Assumption 2 and Fig. 5.
  """

  d: int
  K: int
  sigma: float
  init: str = "paper"
  init_scale: float = 0.0

  @property
  def size(self) -> int:
    """The side of W.

    Returns:
      ``d + K + 1`` (input, label and indicator blocks).

    Reference: Athreya & Wang (2026), eq. (2).
    """
    return self.d + self.K + 1


def init(key: jax.Array, spec: MulticlassModelSpec) -> dict[str, jax.Array]:
  """``W_0 = diag(0, ..., 0, -sigma)`` (Assumption 2), plus noise on every entry for ``init='random'``.

  Args:
    key: PRNG key (used by ``'random'`` only).
    spec: the model.

  Returns:
    ``{'W': (d+K+1, d+K+1)}``.

  Reference: Athreya & Wang (2026), Assumption 2 and Fig. 5.
  """
  w = jnp.zeros((spec.size, spec.size)).at[-1, -1].set(-spec.sigma)
  if spec.init == "random":
    w = w + spec.init_scale * jax.random.normal(key, w.shape)
  return {"W": w}


def embed(prompts: dict[str, jax.Array], codes: jax.Array) -> tuple[jax.Array, jax.Array]:
  """Context tokens (B, N, d+K+1) and query token (B, d+K+1).

  Args:
    prompts: ``x (B, N, d)``, ``x_query (B, d)``.
    codes: the context labels' code vectors (B, N, K).

  Returns:
    ``h_j = [x_j; u_{c_j}; 0]`` and ``h_{N+1} = [x_{N+1}; 0_K; 1]``.

  Reference: Athreya & Wang (2026), eq. (2).
  """
  x, xq = prompts["x"], prompts["x_query"]
  context = jnp.concatenate([x, codes, jnp.zeros(x.shape[:-1] + (1,))], axis=-1)
  query = jnp.concatenate([xq, jnp.zeros(xq.shape[:-1] + (codes.shape[-1],)), jnp.ones(xq.shape[:-1] + (1,))], -1)
  return context, query


def attention(params: dict[str, jax.Array], prompts: dict[str, jax.Array], codes: jax.Array) -> jax.Array:
  """Attention weights over the N+1 tokens (the query last), shape (B, N+1).

  Args:
    params: ``{'W'}``.
    prompts: ``x``, ``x_query``.
    codes: (B, N, K).

  Returns:
    ``q``.

  Reference: Athreya & Wang (2026), eqs. (3)-(5) (column-wise softmax of H^T W H, the query token included).
  """
  context, query = embed(prompts, codes)
  w = params["W"]
  scores = jnp.concatenate([jnp.einsum("bni,ij,bj->bn", context, w, query),
                            jnp.einsum("bi,ij,bj->b", query, w, query)[:, None]], axis=-1)
  return jax.nn.softmax(scores, axis=-1)


def apply(params: dict[str, jax.Array], prompts: dict[str, jax.Array], codes: jax.Array) -> jax.Array:
  """The logits ``l = sum_{j<=N} q_j u_{c_j}``, shape (B, K) (the label rows of the query column of H_W).

  Args:
    params: ``{'W'}``.
    prompts: ``x``, ``x_query``.
    codes: the context labels' code vectors (B, N, K).

  Returns:
    The logits.

  Reference: Athreya & Wang (2026), eqs. (3)-(5).
  """
  q = attention(params, prompts, codes)
  return jnp.einsum("bn,bnk->bk", q[:, :-1], codes)


def to_W(xi1: float, xi2: float, d: int, K: int) -> jax.Array:
  """The family point ``diag(xi1 I_d, 0_K, -xi2)``.

  Args:
    xi1: input-block scale.
    xi2: minus the indicator entry.
    d: input dimension.
    K: classes.

  Returns:
    ``W`` (float32; built on the host, so a point costs no compiled program).

  Reference: Athreya & Wang (2026), Lemma 1 (the two-parameter family).
  """
  return jnp.asarray(np.diag(np.concatenate([np.full(d, xi1), np.zeros(K), [-xi2]])).astype(np.float32))


def from_W(w: npt.ArrayLike, d: int) -> tuple[float, float]:
  """``(xi1, xi2)`` of a matrix: the mean of the input block's diagonal and minus the indicator entry.

  Args:
    w: (d+K+1, d+K+1).
    d: input dimension.

  Returns:
    ``(xi1, xi2)`` (computed on the host).

  Reference: Athreya & Wang (2026), Lemma 1; docs page "nearest_neighbor_multiclass", section "What is checked and
  why" (sgd_tracks reads the chains this way).
  """
  w = np.asarray(w, np.float64)
  return float(np.mean(np.diag(w)[:d])), float(-w[-1, -1])


def label_columns(w: jax.Array, d: int, K: int) -> jax.Array:
  """The K label columns W12, W22, W32 (every row), whose gradient is identically 0.

  Args:
    w: (d+K+1, d+K+1).
    d: input dimension.
    K: classes.

  Returns:
    The (d+K+1, K) columns.

  Reference: Athreya & Wang (2026), Lemma 4 (the label columns have identically vanishing gradient).
  """
  return w[:, d: d + K]


def off_family(w: npt.ArrayLike, d: int, K: int) -> float:
  """Frobenius norm of the score blocks off the family.

  Args:
    w: (d+K+1, d+K+1).
    d: input dimension.
    K: classes.

  Returns:
    ``|W - diag(xi1 I, 0, -xi2)|_F`` over everything but the label columns.

  Reference: Athreya & Wang (2026), Fig. 5 (distance to the family).
  """
  w = np.array(w, np.float64)
  xi1, xi2 = from_W(w, d)
  w[:, d: d + K] = 0.0
  return float(np.linalg.norm(w - np.diag(np.concatenate([np.full(d, xi1), np.zeros(K), [-xi2]]))))


reduced_attention = nearest_neighbor.reduced_attention
