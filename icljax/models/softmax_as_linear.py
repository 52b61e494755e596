"""One-layer attention as Boursier & Boyer (2025) parameterise it: the attention operator on a finite prompt, and
the in-context regression layer of their Theorem 5.1, with softmax or linear attention.

* Operator (Sec. 1-2): for tokens ``z_1..z_L`` and a query ``z``, with the merged key-query matrix ``U = K^T Q``,
  ``T[mu_L](z) = sum_i p_i V z_i``, ``p = softmax_i(z_i^T U z)``. No temperature and no 1/L factor (the softmax
  normalises itself; a temperature is absorbed into ``U``). The query is not among the keys.
* Regression layer (Sec. 5, Thm 5.1): tokens ``z_i = (x_i, y_i)``, query ``(x, 0)``, ``U = diag(A, 0)`` and
  ``V = b e_{d+1} e_{d+1}^T``, so the prediction (last output coordinate) is ``y_hat = b sum_i p_i y_i`` with
  ``p_i = softmax_i(x_i^T A x)``. Parameters ``{'A': (d, d), 'b': ()}``.
* Linear attention at the same ``L`` (the authors' ``activation=None, normalize=True``):
  ``y_hat = b (1/L) sum_i (x_i^T A x) y_i``.

Reference: Boursier & Boyer (2025), arXiv 2512.11784, Sec. 1-2 (the operator on measures), Sec. 5 (Eq. 7-9).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

ATTENTIONS = ("softmax", "linear")


def init(key: jax.Array, d: int, alpha: float) -> dict[str, jax.Array]:
  """The balanced initialisation of Eq. (9): ``A = alpha Theta Theta^T`` with ``|Theta Theta^T|_F = 1`` and
  ``b = alpha`` (so ``|A|_F = b``).

  Args:
    key: PRNG key of ``Theta`` (d x d standard normal).
    d: token dimension.
    alpha: the scale, > 0.

  Returns:
    ``{'A': (d, d), 'b': ()}``.

  Reference: Boursier & Boyer (2025), Sec. 5, Eq. (9) (the balanced initialisation of Thm 5.1).
  """
  theta = jax.random.normal(key, (d, d))
  gram = theta @ theta.T
  return {"A": alpha * gram / jnp.linalg.norm(gram), "b": jnp.asarray(alpha, gram.dtype)}


def logits(keys: jax.Array, U: jax.Array, query: jax.Array) -> jax.Array:
  """Attention scores ``z_i^T U z`` of every key against its prompt's query.

  Args:
    keys: (..., L, D) tokens.
    U: (D, D) merged key-query matrix.
    query: (..., D) queries.

  Returns:
    (..., L) scores.

  Reference: Boursier & Boyer (2025), Sec. 1-2 (the scores <K x_i, Q z> with U = K^T Q; no temperature).
  """
  return jnp.einsum("...ld,...d->...l", keys, query @ U.T)


def weights(keys: jax.Array, U: jax.Array, query: jax.Array, attention: str = "softmax") -> jax.Array:
  """Attention weights: ``softmax_i(z_i^T U z)``, or ``(z_i^T U z) / L`` for linear attention.

  Args:
    keys: (..., L, D) tokens.
    U: (D, D) merged key-query matrix.
    query: (..., D) queries.
    attention: ``'softmax'`` or ``'linear'``.

  Returns:
    (..., L) weights.

  Reference: Boursier & Boyer (2025), Sec. 1-2 (softmax over the prompt's tokens, the query not among them); linear
  attention as the authors' released code normalises it (``normalize=True``: scores divided by L).
  """
  s = logits(keys, U, query)
  return jax.nn.softmax(s, axis=-1) if attention == "softmax" else s / s.shape[-1]


def operator(U: jax.Array, V: jax.Array, tokens: jax.Array, query: jax.Array) -> jax.Array:
  """The softmax attention operator on the empirical measure of ``tokens``: ``sum_i p_i V z_i``.

  Args:
    U: (D, D) merged key-query matrix ``K^T Q``.
    V: (D', D) value matrix.
    tokens: (..., L, D) tokens (the prompt's empirical measure).
    query: (..., D) queries.

  Returns:
    (..., D') outputs.

  Reference: Boursier & Boyer (2025), Sec. 1-2 (the operator ``T^{K,Q,V}[mu](z)`` at the empirical measure mu_L).
  """
  p = weights(tokens, U, query)
  return jnp.einsum("...l,...ld->...d", p, tokens) @ V.T


def predict(params: dict[str, jax.Array], batch: dict[str, jax.Array], attention: str = "softmax") -> jax.Array:
  """The regression layer's prediction ``b sum_i p_i y_i``.

  Args:
    params: ``{'A': (d, d), 'b': ()}``.
    batch: ``{'x': (B, L, d), 'y': (B, L), 'x_query': (B, d)}``.
    attention: ``'softmax'`` or ``'linear'``.

  Returns:
    (B,) predictions.

  Reference: Boursier & Boyer (2025), Sec. 5 (Eq. 7 and the parameterisation U = diag(A, 0), V = b e e^T of
  Thm 5.1).
  """
  p = weights(batch["x"], params["A"], batch["x_query"], attention)
  return params["b"] * jnp.einsum("bl,bl->b", p, batch["y"])
