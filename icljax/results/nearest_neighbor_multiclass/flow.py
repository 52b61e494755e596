"""The reduced flow run: one binary population GD run, read at ``s = f eta t`` for every K (Lemma 2: K-class GD at
step eta is binary GD at step f eta, and GD tracks the flow in ``s``), from the run's sigma on ``flow_replicas``
independent inner-product samples, from Lemma 12's sigma threshold, and once more at step 2h for the step's bias
(Richardson: the run at h minus the run at 2h is the bias of the run at h to first order, and the bias at step eta'
is that times eta'/h).

It gives the reference rows for K = 2, 3, 5, 10 up to 1e6 K-class steps, Lemma 12's ratio, the late-time rate, and
the step bias of the trained rows.

Reference: Athreya & Wang (2026), Lemma 2 (the clock f eta), Lemma 12 and Fig. 1's text (the rate); docs page
"nearest_neighbor_multiclass", section "What is checked and why" (the flow run, the step's bias, the reference's
noise).
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np

from icljax import prng, stats
from icljax.experiment.checks import Checker
from icljax.results.nearest_neighbor_multiclass import plan as mc_plan
from icljax.results.nearest_neighbor_multiclass.setup import MulticlassSetup
from icljax.tasks import nearest_neighbor_multiclass as task
from icljax.theory import nearest_neighbor as binary
from icljax.theory import nearest_neighbor_multiclass as theory

FLOW_STEP = 2.0             # h, the binary step of the flow run (its bias is computed, not assumed)
GRID = 200                  # evenly spaced points of the run's own horizon (Lemma 12, the rate, figures)
REF_FLOW_PROMPTS = 20_000   # the reference computation's trajectory sample
REF_EVAL_PROMPTS = 100_000  # its evaluation sample (losses, accuracies)
# Reference flow rows at d = 8, N = 16, sigma = 3, eta = 0.05: K -> (t, xi1, xi2, L_MC, accuracy); None: not given.
FLOW_ROWS = {
    2: ((10_000, 1.338, 3.045, 0.2056, 0.696), (40_000, None, None, None, 0.892),
        (100_000, 9.214, 8.354, 0.0681, 0.947), (1_000_000, 22.051, 19.135, 0.0271, 0.987)),
    3: ((40_000, 6.557, 6.109, 0.1270, 0.899), (60_000, 8.252, 7.550, 0.1016, 0.927),
        (100_000, 10.496, 9.415, 0.0794, 0.950), (1_000_000, 24.272, 21.085, 0.0327, 0.989)),
    5: ((40_000, None, None, None, 0.916), (100_000, 11.339, 10.109, 0.0878, 0.960),
        (1_000_000, 25.782, 22.426, 0.0368, 0.992)),
    10: ((40_000, None, None, None, 0.944), (100_000, 11.898, 10.569, 0.0939, 0.975),
         (1_000_000, 26.803, 23.339, 0.0397, 0.995)),
}

# One compiled evaluation program for every K: the points padded to the longest table, the argmax's one-hot width the
# largest K (a class absent from a prompt has mass 0 and the largest mass is positive, so any width >= K gives the
# same argmax; the padded points are discarded). Measured bitwise equal to the per-K programs on CPU.
ROWS_MAX = max(len(table) for table in FLOW_ROWS.values())
K_WIDTH = max(FLOW_ROWS)


@dataclasses.dataclass(frozen=True)
class Flow:
  """The flow run read at its times ``s`` (T,).

  Attributes:
    s: binary flow times (``f eta t``), sorted.
    xi: (R, T, 2) the replicas from the run's sigma at step h.
    loss: (R, T) their binary population loss on their own samples (at the whole step before each time).
    xi_h: (T, 2) replica 0 at step h.
    xi_2h: (T, 2) replica 0 at step 2h: ``xi_h - xi_2h`` is the bias of step h.
    threshold: (T, 2) replica 0 from Lemma 12's sigma threshold, or None.

  Reference: docs page "nearest_neighbor_multiclass", section "What is checked and why" (the flow run).
  """

  s: np.ndarray
  xi: np.ndarray
  loss: np.ndarray
  xi_h: np.ndarray
  xi_2h: np.ndarray
  threshold: np.ndarray | None

  def index(self, s: float) -> int:
    """The read-off of time ``s``.

    Args:
      s: a binary flow time.

    Returns:
      The index of the nearest read-off time.

    Reference: docs page "nearest_neighbor_multiclass", section "What is checked and why" (the flow run).
    """
    return int(np.argmin(np.abs(self.s - s)))


def rounding(value: float) -> float:
  """Half a unit of the last printed digit of a reference value (0.0005 for 1.849, 0.00005 for 3.0004).

  Args:
    value: a reference value as printed.

  Returns:
    Half a unit of its last decimal (0 beyond 8 decimals).

  Reference: docs page "nearest_neighbor_multiclass", section "What is checked and why" (the reference rows'
  error bars).
  """
  for k in range(9):
    if abs(round(value, k) - value) < 1e-12:
      return 0.5 * 10.0**-k
  return 0.0


def with_reference_noise(se: float | np.ndarray, replicas: int, prompts: int) -> float:
  """The s.e. of (our mean - the reference): our replicas' s.e. plus the reference's own sampling noise, one sample
  of REF_FLOW_PROMPTS prompts, i.e. the replicas' spread scaled to it: ``se sqrt(1 + R M / REF_FLOW_PROMPTS)``.

  Args:
    se: the standard error of our mean over the replicas (a float or a 0-d array).
    replicas: R.
    prompts: M, the prompts of each replica's sample.

  Returns:
    The standard error of the difference.

  Reference: docs page "nearest_neighbor_multiclass", section "What is checked and why" (the reference's noise).
  """
  return float(se * math.sqrt(1.0 + replicas * prompts / REF_FLOW_PROMPTS))


def late_slope(t: np.ndarray, v: np.ndarray, t_min: float) -> float:
  """The least-squares slope of log v against log t over ``t >= t_min`` (positive v only).

  Args:
    t: times.
    v: values.
    t_min: the window's start.

  Returns:
    The slope (-1/ln t at the window's geometric middle for c / ln t, -1/3 for t^(-1/3)).

  Reference: docs page "nearest_neighbor_multiclass", section "What is checked and why" (entry log_rate).
  """
  sel = (t >= t_min) & (v > 0)
  return float(np.polyfit(np.log(t[sel]), np.log(v[sel]), 1)[0])


def horizon(setup: MulticlassSetup, K: int) -> float:
  """The flow time of ``lemma12_steps`` K-class steps.

  Args:
    setup: the run's specs.
    K: classes.

  Returns:
    ``f eta lemma12_steps`` with ``f = (K-1)/K``.

  Reference: Athreya & Wang (2026), Lemma 2 (K-class GD at eta is binary GD at f eta).
  """
  return theory.factor(K) * setup.eta * setup.lemma12_steps


def run(setup: MulticlassSetup, tau_flow: jax.Array, extra: tuple[float, ...] = ()) -> Flow:
  """Runs the flow (one compiled program for every trajectory).

  Args:
    setup: the run's specs.
    tau_flow: (R, M, N) inner products, one sample per replica.
    extra: more read-off times (the trained rows').

  Returns:
    The flow read at the grid of the run's horizon, the flow rows' times and ``extra``.

  Reference: Athreya & Wang (2026), Lemma 2 and Lemma 12 (its sigma threshold); docs page
  "nearest_neighbor_multiclass", section "What is checked and why" (the flow run).
  """
  d, sigma, h = setup.task.d, setup.model.sigma, FLOW_STEP
  s_run = horizon(setup, setup.task.K)
  times = set(np.linspace(s_run / GRID, s_run, GRID).tolist()) if s_run else set()
  if setup.flow_rows:
    times |= {theory.factor(K) * setup.eta * r[0] for K, rows in FLOW_ROWS.items() for r in rows
              if r[0] <= setup.lemma12_steps}
  s = np.array(sorted(times | set(extra)), np.float64)
  blocks = mc_plan.prepare_stack(tau_flow)
  R = blocks.shape[0]
  threshold = (binary.lemma12_sigma_threshold(d, setup.task.N),) if s_run and d > 3 else ()
  starts = [sigma] * (R + 1) + list(threshold)
  steps_h = [h] * R + [2 * h] + [h] * len(threshold)
  pick = list(range(R)) + [0] * (1 + len(threshold))
  n = np.floor(s[None] / np.array(steps_h)[:, None] + 1e-9)
  frac = s[None] / np.array(steps_h)[:, None] - n
  xi, loss = theory.gd_points(np.array([[0.0, x] for x in starts], np.float32), blocks[np.array(pick)],
                              np.array(steps_h, np.float32), np.full(len(starts), d, np.float32), n.astype(np.int32),
                              frac.astype(np.float32))
  xi, loss = np.asarray(xi, np.float64), np.asarray(loss, np.float64)
  return Flow(s=s, xi=xi[:R], loss=loss[:R], xi_h=xi[0], xi_2h=xi[R], threshold=xi[R + 1] if threshold else None)


def bias(flow: Flow, s: float, step: float) -> np.ndarray:
  """|bias| of GD at ``step`` against the flow at time ``s``, (2,): Richardson at h scaled by step / h.

  Args:
    flow: the flow run.
    s: the flow time.
    step: the GD step whose bias is wanted (the trained system's f eta).

  Returns:
    ``|xi_h - xi_2h| step / h`` at the read-off of ``s``.

  Reference: docs page "nearest_neighbor_multiclass", section "What is checked and why" (the step's bias).
  """
  i = flow.index(s)
  return np.abs(flow.xi_h[i] - flow.xi_2h[i]) * step / FLOW_STEP


def _eval_prompts(setup: MulticlassSetup, K: int) -> dict[str, jax.Array]:
  return task.sample(jax.random.fold_in(prng.stream(setup.run.seed, "eval"), 100 + K),
                     task.make_spec(setup.task.d, setup.task.N, K), setup.eval_prompts)


def rows(c: Checker, setup: MulticlassSetup, flow: Flow) -> None:
  """The flow rows of every K against the reference flow: xi, L_MC (``flow_rows``) and the argmax agreement
  (``accuracy``), each with its error bar computed here.

  Args:
    c: the checker.
    setup: the run's specs.
    flow: the flow run.

  Returns:
    None; the checks go to ``c``.

  Reference: Athreya & Wang (2026), Lemma 2 (the clock), eq. (6) (the argmax head); docs page
  "nearest_neighbor_multiclass", section "What is checked and why" (entries flow_rows and accuracy).
  """
  R, M, n = setup.flow_replicas, setup.lemma12_prompts, setup.eval_prompts
  dof = R - 1
  for K, all_rows in FLOW_ROWS.items():
    table = [r for r in all_rows if r[0] <= setup.lemma12_steps]
    if not setup.flow_rows or not table:
      continue
    ev, f = _eval_prompts(setup, K), theory.factor(K)
    idx = [flow.index(f * setup.eta * r[0]) for r in table]
    points = np.concatenate([flow.xi[:, idx], flow.xi_h[None, idx], flow.xi_2h[None, idx]]).transpose(1, 0, 2)
    points = np.concatenate([points, np.zeros((ROWS_MAX - len(idx),) + points.shape[1:], points.dtype)])
    pop = {k: np.asarray(v, np.float64) for k, v in mc_plan.population(jnp.asarray(points, jnp.float32), ev["tau"],
                                                                        ev["c"], K_WIDTH, f, replicas=R).items()}
    for (t, xi1, xi2, loss, acc), i, row in zip(table, idx, range(len(table))):
      for name, ref, j in (("xi1", xi1, 0), ("xi2", xi2, 1)):
        if ref is not None:
          mean, se = stats.mean_se(flow.xi[:, i, j])
          c("flow_rows", f"K = {K}: {name} at t = {t:g} (flow read at f eta t = {flow.s[i]:.4g})", ref, mean,
            se=with_reference_noise(se, R, M), dof=dof,
            floor=abs(flow.xi_h[i, j] - flow.xi_2h[i, j]) + rounding(ref))
      for key, ref, entry in (("loss", loss, "flow_rows"), ("accuracy", acc, "accuracy")):
        if ref is None:
          continue
        mean, spread = stats.mean_se(pop[key][row, :R])
        eval_se = float(pop[f"{key}_eval_se"][row]) * math.sqrt(1.0 + n / REF_EVAL_PROMPTS)
        step_bias = abs(pop[key][row, R] - pop[key][row, R + 1])   # the runs at h and 2h (replica 0)
        c(entry, f"K = {K}: {'L_MC' if key == 'loss' else 'argmax agreement'} at t = {t:g}", ref, mean,
          se=math.hypot(with_reference_noise(spread, R, M), eval_se), dof=dof, floor=step_bias + rounding(ref))


def lemma12_and_rate(c: Checker, setup: MulticlassSetup, flow: Flow, out: dict) -> None:
  """Lemma 12's max xi1/xi2 from its sigma threshold against 7/15, and Fig. 1's "logarithmic rate": the late log-log
  slope of L_MC = f L_bin from the run's sigma against c / ln t's, -1 / ln t at the window's geometric middle.

  Args:
    c: the checker.
    setup: the run's specs.
    flow: the flow run.
    out: the evaluation's ``scalars`` and ``arrays`` (the ratio and the rate's curve go there).

  Returns:
    None; the checks go to ``c``.

  Reference: Athreya & Wang (2026), Lemma 12 and Fig. 1's text; docs page "nearest_neighbor_multiclass", section
  "What is checked and why" (entries lemma12 and log_rate).
  """
  K, s_run = setup.task.K, horizon(setup, setup.task.K)
  if not s_run:
    return
  f = theory.factor(K)
  grid = flow.s <= s_run * (1 + 1e-9)
  k_steps = flow.s[grid] / (f * setup.eta)   # the K-class step count of each point
  if flow.threshold is not None:
    ratio = flow.threshold[grid, 0] / flow.threshold[grid, 1]
    out["arrays"].update(lemma12_t=k_steps, lemma12_ratio=ratio)
    sigma = binary.lemma12_sigma_threshold(setup.task.d, setup.task.N)
    c("lemma12", f"Lemma 12: max xi1/xi2 over {setup.lemma12_steps:g} K-class steps of eta={setup.eta:g} from "
      f"sigma={sigma:.2f} (its threshold)", 7 / 15, float(np.max(ratio)), note="paper's bound")
  loss_mc, start = f * np.mean(flow.loss[:, grid], 0), k_steps[-1] / 10
  slope = late_slope(k_steps, loss_mc, start)
  out["arrays"].update(rate_t=k_steps, rate_loss=loss_mc)
  out["scalars"].update(rate_slope=slope)
  c("log_rate", f"slope of log L_MC vs log t over t in [{start:.3g}, {k_steps[-1]:.3g}] (reduced GD from "
    f"sigma={setup.model.sigma:g}) vs a logarithmic rate's -1/ln t", -1 / math.log(math.sqrt(start * k_steps[-1])),
    slope, note="paper's Fig. 1 text")
