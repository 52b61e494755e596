"""Multi-head linear attention of Zhang et al. (2025): merged key-query (ATTN_M) and separate rank-R key and query
(ATTN_S), in the reduced form the paper analyses and literally on tokens.

Tokens are the columns of ``X = [[x_1 ... x_n x_q], [y_1 ... y_n 0]]`` ((d+1) x (n+1)); the model is (Eq. 3)::

    ATTN(X) = X + sum_i (1/n) W^V_i X X^T W^KQ_i X,     y_hat = ATTN(X)[d+1, n+1],

with ``W^KQ_i = W^K_i^T W^Q_i`` (ATTN_S: ``W^K_i, W^Q_i`` of R rows each). Keys and values run over all n+1 columns;
the readout (the label slot of the query) is fixed. The blocks that can reach ``y_hat`` are the value row
``[v-vector_i, v_i]`` and the key-query columns ``[U_i; u_i^T]``; the paper starts the vector parts at 0, where they
stay (Zhang et al. 2025, Secs. 3-4, Eqs. M and S), and then::

    ATTN_M: y_hat = sum_i v_i beta^T U_i x_q,              params {'v': (H,), 'U': (H, d, d)}
    ATTN_S: y_hat = sum_i v_i sum_r (beta^T k_ir)(q_ir^T x_q),  params {'v': (H,), 'k': (H, R, d), 'q': (H, R, d)}

both ``beta^T Gamma x_q`` with the effective matrix ``Gamma`` (:func:`gamma`). Training runs on the reduced
parameters; :func:`apply_tokens` builds the full ``W^V_i``, ``W^KQ_i`` and evaluates Eq. 3 literally, so that the
reduction is a check, not an assumption. ATTN_M is a two-layer linear network on ``z = vec(beta x_q^T)`` (R1):
:func:`to_mlp` maps its parameters, :func:`mlp_apply` evaluates that network.

Reference: Zhang, Singh, Latham, Saxe (2025), Eqs. 1, 3, 4, M, S, 6-7.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

KINDS = ("separate", "merged")
INITS = ("random", "aligned")


@dataclasses.dataclass(frozen=True)
class HeadsSpec:
  """Shape and initialisation of a multi-head linear attention.

  Attributes:
    d: dimension.
    n: context examples.
    heads: H.
    kind: ``'separate'`` (ATTN_S) or ``'merged'`` (ATTN_M).
    rank: R, rows of each head's key and query (ATTN_S only).
    init_scale: s: ATTN_M: v, U entries N(0, s^2); ATTN_S: v ~ N(0, s^2), k, q entries N(0, s^2/d), so that
      |v| ~ ||k|| ~ ||q|| ~ s (the paper's small initialisation, Secs. 3-4; the per-entry scales are ours).
    init_mode: ``'random'`` (as above) or ``'aligned'`` (ATTN_M only): the aligned, balanced initialisation of
      norm s under which Eq. 10 is the exact time course, ``v = s h``, ``U_i = s h_i I / sqrt(d)`` with ``h`` a
      random unit vector in R^H (so ``Gamma = s^2 I / sqrt(d)``).
  """

  d: int
  n: int
  heads: int
  kind: str = "separate"
  rank: int = 1
  init_scale: float = 1e-2
  init_mode: str = "random"


def init(key: jax.Array, spec: HeadsSpec) -> dict[str, jax.Array]:
  """Small initialisation (:class:`HeadsSpec`: random, or ATTN_M's aligned and balanced one).

  Args:
    key: PRNG key.
    spec: the model.

  Returns:
    The reduced parameters.

  Reference: Zhang, Singh, Latham, Saxe (2025), Secs. 3-4 (small initialisation) and Eq. 10 (the aligned balanced
    initialisation under which it is exact).
  """
  kv, ka, kb = jax.random.split(key, 3)
  s, d, h = spec.init_scale, spec.d, spec.heads
  v = s * jax.random.normal(kv, (h,))
  if spec.init_mode == "aligned":
    unit = v / jnp.linalg.norm(v)
    return {"v": s * unit, "U": (s / np.sqrt(d)) * unit[:, None, None] * jnp.eye(d)[None]}
  if spec.kind == "merged":
    return {"v": v, "U": s * jax.random.normal(ka, (h, d, d))}
  scale = s / np.sqrt(d)
  return {"v": v, "k": scale * jax.random.normal(ka, (h, spec.rank, d)),
          "q": scale * jax.random.normal(kb, (h, spec.rank, d))}


def gamma(params: dict[str, jax.Array]) -> jax.Array:
  """The effective matrix: ``sum_i v_i U_i`` (ATTN_M) or ``sum_i v_i sum_r k_ir q_ir^T`` (ATTN_S).

  Args:
    params: reduced parameters (ATTN_M or ATTN_S).

  Returns:
    Gamma (d, d).

  Reference: Zhang, Singh, Latham, Saxe (2025), Eqs. M and S (y_hat = beta^T Gamma x_q).
  """
  if "U" in params:
    return jnp.einsum("h,hij->ij", params["v"], params["U"])
  return jnp.einsum("h,hri,hrj->ij", params["v"], params["k"], params["q"])


def context_statistic(prompts: dict[str, jax.Array]) -> jax.Array:
  """``beta = (1/n) sum_i y_i x_i`` per prompt (the query excluded), (B, d): the paper's in-context input-output
  correlation (Eq. 4), through which both parameterisations read the context.

  Args:
    prompts: raw prompts.

  Returns:
    beta (B, d).

  Reference: Zhang, Singh, Latham, Saxe (2025), Eq. 4.
  """
  n = prompts["x"].shape[-2]
  return jnp.einsum("bnd,bn->bd", prompts["x"], prompts["y"]) / n


def apply(params: dict[str, jax.Array], prompts: dict[str, jax.Array]) -> jax.Array:
  """The reduced model per prompt, head by head (Eq. M: ``sum_i v_i beta^T U_i x_q``; Eq. S:
  ``sum_i v_i sum_r (beta^T k_ir)(q_ir^T x_q)``), not through Gamma.

  Args:
    params: reduced parameters.
    prompts: raw prompts.

  Returns:
    Predictions (B,).

  Reference: Zhang, Singh, Latham, Saxe (2025), Eqs. M, S and 12.
  """
  beta, xq = context_statistic(prompts), prompts["x_query"]
  if "U" in params:
    return jnp.einsum("bi,hij,bj->bh", beta, params["U"], xq) @ params["v"]
  per_head = jnp.sum(jnp.einsum("bi,hri->bhr", beta, params["k"]) * jnp.einsum("bj,hrj->bhr", xq, params["q"]), -1)
  return per_head @ params["v"]


def full_weights(params: dict[str, jax.Array]) -> tuple[jax.Array, jax.Array]:
  """Per head the full ``W^V_i`` and ``W^KQ_i`` ((H, d+1, d+1) each) of the reduced parameters: value row
  ``[0, v_i]``, key-query columns ``[U_i; 0]`` (ATTN_S: ``W^K_i`` rows ``[k_ir, 0]``, ``W^Q_i`` rows ``[q_ir, 0]``),
  every other entry 0.

  Args:
    params: reduced parameters.

  Returns:
    ``(W^V, W^KQ)``, each (H, d+1, d+1).

  Reference: Zhang, Singh, Latham, Saxe (2025), Secs. 3-4 (the block forms of W^V_i and W^KQ_i; the vector
    parts start, and stay, at 0).
  """
  v = params["v"]
  h = v.shape[0]
  if "U" in params:
    d = params["U"].shape[-1]
    kq = jnp.zeros((h, d + 1, d + 1)).at[:, :d, :d].set(params["U"])
  else:
    d = params["k"].shape[-1]
    pad = lambda a: jnp.concatenate([a, jnp.zeros(a.shape[:-1] + (1,))], axis=-1)
    kq = jnp.einsum("hri,hrj->hij", pad(params["k"]), pad(params["q"]))
  wv = jnp.zeros((h, d + 1, d + 1)).at[:, d, d].set(v)
  return wv, kq


def tokens(prompts: dict[str, jax.Array]) -> jax.Array:
  """The token matrices X (B, d+1, n+1) of Eq. 1 (query last, its label slot 0).

  Args:
    prompts: raw prompts.

  Returns:
    X (B, d+1, n+1).

  Reference: Zhang, Singh, Latham, Saxe (2025), Eq. 1.
  """
  ctx = jnp.concatenate([prompts["x"], prompts["y"][..., None]], axis=-1)            # (B, n, d+1)
  query = jnp.concatenate([prompts["x_query"], jnp.zeros_like(prompts["y_query"])[:, None]], axis=-1)
  return jnp.swapaxes(jnp.concatenate([ctx, query[:, None]], axis=1), 1, 2)


def apply_tokens(params: dict[str, jax.Array], prompts: dict[str, jax.Array]) -> jax.Array:
  """Eq. 3 on tokens with the full per-head weights, read at the query's label slot, (B,).

  Args:
    params: reduced parameters.
    prompts: raw prompts.

  Returns:
    Predictions (B,).

  Reference: Zhang, Singh, Latham, Saxe (2025), Eq. 3 (linear attention, rho = N).
  """
  x = tokens(prompts)
  n = x.shape[-1] - 1
  wv, kq = full_weights(params)
  gram = jnp.einsum("bip,bjp->bij", x, x)                                   # X X^T
  out = x + jnp.einsum("hij,bjk,hkl,blp->bip", wv, gram, kq, x) / n
  return out[:, -1, -1]


def to_mlp(params: dict[str, jax.Array]) -> dict[str, jax.Array]:
  """ATTN_M -> the two-layer linear network on ``z`` (R1): ``w2 = v``, row i of ``W1`` = ``vec(U_i)``.

  Args:
    params: ATTN_M parameters.

  Returns:
    ``{'w2', 'W1'}``.

  Reference: Zhang, Singh, Latham, Saxe (2025), Eqs. 6-7.
  """
  return {"w2": params["v"], "W1": params["U"].reshape(params["U"].shape[0], -1)}


def mlp_apply(params: dict[str, jax.Array], z: jax.Array) -> jax.Array:
  """``w2^T W1 z`` per feature row, (B,).

  Args:
    params: ``{'w2': (H,), 'W1': (H, d^2)}``.
    z: features (B, d^2).

  Returns:
    Predictions (B,).

  Reference: Zhang, Singh, Latham, Saxe (2025), Eqs. 6-7 (MLP(z) = w_2^T W_1 z).
  """
  return (z @ params["W1"].T) @ params["w2"]
