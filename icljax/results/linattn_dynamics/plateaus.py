"""Reading a loss curve: its drops and the plateaus between them, and the times it crosses given levels.

The detector works in log-time (``u = ln step``), where the staircase's plateaus are long and its drops short: the
curve is resampled on a grid of ``per_efold`` points per e-fold, the drop rate ``r = -dL/du`` is taken between grid
points, and a drop is a local maximum of ``r`` of at least ``rel`` of the total decrease per e-fold, separated from
the previous drop by a dip below half of the smaller of the two peaks. A plateau is the flattest grid point between
two drops (or before the first, or after the last); its level is the loss there and its spread the loss change over
one grid step on either side (a 2/``per_efold`` e-fold window): how well the plateau defines its level.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt


@dataclasses.dataclass(frozen=True)
class Staircase:
  """What :func:`detect` reads: drop times (steps), plateau levels and spreads, len(levels) = len(drops) + 1."""

  drops: np.ndarray
  levels: np.ndarray
  spreads: np.ndarray


def detect(steps: np.ndarray, loss: np.ndarray, per_efold: int = 8, rel: float = 0.02) -> Staircase:
  """The drops and plateaus of a decreasing loss curve.

  Args:
    steps: logged steps (entries <= 0 are ignored).
    loss: the loss at those steps.
    per_efold: grid points per e-fold of the step.
    rel: the smallest drop rate that counts, as a fraction of the total decrease (per e-fold).

  Returns:
    The staircase.

  Reference: docs page "linattn_dynamics", section "flow_plateau" (how a level is read).
  """
  steps, loss = np.asarray(steps, np.float64), np.asarray(loss, np.float64)
  keep = steps > 0
  u, values = np.log(steps[keep]), loss[keep]
  grid = np.linspace(u[0], u[-1], max(3, int(np.ceil((u[-1] - u[0]) * per_efold)) + 1))
  lg = np.interp(grid, u, values)
  rate = -np.diff(lg) / np.diff(grid)
  threshold = rel * max(lg[0] - lg[-1], 0.0)
  peaks: list[int] = []
  for i in range(len(rate)):
    is_max = (i == 0 or rate[i] >= rate[i - 1]) and (i == len(rate) - 1 or rate[i] > rate[i + 1])
    if not is_max or rate[i] < threshold or rate[i] <= 0:
      continue
    if peaks and rate[peaks[-1]:i + 1].min() > 0.5 * min(rate[peaks[-1]], rate[i]):
      if rate[i] > rate[peaks[-1]]:
        peaks[-1] = i
      continue
    peaks.append(i)
  bounds = [-1, *peaks, len(rate)]
  levels, spreads = [], []
  for a, b in zip(bounds[:-1], bounds[1:]):
    segment = np.arange(a + 1, b + 1) if b == len(rate) else np.arange(a + 1, b)
    if not len(segment):
      segment = np.array([min(a + 1, len(grid) - 1)])
    local = [max(rate[j - 1] if j > 0 else 0.0, rate[j] if j < len(rate) else 0.0) for j in segment]
    j = int(segment[int(np.argmin(local))])
    levels.append(lg[j])
    spreads.append(abs(lg[max(j - 1, 0)] - lg[min(j + 1, len(grid) - 1)]))
  drops = np.exp((grid[np.array(peaks, int)] + grid[np.array(peaks, int) + 1]) / 2) if peaks else np.zeros(0)
  return Staircase(drops=drops, levels=np.array(levels), spreads=np.array(spreads))


def midpoints(levels: np.ndarray, ms: list[int]) -> np.ndarray:
  """The midpoints between consecutive plateau levels ``levels[ms[j]]``, ``levels[ms[j+1]]``: a curve's drop j is the
  first time it falls below midpoint j.

  Args:
    levels: the closed-form plateau levels L(M_0) ... L(M_d).
    ms: the plateaus the run should show, increasing.

  Returns:
    len(ms) - 1 levels.

  Reference: docs page "linattn_dynamics", section "drop_times_mean" (a drop is a midpoint crossing).
  """
  return (levels[np.array(ms[:-1])] + levels[np.array(ms[1:])]) / 2


def crossings(steps: npt.ArrayLike, loss: npt.ArrayLike, levels: npt.ArrayLike) -> np.ndarray:
  """The first step at which the curve falls below each level (log-linear interpolation; NaN if never).

  Args:
    steps: logged steps (> 0).
    loss: the loss at those steps.
    levels: the levels.

  Returns:
    One time per level.

  Reference: docs page "linattn_dynamics", section "drop_times_mean" (a drop is a midpoint crossing).
  """
  steps, loss = np.asarray(steps, np.float64), np.asarray(loss, np.float64)
  out = []
  for level in np.atleast_1d(levels):
    below = np.flatnonzero(loss < level)
    if not len(below) or below[0] == 0:
      out.append(np.nan if not len(below) else steps[0])
      continue
    i = below[0]
    f = (loss[i - 1] - level) / (loss[i - 1] - loss[i])
    out.append(float(np.exp(np.log(steps[i - 1]) + f * (np.log(steps[i]) - np.log(steps[i - 1])))))
  return np.array(out)


def levels_between(steps: np.ndarray, loss: np.ndarray, times: np.ndarray, per_efold: int = 8) -> Staircase:
  """Plateau levels read between known drop times: at the log-midpoint of consecutive times (the first plateau
  between the first logged step and the first drop; the last at the last logged step), each with its spread: the
  loss change over a window of a quarter of the plateau's log-width on either side (at least 1/``per_efold``
  e-fold), how well the plateau defines its level.

  Args:
    steps: logged steps (> 0).
    loss: the loss at those steps.
    times: drop times (increasing, finite).
    per_efold: the window's half-width is 1/per_efold e-fold.

  Returns:
    The staircase (``drops`` = ``times``).

  Reference: docs page "linattn_dynamics", sections "flow_plateau" and "plateau_level".
  """
  steps, loss = np.asarray(steps, np.float64), np.asarray(loss, np.float64)
  keep = steps > 0
  u, values = np.log(steps[keep]), loss[keep]
  edges = np.concatenate([[u[0]], np.log(np.asarray(times, np.float64)), [u[-1]]])
  at = np.concatenate([(edges[:-2] + edges[1:-1]) / 2, [u[-1]]])
  h = np.maximum(np.diff(edges) / 4, 1.0 / per_efold)
  lo, mid, hi = (np.interp(np.clip(at + s * h, u[0], u[-1]), u, values) for s in (-1.0, 0.0, 1.0))
  return Staircase(drops=np.asarray(times, np.float64), levels=mid, spreads=np.abs(lo - hi))


def dwell(steps: np.ndarray, loss: np.ndarray, levels: np.ndarray, band: float = 0.25, start: float = 1.0
          ) -> np.ndarray:
  """The log-time dwell near each level (how long a curve rests near each plateau): the measure, in e-folds of the
  step, of the times t >= start at which the loss lies within ``band`` of the adjacent gaps around ``levels[m]``,
  the band ``[L_m - band (L_m - L_{m+1}), L_m + band (L_{m-1} - L_m)]`` (open above for the first level, below for
  the last). The curve is linear in ln t between logged steps and the measure is exact for that interpolation.

  Args:
    steps: logged steps (increasing, > 0; the curve before ``start`` is not counted).
    loss: the loss at those steps.
    levels: the levels L(M_0) > L(M_1) > ...
    band: the half-width of the band as a fraction of each adjacent gap.
    start: the first time counted (t >= 1 tau by default).

  Returns:
    One dwell per level (e-folds).

  Reference: Zhang, Singh, Latham, Saxe (2025), Sec. 5 ("conspicuous plateaus"); the measure is defined on the docs
    page "linattn_dynamics", section "plateau_dwell".
  """
  steps, loss, levels = (np.asarray(a, np.float64) for a in (steps, loss, levels))
  logged = np.log(steps)
  u0 = max(np.log(start), logged[0])   # the curve from ``start`` on (from the first logged step if later)
  keep = logged > u0
  u, y = np.concatenate([[u0], logged[keep]]), np.concatenate([[np.interp(u0, logged, loss)], loss[keep]])
  du, a, b = np.diff(u), y[:-1], y[1:]
  out = []
  for m, level in enumerate(levels):
    hi = level + band * (levels[m - 1] - level) if m > 0 else np.inf
    lo = level - band * (level - levels[m + 1]) if m + 1 < len(levels) else -np.inf
    with np.errstate(divide="ignore", invalid="ignore"):
      s_lo, s_hi = (lo - a) / (b - a), (hi - a) / (b - a)   # where the segment crosses the band's edges
    inside = np.clip(np.maximum(s_lo, s_hi), 0, 1) - np.clip(np.minimum(s_lo, s_hi), 0, 1)
    flat = b == a
    inside = np.where(flat, ((a >= lo) & (a <= hi)).astype(np.float64), np.nan_to_num(inside))
    out.append(float(np.sum(inside * du)))
  return np.array(out)
