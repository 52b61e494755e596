"""Result 3's checks that see the data: the training loss against its expectation under the true law, P(tau)
against the training stream's noise fraction (P6), the trained Lam / lam against NGD replayed on the stream's
batches (P3, P4, P9) and the kappa = 0 oscillation's centre (P9) from its tail mean.

The reparameterised model's attention logit is Lam e_y by construction and its gamma is set from alpha, so checks
of the trained parameters against closed forms cannot tell a sampler that ignores the noise from a correct one. These
checks read what training saw: the per-step training losses (computed on the sampled targets), and the training
batches drawn again from the run's data key (``stream.batch_counts``).

Reference: Nguyen & Nguyen-Tang (2025), Thm 3.2 and 5.4-5.5 (v3 numbering); docs page "recall", section "What is
checked and why" (entries train_loss, p_noise_limit, lam_trajectory, lam_noiseless, kappa0_plateau).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from icljax import stats
from icljax.experiment.checks import Checker
from icljax.results.recall import stream
from icljax.results.recall.plan import RecallContext
from icljax.results.recall.setup import RecallSetup
from icljax.results.recall.tolerances import ROUNDING
from icljax.theory import recall as theory

Rows = Sequence[Mapping[str, float]]
STREAM_STEPS = 200            # steps of the stream drawn again for its noise fraction (evenly spaced)
NOISELESS_UNSATURATED = 12.0  # lam up to which the noiseless replay is checked (float32 p_y -> 1, gradient 0 at ~20.7)
KAPPA0_BATCHES = 10           # batches of the kappa = 0 tail's batch-means standard error


def _eps(setup: RecallSetup) -> float:
  return 2.0**-52 if setup.run.x64 else 2.0**-23


def saturation(setup: RecallSetup) -> float:
  """Lam beyond which float rounds the noisy FA model's p_y to 1 and NGD steps on rounding noise, less 2 nats:
  ``ln((V-2)(1-alpha)) + mantissa ln 2 - 2``.

  Args:
    setup: the run's specs (alpha, V, float32 or float64).

  Returns:
    The largest Lam = eta t at which the trajectory checks still apply.

  Reference: docs page "recall", section "What is checked and why" (float saturation).
  """
  alpha = float(setup.task.alpha)
  return float(np.log((setup.task.V - 2) * (1 - alpha)) + (52 if setup.run.x64 else 23) * np.log(2.0) - 2.0)


def _chunks(rows: Rows) -> list[tuple[int, int, int]]:
  """(row index, first step, end step) of every logged chunk: row i's ``loss`` is the mean of the losses at steps
  ``[first, end)`` (each before its update), its parameters those at step ``end``."""
  steps = [int(r["step"]) for r in rows]
  return [(i, s0, s1) for i, (s0, s1) in enumerate(zip([0] + steps[:-1], steps))]


def _kind(setup: RecallSetup) -> str:
  """``fa``, ``f`` (noisy kappa = 1 / 0), ``noiseless`` or ``""`` for runs without these checks (softmax, the
  unconstrained kinds)."""
  if setup.kind != "reparam" or setup.attention == "softmax":
    return ""
  if not setup.task.noisy:
    return "noiseless"
  return "fa" if setup.kappa == 1 else "f"


def _steps_needed(setup: RecallSetup, kind: str) -> np.ndarray:
  """The steps of the stream the checks read (population runs only)."""
  steps = setup.run.steps
  if kind == "fa":
    return np.unique(np.round(np.linspace(0, steps - 1, min(steps, STREAM_STEPS))).astype(np.int64))
  if kind == "f":
    return np.arange(steps)
  end = int(NOISELESS_UNSATURATED * math.sqrt(len(setup.task.triggers)) / setup.eta)
  return np.arange(min(steps, end + 1))


def _train_loss(c: Checker, setup: RecallSetup, rows: Rows) -> None:
  """The mean training loss over each half of the run against ``H(alpha) + ln(1 + (V-2)(1-alpha) e^{-eta t})``
  averaged over the same steps (P2 along P3's trajectory, under the true law). The per-step losses are computed on
  the sampled targets: a sentence's loss is lower by gamma when its target is tau, so the mean has the error
  ``sd / sqrt(B n)`` of the stream's noise fraction (``theory.loss_sd_fa``)."""
  alpha, V, steps = float(setup.task.alpha), setup.task.V, setup.run.steps
  sd = theory.loss_sd_fa(alpha)
  chunks = _chunks(rows)
  halves = ([ch for ch in chunks if ch[2] <= steps // 2], [ch for ch in chunks if ch[2] > steps // 2])
  for name, part in zip(("first", "second"), halves):
    if not part:
      continue
    n = sum(s1 - s0 for _, s0, s1 in part)
    measured = sum(rows[i]["loss"] * (s1 - s0) for i, s0, s1 in part) / n
    t = np.concatenate([np.arange(s0, s1) for _, s0, s1 in part])
    expected = float(np.mean(theory.bayes_form_loss(setup.eta * t, alpha, V)))
    c("train_loss", f"mean training loss over the {name} half (steps {part[0][1]}..{part[-1][2] - 1}) vs its "
      "expectation under the true law at Lam = eta t (P2, P3)", expected, measured,
      se=sd / math.sqrt(setup.batch_size * n), floor=ROUNDING, note=f"{n} steps x {setup.batch_size} sentences")


def _p_noise(c: Checker, setup: RecallSetup, counts: Mapping[str, np.ndarray], final: Mapping[str, float],
             notes: list[str]) -> None:
  """P6: the model's P(tau) on unseen and on seen outputs tends to the noise level, read as the training stream's
  fraction of tau targets (binomial error)."""
  n = counts["noise"].size * setup.batch_size
  frac = float(np.sum(counts["noise"]) / n)
  se = math.sqrt(frac * (1 - frac) / n)
  alpha, lam_end = float(setup.task.alpha), min(setup.eta * setup.run.steps, saturation(setup))
  residual = alpha - theory.p_noise_fa(lam_end, alpha, setup.task.V)   # the theorem's distance from the limit
  if residual > max(se, 1e-4):
    notes.append(f"P6 (P(tau) -> alpha) not checked: at Lam = eta t = {lam_end:.3g} the theorem's P(tau) is still "
                 f"{residual:.3g} below its limit (the stream's noise fraction {frac:.4f} +- {se:.1e}).")
    return
  for name, label in (("test", "unseen"), ("pop", "seen")):
    c("p_noise_limit", f"P(tau) on {label} outputs vs the training stream's noise fraction (P6)", frac,
      final[f"{name}_p_noise"], se=se, floor=residual + ROUNDING,
      note=f"{counts['noise'].size} training batches drawn again, {n} sentences")


def _lam_replay(c: Checker, setup: RecallSetup, ctx: RecallContext, rows: Rows,
                fractions: np.ndarray | None, notes: list[str]) -> None:
  """P3 / P9: each logged chunk of Lam against NGD replayed over that chunk's batches from the Lam logged before
  it (the first from the zero initialisation), in units of the chunk's float rounding."""
  kappa, V, eps = setup.kappa, setup.task.V, _eps(setup)
  a = ctx.alpha_hat   # the true alpha (population) or the training set's noise fraction (finite)
  gamma = math.log(a) - math.log1p(-a)
  # kappa = 1: every sentence's gradient is negative, so is their float sum until p_y + p_tau rounds to 1 (the
  # saturation skipped below); kappa = 0: terms of both signs, a float32 mean of B of them is off by <= B eps.
  ambiguous = 0.0 if kappa == 1 else setup.batch_size * eps
  worst, used, unclear, late = 0.0, 0, 0, 0
  for i, s0, s1 in _chunks(rows):
    if kappa == 1 and setup.eta * s1 > saturation(setup):
      late += 1
      continue
    lam0, lam1 = (float(rows[i - 1]["Lam"]) if i else 0.0), float(rows[i]["Lam"])
    f = np.zeros(s1 - s0) if fractions is None else fractions[s0:s1]
    lam_r, clear = stream.replay_noisy(lam0, f, setup.eta, gamma, kappa, V, ambiguous)
    if not clear:
      unclear += 1
      continue
    worst = max(worst, abs(lam1 - lam_r) / ((s1 - s0) * eps * max(1.0, abs(lam0), abs(lam1))))
    used += 1
  if used:
    c("lam_trajectory", f"max over {used} logged chunks of |Lam - NGD replayed on the chunk's batches| / (steps x "
      "eps x |Lam|)" + (" (P3: Lam_t = eta t)" if kappa == 1 else " (P9)"), 0.0, worst)
  if late or unclear:
    notes.append(f"Lam's replay skipped {late} chunk(s) past float saturation (eta t > {saturation(setup):.1f}: "
                 f"p_y rounds to 1 and NGD steps on rounding noise) and {unclear} whose batch gradient was within "
                 "float rounding of 0 (sign not reproducible).")


def _lam_noiseless(c: Checker, setup: RecallSetup, rows: Rows, triggers: np.ndarray) -> None:
  """P4: each logged chunk of the vector lam against NGD replayed on the chunk's trigger counts (lam_t moves by
  eta / sqrt|Q| per entry only when the triggers are balanced).

  The unit is the chunk's float rounding: the additions (eps |lam| a step) and the model's gradient, whose
  ``p_y - 1 = -(V-1)/(e^lam + V - 1)`` cancels in float: relative error ``eps (1 + e^lam/(V-1))``, at most twice that
  on the normalised direction, times eta a step."""
  qs, eps = setup.task.triggers, _eps(setup)
  worst, used = 0.0, 0
  for i, s0, s1 in _chunks(rows):
    if s1 > triggers.shape[0]:
      break
    lam0 = (np.array([rows[i - 1][f"lam[{q}]"] for q in qs], np.float64) if i else np.zeros(len(qs)))
    lam1 = np.array([rows[i][f"lam[{q}]"] for q in qs], np.float64)
    lam_r = stream.replay_noiseless(lam0, triggers[s0:s1], setup.batch_size, setup.eta, setup.task.V)
    top = float(np.max(np.abs(lam1)))
    scale = (s1 - s0) * eps * (max(1.0, top) + 2 * setup.eta * (1 + math.exp(top) / (setup.task.V - 1)))
    worst = max(worst, float(np.max(np.abs(lam1 - lam_r))) / scale)
    used += 1
  if used:
    c("lam_noiseless", f"max over {used} logged chunks of |lam - NGD replayed on the chunk's trigger counts| / "
      f"the chunk's float rounding, lam <= {NOISELESS_UNSATURATED:g} (P4)", 0.0, worst)


def _kappa0(c: Checker, setup: RecallSetup, rows: Rows, notes: list[str]) -> None:
  """P9: without the attention input to the FF, NGD oscillates around Lam* = ln(1 + (V-2)(1-alpha)/alpha): the
  mean of the logged Lam over the run's second half, with a batch-means standard error."""
  alpha, steps = float(setup.task.alpha), setup.run.steps
  lam_star, best = theory.kappa0_optimum(alpha, setup.task.V)
  tail = [float(r["Lam"]) for r in rows if r["step"] > steps // 2]
  if lam_star / setup.eta > steps // 2 or len(tail) < 4:
    notes.append(f"P9 not checked: the run ({steps} steps, {len(tail)} logged in its second half) does not reach "
                 f"Lam* = {lam_star:.3f} (eta t = {setup.eta * steps / 2:.3g} at half-way) with enough logs after.")
    return
  mean, se, dof = stats.batch_means(tail, min(KAPPA0_BATCHES, len(tail) // 2))
  c("kappa0_plateau", "kappa = 0: mean Lam over the second half vs Lam* (P9)", lam_star, mean, se=se, dof=dof,
    note=f"{len(tail)} logged Lam; final loss {rows[-1]['pop_loss']:.5f} vs the best {best:.5f}")


def checks(c: Checker, setup: RecallSetup, ctx: RecallContext, rows: Rows, notes: list[str]) -> None:
  """Adds the data-seeing checks that apply to the run.

  Args:
    c: the run's checker.
    setup: the run's specs.
    ctx: the plan's context (its data key draws the training stream again).
    rows: the metric rows.
    notes: the run's notes (appended to).

  Returns:
    None; the checks go to ``c``.

  Reference: docs page "recall", section "What is checked and why".
  """
  kind = _kind(setup)
  if not kind:
    return
  if setup.M:   # a finite training set: kappa = 1's replay needs no batch (its gradient is negative on every one)
    if kind == "fa":
      _lam_replay(c, setup, ctx, rows, None, notes)
    return
  needed = _steps_needed(setup, kind)
  counts = stream.batch_counts(setup.task, ctx.data_key, setup.batch_size, needed)
  if kind == "noiseless":
    _lam_noiseless(c, setup, rows, counts["triggers"])
    return
  if kind == "fa":
    _train_loss(c, setup, rows)
    _p_noise(c, setup, counts, rows[-1], notes)
    _lam_replay(c, setup, ctx, rows, None, notes)
    return
  _lam_replay(c, setup, ctx, rows, counts["noise"] / setup.batch_size, notes)
  _kappa0(c, setup, rows, notes)
