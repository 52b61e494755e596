"""The plan of a softmax-as-linear run: the finite-L layers trained on one fixed sample of prompts (full-batch
steps; softmax, and linear attention from the same initialisation), the infinite-prompt layer trained by plain GD
on R_inf beside them, and the theory the evaluation compares them with.

The loss of a finite-L layer is ``1/2 E(y_hat - y)^2`` over the sample (the paper's R_L with its 1/2): with
``estimator='marginal'`` each prompt's w and label noise are integrated out in closed form (``y_hat`` is linear
in the labels), ``1/2 [s_w |b x_bar_p - x|^2 + b^2 sigma^2 sum p_i^2 + sigma^2]`` with ``x_bar_p = sum p_i x_i``;
``'prompts'`` uses sampled w and labels. Each block's loss depends on its own parameters only, so the summed
objective trains the three layers independently (Adam and SGD update coordinates separately).

Reference: Boursier & Boyer (2025), arXiv 2512.11784, Sec. 4-5 (R_L, R_inf, Thm 4.3 and Thm 5.1).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from icljax import prng
from icljax.experiment.api import Plan
from icljax.models import softmax_as_linear as model
from icljax.results.softmax_as_linear import reference as reference_lib
from icljax.results.softmax_as_linear.setup import SalSetup
from icljax.tasks import softmax_as_linear as task
from icljax.theory import softmax_as_linear as theory

LAYERS = ("softmax", "linear")


@dataclasses.dataclass(frozen=True)
class SalContext:
  """What evaluation needs.

  Attributes:
    ref: the theory of the run's setting.
    init: the initial layer (the same for the three layers).
    eval_key: key of the test prompts.
    theory_key: key of the no-training checks and the sandwich prompts.

  Reference: docs page "softmax_as_linear", section "What is checked and why".
  """

  ref: reference_lib.Reference
  init: dict[str, Any]
  eval_key: jax.Array
  theory_key: jax.Array


def marginal_loss(params: dict[str, jax.Array], batch: dict[str, jax.Array], spec: task.TokenSpec,
                  attention: str) -> jax.Array:
  """Per-prompt ``E_{w, noise}[(y_hat - y)^2]`` given the tokens (closed form; ``y_hat`` is linear in the labels).

  Args:
    params: ``{'A', 'b'}``.
    batch: ``{'x': (B, L, d), 'x_query': (B, d)}``.
    spec: the prompt law (``prior_var``, ``sigma``).
    attention: ``'softmax'`` or ``'linear'``.

  Returns:
    (B,) expected squared errors (the excess plus ``sigma^2``).

  Reference: Boursier & Boyer (2025), Sec. 5 (R_L); the closed form over w and the noise is derived in the docs
  page "softmax_as_linear", section "Setting".
  """
  p = model.weights(batch["x"], params["A"], batch["x_query"], attention)
  resid = params["b"] * jnp.einsum("bl,bld->bd", p, batch["x"]) - batch["x_query"]
  noise = spec.sigma**2 * (1 + params["b"] ** 2 * jnp.sum(p * p, -1))
  return spec.prior_var * jnp.sum(resid * resid, -1) + noise


def layer_loss(setup: SalSetup, params: dict[str, jax.Array], batch: dict[str, jax.Array], attention: str):
  """``1/2`` the mean squared error of one finite-L layer on a batch (per the run's estimator).

  Args:
    setup: the run's specs (``estimator``, the prompt law).
    params: the layer ``{'A', 'b'}``.
    batch: prompts (inputs only for ``'marginal'``; with ``y`` and ``y_query`` for ``'prompts'``).
    attention: ``'softmax'`` or ``'linear'``.

  Returns:
    The loss (scalar).

  Reference: Boursier & Boyer (2025), Sec. 4-5 (R_L with its 1/2); docs page "softmax_as_linear", section
  "Setting".
  """
  if setup.estimator == "marginal":
    return 0.5 * jnp.mean(marginal_loss(params, batch, setup.task, attention))
  return 0.5 * jnp.mean((model.predict(params, batch, attention) - batch["y_query"]) ** 2)


def objective(setup: SalSetup):
  """The training objective: the finite-L layers on the fixed sample plus R_inf for the population layer (each
  block's loss depends on its own parameters only).

  Args:
    setup: the run's specs.

  Returns:
    ``(params, key, (spec, sample)) -> loss``.

  Reference: Boursier & Boyer (2025), Sec. 4-5 (R_L and R_inf); docs page "softmax_as_linear", section "Setting".
  """

  def fn(params, key, hparams):
    del key
    spec, sample = hparams
    loss = sum(layer_loss(setup, params[k], sample, k) for k in LAYERS if k in params)
    if "population" in params:
      loss = loss + theory.population_risk(params["population"]["A"], params["population"]["b"], spec.cov,
                                           spec.prior_var)
    return loss

  return fn


def split_optimizer(main: optax.GradientTransformation,
                    population: optax.GradientTransformation) -> optax.GradientTransformationExtraArgs:
  """The finite-L layers' optimiser (L-BFGS with its line search restricted to them, or Adam/SGD) beside plain GD
  on the infinite-prompt layer (``params['population']``, when present).

  Args:
    main: the finite-L layers' transformation.
    population: the infinite-prompt layer's transformation.

  Returns:
    One transformation of the whole parameter dict (the line search sees the total loss as a function of the
    finite-L layers, the population layer held fixed: a constant offset).

  Reference: docs page "softmax_as_linear", section "Setting" (the optimiser).
  """
  main = optax.with_extra_args_support(main)

  def split(tree):
    return {k: v for k, v in tree.items() if k != "population"}, tree.get("population")

  def init_fn(params):
    mp, pp = split(params)
    return main.init(mp), (population.init(pp) if pp is not None else ())

  def update_fn(updates, state, params=None, *, value=None, grad=None, value_fn=None, **extra):
    del grad, extra
    mg, pg = split(updates)
    mp, pp = split(params)
    fn = None if value_fn is None else (lambda q: value_fn({**params, **q}))
    mu, ms = main.update(mg, state[0], mp, value=value, grad=mg, value_fn=fn)
    if pg is None:
      return mu, (ms, ())
    pu, ps = population.update(pg, state[1], pp)
    return {**mu, "population": pu}, (ms, ps)

  return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def population_gd(lr: float, steps: int, cov: jax.Array, prior_var: jax.Array) -> optax.GradientTransformation:
  """``steps`` plain GD steps of size ``lr`` on ``R_inf`` per training step (the driver's gradient of the
  population layer is that of R_inf: the same first step).

  Args:
    lr: the GD step.
    steps: GD steps per training step.
    cov: Sigma.
    prior_var: s_w.

  Returns:
    A stateless transformation of the population layer.

  Reference: Boursier & Boyer (2025), Thm 5.1 (gradient flow on R_inf, here discretised); docs page
  "softmax_as_linear", section "What is checked and why" (population_endpoint).
  """
  grad = jax.grad(lambda q: theory.population_risk(q["A"], q["b"], cov, prior_var))

  def update_fn(updates, state, params=None):
    del updates
    new = jax.lax.fori_loop(0, steps, lambda _, p: jax.tree.map(lambda x, g: x - lr * g, p, grad(p)), params)
    return jax.tree.map(lambda n, o: n - o, new, params), state

  return optax.GradientTransformation(lambda params: optax.EmptyState(), update_fn)


def summary_of(layer: dict[str, Any], cov: np.ndarray) -> dict[str, float]:
  """Scalars of one layer: ``a = tr(Sigma A)/d``, ``t = a^2``, ``b``, the product ``b a`` and ``|A|_F^2 - b^2``.

  Args:
    layer: ``{'A', 'b'}``.
    cov: Sigma.

  Returns:
    ``{'a', 't', 'b', 'product', 'balance'}``.

  Reference: docs page "softmax_as_linear", section "Setting" (the measured quantities).
  """
  A, b = np.asarray(layer["A"], np.float64), float(layer["b"])
  a = float(np.trace(cov @ A)) / len(cov)
  return {"a": a, "t": a * a, "b": b, "product": b * a, "balance": float(np.sum(A * A)) - b * b}


def plan(setup: SalSetup) -> Plan[SalContext]:
  """The plan (keys from the common stream table: init, data, sample, eval, theory).

  Args:
    setup: the run's specs.

  Returns:
    The plan.

  Reference: docs page "softmax_as_linear", section "Setting".
  """
  seed, spec = setup.run.seed, setup.task
  init = model.init(prng.stream(seed, "init"), spec.d, setup.init_alpha)
  params = {"softmax": init, **({"linear": init} if setup.linear else {}),
            **({"population": init} if setup.population else {})}
  draw = task.sample if setup.estimator == "prompts" else task.sample_inputs
  sample = draw(prng.stream(seed, "sample"), spec, setup.train_prompts)
  optimizer = split_optimizer(setup.optimizer.build(),
                              population_gd(setup.population_lr, setup.population_substeps, spec.cov, spec.prior_var))
  ref = reference_lib.reference(setup)

  def track(p):
    out = {}
    for k in params:
      out.update({f"{k}_{name}": v for name, v in summary_of(p[k], ref.cov).items()})
    return out

  return Plan(objective=objective(setup), params=params, hparams=(spec, sample), optimizer=optimizer,
              data_key=prng.stream(seed, "data"),
              context=SalContext(ref=ref, init=init, eval_key=prng.stream(seed, "eval"),
                                 theory_key=prng.stream(seed, "theory")), track=track)
