"""One-layer linear attention that writes its own chain of thought (Huang, Wang, Lee 2025, section 3).

Prompt ``(x_1..x_n, y_1..y_n)`` with no query; the model generates weight vectors. Column layout (tokens are
columns of ``Z``, width ``D = 2d + 2``: x-slot d | y-slot 1 | w-slot d | indicator 1):

    Z_0 = [[x_1 .. x_n, 0], [y_1 .. y_n, 0], [0 .. 0, w_0 = 0], [0 .. 0, 1]]
    f(Z) = Z + V Z (Z^T W Z) / n                     (every column a key, 1/n with n the number of examples)
    z_{i+1} = f(Z_i)[:, -1],  Z_{i+1} = [Z_i, z_{i+1}],  w_hat_{i+1} = w-slot of z_{i+1}

Only the last column of ``f`` is ever read, and it is ``z_i + V (sum_c t_c t_c^T) W z_i / n`` over the columns
``t_c`` of ``Z_i``: the key Gram matrix ``M_i = M_data + sum_{j<=i} z_j z_j^T`` (D x D) is all a step needs
(:func:`generate`, :func:`teacher_forced`: O((n + k) D^2) per prompt). :func:`literal` is the equation above on a
preallocated (n + 1 + k)-column buffer (zero columns add nothing), for the identity check.

Parameterisations: ``sparse`` (Theorem 3.2's pattern: only ``V_31`` (w-slot rows, x-slot columns) and ``W_13``
(x-slot rows, w-slot columns) trained, ``W_24 = -1`` fixed, every other entry 0), so that
``w_hat_{i+1} = w_hat_i + V_31 (S W_13 w_hat_i - g)`` with ``S = X^T X / n``, ``g = X^T y / n``; ``dense`` (full
``V``, ``W``).

Reference: Huang, Wang, Lee (2025), arXiv 2502.21212, section 3 (embedding and model as restated by Javanmard et
al., arXiv 2603.01293, eqs. 3.1-3.3), Theorem 3.2 and Assumption 4.1.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

PARAMETERIZATIONS = ("sparse", "dense")


@dataclasses.dataclass(frozen=True)
class CotSpec:
  """Static structure of the chain-of-thought model.

  Attributes:
    d: dimension of x and w.
    n: examples per prompt (the 1/n normalisation).
    parameterization: ``'sparse'`` (V_31, W_13; W_24 = -1) or ``'dense'`` (full V, W).
    init_scale: sparse: ``V_31 = -s I``, ``W_13 = s I`` (Assumption 4.1: equal spectra up to sign);
      dense: entries N(0, s^2).

  Reference: Huang, Wang, Lee (2025), arXiv 2502.21212, section 3 (the model) and Assumption 4.1 (the
  initialisation).
  """

  d: int
  n: int
  parameterization: str = "sparse"
  init_scale: float = 0.1

  @property
  def width(self) -> int:
    """Token width D = 2d + 2.

    Returns:
      2d + 2: the x-slot (d), the y-slot (1), the w-slot (d) and the indicator (1).

    Reference: Huang et al. (2025) section 3, the embedding Z_0.
    """
    return 2 * self.d + 2


def slots(d: int) -> dict[str, slice]:
  """The token's blocks.

  Args:
    d: dimension.

  Returns:
    Slices of ``x`` (d), ``y`` (1), ``w`` (d) and ``one`` (1) in a token of width 2d + 2.

  Reference: Huang et al. (2025) section 3, the embedding Z_0.
  """
  return {"x": slice(0, d), "y": slice(d, d + 1), "w": slice(d + 1, 2 * d + 1), "one": slice(2 * d + 1, 2 * d + 2)}


def init(key: jax.Array, spec: CotSpec) -> dict[str, jax.Array]:
  """Initial parameters.

  Args:
    key: PRNG key (dense only).
    spec: the model.

  Returns:
    ``{'V31', 'W13'}`` (d x d each) or ``{'V', 'W'}`` (D x D each).

  Reference: Huang et al. (2025) Assumption 4.1 (sparse: V_31(0) and W_13(0) with equal eigenvalues up to sign);
  the dense initialisation is ours (docs page "lsa_chain_of_thought", section "Setting").
  """
  s, d, width = spec.init_scale, spec.d, spec.width
  if spec.parameterization == "sparse":
    return {"V31": -s * jnp.eye(d), "W13": s * jnp.eye(d)}
  kv, kw = jax.random.split(key)
  return {"V": s * jax.random.normal(kv, (width, width)), "W": s * jax.random.normal(kw, (width, width))}


def full(params: dict[str, jax.Array], spec: CotSpec) -> tuple[jax.Array, jax.Array]:
  """The (D x D) ``V`` and ``W`` of either parameterisation (sparse: Theorem 3.2's block pattern).

  Args:
    params: the model's parameters.
    spec: the model.

  Returns:
    ``(V, W)``.

  Reference: Huang et al. (2025) Theorem 3.2's block pattern (Lemma C.2: gradient flow keeps it).
  """
  if spec.parameterization == "dense":
    return params["V"], params["W"]
  sl, width = slots(spec.d), spec.width
  v = jnp.zeros((width, width), params["V31"].dtype).at[sl["w"], sl["x"]].set(params["V31"])
  w = jnp.zeros((width, width), params["W13"].dtype).at[sl["x"], sl["w"]].set(params["W13"])
  return v, w.at[spec.d, 2 * spec.d + 1].set(-1.0)


def data_tokens(prompts: dict[str, jax.Array], spec: CotSpec) -> jax.Array:
  """The n example columns as rows.

  Args:
    prompts: ``x (B, n, d)``, ``y (B, n)``.
    spec: the model.

  Returns:
    (B, n, D) with rows ``(x_j, y_j, 0, 0)``.

  Reference: Huang et al. (2025) section 3, the embedding Z_0.
  """
  x, y = prompts["x"], prompts["y"]
  pad = jnp.zeros(x.shape[:2] + (spec.d + 1,), x.dtype)
  return jnp.concatenate([x, y[..., None], pad], axis=-1)


def token(w: jax.Array, spec: CotSpec) -> jax.Array:
  """Chain-of-thought columns.

  Args:
    w: weight vectors (..., d).
    spec: the model.

  Returns:
    (..., D): ``(0, 0, w, 1)`` for each w.

  Reference: Huang et al. (2025) section 3 (the chain-of-thought columns and the targets (0, 0, w_{i+1}, 1)).
  """
  zeros = jnp.zeros(w.shape[:-1] + (spec.d + 1,), w.dtype)
  return jnp.concatenate([zeros, w, jnp.ones(w.shape[:-1] + (1,), w.dtype)], axis=-1)


def generate(params: dict[str, jax.Array], prompts: dict[str, jax.Array], k: int, spec: CotSpec) -> jax.Array:
  """Autoregressive generation from ``Z_0`` through the key Gram matrix (see the module docstring).

  Args:
    params: the model's parameters.
    prompts: ``x (B, n, d)``, ``y (B, n)``.
    k: steps to generate.
    spec: the model.

  Returns:
    The generated columns ``z_1 .. z_k``, (B, k, D); their w-slot is ``w_hat_i``.

  Reference: Huang et al. (2025) section 3 (autoregressive generation, f(Z) = Z + V Z (Z^T W Z)/n); the Gram-matrix
  form is derived in this module's docstring.
  """
  v, w = full(params, spec)
  t = data_tokens(prompts, spec)
  z0 = token(jnp.zeros(t.shape[:1] + (spec.d,), t.dtype), spec)
  gram = jnp.einsum("bci,bcj->bij", t, t) + jnp.einsum("bi,bj->bij", z0, z0)

  def step(carry, _):
    gram, z = carry
    out = z + jnp.einsum("ij,bjk,kl,bl->bi", v, gram, w, z) / spec.n
    return (gram + jnp.einsum("bi,bj->bij", out, out), out), out

  _, outs = jax.lax.scan(step, (gram, z0), None, length=k)
  return jnp.swapaxes(outs, 0, 1)


def teacher_forced(params: dict[str, jax.Array], prompts: dict[str, jax.Array], w_in: jax.Array,
                   spec: CotSpec) -> jax.Array:
  """Outputs ``f(Z_i^*)[:, -1]`` for i = 0 .. k-1, where ``Z_i^*`` holds the given ``w_0 .. w_i`` as its CoT columns.

  Args:
    params: the model's parameters.
    prompts: ``x (B, n, d)``, ``y (B, n)``.
    w_in: (B, k, d) the input chain ``w_0 .. w_{k-1}`` (ground-truth GD iterates in training).
    spec: the model.

  Returns:
    (B, k, D) outputs; step i sees the data columns and ``z_0 .. z_i`` (a causal sum over the chain).

  Reference: Huang et al. (2025) section 3 (the teacher-forced CoT loss reads f(Z_i^*)[:, -1]).
  """
  v, w = full(params, spec)
  t, z = data_tokens(prompts, spec), token(w_in, spec)
  wz = jnp.einsum("kl,bil->bik", w, z)                                     # W z_i
  data_part = jnp.einsum("bcj,bck,bik->bij", t, t, wz)                      # M_data W z_i
  k = z.shape[1]
  causal = jnp.tril(jnp.ones((k, k), z.dtype))
  chain_part = jnp.einsum("ij,bjm,bjl,bil->bim", causal, z, z, wz)         # sum_{j<=i} z_j (z_j . W z_i)
  return z + jnp.einsum("ml,bil->bim", v, data_part + chain_part) / spec.n


def literal(params: dict[str, jax.Array], prompts: dict[str, jax.Array], k: int, spec: CotSpec) -> jax.Array:
  """Generation by the equation itself, ``f(Z) = Z + V Z (Z^T W Z) / n`` on the whole token matrix, with the
  generated column appended (a preallocated buffer: unused columns are zero and add nothing). O(k (n + k)^2 D).

  Args:
    params: the model's parameters.
    prompts: ``x (B, n, d)``, ``y (B, n)``.
    k: steps to generate.
    spec: the model.

  Returns:
    (B, k, D), equal to :func:`generate` to float rounding.

  Reference: Huang et al. (2025) section 3, the model's equation as written; docs page "lsa_chain_of_thought",
  section "What is checked and why" (entry literal).
  """
  v, w = full(params, spec)
  t = data_tokens(prompts, spec)
  b, n = t.shape[:2]
  buf = jnp.zeros((b, n + 1 + k, spec.width), t.dtype).at[:, :n].set(t)
  buf = buf.at[:, n].set(token(jnp.zeros((b, spec.d), t.dtype), spec))

  def step(buf, i):
    zc = jnp.swapaxes(buf, 1, 2)                                            # (B, D, columns): Z
    f = zc + jnp.einsum("ij,bjc,bce->bie", v, zc, jnp.einsum("bjc,jk,bke->bce", zc, w, zc)) / spec.n
    out = jax.lax.dynamic_index_in_dim(f, n + i, axis=2, keepdims=False)
    return jax.lax.dynamic_update_index_in_dim(buf, out, n + 1 + i, axis=1), out

  _, outs = jax.lax.scan(step, buf, jnp.arange(k))
  return jnp.swapaxes(outs, 0, 1)


def w_slot(columns: jax.Array, spec: CotSpec) -> jax.Array:
  """The w-slot of tokens.

  Args:
    columns: tokens (..., D).
    spec: the model.

  Returns:
    (..., d).

  Reference: Huang et al. (2025) section 3 (w_hat_{i+1} is the w-slot of the generated column).
  """
  return columns[..., slots(spec.d)["w"]]
