"""One-layer transformer for noisy in-context recall (Nguyen & Nguyen-Tang 2025, Eq. 1), by index arithmetic.

Embeddings are fixed one-hot rows of ``I_d`` (``d >= 2V``): ``E(k) = e_k``, ``Ẽ(k) = e_{V+k}``; the input at
position h is ``x_h = E(z_h) + Ẽ(z_{h-1})`` (``x_1 = E(z_1)``) and logits read the first V coordinates. With the
last position as the only query::

    s_h = x_H^T W x_h,   a = sum_{h<=H} sigma(s_h) x_h,   logits = U V a + U F (x_H + kappa a),

with ``sigma`` linear, ``relu`` (``max(0, s + 1e-8)``, as in the authors' code) or ``softmax`` over h.

Model kinds (the authors' released code, github.com/ngmq/onelayer-transformer-ICR-DA-NTP, models.py):

* ``origin``: trainable ``W, V, F`` (d x d), initialised to zero;
* ``reparam``: ``V = I``; noiseless ``W = sum_q lam_q E(q) Ẽ(q)^T`` and no F (logits = attention logits);
  noisy (single trigger q) ``W = Lam E(q)(Ẽ(q) - E(tau))^T`` and the fixed ``F = E(tau)(gamma E(q) + Ẽ(q))^T``
  with ``gamma = ln(alpha/(1-alpha))``;
* ``reparam_w``: as ``reparam`` but with a full trainable ``W``.

Every kind is computed from token indices (gathers and segment sums), never from (B, H, d) one-hot tensors;
``dense_logits`` is the literal matrix form, used by the tests to check the index arithmetic.

Reference: Nguyen & Nguyen-Tang (2025), arXiv 2505.15009, Eq. (1) and the authors' released model classes; docs page
"recall", section "Setting".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from icljax._pytree import pytree_dataclass, static_field

KINDS = ("origin", "reparam", "reparam_w")
ATTENTIONS = ("linear", "relu", "softmax")
RELU_SHIFT = 1e-8


@pytree_dataclass
class RecallModel:
  """One model variant: its kind, attention, kappa and sizes (static) and the fixed feed-forward weight gamma (an
  array leaf, so stacks of runs may differ in it).

  Attributes:
    gamma: ln(alpha/(1-alpha)) of the fixed F (noisy reparam kinds).
    kind: 'origin', 'reparam' or 'reparam_w'.
    attention: 'linear', 'relu' or 'softmax'.
    kappa: 1 (the feed-forward layer reads x_H + a) or 0 (x_H only).
    V: classes, the noise token tau = V - 1 included.
    d: embedding dimension (>= 2V).
    triggers: trigger token ids (the noisy task uses the first).
    noisy: whether the task is noisy (fixes the reparam kinds' F).

  Reference: Nguyen & Nguyen-Tang (2025), Eq. (1) and the authors' released model classes.
  """

  gamma: jax.Array                              # ln(alpha/(1-alpha)) of the fixed F (noisy reparam kinds)
  kind: str = static_field(default="reparam")
  attention: str = static_field(default="linear")
  kappa: int = static_field(default=1)
  V: int = static_field(default=60)
  d: int = static_field(default=120)
  triggers: tuple[int, ...] = static_field(default=(0, 1, 2, 3, 4))
  noisy: bool = static_field(default=False)

  @property
  def tau(self) -> int:
    """The noise token.

    Returns:
      ``V - 1``.

    Reference: Nguyen & Nguyen-Tang (2025), Definition 2.1 (the generic noise token, the last class here).
    """
    return self.V - 1


def make_model(kind: str, attention: str, kappa: int, *, V: int, triggers: Sequence[int], noisy: bool,
               gamma: float = 0.0, d: int | None = None) -> RecallModel:
  """A model spec of one variant.

  Args:
    kind: ``'origin'``, ``'reparam'`` or ``'reparam_w'``.
    attention: ``'linear'``, ``'relu'`` or ``'softmax'``.
    kappa: 1: the feed-forward layer sees x_H + attention; 0: x_H only.
    V: classes.
    triggers: trigger token ids (the noisy task uses the first).
    noisy: whether the task is noisy (fixes the reparam kinds' F).
    gamma: ``ln(alpha/(1-alpha))`` of the fixed F.
    d: embedding dimension (default 2V).

  Returns:
    The model spec (``gamma`` is an array leaf, so stacks of runs may differ in it).

  Reference: Nguyen & Nguyen-Tang (2025), Eq. (1) and the authors' released model classes.
  """
  return RecallModel(gamma=jnp.asarray(gamma, dtype=float), kind=kind, attention=attention, kappa=int(kappa), V=V,
                     d=2 * V if d is None else d, triggers=tuple(triggers), noisy=noisy)


def init(key: jax.Array | None, model: RecallModel) -> dict[str, jax.Array]:
  """All trainable tensors at zero (the authors' initialisation).

  Args:
    key: unused (the initialisation is deterministic); kept for the common ``init(key, spec)`` API.
    model: the model.

  Returns:
    ``W, V, F`` (origin), ``W`` (reparam_w), ``Lam`` (noisy reparam) or ``lam`` (noiseless reparam).

  Reference: Nguyen & Nguyen-Tang (2025), the authors' released code.
  """
  del key
  if model.kind == "origin":
    return {k: jnp.zeros((model.d, model.d)) for k in ("W", "V", "F")}
  if model.kind == "reparam_w":
    return {"W": jnp.zeros((model.d, model.d))}
  return {"Lam": jnp.zeros(())} if model.noisy else {"lam": jnp.zeros((len(model.triggers),))}


def _sigma(model: RecallModel, s: jax.Array) -> jax.Array:
  if model.attention == "linear":
    return s
  if model.attention == "relu":
    return jax.nn.relu(s + RELU_SHIFT)
  return jax.nn.softmax(s, axis=-1)


def _prev(z: jax.Array) -> jax.Array:
  """Previous token per position, -1 at position 1 (no previous-token embedding there)."""
  return jnp.concatenate([jnp.full_like(z[:, :1], -1), z[:, :-1]], axis=1)


def _attention_sum(weights: jax.Array, z: jax.Array, prev: jax.Array, d: int, V: int) -> jax.Array:
  """``a = sum_h w_h x_h`` (B, d) by segment sums over token indices."""
  valid = prev >= 0
  idx = jnp.concatenate([z, jnp.where(valid, V + prev, 0)], axis=1)
  vals = jnp.concatenate([weights, jnp.where(valid, weights, 0.0)], axis=1)
  return jax.vmap(lambda i, v: jax.ops.segment_sum(v, i, num_segments=d))(idx, vals)


def parts(params: dict[str, jax.Array], batch: Mapping[str, jax.Array],
          model: RecallModel) -> dict[str, jax.Array]:
  """Attention logits ``xi_A`` (B, V), feed-forward logits ``xi_F`` (B, V) and attention weights (B, H).

  Args:
    params: trainable tensors of the model kind.
    batch: sentences ``z`` (B, H).
    model: the model spec.

  Returns:
    ``{'xi_A', 'xi_F', 'weights'}``.

  Reference: Nguyen & Nguyen-Tang (2025), Eq. (1).
  """
  z = batch["z"]
  prev = _prev(z)
  z_last, z_before = z[:, -1], z[:, -2]
  V, d = model.V, model.d
  rows = jnp.arange(z.shape[0])
  if model.kind == "reparam":
    if model.noisy:
      q = model.triggers[0]
      s = params["Lam"] * ((z_last == q)[:, None] * ((prev == q).astype(jnp.float32) - (z == model.tau)))
    else:
      lookup = np.full((V,), 0, np.int32)
      lookup[list(model.triggers)] = np.arange(len(model.triggers))
      lam = params["lam"][jnp.asarray(lookup)[z_last]] * jnp.isin(z_last, jnp.asarray(model.triggers))
      s = lam[:, None] * (prev == z_last[:, None])
  else:
    w = params["W"]
    r = w[z_last] + w[V + z_before]                                 # x_H^T W, (B, d)
    s = jnp.take_along_axis(r, z, axis=1) + jnp.where(prev >= 0, jnp.take_along_axis(
        r, jnp.where(prev >= 0, V + prev, 0), axis=1), 0.0)
  weights = _sigma(model, s)
  a = _attention_sum(weights, z, prev, d, V)
  xi_a = a @ params["V"][:V].T if model.kind == "origin" else a[:, :V]
  u = a * model.kappa
  u = u.at[rows, z_last].add(1.0).at[rows, V + z_before].add(1.0)   # x_H + kappa a
  if model.kind == "origin":
    xi_f = u @ params["F"][:V].T
  elif model.noisy:
    q = model.triggers[0]
    xi_f = jax.nn.one_hot(model.tau, V)[None, :] * (model.gamma * u[:, q] + u[:, V + q])[:, None]
  else:
    xi_f = jnp.zeros_like(xi_a)
  return {"xi_A": xi_a, "xi_F": xi_f, "weights": weights}


def apply(params: dict[str, jax.Array], batch: Mapping[str, jax.Array], model: RecallModel) -> jax.Array:
  """Next-token logits (B, V).

  Args:
    params: trainable tensors of the model kind.
    batch: sentences ``z`` (B, H).
    model: the model spec.

  Returns:
    Logits ``xi_A + xi_F`` of shape (B, V).

  Reference: Nguyen & Nguyen-Tang (2025), Eq. (1).
  """
  p = parts(params, batch, model)
  return p["xi_A"] + p["xi_F"]


def dense_matrices(params: dict[str, jax.Array], model: RecallModel) -> dict[str, jax.Array]:
  """The d x d matrices W, V, F that a parameterisation stands for (V = I and the fixed F for reparam kinds).

  Args:
    params: trainable tensors of the model kind.
    model: the model spec.

  Returns:
    ``{'W', 'V', 'F'}``, each (d, d).

  Reference: Nguyen & Nguyen-Tang (2025), the authors' released model classes (the reparameterised W and F).
  """
  d, V = model.d, model.V
  eye = jnp.eye(d)
  if model.kind == "origin":
    return dict(params)
  f = jnp.zeros((d, d))
  if model.noisy:
    q = model.triggers[0]
    f = jnp.outer(eye[model.tau], model.gamma * eye[q] + eye[V + q])
  if model.kind == "reparam_w":
    w = params["W"]
  elif model.noisy:
    q = model.triggers[0]
    w = params["Lam"] * jnp.outer(eye[q], eye[V + q] - eye[model.tau])
  else:
    w = sum(params["lam"][i] * jnp.outer(eye[q], eye[V + q])   # type: ignore[assignment]  # sum of >= 1 arrays
            for i, q in enumerate(model.triggers))
  return {"W": w, "V": eye, "F": f}


def dense_logits(params: dict[str, jax.Array], batch: dict[str, jax.Array], model: RecallModel) -> jax.Array:
  """Literal Eq. (1) with one-hot (B, H, d) inputs and d x d matrices (test reference; memory O(B H d)).

  Args:
    params: trainable tensors of the model kind.
    batch: sentences ``z`` (B, H).
    model: the model spec.

  Returns:
    Logits (B, V).

  Reference: Nguyen & Nguyen-Tang (2025), Eq. (1).
  """
  z = batch["z"]
  V, d = model.V, model.d
  mats = dense_matrices(params, model)
  x = jax.nn.one_hot(z, d) + jnp.where((_prev(z) >= 0)[..., None], jax.nn.one_hot(V + _prev(z), d), 0.0)
  x_last = x[:, -1]
  s = jnp.einsum("bi,ij,bhj->bh", x_last, mats["W"], x)
  a = jnp.einsum("bh,bhd->bd", _sigma(model, s), x)
  xi_a = (a @ mats["V"].T)[:, :V]
  xi_f = ((x_last + model.kappa * a) @ mats["F"].T)[:, :V]
  if model.kind != "origin" and not model.noisy:
    xi_f = jnp.zeros_like(xi_f)
  return xi_a + xi_f
