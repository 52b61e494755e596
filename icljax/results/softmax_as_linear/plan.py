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
from icljax.results.softmax_as_linear.setup import SalSetup
from icljax.tasks import softmax_as_linear as task
from icljax.theory import softmax_as_linear as theory
from icljax.theory import softmax_as_linear_exact as exact
from icljax.theory import softmax_as_linear_finite as finite

LAYERS = ("softmax", "linear")
LIMIT_L = 2**16   # the prompt length at which the exact optimum is compared with the first-order forms


@dataclasses.dataclass(frozen=True)
class Reference:
  """The theory of a run's setting (None where it does not apply).

  Attributes:
    cov: Sigma (float64); ctx_cov / query_cov: the context and query covariances actually sampled.
    t_star, kappa, F: first order on the valley ``A = sqrt(t) Sigma^-1``.
    k_full, theta: the first-order shrink ``tr(Sigma b A)/d = 1 - k_full/L`` of the optimum over all A and the
      coefficient of its Sigma^-1 shape (:func:`finite.anisotropic_product`; ``k_full = kappa``, ``theta`` unused
      when Sigma is isotropic).
    second: second-order offsets (``tau1``, ``F2``, ``kappa2_opt``), inf when ``t* >= 1/6``.
    exact: the exact finite-L optimum of Gaussian tokens at L (isotropic Sigma, no sampler bug; for non-Gaussian
      tokens it is the Gaussian prediction the controls reject).
    limit: the exact optimum at ``LIMIT_L`` tokens (Gaussian tokens, d >= 4), against the first-order forms, with
      the second-order terms at its t (``limit['next']``) as the truncation bounds.
    linear_b, linear_excess: the linear-attention optimum at L.
    pop_a, pop_b: the balanced end point of R_inf.
  """

  cov: np.ndarray
  ctx_cov: np.ndarray
  query_cov: np.ndarray
  t_star: float
  kappa: float
  k_full: float
  theta: float
  F: float
  second: dict[str, float]
  exact: dict[str, float] | None
  limit: dict[str, float] | None
  linear_b: np.ndarray
  linear_excess: float
  pop_a: np.ndarray
  pop_b: float


@dataclasses.dataclass(frozen=True)
class SalContext:
  """What evaluation needs: the reference, the initial parameters and the keys of the evaluation streams."""

  ref: Reference
  init: dict[str, Any]
  eval_key: jax.Array
  theory_key: jax.Array


def isotropic(cov: np.ndarray) -> bool:
  """Whether Sigma is a multiple of the identity."""
  return bool(np.allclose(cov, cov[0, 0] * np.eye(len(cov))))


def reference(setup: SalSetup) -> Reference:
  """The theory of the run's setting.

  Args:
    setup: the run's specs.

  Returns:
    The reference values.
  """
  spec = setup.task
  cov = np.asarray(spec.cov, np.float64)
  d, L, trace = spec.d, spec.L, float(np.trace(cov))
  s_w = float(spec.prior_var)
  noise = float(spec.sigma) ** 2 / s_w
  ts = finite.t_star(d, trace, noise)
  k, theta = finite.anisotropic_product(ts, cov, noise)
  iso = isotropic(cov)
  ex = limit = None
  second = finite.second_order_at_optimum(d, trace, noise)
  if iso and spec.tokens != "rademacher" and not spec.data_bug:
    ex = exact.finite_optimum(L, d, trace, noise, s_w)
  if spec.tokens == "gaussian" and not spec.data_bug and d >= 4:   # d <= 3: the second-order terms are too large
    limit = exact.finite_optimum(LIMIT_L, d, trace, noise, s_w)
    limit["next"] = finite.second_order_at_optimum(d, trace, noise, at=limit["t"])
  lin_b, lin_ex = theory.linear_attention_optimum(spec.context_cov(), L, noise, s_w)
  pop_a, pop_b = theory.balanced_endpoint(cov)
  return Reference(cov=cov, ctx_cov=spec.context_cov(), query_cov=spec.query_cov(), t_star=ts,
                   kappa=finite.kappa(ts, d, trace, noise), k_full=k, theta=theta,
                   F=finite.first_order_excess(ts, d, trace, noise, s_w),
                   second=second, exact=ex, limit=limit, linear_b=lin_b,
                   linear_excess=lin_ex, pop_a=pop_a, pop_b=pop_b)


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
  """
  p = model.weights(batch["x"], params["A"], batch["x_query"], attention)
  resid = params["b"] * jnp.einsum("bl,bld->bd", p, batch["x"]) - batch["x_query"]
  noise = spec.sigma**2 * (1 + params["b"] ** 2 * jnp.sum(p * p, -1))
  return spec.prior_var * jnp.sum(resid * resid, -1) + noise


def layer_loss(setup: SalSetup, params: dict[str, jax.Array], batch: dict[str, jax.Array], attention: str):
  """``1/2`` the mean squared error of one finite-L layer on a batch (per the run's estimator)."""
  if setup.estimator == "marginal":
    return 0.5 * jnp.mean(marginal_loss(params, batch, setup.task, attention))
  return 0.5 * jnp.mean((model.predict(params, batch, attention) - batch["y_query"]) ** 2)


def objective(setup: SalSetup):
  """``(params, key, (spec, sample)) -> loss``: the finite-L layers on the fixed sample plus R_inf."""

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
  """
  grad = jax.grad(lambda q: theory.population_risk(q["A"], q["b"], cov, prior_var))

  def update_fn(updates, state, params=None):
    del updates
    new = jax.lax.fori_loop(0, steps, lambda _, p: jax.tree.map(lambda x, g: x - lr * g, p, grad(p)), params)
    return jax.tree.map(lambda n, o: n - o, new, params), state

  return optax.GradientTransformation(lambda params: optax.EmptyState(), update_fn)


def summary_of(layer: dict[str, Any], cov: np.ndarray) -> dict[str, float]:
  """Scalars of one layer: ``a = tr(Sigma A)/d``, ``t = a^2``, ``b``, the product ``b a`` and ``|A|_F^2 - b^2``."""
  A, b = np.asarray(layer["A"], np.float64), float(layer["b"])
  a = float(np.trace(cov @ A)) / len(cov)
  return {"a": a, "t": a * a, "b": b, "product": b * a, "balance": float(np.sum(A * A)) - b * b}


def plan(setup: SalSetup) -> Plan[SalContext]:
  """The plan (keys from the common stream table: init, data, sample, eval, theory).

  Args:
    setup: the run's specs.

  Returns:
    The plan.
  """
  seed, spec = setup.run.seed, setup.task
  init = model.init(prng.stream(seed, "init"), spec.d, setup.init_alpha)
  params = {"softmax": init, **({"linear": init} if setup.linear else {}),
            **({"population": init} if setup.population else {})}
  draw = task.sample if setup.estimator == "prompts" else task.sample_inputs
  sample = draw(prng.stream(seed, "sample"), spec, setup.train_prompts)
  optimizer = split_optimizer(setup.optimizer.build(),
                              population_gd(setup.population_lr, setup.population_substeps, spec.cov, spec.prior_var))
  ref = reference(setup)

  def track(p):
    out = {}
    for k in params:
      out.update({f"{k}_{name}": v for name, v in summary_of(p[k], ref.cov).items()})
    return out

  return Plan(objective=objective(setup), params=params, hparams=(spec, sample), optimizer=optimizer,
              data_key=prng.stream(seed, "data"),
              context=SalContext(ref=ref, init=init, eval_key=prng.stream(seed, "eval"),
                                 theory_key=prng.stream(seed, "theory")), track=track)
