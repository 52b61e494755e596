"""The exact-gradient GD flows of a dynamics run (the theory's trajectories from the run's initialisation) and the
timing laws checked on them: ATTN_S's 1/s law (P8), ATTN_M's ln(1/s) escape slope (P6), noise and timing (P10)."""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from icljax.experiment.checks import Checker
from icljax.models import linattn_dynamics as model
from icljax.results.linattn_dynamics import plateaus
from icljax.results.linattn_dynamics.plan import DynamicsContext, population_of
from icljax.results.linattn_dynamics.setup import DynamicsSetup
from icljax.theory import linattn_dynamics as theory


def plateau_checks(c: Checker, label: str, entry: str, stairs: plateaus.Staircase, ms: list[int],
                   levels: np.ndarray, rounding: float) -> None:
  """One check per plateau of a curve: its level against L(M_m), within its spread plus float rounding (plateau 0,
  the loss at Gamma ~ 0, is c = E y_q^2 whatever is trained: an identity).

  Args:
    c: the run's checker.
    label: what the curve is (in the check's quantity).
    entry: the tolerance entry of the plateaus m >= 1.
    stairs: the curve's plateaus (levels and spreads, one per m).
    ms: the plateaus the run should show.
    levels: the closed-form L(M_0) ... L(M_d).
    rounding: relative float rounding added to each tolerance.

  Returns:
    None; one check per plateau.

  Reference: Zhang, Singh, Latham, Saxe (2025), Eq. 19 (Sec. 4); docs page "linattn_dynamics", sections
    "initial_level" and "flow_plateau".
  """
  for m, level, spread in zip(ms, stairs.levels, stairs.spreads):
    c(entry if m else "initial_level", f"{label}: plateau {m} level vs L(M_{m})", levels[m], level, se=spread,
      floor=rounding * abs(levels[m]))


def flow(setup: DynamicsSetup, ctx: DynamicsContext, multiple: float = 1.0, sigma: float | None = None,
         steps: int | None = None) -> tuple[np.ndarray, Any]:
  """The exact-gradient GD flow from ``multiple`` times the run's initialisation: population loss per step, and
  the final parameters.

  Args:
    setup: the run's specs.
    ctx: the run's evaluation context (initialisation, population moments).
    multiple: the factor on the initialisation.
    sigma: a label noise other than the run's, or None.
    steps: the steps (None: the run's).

  Returns:
    The losses (steps,) before every step (float64) and the final parameters.

  Reference: Zhang, Singh, Latham, Saxe (2025), Eq. 5 (the gradient flow; GD on the population loss with
    t = 2 lr step).
  """
  population = population_of(setup, sigma) if sigma is not None else ctx.population
  c, b, h = (jnp.asarray(m, jnp.float32) for m in population)
  moments = (c, b, h)
  p0 = jax.tree.map(lambda x: multiple * x, ctx.init)
  lr = setup.learning_rate
  n = setup.run.steps if steps is None else steps
  final, losses = jax.jit(lambda p: theory.gd_curve(lambda q: theory.quadratic_loss(model.gamma(q), moments), p, lr,
                                                     n))(p0)
  return np.asarray(losses, np.float64), final


def settled(loss: np.ndarray, first: float, last: float) -> bool:
  """Whether a curve ends on its last plateau: within 1e-5 of the total drop from ``first`` to ``last``.

  Args:
    loss: the curve.
    first: its first plateau's level.
    last: its last plateau's level.

  Returns:
    Whether it has settled.

  Reference: docs page "linattn_dynamics", section "Setting" (the exact-gradient flow).
  """
  return bool(loss[-1] - last <= 1e-5 * (first - last))


def flow_to_end(setup: DynamicsSetup, ctx: DynamicsContext, first: float, last: float) -> tuple[np.ndarray, Any]:
  """The flow over the run's steps, doubled until it has :func:`settled` (at most 2^5 times the run's steps): the
  theory's whole trajectory, whatever the run's length.

  Args:
    setup: the run's specs.
    ctx: the run's evaluation context.
    first: the first plateau's level.
    last: the last plateau's level.

  Returns:
    The losses and the final parameters.

  Reference: docs page "linattn_dynamics", section "Setting" (the exact-gradient flow).
  """
  n = setup.run.steps
  while True:
    loss, final = flow(setup, ctx, steps=n)
    if settled(loss, first, last) or n >= 32 * setup.run.steps:
      return loss, final
    n *= 2


