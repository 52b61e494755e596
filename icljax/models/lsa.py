"""One-layer linear self-attention (LSA) for in-context regression, full and reduced.

Full model (default convention: ``1/n``, query not among keys/values, no residual)::

    y_hat = h^T (1/n) sum_{i<=n} (W_V v_i) (v_i^T W_K^T W_Q v_{n+1}),
    v_i = [x_i; y_i],  v_{n+1} = [x_{n+1}; 0],  W_K, W_Q, W_V in R^{(d+1)x(d+1)},  h in R^{d+1}.

Reduced model: ``w = W_V^T h``, ``M = W_K^T W_Q`` and ``y_hat = w^T G_D M v_{n+1}`` with
``G_D = (1/n) sum_{i<=n} v_i v_i^T``. ``reduce`` maps full to reduced parameters and ``lift`` maps back
(``W_K = W_V = I``, ``W_Q = M``, ``h = w``), so the two forms compute the same function.

Convention variants (the paper's normalisation, residual and query convention could not be read; docs page "lsa",
section "Setting"), as fields of :class:`LsaSpec`:

* ``normalization``: ``'mean'`` (1/n, default), ``'sum'`` (no factor) or ``'mean_plus_one'`` (1/(n+1));
* ``include_query``: the query token is among the keys and values as well;
* ``residual``: ``y_hat = h^T (v_{n+1} + attention)``; the reduced form then carries ``r = h``.

All variants have the same optimal *prediction function*; only the raw blocks rescale.

Reference: Mahankali, Hashimoto, Ma (2023), the one-layer LSA with parameters (W_K, W_Q, W_V, h) of Theorem 1;
docs page "lsa", section "Setting".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import jax
import jax.numpy as jnp

from icljax import validation

NORMALIZATIONS = ("mean", "sum", "mean_plus_one")
PARAMETERIZATIONS = ("full", "reduced")
Params = dict[str, jax.Array]


@dataclasses.dataclass(frozen=True)
class LsaSpec:
  """A one-layer LSA: dimensions, convention and initialisation.

  Attributes:
    d: covariate dimension; tokens have d + 1 entries.
    n: context length (the normalisation of the statistics form and of ``B`` needs it).
    normalization: ``'mean'`` (1/n), ``'sum'`` or ``'mean_plus_one'`` (1/(n+1)).
    include_query: the query token is among the keys and values.
    residual: ``y_hat = h^T (v_{n+1} + attention)``.
    parameterization: ``'full'`` (W_K, W_Q, W_V, h) or ``'reduced'`` (w, M).
    init_scale: standard deviation of the N(0, s^2) initialisation (> 0: all-zero is a saddle), for the 1/n
      convention; otherwise it is multiplied by (n x factor)^(-1/4) (0.47 for 'sum' at n = 20), so the initial
      predictions have the same scale in every convention (with 'sum' at the 1/n scale the exact estimator's
      L-BFGS started 20x too large and stalled at loss 4.49; docs page "lsa").
    key_dim: rows of W_K and W_Q (default d + 1; ``key_dim >= d`` is needed to reach ``M_11 ∝ I``).

  Reference: Mahankali et al. (2023), Theorem 1 (the parameters); docs page "lsa", section "Setting" (conventions).
  """

  d: int
  n: int
  normalization: str = "mean"
  include_query: bool = False
  residual: bool = False
  parameterization: str = "full"
  init_scale: float = 0.1
  key_dim: int | None = None

  def __post_init__(self):
    validation.integer("d", self.d, low=1)
    validation.integer("n", self.n, low=1)
    validation.choice("normalization", self.normalization, NORMALIZATIONS)
    validation.choice("parameterization", self.parameterization, PARAMETERIZATIONS)
    validation.real("init_scale", self.init_scale, low=0.0, low_open=True)


def init(key: jax.Array, spec: LsaSpec) -> Params:
  """Draws parameters with i.i.d. N(0, init_scale^2) entries, full or reduced as the spec says.

  Args:
    key: PRNG key.
    spec: the model.

  Returns:
    Full ``{'W_K': (k, d+1), 'W_Q': (k, d+1), 'W_V': (d+1, d+1), 'h': (d+1,)}``, or their reduced form
    (:func:`reduce`) when ``spec.parameterization == 'reduced'``.

  Reference: docs page "lsa", section "Setting" (initialisation: all-zero parameters are a stationary point).
  """
  d = spec.d
  k = d + 1 if spec.key_dim is None else spec.key_dim
  k_k, k_q, k_v, k_h = jax.random.split(key, 4)
  scale = spec.init_scale if spec.normalization == "mean" else spec.init_scale * (
      norm_factor(spec.n, spec.normalization) * spec.n) ** -0.25
  normal = lambda kk, shape: scale * jax.random.normal(kk, shape)
  full = {"W_K": normal(k_k, (k, d + 1)), "W_Q": normal(k_q, (k, d + 1)),
          "W_V": normal(k_v, (d + 1, d + 1)), "h": normal(k_h, (d + 1,))}
  return full if spec.parameterization == "full" else reduce(full, spec)


def tokens(prompts: Mapping[str, jax.Array]) -> tuple[jax.Array, jax.Array]:
  """Context tokens and query token of raw prompts.

  Args:
    prompts: ``x (B, n, d)``, ``y (B, n)``, ``x_query (B, d)``.

  Returns:
    ``v_i = [x_i; y_i]`` of shape (B, n, d+1) and ``[x_{n+1}; 0]`` of shape (B, d+1).

  Reference: Mahankali et al. (2023), the tokens of Theorem 1 (the query token's label slot is 0).
  """
  context = jnp.concatenate([prompts["x"], prompts["y"][..., None]], axis=-1)
  query = jnp.concatenate([prompts["x_query"], jnp.zeros_like(prompts["x_query"][..., :1])], axis=-1)
  return context, query


def norm_factor(n: int, normalization: str) -> float:
  """The factor in front of the sum over tokens for a normalisation convention.

  Args:
    n: context length.
    normalization: ``'mean'``, ``'sum'`` or ``'mean_plus_one'``.

  Returns:
    1/n, 1 or 1/(n+1).

  Reference: docs page "lsa", section "Setting" (conventions).
  """
  return {"mean": 1.0 / n, "sum": 1.0, "mean_plus_one": 1.0 / (n + 1)}[normalization]


def apply(params: Params, batch: Mapping[str, jax.Array], spec: LsaSpec) -> jax.Array:
  """Predictions (B,) of full or reduced parameters, on raw prompts or on their sufficient statistics.

  Raw prompts (``x``, ``y``, ``x_query``) with full parameters go through attention (keys, queries, values);
  reduced parameters compute ``w^T G_D M v_{n+1}`` (+ ``r^T v_{n+1}`` with a residual). Statistics
  (``gram``, ``x_query``; ``tasks.regression_statistics``) use the bilinearity of linear attention:
  ``y_hat = h^T W_V G' W_K^T W_Q q`` with the normalised Gram matrix ``G'`` (+ ``q q^T`` when the query is a
  key), O((d+1)^2) per prompt whatever n is. All forms compute the same function (tested against a NumPy loop).

  Args:
    params: full (``W_K, W_Q, W_V, h``) or reduced (``w, M`` [, ``r``]) parameters.
    batch: raw prompts or statistics.
    spec: the model (convention and context length).

  Returns:
    Predictions of shape (B,).

  Reference: Mahankali, Hashimoto, Ma (2023), the one-layer LSA of Theorem 1; docs page "lsa", section "Setting".
  """
  if "gram" in batch:
    return _apply_statistics(params, batch, spec)
  if "M" in params:
    return _reduced_apply(params, batch, spec)
  context, query = tokens(batch)
  if spec.include_query:
    context = jnp.concatenate([context, query[..., None, :]], axis=-2)
  keys = context @ params["W_K"].T                      # (B, n', k)
  q = query @ params["W_Q"].T                           # (B, k)
  scores = jnp.einsum("bik,bk->bi", keys, q)            # linear attention: no softmax
  values = context @ params["W_V"].T                    # (B, n', d+1)
  out = norm_factor(spec.n, spec.normalization) * jnp.einsum("bi,bie->be", scores, values)
  if spec.residual:
    out = out + query
  return out @ params["h"]


def second_moment(prompts: Mapping[str, jax.Array], spec: LsaSpec) -> jax.Array:
  """Token second-moment matrix ``G_D`` (B, d+1, d+1) under the spec's normalisation convention.

  Args:
    prompts: raw prompts.
    spec: the model.

  Returns:
    ``c sum_i v_i v_i^T`` (+ ``c q q^T`` when the query is a key), c the normalisation factor.

  Reference: docs page "lsa", section "Setting" (the reduced model).
  """
  context, query = tokens(prompts)
  g = jnp.einsum("bni,bnj->bij", context, context)
  if spec.include_query:
    g = g + query[:, :, None] * query[:, None, :]
  return norm_factor(spec.n, spec.normalization) * g


def reduce(params: Params, spec: LsaSpec) -> Params:
  """Full to reduced parameters: ``w = W_V^T h``, ``M = W_K^T W_Q`` (and ``r = h`` with a residual).

  Args:
    params: full parameters.
    spec: the model.

  Returns:
    Reduced parameters computing the same function.

  Reference: Mahankali et al. (2023), the products of Theorem 1's parameters that the prediction depends on; docs
  page "lsa", section "Setting".
  """
  out = {"w": params["W_V"].T @ params["h"], "M": params["W_K"].T @ params["W_Q"]}
  if spec.residual:
    out["r"] = params["h"]
  return out


def lift(reduced: Params) -> Params:
  """A full parameterisation of reduced parameters: ``W_K = W_V = I``, ``W_Q = M``, ``h = w``.

  With a residual (``'r'`` present) ``h`` must equal ``r``; then ``W_V`` solves ``W_V^T r = w`` by the
  rank-one correction ``W_V = I + r (w - r)^T / |r|^2``.

  Args:
    reduced: reduced parameters.

  Returns:
    Full parameters computing the same function.

  Reference: docs page "lsa", section "Setting" (the reduced model).
  """
  w, m = reduced["w"], reduced["M"]
  eye = jnp.eye(w.shape[0], dtype=w.dtype)
  if "r" not in reduced:
    return {"W_K": eye, "W_Q": m, "W_V": eye, "h": w}
  r = reduced["r"]
  w_v = eye + jnp.outer(w - r, r).T / jnp.dot(r, r)
  return {"W_K": eye, "W_Q": m, "W_V": w_v, "h": r}


def _reduced_apply(reduced: Params, prompts: Mapping[str, jax.Array], spec: LsaSpec) -> jax.Array:
  _, query = tokens(prompts)
  out = jnp.einsum("i,bij,jk,bk->b", reduced["w"], second_moment(prompts, spec), reduced["M"], query)
  if "r" in reduced:
    out = out + query @ reduced["r"]
  return out


def _apply_statistics(params: Params, stats: Mapping[str, jax.Array], spec: LsaSpec) -> jax.Array:
  x_q = stats["x_query"]
  query = jnp.concatenate([x_q, jnp.zeros_like(x_q[..., :1])], axis=-1)
  g = stats["gram"]
  if spec.include_query:
    g = g + query[:, :, None] * query[:, None, :]
  g = norm_factor(spec.n, spec.normalization) * g
  if "w" in params:
    out = jnp.einsum("i,bij,jk,bk->b", params["w"], g, params["M"], query)
    return out + query @ params["r"] if "r" in params else out
  hv = params["W_V"].T @ params["h"]
  kq = params["W_K"].T @ params["W_Q"]
  out = jnp.einsum("i,bij,jk,bk->b", hv, g, kq, query)
  return out + query @ params["h"] if spec.residual else out
