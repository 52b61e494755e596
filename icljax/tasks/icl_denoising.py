"""In-context denoising prompts: L clean tokens of a random task p_X and one corrupted query (Smart, Bietti &
Sengupta 2025).

Every prompt draws its own task, then L+1 i.i.d. tokens ``X_1..X_{L+1} ~ p_X``; the last is corrupted,
``x_query = X_{L+1} + Z`` with ``Z ~ N(0, sigma_z_sq I_n)``, and the target is ``X_{L+1}`` (Section 2.1). The three
task families (Section 2.2):

* ``subspace`` (2.2.1): a Haar-random d-dimensional subspace with orthonormal basis U (n x d), tokens
  ``X = U g``, ``g ~ N(0, sigma0_sq I_d)``, i.e. ``p_X = N(0, sigma0_sq P)``, ``P = U U^T``;
* ``sphere`` (2.2.2): a Haar-random (d+1)-dimensional subspace and tokens uniform on the radius-R sphere ``S^d``
  inside it (``d`` is the sphere's dimension);
* ``mixture`` (2.2.3): K centres uniform on the radius-R sphere ``S^{n-1}``, equal weights, tokens
  ``mu_a + sigma0 xi`` with ``xi ~ N(0, I_n)`` (``sigma0_sq`` is the cluster variance).

Shapes: ``context (B, L, n)`` (tokens as rows), ``query``/``target (B, n)``, and the task: ``basis (B, n, p)``
(subspace: p = d; sphere: p = d+1) or ``centres (B, K, n)`` with ``labels (B, L+1)``.

Reference: Smart, Bietti & Sengupta (2025), arXiv 2502.05164, Sections 2.1-2.2 and App. A.1.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from icljax import prng, validation
from icljax._pytree import pytree_dataclass, static_field

FAMILIES = ("subspace", "sphere", "mixture")


@pytree_dataclass
class DenoisingSpec:
  """One task family: its sizes (static) and its variances and radius (data, so runs that differ only in them
  share one compiled program).

  Attributes:
    family: ``'subspace'``, ``'sphere'`` or ``'mixture'``.
    n: ambient dimension.
    d: subspace dimension (subspace) or the sphere's dimension (sphere); unused by the mixture.
    L: clean context tokens.
    sigma0_sq: token variance per coordinate (subspace) or cluster variance (mixture).
    sigma_z_sq: the query's noise variance per coordinate.
    radius: R, the sphere's radius or the centres' norm.
    K: mixture components.

  Reference: Smart, Bietti & Sengupta (2025), Sections 2.2.1-2.2.3.
  """

  family: str = static_field()
  n: int = static_field()
  d: int = static_field()
  L: int = static_field()
  sigma0_sq: float
  sigma_z_sq: float
  radius: float = 1.0
  K: int = static_field(default=8)

  @property
  def support_dim(self) -> int:
    """Dimension of the subspace that carries the tokens.

    Returns:
      d (subspace), d+1 (sphere) or n (mixture).

    Reference: Smart, Bietti & Sengupta (2025), Sections 2.2.1-2.2.3.
    """
    return {"subspace": self.d, "sphere": self.d + 1, "mixture": self.n}[self.family]


def make_spec(family: str, n: int, d: int, L: int, sigma0_sq: float, sigma_z_sq: float, radius: float = 1.0,
              K: int = 8) -> DenoisingSpec:
  """Validated task spec.

  Args:
    family: ``'subspace'``, ``'sphere'`` or ``'mixture'``.
    n: ambient dimension, >= 2.
    d: subspace dimension (1..n) or sphere dimension (1..n-1); unused by the mixture.
    L: clean context tokens, >= 1.
    sigma0_sq: token variance per coordinate (subspace, > 0) or cluster variance (mixture, >= 0); unused by the
      sphere.
    sigma_z_sq: variance of the query's corruption per coordinate, > 0.
    radius: R, the sphere's radius or the centres' norm, > 0.
    K: number of mixture components, >= 1.

  Returns:
    The spec; bad values raise ``ConfigError``.

  Reference: Smart, Bietti & Sengupta (2025), Sections 2.1-2.2.
  """
  family = validation.choice("task", family, FAMILIES)
  n = validation.integer("n", n, low=2)
  d = validation.integer("d", d, low=1, high=n if family == "subspace" else n - 1)
  sigma0_sq = validation.real("sigma0_sq", sigma0_sq, low=0.0, low_open=family == "subspace")
  return DenoisingSpec(family=family, n=n, d=d, L=validation.integer("L", L, low=1), sigma0_sq=float(sigma0_sq),
                       sigma_z_sq=float(validation.real("sigma_z_sq", sigma_z_sq, low=0.0, low_open=True)),
                       radius=float(validation.real("radius", radius, low=0.0, low_open=True)),
                       K=validation.integer("K", K, low=1))


def haar_basis(key: jax.Array, batch: int, n: int, p: int) -> jax.Array:
  """Orthonormal bases of Haar-random p-dimensional subspaces of R^n: the first p columns of the Q factor of a
  Gaussian matrix, signs fixed by the diagonal of R (Haar on the Stiefel manifold).

  Args:
    key: PRNG key.
    batch: number of bases B.
    n: ambient dimension.
    p: subspace dimension, <= n.

  Returns:
    ``(B, n, p)`` with orthonormal columns.

  Reference: Smart, Bietti & Sengupta (2025), Section 2.2.1 (Haar-random subspaces).
  """
  q, r = jnp.linalg.qr(jax.random.normal(key, (batch, n, p)))
  return q * jnp.sign(jnp.diagonal(r, axis1=-2, axis2=-1))[:, None, :]


def subspace_tokens(key: jax.Array, spec: DenoisingSpec, batch: int) -> dict[str, jax.Array]:
  """Clean tokens of the linear-subspace family: ``X = U g``, ``g ~ N(0, sigma0_sq I_d)``.

  Args:
    key: PRNG key.
    spec: the task (family ``subspace``).
    batch: prompts B.

  Returns:
    ``tokens (B, L+1, n)`` and ``basis (B, n, d)``.

  Reference: Smart, Bietti & Sengupta (2025), Section 2.2.1.
  """
  k_u, k_g = jax.random.split(key)
  basis = haar_basis(k_u, batch, spec.n, spec.d)
  g = jnp.sqrt(spec.sigma0_sq) * jax.random.normal(k_g, (batch, spec.L + 1, spec.d))
  return {"tokens": jnp.einsum("bnd,btd->btn", basis, g), "basis": basis}


def sphere_tokens(key: jax.Array, spec: DenoisingSpec, batch: int) -> dict[str, jax.Array]:
  """Clean tokens of the sphere family: uniform on the radius-R sphere ``S^d`` of a Haar-random (d+1)-dimensional
  subspace (normalised Gaussians in the subspace's coordinates).

  Args:
    key: PRNG key.
    spec: the task (family ``sphere``).
    batch: prompts B.

  Returns:
    ``tokens (B, L+1, n)`` and ``basis (B, n, d+1)``.

  Reference: Smart, Bietti & Sengupta (2025), Section 2.2.2.
  """
  k_u, k_g = jax.random.split(key)
  basis = haar_basis(k_u, batch, spec.n, spec.d + 1)
  g = jax.random.normal(k_g, (batch, spec.L + 1, spec.d + 1))
  g = spec.radius * g / jnp.linalg.norm(g, axis=-1, keepdims=True)
  return {"tokens": jnp.einsum("bnd,btd->btn", basis, g), "basis": basis}


def mixture_tokens(key: jax.Array, spec: DenoisingSpec, batch: int) -> dict[str, jax.Array]:
  """Clean tokens of the Gaussian-mixture family: K centres uniform on the radius-R sphere, labels uniform,
  ``X = mu_a + sigma0 xi``.

  Args:
    key: PRNG key.
    spec: the task (family ``mixture``).
    batch: prompts B.

  Returns:
    ``tokens (B, L+1, n)``, ``centres (B, K, n)`` and ``labels (B, L+1)``.

  Reference: Smart, Bietti & Sengupta (2025), Section 2.2.3.
  """
  k_mu, k_a, k_xi = jax.random.split(key, 3)
  mu = jax.random.normal(k_mu, (batch, spec.K, spec.n))
  mu = spec.radius * mu / jnp.linalg.norm(mu, axis=-1, keepdims=True)
  labels = jax.random.randint(k_a, (batch, spec.L + 1), 0, spec.K)
  xi = jax.random.normal(k_xi, (batch, spec.L + 1, spec.n))
  tokens = jnp.take_along_axis(mu, labels[..., None], axis=1) + jnp.sqrt(spec.sigma0_sq) * xi
  return {"tokens": tokens, "centres": mu, "labels": labels}


def corrupt(key: jax.Array, clean: jax.Array, sigma_z_sq: float) -> jax.Array:
  """The corrupted query ``X_{L+1} + Z``, ``Z ~ N(0, sigma_z_sq I_n)``.

  Args:
    key: PRNG key.
    clean: the clean last tokens (B, n).
    sigma_z_sq: the noise variance per coordinate.

  Returns:
    ``(B, n)``.

  Reference: Smart, Bietti & Sengupta (2025), Section 2.1.
  """
  return clean + jnp.sqrt(sigma_z_sq) * jax.random.normal(key, clean.shape)


TOKENS = {"subspace": "subspace_tokens", "sphere": "sphere_tokens", "mixture": "mixture_tokens"}


@prng.sampler
def sample(key: jax.Array, spec: DenoisingSpec, batch: int) -> dict[str, jax.Array]:
  """Denoising prompts: ``context (B, L, n)``, ``query (B, n)``, ``target (B, n)`` and the task (``basis`` or
  ``centres``/``labels``).

  Args:
    key: PRNG key; the batch is a pure function of (key, spec, batch).
    spec: the task.
    batch: prompts B.

  Returns:
    The prompts.

  Reference: Smart, Bietti & Sengupta (2025), Section 2.1 and App. A.1 (L clean tokens, the query last).
  """
  k_x, k_z = jax.random.split(key)
  draw = globals()[TOKENS[spec.family]]   # looked up at trace time, so a patched sampler takes effect
  out = dict(draw(k_x, spec, batch))
  tokens = out.pop("tokens")
  target = tokens[:, spec.L]
  return {"context": tokens[:, : spec.L], "query": corrupt(k_z, target, spec.sigma_z_sq), "target": target, **out}