def power_law(c: Checker, setup: DynamicsSetup, ctx: DynamicsContext, mids: np.ndarray, base: np.ndarray,
               scalars: dict[str, Any], steps: int) -> None:
  """P8: ATTN_S drop times scale as 1/s: the flows from each ``flow_inits`` multiple c of the initialisation (1/c
  times as many steps when c < 1), the largest |c t_m(c s)/t_m(s) - 1| over drops and multiples.

  Args:
    c: the run's checker.
    setup: the run's specs.
    ctx: the run's evaluation context.
    mids: the midpoints between consecutive plateaus (a drop is a crossing).
    base: the drop steps of the flow from the run's initialisation.
    scalars: the run's scalars (each flow's drop steps are added).
    steps: the length of the base flow.

  Returns:
    None; one ``power_law`` check.

  Reference: Zhang, Singh, Latham, Saxe (2025), Eq. 21 (its v^2 term alone: escape at t = tau/(a_d v_0)); derived
    on the docs page "linattn_dynamics", section "power_law".
  """
  worst = 0.0
  for multiple in setup.flow_inits:
    if multiple == 1.0:
      continue
    curve, _ = flow(setup, ctx, multiple, steps=int(math.ceil(steps / min(multiple, 1.0))))
    t = plateaus.crossings(np.arange(1, len(curve)), curve[1:], mids)
    scalars[f"flow_drop_steps_x{multiple:g}"] = t.tolist()
    worst = max(worst, float(np.max(np.abs(multiple * t / base - 1))))
  c("power_law", "P8: max |c t_m(c s) / t_m(s) - 1| over drops and init multiples c", 0.0, worst)


def escape_slope(c: Checker, setup: DynamicsSetup, ctx: DynamicsContext, levels: np.ndarray,
                  scalars: dict[str, Any], arrays: dict[str, Any]) -> None:
  """P6: ATTN_M's half-drop time (in tau) on the flows from each ``flow_inits`` multiple, fitted against ln(1/s);
  the slope against the GD escape slope ``2 lr/ln(1 + 2 lr ||Lam Om Lam||_F)``.

  Args:
    c: the run's checker.
    setup: the run's specs.
    ctx: the run's evaluation context.
    levels: the closed-form L(M_0) ... L(M_d).
    scalars: the run's scalars (the slopes are added).
    arrays: the run's arrays (ln(1/s) and t_half are added, for the figure).

  Returns:
    None; one ``escape_slope`` check.

  Reference: Zhang, Singh, Latham, Saxe (2025), Sec. 3 (escape time ~ tau ln(1/w_init)/||Lam^2||_F); the GD form is
    derived on the docs page "linattn_dynamics", section "escape_slope".
  """
  half = (levels[0] + levels[-1]) / 2
  lr = setup.learning_rate
  xs, ts = [], []
  for multiple in setup.flow_inits:
    curve, _ = flow(setup, ctx, multiple)
    step = plateaus.crossings(np.arange(1, len(curve)), curve[1:], [half])[0]
    xs.append(-math.log(multiple * setup.model.init_scale))
    ts.append(2 * lr * step)
  x, t = np.array(xs), np.array(ts)
  (slope, intercept), cov = np.polyfit(x, t, 1, cov=True) if len(x) > 2 else (np.polyfit(x, t, 1), np.zeros((2, 2)))
  rate = theory.escape_rate(setup.task.cov, setup.task.prior)
  expected = theory.escape_slope_gd(rate, lr)
  c("escape_slope", "P6: fitted t_half slope (tau per e-fold of init) vs 2 lr/ln(1 + 2 lr ||Lam Om Lam||_F)",
    expected, slope, se=math.sqrt(cov[0, 0]), floor=2 * lr * 1e-3 / max(np.ptp(x), 1e-30),
    dof=max(len(x) - 2, 1))
  scalars.update(escape_slope_fitted=float(slope), escape_slope_gd=expected, escape_slope_flow=1 / rate)
  arrays.update(escape_log_inv_init=x, escape_t_half=t)


def noise(c: Checker, setup: DynamicsSetup, ctx: DynamicsContext, ms: list[int], base: np.ndarray,
           scalars: dict[str, Any], arrays: dict[str, Any], steps: int) -> None:
  """P10: the flow from the same initialisation at label noise ``noise_sigma``: its plateaus against the noisy
  staircase (``flow_plateau``) and, for ATTN_S, its drop times against the run's (``noise_timing``).

  Args:
    c: the run's checker.
    setup: the run's specs.
    ctx: the run's evaluation context.
    ms: the plateaus the run should show.
    base: the drop steps of the flow at the run's noise.
    scalars: the run's scalars (the noisy drop steps are added).
    arrays: the run's arrays (the noisy flow's loss is added).
    steps: the length of the base flow.

  Returns:
    None.

  Reference: docs page "linattn_dynamics", section "noise_timing" (the noise enters K, not a_d).
  """
  task = setup.task
  sigma = setup.noise_sigma
  if sigma == float(task.sigma):
    return
  noisy = theory.staircase(np.linalg.eigvalsh(np.asarray(task.cov, np.float64)), task.n, sigma, task.prior)["levels"]
  curve, _ = flow(setup, ctx, sigma=sigma, steps=steps)
  mids = plateaus.midpoints(noisy, ms)
  t = plateaus.crossings(np.arange(1, len(curve)), curve[1:], mids)
  stairs = plateaus.detect(np.arange(len(curve), dtype=np.float64), curve)
  if len(stairs.levels) == len(ms):
    plateau_checks(c, f"flow at noise {sigma:g}", "flow_plateau", stairs, ms, noisy, 1e-5)
  if setup.model.kind != "merged":
    c("noise_timing", f"P10: max relative difference of drop times, noise {float(task.sigma):g} vs {sigma:g}", 0.0,
      float(np.max(np.abs(t / base - 1))))
  scalars[f"flow_drop_steps_noise{sigma:g}"] = t.tolist()
  arrays["noise_flow_loss"] = curve
