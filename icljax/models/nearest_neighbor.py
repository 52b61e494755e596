"""One-layer softmax attention for in-context 1-NN (Li et al. 2024), full ``W`` and reduced ``(xi1, xi2)``.

Embedding (Eq. 2.1): ``h_j = [x_j; y_j; 0]`` for context tokens, ``h_{N+1} = [x_{N+1}; 0; 1]`` for the query.
Prediction (Eq. 2.2), value matrix frozen to the identity, no temperature::

    y_hat = sum_{j<=N} q_j y_j,   q = softmax_{j<=N+1}(h_j^T W h_{N+1})   (softmax over all N+1 tokens)

so the query's own weight ``q_{N+1}`` only leaks mass (its label slot is 0). ``W`` is (d+2) x (d+2): index
blocks x = 0..d-1, label = d, indicator = d+1. On the family ``W = diag(xi1 I_d, 0, -xi2)`` the scores are
``s_j = xi1 tau_j`` and ``s_{N+1} = xi1 - xi2`` with ``tau_j = <x_j, x_{N+1}>`` (unit vectors).

Reference: Li et al. (2024), Eqs. (2.1)-(2.2), Assumption 2 and Lemma 2.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np
import numpy.typing as npt


def embed(prompts: Mapping[str, jax.Array]) -> tuple[jax.Array, jax.Array]:
  """Context tokens (B, N, d+2) and query token (B, d+2).

  Args:
    prompts: ``x (B, N, d)``, ``y (B, N)``, ``x_query (B, d)``.

  Returns:
    ``h_j = [x_j; y_j; 0]`` and ``h_{N+1} = [x_{N+1}; 0; 1]``.

  Reference: Li et al. (2024), Eq. (2.1).
  """
  x, y, xq = prompts["x"], prompts["y"], prompts["x_query"]
  zeros = jnp.zeros_like(y)[..., None]
  context = jnp.concatenate([x, y[..., None], zeros], axis=-1)
  query = jnp.concatenate([xq, jnp.zeros_like(xq[..., :2])], axis=-1).at[..., -1].set(1.0)
  return context, query


INITS = ("paper", "random")


@dataclasses.dataclass(frozen=True)
class NNModelSpec:
  """The softmax-attention model of Li et al.: input dimension and initialisation.

  Attributes:
    d: input dimension (W is (d+2) x (d+2)).
    sigma: the indicator entry of W_0 is ``-sigma`` (Assumption 2).
    init: ``'paper'`` (W_0 exactly) or ``'random'`` (W_0 plus i.i.d. N(0, init_scale^2) on every entry).
    init_scale: standard deviation of the random perturbation.

  Reference: Li et al. (2024), Assumption 2 (W_0) and Eq. (2.2) (the model).
  """

  d: int
  sigma: float
  init: str = "paper"
  init_scale: float = 0.0


def init(key: jax.Array, spec: NNModelSpec) -> dict[str, jax.Array]:
  """The initial ``W``: the paper's W_0 (zero but ``-sigma`` in the (indicator, indicator) entry), perturbed by
  i.i.d. N(0, init_scale^2) noise when ``spec.init == 'random'``.

  Args:
    key: PRNG key (used by the random initialisation only).
    spec: the model.

  Returns:
    ``{'W': (d+2, d+2)}``.

  Reference: Li et al. (2024), Assumption 2.
  """
  d = spec.d
  w0 = jnp.zeros((d + 2, d + 2), jnp.float32).at[d + 1, d + 1].set(-spec.sigma)
  if spec.init == "random":
    w0 = w0 + spec.init_scale * jax.random.normal(key, (d + 2, d + 2))
  return {"W": w0}


def attention(params: dict[str, jax.Array], prompts: Mapping[str, jax.Array]) -> jax.Array:
  """Attention weights over the N context tokens and the query itself (last).

  Args:
    params: ``{'W': (d+2, d+2)}``.
    prompts: ``x (B, N, d)``, ``y (B, N)``, ``x_query (B, d)``.

  Returns:
    ``q`` of shape (B, N+1).

  Reference: Li et al. (2024), Eq. (2.2).
  """
  context, query = embed(prompts)
  tokens = jnp.concatenate([context, query[:, None, :]], axis=1)
  scores = jnp.einsum("bjk,kl,bl->bj", tokens, params["W"], query)
  return jax.nn.softmax(scores, axis=-1)


def apply(params: dict[str, jax.Array], prompts: Mapping[str, jax.Array],
          spec: NNModelSpec | None = None) -> jax.Array:
  """Predictions ``sum_{j<=N} q_j y_j``.

  Args:
    params: ``{'W': (d+2, d+2)}``.
    prompts: ``x (B, N, d)``, ``y (B, N)``, ``x_query (B, d)``.
    spec: the model (the prediction reads everything it needs from ``params``; accepted for the common API).

  Returns:
    Predictions of shape (B,).

  Reference: Li et al. (2024), Eq. (2.2).
  """
  del spec
  q = attention(params, prompts)
  return jnp.einsum("bj,bj->b", q[:, :-1], prompts["y"])


def to_W(xi1: float, xi2: float, d: int) -> jax.Array:
  """``diag(xi1 I_d, 0, -xi2)``.

  Args:
    xi1: the x-block diagonal.
    xi2: minus the indicator entry.
    d: input dimension.

  Returns:
    The (d+2, d+2) matrix.

  Reference: Li et al. (2024), the two-parameter family (Lemma 2).
  """
  diag = jnp.concatenate([jnp.full((d,), xi1, jnp.float32), jnp.zeros((1,)), -jnp.full((1,), xi2, jnp.float32)])
  return jnp.diag(diag)


def family_step(eta: float, d: int) -> jax.Array:
  """The step of full-matrix GD ``W <- W - eta grad_W L`` on the family's coordinates: ``(eta/d, eta)``.

  On ``diag(xi1 I_d, 0, -xi2)`` the gradient's x-block is ``(1/d) dL/dxi1 I_d`` and its indicator entry is
  ``-dL/dxi2``, so xi1 moves by ``eta/d`` times its own derivative (GD run directly on the 2-vector would use ``eta``).

  Args:
    eta: the GD step on W.
    d: input dimension.

  Returns:
    ``[eta/d, eta]``.

  Reference: Li et al. (2024), Lemma 2 (the two-parameter reduction; derived in the theorem's docs page).
  """
  return jnp.array([eta / d, eta])


def from_W(w: npt.ArrayLike) -> tuple[float, float]:
  """Projection onto the family: ``xi1 = tr(W_xx)/d``, ``xi2 = -W_{ind,ind}``.

  Args:
    w: a (d+2, d+2) matrix.

  Returns:
    ``(xi1, xi2)`` as floats.

  Reference: Li et al. (2024), Lemma 2 (the family diag(xi1 I_d, 0, -xi2)).
  """
  w = np.asarray(w, np.float64)
  d = w.shape[0] - 2
  return float(np.trace(w[:d, :d]) / d), float(-w[d + 1, d + 1])


def off_family(w: npt.ArrayLike) -> dict[str, float]:
  """Frobenius norms of the parts of ``W`` off ``diag(xi1 I, 0, -xi2)``: the label column, and everything else.

  Args:
    w: a (d+2, d+2) matrix.

  Returns:
    ``{'label_column', 'other'}`` Frobenius norms (float64).

  Reference: Li et al. (2024), Lemma 2; docs page "nearest_neighbor", section "What is checked and why" (label_column,
    off_family).
  """
  w = np.asarray(w, np.float64)
  d = w.shape[0] - 2
  xi1, xi2 = from_W(w)
  rest = w - np.diag(np.concatenate([np.full(d, xi1), [0.0, -xi2]]))  # float64 throughout
  label_col = np.linalg.norm(rest[:, d])
  rest[:, d] = 0.0
  return {"label_column": float(label_col), "other": float(np.linalg.norm(rest))}


def reduced_attention(xi: jax.Array, tau: jax.Array) -> jax.Array:
  """Weights ``q`` (B, N+1) on the family from inner products alone: scores ``xi1 tau_j`` and ``xi1 - xi2``.

  Args:
    xi: ``(xi1, xi2)``.
    tau: inner products ``<x_j, x_query>`` (B, N).

  Returns:
    Weights over the N context tokens and the query (last).

  Reference: Li et al. (2024), Eq. (C.9).
  """
  xi1, xi2 = xi[0], xi[1]
  scores = jnp.concatenate([xi1 * tau, jnp.broadcast_to(xi1 - xi2, tau[:, :1].shape)], axis=-1)
  return jax.nn.softmax(scores, axis=-1)
