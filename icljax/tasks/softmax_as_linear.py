"""Tokens and in-context regression prompts of Boursier & Boyer (2025), "Softmax as linear attention in the
large-prompt regime".

Tokens are ``x = R u`` with ``u`` i.i.d. unit-variance coordinates of one law (``gaussian``, ``uniform`` on
``[-sqrt 3, sqrt 3]`` or ``rademacher``) and ``R`` the lower Cholesky factor of ``Sigma = scale^2 C``, ``C`` the
identity (``isotropic``) or the Toeplitz matrix ``rho^|i-j|`` (``toeplitz``, the authors' "KCM" design). The
Gaussian law is Lemma 2.1's setting; the other two are its negative controls.

A regression prompt (Sec. 5, Eq. 7) holds ``L`` tokens ``x_i``, labels ``y_i = w^T x_i + eps_i`` with
``w ~ N(0, prior_var I)`` and ``eps_i ~ N(0, sigma^2)``, and a query ``x`` (its label slot 0) with target
``y = w^T x + eps``. The query is not among the keys. ``data_bug`` reproduces the official code's sampler
(``LinearReg.__generatedata__`` at commit 8fa49b3 of the authors' repository): ``R`` applied twice to the
context tokens and never to the query, so that the context covariance is ``R Sigma R^T`` and the query is
``N(0, I)``.

Reference: Boursier & Boyer (2025), arXiv 2512.11784, Sec. 2 (Lemma 2.1), Sec. 3 (sub-Gaussian tokens) and
Sec. 5 (Eq. 7).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from icljax import prng, validation
from icljax._pytree import pytree_dataclass, static_field

TOKENS = ("gaussian", "uniform", "rademacher")
COVARIANCES = ("isotropic", "toeplitz")


@pytree_dataclass
class TokenSpec:
  """Law of the tokens and of the regression prompts built from them.

  Attributes:
    cov: (d, d) Sigma, the covariance of a token.
    root: (d, d) lower-triangular R with R R^T = Sigma.
    prior_var: variance s_w of each coordinate of w.
    sigma: label-noise standard deviation.
    d: token dimension.
    L: tokens per prompt.
    tokens: the coordinate law (one of :data:`TOKENS`).
    data_bug: the authors' sampler (context covariance R Sigma R^T, query N(0, I)).

  Reference: Boursier & Boyer (2025), Sec. 2-3 (token laws) and Sec. 5 (Eq. 7); docs page "softmax_as_linear",
  section "Setting".
  """

  cov: jax.Array
  root: jax.Array
  prior_var: jax.Array
  sigma: jax.Array
  d: int = static_field()
  L: int = static_field()
  tokens: str = static_field(default="gaussian")
  data_bug: bool = static_field(default=False)

  def context_cov(self) -> np.ndarray:
    """The covariance of the context tokens, float64.

    Returns:
      Sigma, or ``R Sigma R^T`` with the official sampler's bug.

    Reference: docs page "softmax_as_linear", section "Where the paper and the numbers disagree" (the authors'
    sampler).
    """
    cov, root = np.asarray(self.cov, np.float64), np.asarray(self.root, np.float64)
    return root @ cov @ root.T if self.data_bug else cov

  def query_cov(self) -> np.ndarray:
    """The covariance of the query, float64.

    Returns:
      Sigma, or ``I`` with the official sampler's bug.

    Reference: docs page "softmax_as_linear", section "Where the paper and the numbers disagree" (the authors'
    sampler).
    """
    return np.eye(self.d) if self.data_bug else np.asarray(self.cov, np.float64)


def toeplitz(d: int, rho: float) -> np.ndarray:
  """The Toeplitz correlation matrix ``C_ij = rho^|i-j|`` in float64.

  Args:
    d: dimension.
    rho: correlation of neighbouring coordinates, in (-1, 1).

  Returns:
    The (d, d) matrix.

  Reference: the authors' released code, ``data_utils`` ("KCM rho" covariance); docs page "softmax_as_linear",
  section "Setting".
  """
  idx = np.arange(d)
  return float(rho) ** np.abs(idx[:, None] - idx[None, :]).astype(np.float64)


def covariance(d: int, kind: str, rho: float = 0.5, scale: float = 1.0) -> np.ndarray:
  """``Sigma = scale^2 C`` with ``C = I`` (``isotropic``) or Toeplitz ``rho^|i-j|`` (``toeplitz``).

  Args:
    d: dimension, >= 1.
    kind: one of :data:`COVARIANCES`.
    rho: the Toeplitz correlation, in (-1, 1).
    scale: token standard deviation along each coordinate, > 0.

  Returns:
    The (d, d) covariance in float64.

  Reference: Boursier & Boyer (2025), Sec. 5 (x ~ N(0, Sigma), any invertible Sigma in Thm 5.1).
  """
  validation.choice("covariance", kind, COVARIANCES)
  base = np.eye(d) if kind == "isotropic" else toeplitz(d, validation.real("rho", rho, low=-1, high=1, low_open=True,
                                                                         high_open=True))
  return validation.real("scale", scale, low=0.0, low_open=True) ** 2 * base


def make_spec(d: int, L: int, sigma: float = 0.0, *, tokens: str = "gaussian", covariance_kind: str = "isotropic",
              rho: float = 0.5, scale: float = 1.0, prior_var: float = 1.0, data_bug: bool = False) -> TokenSpec:
  """Validates the arguments and returns a :class:`TokenSpec` (arrays in the default float dtype).

  Args:
    d: token dimension, >= 1.
    L: tokens per prompt, >= 1.
    sigma: label-noise standard deviation, >= 0.
    tokens: the coordinate law, one of :data:`TOKENS`.
    covariance_kind: one of :data:`COVARIANCES`.
    rho: Toeplitz correlation, in (-1, 1).
    scale: token standard deviation, > 0.
    prior_var: variance of each coordinate of w, > 0.
    data_bug: reproduce the official sampler (context covariance ``R Sigma R^T``, query ``N(0, I)``).

  Returns:
    The spec.

  Reference: Boursier & Boyer (2025), Sec. 5 (Eq. 7); docs page "softmax_as_linear", section "Setting".
  """
  d, L = validation.integer("d", d, low=1), validation.integer("L", L, low=1)
  validation.choice("tokens", tokens, TOKENS)
  cov = covariance(d, covariance_kind, rho, scale)
  as_float = lambda a: jnp.asarray(a, dtype=float)
  return TokenSpec(cov=as_float(cov), root=as_float(np.linalg.cholesky(cov)),
                   prior_var=as_float(validation.real("prior_var", prior_var, low=0.0, low_open=True)),
                   sigma=as_float(validation.real("sigma", sigma, low=0.0)), d=d, L=L, tokens=tokens,
                   data_bug=bool(data_bug))


def unit_draws(key: jax.Array, tokens: str, shape: tuple[int, ...]) -> jax.Array:
  """I.i.d. draws of mean 0 and variance 1 from the coordinate law.

  Args:
    key: PRNG key.
    tokens: one of :data:`TOKENS`.
    shape: output shape.

  Returns:
    The draws (default float dtype).

  Reference: Boursier & Boyer (2025), Lemma 2.1 (Gaussian tokens) and Sec. 3 (sub-Gaussian tokens: the uniform and
  Rademacher controls).
  """
  if tokens == "gaussian":
    return jax.random.normal(key, shape)
  if tokens == "uniform":
    return jax.random.uniform(key, shape, minval=-np.sqrt(3.0), maxval=np.sqrt(3.0))
  return jax.random.rademacher(key, shape).astype(jnp.result_type(float))


def sample_tokens(key: jax.Array, spec: TokenSpec, shape: tuple[int, ...]) -> jax.Array:
  """Tokens ``x = R u`` of covariance Sigma (rows of the last axis).

  Args:
    key: PRNG key.
    spec: the token law.
    shape: leading shape; the output is ``shape + (d,)``.

  Returns:
    The tokens.

  Reference: Boursier & Boyer (2025), Sec. 2 (tokens N(0, Gamma)) and Sec. 5 (x_i ~ N(0, Sigma)).
  """
  return unit_draws(key, spec.tokens, tuple(shape) + (spec.d,)) @ spec.root.T


@prng.sampler
def sample_inputs(key: jax.Array, spec: TokenSpec, batch_size: int) -> dict[str, jax.Array]:
  """Context tokens and queries of ``batch_size`` prompts (no labels: enough for losses integrated over w).

  Args:
    key: PRNG key; the batch is a pure function of (key, spec, batch_size).
    spec: the prompt law.
    batch_size: number of prompts B.

  Returns:
    ``{'x': (B, L, d), 'x_query': (B, d)}``.

  Reference: Boursier & Boyer (2025), Sec. 5 (Eq. 7: context tokens and the query, not among the keys).
  """
  k_ctx, k_query = jax.random.split(key)
  x = sample_tokens(k_ctx, spec, (batch_size, spec.L))
  if spec.data_bug:   # the official sampler: the context transformed twice, the query never
    return {"x": x @ spec.root.T, "x_query": unit_draws(k_query, spec.tokens, (batch_size, spec.d))}
  return {"x": x, "x_query": sample_tokens(k_query, spec, (batch_size,))}


@prng.sampler
def sample(key: jax.Array, spec: TokenSpec, batch_size: int) -> dict[str, jax.Array]:
  """Full regression prompts: :func:`sample_inputs` with ``w``, noisy labels and the query's noisy target.

  Args:
    key: PRNG key.
    spec: the prompt law.
    batch_size: number of prompts B.

  Returns:
    ``{'x': (B, L, d), 'y': (B, L), 'x_query': (B, d), 'y_query': (B,), 'w': (B, d)}``.

  Reference: Boursier & Boyer (2025), Sec. 5 (Eq. 7, with label noise on the context labels and the target).
  """
  k_in, k_w, k_noise = jax.random.split(key, 3)
  batch = sample_inputs(k_in, spec, batch_size)
  w = jnp.sqrt(spec.prior_var) * jax.random.normal(k_w, (batch_size, spec.d))
  eps = spec.sigma * jax.random.normal(k_noise, (batch_size, spec.L + 1))
  y = jnp.einsum("bld,bd->bl", batch["x"], w) + eps[:, :-1]
  return {**batch, "y": y, "y_query": jnp.einsum("bd,bd->b", batch["x_query"], w) + eps[:, -1], "w": w}
