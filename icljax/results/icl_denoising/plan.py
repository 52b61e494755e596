"""The in-context denoising plan: R replicas (independent initialisations and data streams), each training both
denoisers on fresh prompts every step (population training: the trained weights' reference is the population
optimum, with no sample's least-squares noise): linear attention by plain GD, softmax attention by Adam.

Theory of a run (total squared errors; ``gamma = <diag W_PV><diag W_KQ>``):

| task | linear attention: gamma* at finite L | its L -> infinity limit | Bayes risk |
|---|---|---|---|
| subspace | 1/[(sigma0^2 + sigma_z^2)(1 + (d+1)/L)] | 1/(sigma0^2 + sigma_z^2) (eq. (10)) | closed form (Prop. 2) |
| sphere | 1/[(R^2/(d+1) + sigma_z^2)(1 + d/L)] | 1/(R^2/(d+1) + sigma_z^2) | quadrature (Prop. 3) |
| mixture | Monte Carlo on the theory's own prompts | - | Monte Carlo only (Prop. 4) |

Reference: Smart, Bietti & Sengupta (2025), Sections 2-3.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax

from icljax import optim, prng
from icljax.experiment.api import Plan
from icljax.models import icl_denoising as model
from icljax.results.icl_denoising.setup import DenoisingSetup
from icljax.tasks import icl_denoising as task
from icljax.theory import icl_denoising as theory
from icljax.theory import icl_denoising_linear as linear_theory
from icljax.theory import icl_denoising_mc as theory_mc

TRAIN_KEYS = ("context", "query", "target")


@dataclasses.dataclass(frozen=True)
class Theory:
  """A run's closed forms (None where the task has none).

  Attributes:
    gamma_star: linear attention's finite-L optimum gamma*_L.
    gamma_star_se: its Monte-Carlo standard error (0 for closed forms).
    gamma_limit: its L -> infinity value (eq. (10); the sphere's analogue), None for the mixture.
    bayes_risk: the Bayes risk (Prop. 2; Prop. 3 by quadrature), None for the mixture.
    source: how the values were computed.

  Reference: docs page "icl_denoising", entries gamma_finite_L, gamma_limit and bayes_risk.
  """

  gamma_star: float
  gamma_star_se: float
  gamma_limit: float | None
  bayes_risk: float | None
  source: str


@dataclasses.dataclass(frozen=True)
class DenoisingContext:
  """What evaluation needs: the theory, the linear inits' ``||W_PV||^2 - ||W_KQ||^2``, the keys.

  Attributes:
    theory: the run's closed forms.
    delta0: each replica's initial ``||W_PV||^2 - ||W_KQ||^2`` of linear attention (R,).
    eval_key: the evaluation stream.
    theory_key: the theory's own stream (valleys, the mixture's gamma*).

  Reference: docs page "icl_denoising", entries balanced and norms_conserved.
  """

  theory: Theory
  delta0: np.ndarray
  eval_key: jax.Array
  theory_key: jax.Array


def theory_for(setup: DenoisingSetup, key: jax.Array) -> Theory:
  """The closed forms of the run's task (module table).

  Args:
    setup: the run's specs.
    key: the theory stream (the mixture's Monte-Carlo gamma*).

  Returns:
    The theory.

  Reference: Smart, Bietti & Sengupta (2025), Props. 2-3 and eq. (10); the finite-L optima are derived in the docs
  page "icl_denoising" (entry gamma_finite_L).
  """
  t = setup.task
  if t.family == "subspace":
    return Theory(linear_theory.linear_gamma_star(t.d, t.L, t.sigma0_sq, t.sigma_z_sq), 0.0,
                  linear_theory.linear_gamma_limit(t.sigma0_sq, t.sigma_z_sq),
                  theory.subspace_bayes_risk(t.d, t.sigma0_sq, t.sigma_z_sq), "closed forms")
  if t.family == "sphere":
    return Theory(linear_theory.sphere_linear_gamma_star(t.d, t.L, t.radius, t.sigma_z_sq), 0.0,
                  1.0 / (t.radius**2 / (t.d + 1) + t.sigma_z_sq),
                  theory.sphere_bayes_risk(t.d, t.radius, t.sigma_z_sq), "closed forms and Gauss quadrature")
  lin = theory_mc.valley(key, t.family, t.L, t.support_dim, t.sigma0_sq, t.sigma_z_sq, t.radius, t.K, [1.0],
                         pool="linear", prompts=setup.theory_prompts)
  return Theory(float(lin.alpha_star()[0]), float(lin.alpha_se()[0]), None, None,
                f"gamma* by Monte Carlo on {lin.prompts} prompts")


def replica_losses(params: dict[str, jax.Array], data: dict[str, jax.Array], kind: str) -> jax.Array:
  """Each replica's mean total squared error on its own prompts.

  Args:
    params: one denoiser's stacked parameters (R, n, n).
    data: stacked prompts (R, B, ...).
    kind: ``'linear'`` or ``'softmax'``.

  Returns:
    ``(R,)``.

  Reference: Smart, Bietti & Sengupta (2025), eq. (9).
  """
  return jax.vmap(lambda p, b: jnp.mean(model.squared_error(p, b, kind)))(params, data)


def norm_difference(params: dict[str, jax.Array]) -> jax.Array:
  """``||W_PV||_F^2 - ||W_KQ||_F^2`` of each replica (conserved by gradient flow on linear attention).

  Args:
    params: stacked parameters (R, n, n).

  Returns:
    ``(R,)``.

  Reference: Smart, Bietti & Sengupta (2025), eq. (11)'s rescaling symmetry; docs page "icl_denoising", entry
  norms_conserved.
  """
  return jnp.sum(params["W_PV"] ** 2, (-2, -1)) - jnp.sum(params["W_KQ"] ** 2, (-2, -1))


def diag_means(params: dict[str, jax.Array]) -> tuple[jax.Array, jax.Array]:
  """``(<diag W_PV>, <diag W_KQ>)`` of each replica: the scalar reduction's alpha and beta.

  Args:
    params: stacked parameters (R, n, n).

  Returns:
    Two ``(R,)`` arrays.

  Reference: Smart, Bietti & Sengupta (2025), Section 3.1 and Fig. 3(b) (the trained product
  <diag W_KQ><diag W_PV>).
  """
  mean = lambda w: jnp.mean(jnp.diagonal(w, axis1=-2, axis2=-1), -1)
  return mean(params["W_PV"]), mean(params["W_KQ"])


def objective(batch_size: int):
  """``(params, key, task spec) -> loss``: both denoisers' losses summed over replicas, replica r on its own fresh
  prompts (``fold_in(key, r)``); each parameter set sees only its own loss.

  Args:
    batch_size: fresh prompts per replica and step.

  Returns:
    The objective.

  Reference: Smart, Bietti & Sengupta (2025), eq. (9) on fresh prompts; docs page "icl_denoising", section
  "Setting".
  """

  def fn(params, key, spec):
    replicas = params["linear"]["W_PV"].shape[0]
    keys = jax.vmap(lambda r: jax.random.fold_in(key, r))(jnp.arange(replicas))
    data = jax.vmap(lambda k: task.sample(k, spec, batch_size))(keys)
    return jnp.sum(replica_losses(params["linear"], data, "linear") + replica_losses(params["softmax"], data,
                                                                                      "softmax"))

  return fn


def optimizer(setup: DenoisingSetup) -> optax.GradientTransformation:
  """Plain GD for linear attention, Adam for softmax attention (both with a cosine decay), and the exact
  discrete-step term of the conserved quantity: ``path += ||u_PV||^2 - ||u_KQ||^2`` of each linear step ``u``
  (gradient flow conserves ``||W_PV||^2 - ||W_KQ||^2``; a step of plain GD changes it by exactly that amount).

  Args:
    setup: the run's specs.

  Returns:
    The optax transformation (parameters ``{'linear', 'softmax', 'path'}``).

  Reference: docs page "icl_denoising", section "Setting" and entries balanced and norms_conserved.
  """
  decay = lambda lr: optax.cosine_decay_schedule(lr, setup.run.steps, alpha=setup.final_lr_fraction)
  adam, gd = optim.adam(decay(setup.softmax_lr)), optax.sgd(decay(setup.linear_lr))

  def init(params):
    return adam.init(params["softmax"]), gd.init(params["linear"])

  def update(grads, state, params=None):
    soft, s_adam = adam.update(grads["softmax"], state[0], None if params is None else params["softmax"])
    lin, s_gd = gd.update(grads["linear"], state[1])
    path = jnp.sum(lin["W_PV"] ** 2, (-2, -1)) - jnp.sum(lin["W_KQ"] ** 2, (-2, -1))
    return {"linear": lin, "softmax": soft, "path": path}, (s_adam, s_gd)

  return optax.GradientTransformation(init, update)


@jax.jit
def _track(params, delta0):
  a, b = diag_means(params["linear"])
  sa, sb = diag_means(params["softmax"])
  drift = norm_difference(params["linear"]) - delta0
  return {"gamma_linear": jnp.mean(a * b), "delta_drift": jnp.max(jnp.abs(drift)),
          "delta_unexplained": jnp.max(jnp.abs(drift - params["path"])), "alpha_softmax": jnp.mean(jnp.abs(sa)),
          "beta_softmax": jnp.mean(jnp.abs(sb))}


def plan(setup: DenoisingSetup) -> Plan[DenoisingContext]:
  """The plan of a denoising run (keys: init, data, eval, theory).

  Args:
    setup: the run's specs.

  Returns:
    The plan.

  Reference: docs page "icl_denoising", section "Setting".
  """
  seed, n, R = setup.run.seed, setup.task.n, setup.replicas
  init = prng.stream(seed, "init")
  stack = lambda i: jax.tree.map(lambda *x: jnp.stack(x),
                                 *[model.init(jax.random.fold_in(jax.random.fold_in(init, i), r), n) for r in range(R)])
  params = {"linear": stack(0), "softmax": stack(1), "path": jnp.zeros(R, jnp.float32)}
  delta0 = np.asarray(norm_difference(params["linear"]), np.float64)
  theory_key = prng.stream(seed, "theory")
  ctx = DenoisingContext(theory=theory_for(setup, jax.random.fold_in(theory_key, 0)), delta0=delta0,
                         eval_key=prng.stream(seed, "eval"), theory_key=theory_key)
  track = lambda p: {k: float(v) for k, v in _track(p, jnp.asarray(delta0, jnp.float32)).items()}
  return Plan(objective=objective(setup.batch_size), params=params, hparams=setup.task, optimizer=optimizer(setup),
              data_key=prng.stream(seed, "data"), context=ctx, track=track)
