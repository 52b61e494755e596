"""One-layer linear self-attention (LSA) for in-context regression, full and reduced.

Full model (default convention: ``1/n``, query not among keys/values, no residual)::

    y_hat = h^T (1/n) sum_{i<=n} (W_V v_i) (v_i^T W_K^T W_Q v_{n+1}),
    v_i = [x_i; y_i],  v_{n+1} = [x_{n+1}; 0],  W_K, W_Q, W_V in R^{(d+1)x(d+1)},  h in R^{d+1}.

Reduced model: ``w = W_V^T h``, ``M = W_K^T W_Q`` and ``y_hat = w^T G_D M v_{n+1}`` with
``G_D = (1/n) sum_{i<=n} v_i v_i^T``. ``reduce`` maps full to reduced parameters and ``lift`` maps back
(``W_K = W_V = I``, ``W_Q = M``, ``h = w``), so the two forms compute the same function.

Convention variants (digest section 2.4), as keyword arguments of ``apply`` / ``reduced_apply``:

* ``normalization``: ``'mean'`` (1/n, default), ``'sum'`` (no factor) or ``'mean_plus_one'`` (1/(n+1));
* ``include_query``: the query token is among the keys and values as well;
* ``residual``: ``y_hat = h^T (v_{n+1} + attention)``; the reduced form then carries ``r = h``.

All variants have the same optimal *prediction function*; only the raw blocks rescale.

Reference: Mahankali, Hashimoto, Ma (2023), digest sections 2.2-2.4.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

NORMALIZATIONS = ("mean", "sum", "mean_plus_one")
Params = dict[str, jax.Array]


def init(key: jax.Array, d: int, scale: float = 0.1, key_dim: int | None = None) -> Params:
  """Draws full parameters with i.i.d. N(0, scale^2) entries (all-zero is a saddle, so scale > 0).

  Args:
    key: PRNG key.
    d: covariate dimension; tokens have d + 1 entries.
    scale: standard deviation of every entry.
    key_dim: rows of W_K and W_Q (default d + 1); ``key_dim >= d`` is needed to reach ``M_11 ∝ I``.

  Returns:
    ``{'W_K': (k, d+1), 'W_Q': (k, d+1), 'W_V': (d+1, d+1), 'h': (d+1,)}``.
  """
  k = d + 1 if key_dim is None else key_dim
  k_k, k_q, k_v, k_h = jax.random.split(key, 4)
  normal = lambda kk, shape: scale * jax.random.normal(kk, shape)
  return {"W_K": normal(k_k, (k, d + 1)), "W_Q": normal(k_q, (k, d + 1)),
          "W_V": normal(k_v, (d + 1, d + 1)), "h": normal(k_h, (d + 1,))}


def tokens(prompts: dict[str, jax.Array]) -> tuple[jax.Array, jax.Array]:
  """Context tokens ``v_i = [x_i; y_i]`` of shape (B, n, d+1) and query tokens ``[x_{n+1}; 0]`` (B, d+1)."""
  context = jnp.concatenate([prompts["x"], prompts["y"][..., None]], axis=-1)
  query = jnp.concatenate([prompts["x_query"], jnp.zeros_like(prompts["x_query"][..., :1])], axis=-1)
  return context, query


def norm_factor(n: int, normalization: str) -> float:
  """The factor in front of the sum over tokens for a normalisation convention."""
  return {"mean": 1.0 / n, "sum": 1.0, "mean_plus_one": 1.0 / (n + 1)}[normalization]


def apply(params: Params, prompts: dict[str, jax.Array], *, normalization: str = "mean",
          include_query: bool = False, residual: bool = False) -> jax.Array:
  """Predictions of the full LSA, computed as attention (keys, queries, values), shape (B,)."""
  context, query = tokens(prompts)
  n = context.shape[-2]
  if include_query:
    context = jnp.concatenate([context, query[..., None, :]], axis=-2)
  keys = context @ params["W_K"].T                      # (B, n', k)
  q = query @ params["W_Q"].T                           # (B, k)
  scores = jnp.einsum("bik,bk->bi", keys, q)            # linear attention: no softmax
  values = context @ params["W_V"].T                    # (B, n', d+1)
  out = norm_factor(n, normalization) * jnp.einsum("bi,bie->be", scores, values)
  if residual:
    out = out + query
  return out @ params["h"]


def second_moment(prompts: dict[str, jax.Array], *, normalization: str = "mean",
                  include_query: bool = False) -> jax.Array:
  """Token second-moment matrix ``G_D`` (B, d+1, d+1) under a normalisation convention."""
  context, query = tokens(prompts)
  n = context.shape[-2]
  g = jnp.einsum("bni,bnj->bij", context, context)
  if include_query:
    g = g + query[:, :, None] * query[:, None, :]
  return norm_factor(n, normalization) * g


def reduce(params: Params, *, residual: bool = False) -> Params:
  """Full to reduced parameters: ``w = W_V^T h``, ``M = W_K^T W_Q`` (and ``r = h`` with a residual)."""
  out = {"w": params["W_V"].T @ params["h"], "M": params["W_K"].T @ params["W_Q"]}
  if residual:
    out["r"] = params["h"]
  return out


def lift(reduced: Params) -> Params:
  """A full parameterisation of reduced parameters: ``W_K = W_V = I``, ``W_Q = M``, ``h = w``.

  With a residual (``'r'`` present) ``h`` must equal ``r``; then ``W_V`` solves ``W_V^T r = w`` by the
  rank-one correction ``W_V = I + r (w - r)^T / |r|^2``.
  """
  w, m = reduced["w"], reduced["M"]
  eye = jnp.eye(w.shape[0], dtype=w.dtype)
  if "r" not in reduced:
    return {"W_K": eye, "W_Q": m, "W_V": eye, "h": w}
  r = reduced["r"]
  w_v = eye + jnp.outer(w - r, r).T / jnp.dot(r, r)
  return {"W_K": eye, "W_Q": m, "W_V": w_v, "h": r}


def reduced_apply(reduced: Params, prompts: dict[str, jax.Array], *, normalization: str = "mean",
                  include_query: bool = False) -> jax.Array:
  """Predictions ``w^T G_D M v_{n+1}`` (+ ``r^T v_{n+1}`` if ``'r'`` is present), shape (B,)."""
  _, query = tokens(prompts)
  g = second_moment(prompts, normalization=normalization, include_query=include_query)
  out = jnp.einsum("i,bij,jk,bk->b", reduced["w"], g, reduced["M"], query)
  if "r" in reduced:
    out = out + query @ reduced["r"]
  return out


def apply_statistics(params: Params, stats: dict[str, jax.Array], *, n: int, normalization: str = "mean",
                     include_query: bool = False, residual: bool = False) -> jax.Array:
  """Predictions from sufficient statistics (``tasks.regression.statistics``): equal to :func:`apply` (full
  parameters) or :func:`reduced_apply` (reduced) on the prompts, at O((d+1)^2) per prompt whatever n is.

  Linear attention is bilinear in the tokens: ``sum_i (W_V v_i)(v_i^T W_K^T W_Q q) = W_V G W_K^T W_Q q`` with
  ``G = sum_i v_i v_i^T`` (+ ``q q^T`` when the query is a key), so ``y_hat = h^T W_V G' W_K^T W_Q q`` with the
  normalised ``G'``; in reduced form ``w^T G' M q``.
  """
  x_q = stats["x_query"]
  query = jnp.concatenate([x_q, jnp.zeros_like(x_q[..., :1])], axis=-1)
  g = stats["gram"]
  if include_query:
    g = g + query[:, :, None] * query[:, None, :]
  g = norm_factor(n, normalization) * g
  if "w" in params:
    out = jnp.einsum("i,bij,jk,bk->b", params["w"], g, params["M"], query)
    return out + query @ params["r"] if "r" in params else out
  hv = params["W_V"].T @ params["h"]
  kq = params["W_K"].T @ params["W_Q"]
  out = jnp.einsum("i,bij,jk,bk->b", hv, g, kq, query)
  return out + query @ params["h"] if residual else out
