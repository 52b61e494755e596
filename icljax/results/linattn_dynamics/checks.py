"""The linear-attention dynamics evaluation: identities of the model, the staircase of the exact-gradient flow and
of the trained replicas against in-context PCR, the final Gamma, per-head structure, and the timing laws."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from icljax import stats
from icljax.experiment.api import Evaluation
from icljax.experiment.checks import Checker
from icljax.models import linattn_dynamics as model
from icljax.results.linattn_dynamics import order, plateaus, timing
from icljax.results.linattn_dynamics.plan import DynamicsContext, replica_prompts
from icljax.results.linattn_dynamics.setup import DynamicsSetup
from icljax.results.linattn_dynamics.tolerances import TOLERANCES
from icljax.tasks import regression
from icljax.theory import linattn_dynamics as theory

Rows = Sequence[Mapping[str, float]]
P1_STEPS = 1000


def plateau_ms(setup: DynamicsSetup) -> list[int]:
  """The m of the plateaus L(M_m) the run should show: ATTN_M: 0 and d (one drop); ATTN_S: 0, R, 2R, ... up to
  min(H R, d) (a plateau per new head, Sec. 5).

  Args:
    setup: the run's specs.

  Returns:
    The increasing m.

  Reference: Zhang, Singh, Latham, Saxe (2025), Secs. 3-5 (one drop for ATTN_M; one plateau per head that must
    leave zero for ATTN_S).
  """
  d, spec = setup.task.d, setup.model
  if spec.kind == "merged":
    return [0, d]
  final = min(spec.heads * spec.rank, d)
  return sorted(set(range(0, final, spec.rank)) | {final})


def _identities(c: Checker, setup: DynamicsSetup, ctx: DynamicsContext, p0: Any) -> None:
  probe = regression.sample(jax.random.fold_in(ctx.eval_key, 1), setup.task, setup.eval_prompts)
  reduced, literal = model.apply(p0, probe), model.apply_tokens(p0, probe)
  scale = max(1.0, float(jnp.max(jnp.abs(reduced))))
  c("literal_forward", "Eq. 3 on tokens vs the reduced heads (replica 0)", 0.0,
    float(jnp.max(jnp.abs(literal - reduced))) / scale)
  err = float(jnp.mean((reduced - probe["y_query"]) ** 2))
  via_moments = float(theory.quadratic_loss(model.gamma(p0), theory.sample_moments(probe)))
  c("moments_estimator", "loss through the sample moments vs the per-prompt mean (fresh prompts)", 0.0,
    abs(via_moments - err) / err)
  if setup.model.kind != "merged":
    return
  z = theory.features(probe)
  c("mlp_forward", "R1: ATTN_M on tokens vs MLP(z) at the mapped parameters", 0.0,
    float(jnp.max(jnp.abs(model.mlp_apply(model.to_mlp(p0), z) - literal))) / scale)
  prompts = replica_prompts(setup, ctx.sample_key, 0)
  zs, y = theory.features(prompts), prompts["y_query"]
  lr = setup.learning_rate
  steps = min(P1_STEPS, setup.run.steps)
  run = jax.jit(lambda p, f: theory.gd_curve(f, p, lr, steps)[1], static_argnums=1)
  attn = np.asarray(run(ctx.init, lambda p: jnp.mean((model.apply(p, prompts) - y) ** 2)), np.float64)
  mlp = np.asarray(run(model.to_mlp(ctx.init), lambda p: jnp.mean((model.mlp_apply(p, zs) - y) ** 2)), np.float64)
  c("mlp_trajectory", f"P1: loss of ATTN_M vs MLP(z) over {steps} GD steps from the mapped init", 0.0,
    float(np.max(np.abs(attn - mlp) / attn)))


def _heads(params: Any, basis: np.ndarray, active: int) -> tuple[float, np.ndarray]:
  """Smallest |cos| of the ``active`` largest rank-one heads with their best eigenvector, and per learned
  direction the mean (|v|, ||k||, ||q||) of the head aligned with it."""
  v, k, q = (np.asarray(params[n], np.float64) for n in ("v", "k", "q"))
  worst, norms = 1.0, np.full((basis.shape[1], 3), np.nan)
  for i in np.argsort(-np.abs(v))[:active]:
    ck = np.abs(basis.T @ k[i, 0]) / np.linalg.norm(k[i, 0])
    cq = np.abs(basis.T @ q[i, 0]) / np.linalg.norm(q[i, 0])
    worst = min(worst, ck.max(), cq.max())
    norms[int(np.argmax(ck))] = (abs(v[i]), np.linalg.norm(k[i, 0]), np.linalg.norm(q[i, 0]))
  return worst, norms


def evaluate(setup: DynamicsSetup, ctx: DynamicsContext, params: Any, rows: Rows) -> Evaluation:
  """Checks of a trained dynamics run.

  Args:
    setup: the run's specs.
    ctx: the staircase, the eigenbasis, the initialisation, the population moments, keys.
    params: the trained replicas (leading axis R).
    rows: the metric rows.

  Returns:
    The evaluation.

  Reference: docs page "linattn_dynamics", section "What is checked and why" (one subsection per entry).
  """
  spec, task, R = setup.model, setup.task, setup.replicas
  levels, gam = ctx.stairs["levels"], ctx.stairs["gamma"]
  ms = plateau_ms(setup)
  c = Checker(TOLERANCES)
  notes: list[str] = []
  replicas = [jax.tree.map(lambda x, r=r: x[r], params) for r in range(R)]
  _identities(c, setup, ctx, replicas[0])
  flow_loss, flow_params, flow_stairs, flow_times = _flow(c, notes, setup, ctx, ms)
  flow_complete = bool(np.all(np.isfinite(flow_times)))
  mids = plateaus.midpoints(levels, ms)
  times, complete = _replica_checks(c, notes, setup, ctx, rows, ms, mids, flow_times)
  order.drop_times(c, notes, setup, times, flow_times, ms)
  order.learning_order(c, notes, setup, ctx, rows, ms, times)
  target = np.diag(np.where(np.arange(task.d) < ms[-1], gam, 0.0))
  rotated = np.array([ctx.basis.T @ np.asarray(model.gamma(p), np.float64) @ ctx.basis for p in replicas])
  if complete:
    _final_level(c, setup, ctx, params, ms[-1], levels[ms[-1]], dof=R - 1)
    _gamma_checks(c, rotated, target)
  scalars: dict[str, Any] = {
      "setting": (f"{'ATTN_M' if spec.kind == 'merged' else f'ATTN_S rank {spec.rank}'}, H={spec.heads}, "
                  f"d={task.d}, n={task.n}, sigma={float(task.sigma):g}, prior {task.prior}, init "
                  f"{spec.init_scale:g}, lr {setup.learning_rate:g}, {R} replicas of P={setup.sample_size}"),
      **{f"L_M{m}": float(levels[m]) for m in range(task.d + 1)},
      **{f"gamma_{dd}": float(gam[dd]) for dd in range(len(gam))},
      "flow_drop_steps": [float(t) for t in flow_stairs.drops], "replica_drop_steps": times.mean(0).tolist(),
      **{f"flow_drop_{j + 1}": float(t) for j, t in enumerate(flow_times)},
      **{f"replica_drop_{j + 1}": float(t) for j, t in enumerate(times.mean(0))}}
  arrays: dict[str, Any] = {"gamma_rotated": rotated, "gamma_star_rotated": target, "levels": levels,
                            "flow_loss": flow_loss, "basis": ctx.basis, "v": np.asarray(params["v"])}
  if spec.kind == "merged":
    timing.escape_slope(c, setup, ctx, levels, scalars, arrays)
    order.half_drop(c, setup, ctx, rows, scalars)
  else:
    if timing.settled(flow_loss, levels[ms[0]], levels[ms[-1]]):   # every dwell is final
      _rank_pattern(c, notes, scalars, arrays, setup, levels, flow_loss, ms[-1])
    if spec.rank == 1 and flow_complete:
      _head_checks(c, notes, scalars, ctx, flow_params, replicas if complete else [], ms[-1])
    timing.power_law(c, setup, ctx, mids, flow_times, scalars, len(flow_loss))
  timing.noise(c, setup, ctx, ms, flow_times, scalars, arrays, len(flow_loss))
  return Evaluation(checks=c.checks, scalars=scalars, arrays=arrays, notes=notes)


def _flow(c: Checker, notes: list[str], setup: DynamicsSetup, ctx: DynamicsContext, ms: list[int]
          ) -> tuple[np.ndarray, Any, plateaus.Staircase, np.ndarray]:
  """The exact-gradient flow from the run's initialisation (the theory trajectory, every step, to its last plateau):
  its drop count, its plateaus against L(M_m) and its midpoint crossings (NaN for a drop it never makes)."""
  levels = ctx.stairs["levels"]
  loss, final = timing.flow_to_end(setup, ctx, levels[ms[0]], levels[ms[-1]])
  steps = np.arange(len(loss), dtype=np.float64)
  stairs = plateaus.detect(steps, loss)
  c("drop_count", "drops of the exact-gradient flow", len(ms) - 1, len(stairs.drops))
  times = plateaus.crossings(steps[1:], loss[1:], plateaus.midpoints(levels, ms))
  complete = bool(np.all(np.isfinite(times)))
  if len(stairs.levels) != len(ms) and complete:   # a brief plateau merged, or a transit counted: read between
    notes.append(f"the flow's plateaus read between its midpoint crossings (the detector finds {len(stairs.drops)} "
                 f"drops, not {len(ms) - 1})")
    stairs = plateaus.levels_between(steps[1:], loss[1:], times)
  if complete:
    timing.plateau_checks(c, "flow", "flow_plateau", stairs, ms, levels, 1e-5)
  return loss, final, stairs, times


def _replica_checks(c: Checker, notes: list[str], setup: DynamicsSetup, ctx: DynamicsContext, rows: Rows,
                    ms: list[int], mids: np.ndarray, flow_times: np.ndarray) -> tuple[np.ndarray, bool]:
  """The trained replicas (the paper's protocol), read from the logged population loss between the times each
  crosses the midpoints of consecutive closed-form plateaus; returns the crossing times and whether every replica
  reached the last plateau."""
  levels, R = ctx.stairs["levels"], setup.replicas
  init_loss = float(theory.quadratic_loss(np.asarray(model.gamma(ctx.init), np.float64), ctx.population))
  steps = np.array([0.0] + [r["step"] for r in rows])
  curves = np.array([[init_loss] + [r[f"pop_loss_{i}"] for r in rows] for i in range(R)])
  notes.append(f"drops the detector finds per replica: {[len(plateaus.detect(steps, k).drops) for k in curves]} "
               "(a plateau shorter than ~1/4 e-fold merges two)")
  times = np.array([plateaus.crossings(steps[1:], curve[1:], mids) for curve in curves])
  reached = int(np.min(np.sum(np.isfinite(times), axis=1)))   # drops every replica has made within the run
  if reached:
    found = [plateaus.levels_between(steps[1:], curve[1:], t[:reached]) for curve, t in zip(curves, times)]
    read, spreads = np.array([f.levels for f in found]), np.array([f.spreads for f in found])
    drops = -np.diff(levels[np.array(ms)])
    for j, m in enumerate(ms[:reached]):
      if m == 0:   # the loss at Gamma ~ 0, the shared init: the flow's initial_level identity covers it
        continue
      # A replica whose plateau m is no plateau (its spread exceeds a tenth of the adjacent drops) has no level.
      flat = spreads[:, j] <= 0.1 * min(drops[max(j - 1, 0)], drops[j])
      if flat.sum() < 2:
        notes.append(f"trained plateau {m}: fewer than 2 replicas rest on it; not compared")
        continue
      mean, se = stats.mean_se(read[flat, j])
      c("plateau_level", f"trained: plateau {m} level vs L(M_{m}) (mean of {int(flat.sum())} replicas)", levels[m],
        mean, se=se, floor=float(spreads[flat, j].max()), dof=int(flat.sum()) - 1)
  timed = setup.model.kind == "separate" and setup.sample_size >= order.P12_SAMPLE
  for j, m in enumerate(ms[1:reached + 1] if timed else []):
    entry = "drop_times_late" if j >= max(len(ms) - 3, 2) else "drop_times_early"
    if setup.run.log_every > TOLERANCES[entry].value * flow_times[j] / 2:
      notes.append(f"drop to plateau {m} (flow: step {flow_times[j]:.0f}) not compared: the log every "
                   f"{setup.run.log_every} steps does not resolve it to half of {TOLERANCES[entry].value:g}")
      continue
    c(entry, f"trained drop to plateau {m}: replica-mean step vs the flow's", flow_times[j], times[:, j].mean(),
      note=f"per replica {np.round(times[:, j]).astype(int).tolist()}")
  if reached < len(ms) - 1:
    notes.append(f"the run ends before every replica reaches plateau {ms[-1]} ({reached} of {len(ms) - 1} drops "
                 f"made by all {R}): its last level and Gamma are not compared")
  return times, reached == len(ms) - 1


def _rank_pattern(c: Checker, notes: list[str], scalars: dict[str, Any], arrays: dict[str, Any],
                  setup: DynamicsSetup, levels: np.ndarray, flow_loss: np.ndarray, final: int) -> None:
  """R9/P11 on the exact-gradient flow: where it rests. The log-time dwell near every L(M_m) (t >= 1 tau); a
  conspicuous plateau at each multiple of R, none elsewhere (the last approach, m = final - 1, excepted), and the
  paper's wording "plateaus for m that divides R" as its own claim."""
  rank, lr = setup.model.rank, setup.learning_rate
  dwell = plateaus.dwell(np.arange(1, len(flow_loss)), flow_loss[1:], levels[:final + 1], start=1 / (2 * lr))
  arrays["flow_dwell"] = dwell
  scalars["flow_dwell"] = np.round(dwell, 4).tolist()
  for m in range(rank, final, rank):
    c("plateau_dwell", f"P11: flow: log-time dwell near L(M_{m}) (m a multiple of R = {rank})", 0.0, dwell[m])
  others = [m for m in range(1, final - 1) if m % rank]
  if others:
    worst = max(others, key=lambda m: dwell[m])
    c("transit_dwell", f"P11: flow: longest dwell near an L(M_m), m not a multiple of R = {rank} (m = {worst})", 0.0,
      dwell[worst], note=f"m = {', '.join(map(str, others))}: {', '.join(f'{dwell[m]:.3f}' for m in others)}")
  if (final - 1) % rank:
    notes.append(f"last approach, L(M_{final - 1}): dwell {dwell[final - 1]:.3f} e-folds (not a multiple of R; "
                 "the slow final direction, excepted by P11)")
  divisors = [m for m in range(1, min(rank, final - 1) + 1) if rank % m == 0]
  if rank > 1 and divisors:
    low = min(divisors, key=lambda m: dwell[m])
    c("divides_rank", f"Sec. 5 wording: flow: shortest dwell near an L(M_m), m dividing R = {rank} (m = {low})", 0.0,
      dwell[low], note=f"m = {', '.join(map(str, divisors))}: {', '.join(f'{dwell[m]:.3f}' for m in divisors)}")


def _gamma_checks(c: Checker, rotated: np.ndarray, target: np.ndarray) -> None:
  """The final Gamma in the eigenbasis (learned order) against the closed form at the last plateau."""
  g_mean, g_se = stats.mean_se(rotated)
  dof, d = len(rotated) - 1, target.shape[0]
  for dd in range(d):
    c("gamma_final", f"final Gamma_{dd}{dd} (eigendirection {dd}, replica mean)", target[dd, dd], g_mean[dd, dd],
      se=g_se[dd, dd], dof=dof)
  z = np.where(~np.eye(d, dtype=bool), np.abs(g_mean - target) / np.maximum(g_se, 1e-30), -1.0)
  i, j = np.unravel_index(int(np.argmax(z)), z.shape)
  c("gamma_final", f"final Gamma off-diagonal: the entry ({i},{j}) furthest from 0 in s.e.", 0.0, g_mean[i, j],
    se=g_se[i, j], dof=dof)


def _head_checks(c: Checker, notes: list[str], scalars: dict[str, Any], ctx: DynamicsContext, flow_params: Any,
                 replicas: list[Any], active: int) -> None:
  """P4 on the flow's final heads: alignment with one eigenvector each, balanced norms gamma_d^(1/3)."""
  gam = ctx.stairs["gamma"]
  worst, norms = _heads(flow_params, ctx.basis, active)
  c("head_alignment", "P4: flow: smallest |cos(k_i or q_i, e_d)| of the active heads", 1.0, worst)
  for dd in range(active):
    c("head_norms", f"P4: flow: |v|, ||k||, ||q|| of the head on e_{dd} vs gamma_{dd}^(1/3) (furthest)",
      gam[dd] ** (1 / 3), norms[dd][np.argmax(np.abs(norms[dd] - gam[dd] ** (1 / 3)))])
  scalars["flow_head_norms_v_k_q"] = np.round(norms, 5).tolist()
  if replicas:
    trained = [_heads(p, ctx.basis, active)[0] for p in replicas]
    notes.append(f"trained replicas' smallest |cos| of an active head with e_d: {np.round(trained, 3).tolist()} "
                 "(a finite sample's own eigenbasis is rotated from Sigma's; P4 is checked on the flow)")


def _final_level(c: Checker, setup: DynamicsSetup, ctx: DynamicsContext, params: Any, m: int, level: float,
                 dof: int) -> None:
  """The last plateau (the sample's least-squares fit when m = d) against L(M_m) plus the fit's expected excess
  population loss ``tr(H^-1 S)/P``, ``S = E[(y - z.g*)^2 z z^T]`` (asymptotic least squares, the sandwich), per
  replica from its own prompts: finite P raises every replica's final loss by about that much."""
  task = setup.task
  gammas = np.asarray(jax.vmap(model.gamma)(params), np.float64)
  final = np.array([float(theory.quadratic_loss(g, ctx.population)) for g in gammas])
  h = np.asarray(ctx.population[2], np.float64)
  g_star = ctx.basis @ np.diag(np.where(np.arange(task.d) < m, ctx.stairs["gamma"], 0.0)) @ ctx.basis.T
  excess = np.zeros(len(final))
  if m == task.d:
    for r in range(len(final)):
      prompts = replica_prompts(setup, ctx.sample_key, r)
      z = np.asarray(theory.features(prompts), np.float64)
      resid = np.asarray(prompts["y_query"], np.float64) - z @ g_star.reshape(-1)
      excess[r] = np.trace(np.linalg.solve(h, (z * resid[:, None] ** 2).T @ z / len(z))) / len(z)
  mean, se = stats.mean_se(final - excess)
  c("final_level", f"trained: final loss - expected least-squares excess vs L(M_{m}) (replica mean)", level, mean,
    se=se, dof=dof, note=f"expected excess {np.mean(excess):.2e}" if m == task.d else "")


