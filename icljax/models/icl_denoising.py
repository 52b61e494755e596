"""The one-layer denoisers of Smart, Bietti & Sengupta (2025): linear and softmax attention read at the query.

With ``X = (X_1..X_L)`` the clean context (the query is excluded from keys and values, App. D.2) and ``x`` the
corrupted query, both with full matrices ``theta = (W_PV, W_KQ)`` in R^{n x n} x R^{n x n}, no residual, no
temperature, no positional encoding (eqs. (11), (12)):

    linear : F_Lin(E; theta) = (1/L) W_PV X X^T W_KQ x
    softmax: F(E; theta)     = W_PV X softmax(X^T W_KQ x)          (softmax over the L context tokens)

Tokens are rows here (``context (B, L, n)``), so ``W x`` reads ``x @ W.T``. Initialisation (Fig. 3): every entry of
both matrices i.i.d. uniform on [-1/sqrt(n), 1/sqrt(n)].

Reference: Smart, Bietti & Sengupta (2025), arXiv 2502.05164, eqs. (11)-(12), App. D.2, Fig. 3's caption.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

KINDS = ("linear", "softmax")


def init(key: jax.Array, n: int) -> dict[str, jax.Array]:
  """The paper's initialisation of one denoiser.

  Args:
    key: PRNG key.
    n: ambient dimension.

  Returns:
    ``{'W_PV': (n, n), 'W_KQ': (n, n)}``, entries i.i.d. U[-1/sqrt(n), 1/sqrt(n)] (float32).

  Reference: Smart, Bietti & Sengupta (2025), Fig. 3's caption.
  """
  k_pv, k_kq = jax.random.split(key)
  bound = 1.0 / jnp.sqrt(n)
  draw = lambda k: jax.random.uniform(k, (n, n), jnp.float32, -bound, bound)
  return {"W_PV": draw(k_pv), "W_KQ": draw(k_kq)}


def scores(params: dict[str, jax.Array], context: jax.Array, query: jax.Array) -> jax.Array:
  """Attention scores ``X_t^T W_KQ x`` of every context token.

  Args:
    params: ``W_PV``, ``W_KQ``.
    context: clean tokens (B, L, n).
    query: corrupted queries (B, n).

  Returns:
    ``(B, L)``.

  Reference: Smart, Bietti & Sengupta (2025), eqs. (11)-(12).
  """
  return jnp.einsum("bln,bn->bl", context, query @ params["W_KQ"].T)


def linear(params: dict[str, jax.Array], context: jax.Array, query: jax.Array) -> jax.Array:
  """Linear attention, eq. (11): ``(1/L) W_PV X X^T W_KQ x``.

  Args:
    params: ``W_PV``, ``W_KQ``.
    context: clean tokens (B, L, n).
    query: corrupted queries (B, n).

  Returns:
    Denoised queries (B, n).

  Reference: Smart, Bietti & Sengupta (2025), eq. (11), App. D.2 (the query masked out).
  """
  pooled = jnp.einsum("bl,bln->bn", scores(params, context, query), context) / context.shape[1]
  return pooled @ params["W_PV"].T


def softmax(params: dict[str, jax.Array], context: jax.Array, query: jax.Array) -> jax.Array:
  """Softmax attention, eq. (12): ``W_PV X softmax(X^T W_KQ x)``, the softmax over the L context tokens.

  Args:
    params: ``W_PV``, ``W_KQ``.
    context: clean tokens (B, L, n).
    query: corrupted queries (B, n).

  Returns:
    Denoised queries (B, n).

  Reference: Smart, Bietti & Sengupta (2025), eq. (12), App. D.2 (the query masked out).
  """
  weights = jax.nn.softmax(scores(params, context, query), axis=-1)
  return jnp.einsum("bl,bln->bn", weights, context) @ params["W_PV"].T


def apply(params: dict[str, jax.Array], batch: dict[str, jax.Array], kind: str) -> jax.Array:
  """One denoiser on a batch of prompts.

  Args:
    params: ``W_PV``, ``W_KQ``.
    batch: ``context (B, L, n)`` and ``query (B, n)``.
    kind: ``'linear'`` or ``'softmax'``.

  Returns:
    Denoised queries (B, n).

  Reference: Smart, Bietti & Sengupta (2025), eqs. (11)-(12).
  """
  fn = {"linear": linear, "softmax": softmax}[kind]
  return fn(params, batch["context"], batch["query"])


def squared_error(params: dict[str, jax.Array], batch: dict[str, jax.Array], kind: str) -> jax.Array:
  """Per-prompt total squared error ``||F(E; theta) - X_{L+1}||^2`` (the summand of eq. (9)).

  Args:
    params: ``W_PV``, ``W_KQ``.
    batch: prompts with ``target (B, n)``.
    kind: ``'linear'`` or ``'softmax'``.

  Returns:
    ``(B,)``.

  Reference: Smart, Bietti & Sengupta (2025), eq. (9).
  """
  return jnp.sum((apply(params, batch, kind) - batch["target"]) ** 2, axis=-1)


def scaled_identity(alpha: float, beta: float, n: int) -> dict[str, jax.Array]:
  """The scalar reduction ``W_PV = alpha I``, ``W_KQ = beta I`` (Section 3).

  Args:
    alpha: value scale.
    beta: key-query scale (inverse temperature of the softmax).
    n: ambient dimension.

  Returns:
    The parameters.

  Reference: Smart, Bietti & Sengupta (2025), Sections 3.1-3.2 and 4.
  """
  eye = jnp.eye(n, dtype=jnp.float32)
  return {"W_PV": alpha * eye, "W_KQ": beta * eye}
