"""In-context linear (and nonlinear) regression prompts, the task family of the lsa, lsa_multilayer,
lsa_chain_of_thought and linattn_dynamics theorems.

A prompt holds ``n`` labelled examples ``(x_i, y_i)`` and a query ``(x_{n+1}, y_{n+1})``; the query label is
noisy too, so every optimal loss contains ``+sigma^2``.

* covariates ``x ~ N(0, Sigma)``, ``Sigma = U diag(spectrum) U^T`` with ``U`` Haar-random (``rotation='random'``)
  or the identity (``rotation='none'``);
* linear targets ``y = w*^T x + eps`` with task prior ``w* ~ N(0, I)`` (``prior='identity'``),
  ``w* ~ N(0, Sigma^{-1})`` (``prior='inv_cov'``, Mahankali et al. Thm 2) or ``w* ~ N(0, Psi)`` with
  ``Psi = U diag(prior_spectrum) U^T`` in Sigma's eigenbasis (``prior='spectrum'``: a prior that is not rotation
  invariant: the lsa theorem's negative control);
* nonlinear targets ``y = f(x) + eps`` with a random one-hidden-layer network
  ``f(x) = sum_j a_j phi(u_j^T x)``, ``u_j ~ N(0, I_d)``, ``a_j ~ N(0, 1/m)`` (Mahankali et al. Thm 3: the family
  is rotation invariant and symmetric under ``f -> -f``, the two conditions its Assumption 1 asks for).

Reference: Mahankali, Hashimoto, Ma (2023), the data of Theorems 1-3; Ahn et al. (2023), the prior w* ~ N(0, I) with
x ~ N(0, Sigma); docs page "lsa", section "Setting".
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from icljax import prng, validation
from icljax._pytree import pytree_dataclass, static_field

PRIORS = ("identity", "inv_cov", "spectrum")
TARGETS = ("linear", "relu", "tanh")
ROTATIONS = ("none", "random")
_ACTIVATIONS = {"relu": jax.nn.relu, "tanh": jnp.tanh}


@pytree_dataclass
class RegressionSpec:
  """Distribution of regression prompts.

  Array fields (``sigma``, ``cov`` and its square roots) are pytree leaves, so a stack of specs that differ in
  them can be vmapped; the shape-fixing fields are static.

  Reference: Mahankali et al. (2023), the data of Theorems 1-3; docs page "lsa", section "Setting".
  """

  sigma: jax.Array            # label-noise standard deviation, scalar
  cov: jax.Array              # (d, d) covariance Sigma of x
  sqrt_cov: jax.Array         # (d, d) symmetric Sigma^{1/2}
  inv_sqrt_cov: jax.Array     # (d, d) symmetric Sigma^{-1/2}
  prior_cov: jax.Array        # (d, d) covariance Psi of w* (I, Sigma^{-1} or U diag(prior_spectrum) U^T)
  prior_sqrt: jax.Array       # (d, d) symmetric Psi^{1/2}
  d: int = static_field()
  n: int = static_field()
  prior: str = static_field(default="identity")
  target: str = static_field(default="linear")
  width: int = static_field(default=64)

  @property
  def isotropic(self) -> bool:
    """Whether Sigma = I (to float rounding).

    Returns:
      True for isotropic covariates.

    Reference: Mahankali et al. (2023), Theorem 1's setting.
    """
    return bool(np.allclose(np.asarray(self.cov), np.eye(self.d)))

  def task_weights(self, u: jax.Array) -> jax.Array:
    """``w* = Psi^{1/2} u`` for standard normal rows ``u`` (the identity prior uses ``u`` itself, bit for bit).

    Args:
      u: standard normal rows, shape (B, d).

    Returns:
      The task vectors w*, shape (B, d).

    Reference: docs page "lsa", section "Setting" (the priors).
    """
    return u if self.prior == "identity" else u @ self.prior_sqrt

  def prior_precision(self) -> jax.Array:
    """``Psi^{-1}``: I, Sigma, or the inverse of the spectrum prior's covariance.

    Returns:
      The prior precision (d, d).

    Reference: Mahankali et al. (2023), Lemma 1 (the posterior mean's ridge term uses it).
    """
    if self.prior == "identity":
      return jnp.eye(self.d, dtype=self.cov.dtype)
    return self.cov if self.prior == "inv_cov" else jnp.linalg.inv(self.prior_cov)


def haar_rotation(d: int, seed: int) -> np.ndarray:
  """A Haar-distributed orthogonal d x d matrix (QR of a Gaussian matrix with the sign fix of Mezzadri 2007).

  Args:
    d: dimension.
    seed: numpy seed (the rotation is a pure function of it).

  Returns:
    The (d, d) orthogonal matrix.

  Reference: Mezzadri (2007), "How to generate random matrices from the classical compact groups", section 5.
  """
  rng = np.random.default_rng(seed)
  q, r = np.linalg.qr(rng.standard_normal((d, d)))
  return q * np.sign(np.diag(r))[None, :]


def covariance(d: int, spectrum: Any = None, rotation: str = "none", rotation_seed: int = 1,
               field: str = "spectrum") -> np.ndarray:
  """Builds ``Sigma = U diag(spectrum) U^T`` in float64 (identity if ``spectrum`` is None).

  Args:
    d: dimension.
    spectrum: ``d`` positive eigenvalues, or None for ``I_d``.
    rotation: ``'none'`` (``U = I``, so ``Sigma = diag(spectrum)``) or ``'random'`` (Haar ``U``).
    rotation_seed: numpy seed of the Haar rotation, so that Sigma is a pure function of the config.
    field: the name a bad ``spectrum`` is reported under.

  Returns:
    The (d, d) covariance matrix.

  Reference: Ahn et al. (2023), section 4.3 (Sigma = U D U^T with U uniformly random orthogonal); docs page "lsa",
  section "Setting".
  """
  validation.integer("d", d, low=1)
  validation.choice("rotation", rotation, ROTATIONS)
  eig = np.ones(d) if spectrum is None else np.asarray(validation.positive_vector(field, spectrum, length=d))
  u = haar_rotation(d, rotation_seed) if rotation == "random" else np.eye(d)
  return (u * eig[None, :]) @ u.T


def make_spec(d: int, n: int, sigma: float = 0.0, *, spectrum: Any = None, rotation: str = "none",
              rotation_seed: int = 1, prior: str = "identity", target: str = "linear",
              width: int = 64, prior_spectrum: Any = None) -> RegressionSpec:
  """Validates the arguments and returns a :class:`RegressionSpec`.

  Args:
    d: covariate dimension, >= 1.
    n: number of labelled examples in a prompt, >= 1.
    sigma: label-noise standard deviation, >= 0.
    spectrum: eigenvalues of Sigma (d positive numbers), or None for the identity.
    rotation: ``'none'`` or ``'random'``; see :func:`covariance`.
    rotation_seed: seed of the random rotation.
    prior: ``'identity'`` (w* ~ N(0, I)), ``'inv_cov'`` (w* ~ N(0, Sigma^{-1})) or ``'spectrum'``
      (w* ~ N(0, U diag(prior_spectrum) U^T), U the rotation of Sigma); linear targets only.
    target: ``'linear'``, ``'relu'`` or ``'tanh'`` (random one-hidden-layer network of the given width).
    width: hidden width m of the random network, >= 1.
    prior_spectrum: eigenvalues of Psi (d positive numbers), required by ``prior='spectrum'`` only.

  Returns:
    The spec.

  Reference: docs page "lsa", section "Setting".
  """
  d = validation.integer("d", d, low=1)
  n = validation.integer("n", n, low=1)
  sigma = validation.real("sigma", sigma, low=0.0)
  validation.choice("prior", prior, PRIORS)
  validation.choice("target", target, TARGETS)
  width = validation.integer("width", width, low=1)
  if target != "linear" and prior != "identity":
    raise validation.ConfigError("prior", prior, "'identity' when target is nonlinear (the prior is on w*)")
  if (prior == "spectrum") != (prior_spectrum is not None):
    raise validation.ConfigError("prior_spectrum", prior_spectrum, "d positive numbers when prior is 'spectrum' and "
                                 f"None otherwise (prior is {prior!r})")
  cov = covariance(d, spectrum, rotation, rotation_seed)
  evals, evecs = np.linalg.eigh(cov)
  sqrt_cov = (evecs * np.sqrt(evals)) @ evecs.T
  inv_sqrt_cov = (evecs / np.sqrt(evals)) @ evecs.T
  if prior == "spectrum":
    prior_cov = covariance(d, prior_spectrum, rotation, rotation_seed, field="prior_spectrum")
    p_evals, p_evecs = np.linalg.eigh(prior_cov)
    prior_sqrt = (p_evecs * np.sqrt(p_evals)) @ p_evecs.T
  else:   # the roots the samplers have always used, so no existing run changes
    prior_cov, prior_sqrt = (np.eye(d), np.eye(d)) if prior == "identity" else ((evecs / evals) @ evecs.T,
                                                                                 inv_sqrt_cov)
  # The default float dtype: float32, or float64 under jax.enable_x64 (exact runs need Sigma and its roots
  # consistent to float64 rounding).
  as_float = lambda a: jnp.asarray(a, dtype=float)
  return RegressionSpec(sigma=as_float(sigma), cov=as_float(cov), sqrt_cov=as_float(sqrt_cov),
                        inv_sqrt_cov=as_float(inv_sqrt_cov), prior_cov=as_float(prior_cov),
                        prior_sqrt=as_float(prior_sqrt), d=d, n=n, prior=prior, target=target, width=width)


@prng.sampler
def sample(key: jax.Array, spec: RegressionSpec, batch_size: int, weights: bool = False) -> dict[str, jax.Array]:
  """Draws a batch of independent prompts.

  Args:
    key: a JAX PRNG key; the batch is a pure function of (key, spec, batch_size).
    spec: the prompt distribution.
    batch_size: number of prompts B.
    weights: also return each prompt's w* (linear targets only; weight-prediction tasks score it). The other
      arrays are the same with or without it.

  Returns:
    ``{'x': (B, n, d), 'y': (B, n), 'x_query': (B, d), 'y_query': (B,)}`` (and ``'w': (B, d)``).

  Reference: Mahankali et al. (2023), the data of Theorems 1-3 (the query's label is noisy too); docs page "lsa",
  section "Setting".
  """
  d, n = spec.d, spec.n
  if weights and spec.target != "linear":
    raise ValueError(f"weights=True needs linear targets (w* exists), not target={spec.target!r}")
  k_x, k_task, k_noise = jax.random.split(key, 3)
  z = jax.random.normal(k_x, (batch_size, n + 1, d))
  x = z @ spec.sqrt_cov  # sqrt_cov is symmetric, so rows are N(0, Sigma)
  f, w = _targets(k_task, spec, x, batch_size)
  y = f + spec.sigma * jax.random.normal(k_noise, (batch_size, n + 1))
  return {"x": x[:, :n], "y": y[:, :n], "x_query": x[:, n], "y_query": y[:, n], **({"w": w} if weights else {})}


def _targets(key: jax.Array, spec: RegressionSpec, x: jax.Array, batch_size: int) -> tuple[jax.Array, Any]:
  """Noise-free targets f(x) for every token of every prompt, with one random f per prompt (and w*, if linear)."""
  d = spec.d
  if spec.target == "linear":
    w = spec.task_weights(jax.random.normal(key, (batch_size, d)))
    return jnp.einsum("btd,bd->bt", x, w), w
  m = spec.width
  k_u, k_a = jax.random.split(key)
  u = jax.random.normal(k_u, (batch_size, m, d))
  a = jax.random.normal(k_a, (batch_size, m)) / jnp.sqrt(m)
  hidden = _ACTIVATIONS[spec.target](jnp.einsum("btd,bmd->btm", x, u))
  return jnp.einsum("btm,bm->bt", hidden, a), None
