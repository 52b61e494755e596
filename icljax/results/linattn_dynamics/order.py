"""What the trained replicas learn when: the order of the eigendirections (P5), their drop times against the
exact-gradient flow's, and ATTN_M's half-drop step from the aligned initialisation (Eq. 10 under GD, P7).

All three read the logged rows: each replica's population loss (the drop times, crossings of the midpoints between
consecutive closed-form plateaus) and the diagonal of its Gamma in Sigma's eigenbasis (``eigh`` order).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from icljax import stats
from icljax.experiment.checks import Checker
from icljax.results.linattn_dynamics.plan import DynamicsContext
from icljax.results.linattn_dynamics.setup import DynamicsSetup
from icljax.theory import linattn_dynamics as theory

Rows = Sequence[Mapping[str, float]]
P12_SAMPLE = 6000   # the sample size from which a sample's GD follows the population flow's timing (P12)


def diagonals(rows: Rows, replicas: int, d: int) -> tuple[np.ndarray, np.ndarray]:
  """The logged steps and, per replica, the diagonal of Gamma in Sigma's eigenbasis.

  Args:
    rows: the metric rows (``gdiag_<replica>_<j>``, ``eigh`` order).
    replicas: R.
    d: dimension.

  Returns:
    The steps (T,) and the diagonals (R, T, d).

  Reference: docs page "linattn_dynamics", section "learning_order".
  """
  steps = np.array([r["step"] for r in rows], np.float64)
  return steps, np.array([[[r[f"gdiag_{i}_{j}"] for j in range(d)] for r in rows] for i in range(replicas)])


def _plateau_reads(steps: np.ndarray, drops: np.ndarray) -> np.ndarray:
  """Log-times at which a replica's plateaus are read: the log-midpoints between its consecutive drop times (the
  first from the first logged step), the last plateau at the last logged step; NaN after a drop it never made."""
  u, made = np.log(steps), int(np.sum(np.isfinite(drops)))   # drops are made in order
  edges = np.concatenate([[u[0]], np.log(drops[:made]), [u[-1]]])
  reads = np.full(len(drops) + 1, np.nan)
  reads[:made + 1] = (edges[:-1] + edges[1:]) / 2
  reads[made] = u[-1]
  return reads


def learning_order(c: Checker, notes: list[str], setup: DynamicsSetup, ctx: DynamicsContext, rows: Rows,
                   ms: list[int], times: np.ndarray) -> None:
  """P5: ATTN_S learns the eigendirections in decreasing ``a_d = lam_d^2 om_d`` (rank R: R at a time). Per drop, the
  directions whose diagonal entry of Gamma gains most between the plateaus either side, per replica, against the
  staircase's order (a closed form); a drop whose predicted set ties with the rest in ``a_d`` is skipped.

  Args:
    c: the run's checker.
    notes: the run's notes (appended to).
    setup: the run's specs.
    ctx: the staircase and the run's evaluation context.
    rows: the metric rows.
    ms: the plateaus the run should show.
    times: the replicas' drop steps (R, len(ms) - 1), NaN for a drop not made.

  Returns:
    None; one ``learning_order`` check per drop.

  Reference: Zhang, Singh, Latham, Saxe (2025), Sec. 4 and Eq. 20 (e_1 first, then e_2, ...); Sec. 5 (R at a time).
  """
  if setup.model.kind == "merged" or not rows:
    return
  a, order = ctx.stairs["a"], ctx.stairs["order"]
  steps, diag = diagonals(rows, setup.replicas, setup.task.d)
  keep = steps > 0
  u, diag = np.log(steps[keep]), diag[:, keep]
  reads = np.array([_plateau_reads(steps[keep], t) for t in times])   # (R, len(ms))
  lam = np.sort(np.linalg.eigvalsh(np.asarray(setup.task.cov, np.float64)))
  for j in range(1, len(ms)):
    lo, hi = ms[j - 1], ms[j]
    tied = any(k < len(a) and np.isclose(a[k - 1], a[k], rtol=1e-9) for k in (lo, hi) if k > 0)
    if tied or not np.all(np.isfinite(reads[:, j])):
      if tied:
        notes.append(f"learning order at drop {j}: not checked (a_d tied at the boundary of its directions)")
      continue
    predicted = set(order[lo:hi].tolist())
    wrong, learned = 0, []
    for r in range(setup.replicas):
      before, after = (np.array([np.interp(reads[r, i], u, diag[r, :, k]) for k in range(setup.task.d)])
                       for i in (j - 1, j))
      top = set(np.argsort(-(after - before))[:hi - lo].tolist())
      wrong += top != predicted
      learned.append(sorted(top))
    c("learning_order", f"P5: replicas whose drop {j} (to L(M_{hi})) learns other directions than lam = "
      f"{', '.join(f'{lam[k]:.3g}' for k in sorted(predicted))} (next by decreasing lam^2 om)", 0.0, float(wrong),
      note=f"learned (eigh indices) per replica: {learned}")


def drop_times(c: Checker, notes: list[str], setup: DynamicsSetup, times: np.ndarray, flow_times: np.ndarray,
               ms: list[int]) -> None:
  """The replicas' mean drop step against the exact-gradient flow's from the same initialisation (ATTN_S at
  P >= 6000), within 4 s.e. of the replica mean (Student-t) plus the logging's resolution: every crossing is
  interpolated between logged steps (the replicas', every ``log_every``; the flow's, every step).

  Args:
    c: the run's checker.
    notes: the run's notes (appended to).
    setup: the run's specs.
    times: the replicas' drop steps (R, len(ms) - 1).
    flow_times: the exact-gradient flow's drop steps.
    ms: the plateaus the run should show.

  Returns:
    None; one ``drop_times_mean`` check per drop every replica made.

  Reference: Zhang, Singh, Latham, Saxe (2025), Eq. 5 (GD as the flow's Euler step, t = 2 lr step); docs page
    "linattn_dynamics", section "drop_times_mean".
  """
  if setup.model.kind == "merged" or setup.sample_size < P12_SAMPLE:
    notes.append(f"drop times not compared with the flow: a sample's GD follows the population flow's timing "
                 f"for ATTN_S at P >= {P12_SAMPLE}")
    return
  for j, m in enumerate(ms[1:]):
    if not np.all(np.isfinite(times[:, j])):
      break
    mean, se = stats.mean_se(times[:, j])
    c("drop_times_mean", f"trained drop to plateau {m}: replica-mean step vs the exact-gradient flow's",
      flow_times[j], mean, se=se, floor=setup.run.log_every + 1.0, dof=len(times) - 1,
      note=f"per replica {np.round(times[:, j]).astype(int).tolist()}")


def _first_crossing(steps: np.ndarray, g: np.ndarray, level: float) -> float:
  """The first step at which ``g`` reaches ``level`` from below (linear interpolation; NaN if never)."""
  above = np.flatnonzero(g >= level)
  if not len(above) or above[0] == 0:
    return np.nan
  i = above[0]
  return float(steps[i - 1] + (level - g[i - 1]) / (g[i] - g[i - 1]) * (steps[i] - steps[i - 1]))


def half_drop(c: Checker, setup: DynamicsSetup, ctx: DynamicsContext, rows: Rows, scalars: dict[str, Any]) -> None:
  """P7 (ATTN_M, Sigma = I, aligned balanced init of norm s): the step at which ``g = tr(Gamma)/d`` reaches half
  its optimum ``gamma`` (the staircase's closed form), replica mean against Eq. 10 under GD
  (:func:`theory.merged_aligned_gd`, read on the same logged steps), 4 s.e. of the replica mean (Student-t); and,
  as a control, against Eq. 10's flow time read as steps without the discretisation (``t_half/(2 lr)``), emitted
  only where the two references are further apart than twice the tolerance.

  Args:
    c: the run's checker.
    setup: the run's specs.
    ctx: the staircase and the run's evaluation context.
    rows: the metric rows.
    scalars: the run's scalars (the crossings are added).

  Returns:
    None; a ``half_drop`` check and (where resolved) the ``half_drop_flow`` control.

  Reference: Zhang, Singh, Latham, Saxe (2025), Eq. 10 (Sec. 3); its GD form is derived on the docs page
    "linattn_dynamics", section "half_drop".
  """
  spec, task, lr = setup.model, setup.task, setup.learning_rate
  if spec.kind != "merged" or spec.init_mode != "aligned" or not task.isotropic or not rows:
    return
  steps, diag = diagonals(rows, setup.replicas, task.d)
  level = float(np.mean(ctx.stairs["gamma"])) / 2
  crossings = np.array([_first_crossing(steps, g, level) for g in diag.mean(-1)])
  recursion = theory.merged_aligned_gd(task.d, task.n, float(task.sigma), spec.init_scale, lr, int(steps[-1]))
  reference = _first_crossing(steps, recursion[steps.astype(int)], level)
  flow = theory.merged_half_time(task.d, task.n, float(task.sigma), spec.init_scale) / (2 * lr)
  mean, se = stats.mean_se(crossings)
  check = c("half_drop", f"P7: replica-mean step at which tr(Gamma)/d reaches gamma/2 vs Eq. 10 under GD (lr {lr:g})",
            reference, mean, se=se, dof=len(crossings) - 1,
            note=f"per replica {np.round(crossings, 2).tolist()}; Eq. 10's flow: step {flow:.2f}")
  if abs(flow - reference) > 2 * check.tolerance:
    c("half_drop_flow", "P7 control: the same against Eq. 10's flow time t_half/(2 lr) (no discretisation)", flow,
      mean, se=se, dof=len(crossings) - 1)
  scalars.update(half_drop_replicas=crossings.tolist(), half_drop_gd=reference, half_drop_flow=flow)
