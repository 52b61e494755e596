"""Linear attention learns in-context ridge shrinkage: a theorem outside icljax, in one file.

x_i ~ N(0, I_d), w* ~ N(0, I/d), y_i = w*.x_i + N(0, sigma^2). The one-parameter attention
y_hat = gamma x_q^T X^T y / n has population loss 1 + sigma^2 - 2 gamma + gamma^2 (n+d+1+d sigma^2)/n,
minimised at gamma* = n / (n + d + 1 + d sigma^2): the noise shrinks the step below n/(n+d+1).
"""
import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax

from icljax import plots, prng
from icljax.experiment import Checker, Evaluation, Experiment, MainJobRun, Plan, Preset, Tolerance, fields, register


@dataclasses.dataclass(frozen=True, kw_only=True)
class RidgeConfig(fields.Config):
  d: int = fields.field(5, "covariate dimension", fields.Int(low=1))
  n: int = fields.field(20, "in-context examples per prompt", fields.Int(low=1))
  sigma: float = fields.field(1.0, "label-noise standard deviation", fields.Real(low=0.0))
  prompts: int = fields.field(50_000, "prompts of the training sample", fields.Int(low=100), names_run=False)
  lr: float = fields.field(0.5, "gradient-descent step", fields.Real(low=0.0, low_open=True))


def features(key, c, m):
  """a = x_q^T X^T y / n and the query label b, for m prompts."""
  kx, kw, ke = jax.random.split(key, 3)
  x = jax.random.normal(kx, (m, c.n + 1, c.d))
  w = jax.random.normal(kw, (m, c.d)) / np.sqrt(c.d)
  y = jnp.einsum("mid,md->mi", x, w) + c.sigma * jax.random.normal(ke, (m, c.n + 1))
  return jnp.einsum("md,mid,mi->m", x[:, -1], x[:, :-1], y[:, :-1]) / c.n, y[:, -1]


def plan(c):
  a, b = features(prng.stream(c.seed, "sample"), c, c.prompts)
  loss = lambda p, key, hp: jnp.mean((p["gamma"] * hp["a"] - hp["b"]) ** 2)   # GD on one fixed sample
  return Plan(loss, {"gamma": jnp.zeros(())}, {"a": a, "b": b}, optax.sgd(c.lr), prng.stream(c.seed, "data"),
              context=(np.asarray(a, np.float64), np.asarray(b, np.float64)),
              track=lambda p: {"gamma": float(p["gamma"])})


TOLERANCES = {
    "gamma_star": Tolerance(4.0, "abs", "standard error", "GD ends at the sample's least-squares gamma; 4 "
                            "sandwich standard errors of it around gamma*", per_se=True),
    "noise_free": Tolerance(4.0, "abs", "standard error", "negative control: the step n/(n+d+1) that ignores "
                            "the noise must not fit", kind="control", per_se=True)}


def evaluate(c, ctx, params, rows):
  (a, b), gamma = ctx, float(params["gamma"])
  se = np.std(a * (b - gamma * a)) / (np.mean(a * a) * np.sqrt(len(a)))   # sandwich: score sd / curvature
  star, free = c.n / (c.n + c.d + 1 + c.d * c.sigma**2), c.n / (c.n + c.d + 1)
  check = Checker(TOLERANCES)
  check("gamma_star", "trained gamma vs n/(n+d+1+d sigma^2)", star, gamma, se=se)
  if abs(free - star) > 8 * se:   # the control only where the two formulas are told apart (not at sigma = 0)
    check("noise_free", "trained gamma vs n/(n+d+1)", free, gamma, se=se)
  return Evaluation(check.checks, {"gamma": gamma, "gamma_star": star, "se": se}, {"gamma": np.array(gamma)})


def figures(inp):
  refs = {"gamma*": inp.summary["scalars"]["gamma_star"], "n/(n+d+1)": inp.config.n / (inp.config.n + inp.config.d + 1)}
  return [plots.curves(inp.fig_dir / "gamma.png", inp.metrics, ["gamma"], references=refs, ylabel="gamma")]


EXPERIMENT = register(Experiment(
    name="ridge_shrinkage", title="Linear attention learns in-context ridge shrinkage",
    claim="GD on one-parameter linear attention reaches gamma* = n/(n+d+1+d sigma^2), not n/(n+d+1).",
    config=RidgeConfig, setup=lambda c: c, plan=plan, evaluate=evaluate, figures=figures, tolerances=TOLERANCES,
    presets=(Preset("ridge_shrinkage", "icljax-run --plugin=ridge_shrinkage.py --config=ridge_shrinkage "
                    "--workdir=runs/ridge\n\nAbout 5 s on 2 cores.", {"steps": 100, "log_every": 10}),),
    quick={"prompts": 1000, "steps": 20}, stack_fields=("seed", "sigma"),
    main_job=(MainJobRun("ridge_shrinkage", key=True),)))
