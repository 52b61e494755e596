"""Result 3's finite-sample law over training-set sizes and seeds: ``E[KL(alpha || alpha_hat)] ~ 1/(2M)``.

A reparameterised FA model trained on M sentences ends at ``H(alpha) + KL(alpha || alpha_hat)`` (P7), where
``alpha_hat`` is the training set's noise fraction; each run checks that end point at its own seed
(``bayes_excess``). The law is about how that excess is distributed over training sets: here the noise fractions of
the training sets that seeds ``0 .. S-1`` would draw (the same stream and the same flags as
``plan`` -> ``task.sample``, without generating the sentences) give the mean excess with its standard error at
each M, compared with the exact binomial expectation (theory) and the paper's ``1/(2M)`` (claim).

Reference: Nguyen & Nguyen-Tang (2025), the finite-sample analysis (abstract); the limit H(alpha) + KL(alpha ||
alpha_hat) and the binomial expectation are derived in the theorem's docs page.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from icljax import prng, stats
from icljax.experiment.checks import Checker
from icljax.tasks import recall as task
from icljax.theory import recall as theory

SIZES = (128, 512, 2048, 8192)   # M, the range
SEEDS = 4000                     # training sets per M: the mean's relative s.e. is sqrt(2/S) = 2.2%


def alpha_hats(spec: task.RecallSpec, m: int, seeds: int) -> np.ndarray:
  """The noise fraction of the M-sentence training set of each seed ``0 .. seeds-1`` (float64).

  Args:
    spec: the noisy task.
    m: training-set size.
    seeds: number of seeds.

  Returns:
    (seeds,) noise fractions.

  Reference: docs page "recall", section "What is checked and why" (entry kl_law).
  """
  draw = jax.jit(jax.vmap(lambda s: jnp.mean(task.noise_flags(prng.stream(s, "sample"), spec, m))))
  return np.asarray(draw(jnp.arange(seeds)), np.float64)


def law(spec: task.RecallSpec, sizes: Sequence[int] = SIZES, seeds: int = SEEDS) -> dict[str, np.ndarray]:
  """Mean and standard error of KL(alpha || alpha_hat) over seeds at each M, beside the exact expectation.

  Training sets whose alpha_hat is 0 or 1 (a run refuses them) are left out; the exact expectation is conditioned
  the same way.

  Args:
    spec: the noisy task.
    sizes: the training-set sizes M.
    seeds: training sets per M.

  Returns:
    ``{'M', 'mean', 'se', 'exact', 'used'}`` arrays over ``sizes``.

  Reference: docs page "recall", section "What is checked and why" (entries kl_law and kl_half_over_m).
  """
  alpha = float(spec.alpha)
  out: dict[str, list[float | np.ndarray]] = {k: [] for k in ("M", "mean", "se", "exact", "used")}
  for m in sizes:
    hats = alpha_hats(spec, m, seeds)
    hats = hats[(hats > 0) & (hats < 1)]
    kl = theory.kl_bernoulli(alpha, hats)
    out["M"].append(m)
    mean, se = stats.mean_se(kl)
    out["mean"].append(mean)
    out["se"].append(se)
    out["exact"].append(theory.expected_kl_binomial(alpha, m))
    out["used"].append(len(hats))   # kl is shaped like hats
  return {k: np.asarray(v, np.float64) for k, v in out.items()}


def checks(c: Checker, spec: task.RecallSpec, sizes: Sequence[int] = SIZES,
           seeds: int = SEEDS) -> tuple[dict[str, np.ndarray], list[str]]:
  """Adds the law's checks at every M: the seed mean against the exact binomial expectation (theory) and against
  the paper's 1/(2M) (claim).

  Args:
    c: the run's checker.
    spec: the noisy task.
    sizes: the training-set sizes M.
    seeds: training sets per M.

  Returns:
    The arrays to save (prefixed ``law_``) and a note.

  Reference: Nguyen & Nguyen-Tang (2025), the finite-sample analysis (abstract); docs page "recall", section
  "What is checked and why".
  """
  res = law(spec, sizes, seeds)
  for m, mean, se, exact in zip(res["M"], res["mean"], res["se"], res["exact"]):
    c("kl_law", f"E[KL(alpha||alpha_hat)] over {int(res['used'][0])} training sets, M = {int(m)}, vs the exact "
      "binomial expectation", float(exact), float(mean), se=float(se))
    c("kl_half_over_m", f"2M E[KL(alpha||alpha_hat)] at M = {int(m)} vs 1 (the paper's 1/(2M))", 1.0,
      float(2 * m * mean), se=float(2 * m * se))
  note = ("finite-sample law (T4/P7): 2M E[KL] = " + ", ".join(f"{2 * m * v:.3f} +- {2 * m * s:.3f} (M = {int(m)})"
                                                               for m, v, s in zip(res["M"], res["mean"], res["se"]))
          + f" over {seeds} seeds' training sets; exact binomial 2M E[KL] = "
          + ", ".join(f"{2 * m * e:.4f}" for m, e in zip(res["M"], res["exact"])) + ".")
  return {f"law_{k}": v for k, v in res.items()}, [note]
