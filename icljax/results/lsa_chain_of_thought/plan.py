"""The chain-of-thought plan: the CoT model and, beside it, the same model without chain of thought, trained on
fresh prompts; the teacher-forced targets are GD iterates computed from each batch.

Reference: Huang, Wang, Lee (2025), arXiv 2502.21212, section 3 (the CoT and no-CoT losses); docs page
"lsa_chain_of_thought", section "Setting".
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from icljax import estimators, prng
from icljax.experiment.api import Plan
from icljax.models import lsa_chain_of_thought as model
from icljax.results.lsa_chain_of_thought.setup import CotSetup
from icljax.tasks import regression
from icljax.theory import lsa_chain_of_thought as theory


@dataclasses.dataclass(frozen=True)
class CotContext:
  """Theory values computed once and the evaluation key.

  Attributes:
    no_cot_step: n/(n + d + 1), the optimal step without chain of thought.
    no_cot_error: d (d + 1)/(n + d + 1), its error.
    gd_exact: E|w_k - w*|^2 for k = 0..min(3, eval_steps), exact.
    eval_key: key of the evaluation prompts.
    iterates: ``E tr (I - eta S)^{2k}`` for k = 1..eval_steps by a NumPy Monte Carlo over S alone (x ~ N(0, I)):
      ``(mean, standard error, share of the mean from unstable draws)``, each (eval_steps,); shares no code with
      the GD targets, the sampler or the model.
    ood_iterates: the same for x ~ N(0, Sigma_ood), or None.
    unstable: ``P(|w_K - w*|^2 > |w*|^2)`` and its binomial s.e. at x ~ N(0, UNSTABLE_SCALE I), K = eval_steps
      (NumPy Monte Carlo), or None.

  Reference: Huang et al. (2025) Theorems 3.1, 3.2 and 4.2; docs page "lsa_chain_of_thought", section "What is
  checked and why".
  """

  no_cot_step: float
  no_cot_error: float
  gd_exact: tuple[float, ...]
  eval_key: jax.Array
  iterates: tuple[np.ndarray, np.ndarray, np.ndarray]
  ood_iterates: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
  unstable: tuple[float, float] | None = None


def references(setup: CotSetup) -> dict[str, Any]:
  """The NumPy Monte-Carlo references of the iterate errors (2 x eval_prompts draws of S each, own seeds).

  Args:
    setup: the run's specs.

  Returns:
    ``{'iterates', 'ood_iterates', 'unstable'}`` as in :class:`CotContext`.

  Reference: Huang et al. (2025) section 3's GD targets and Theorem 4.2; docs page "lsa_chain_of_thought", section
  "What is checked and why" (entries iterate_errors, ood_errors, ood_unstable).
  """
  d, n, eta, big_k, seed = setup.model.d, setup.model.n, setup.eta, setup.eval_steps, setup.run.seed
  draws, ks = 2 * setup.eval_prompts, range(1, setup.eval_steps + 1)
  spectrum = lambda task: np.linalg.eigvalsh(np.asarray(task.cov, np.float64))
  out: dict[str, Any] = {
      "iterates": theory.gd_error_monte_carlo(theory.wishart_eigenvalues(d, n, draws, [seed, 1]), eta, ks),
      "ood_iterates": None, "unstable": None}
  if setup.ood_task is not None:
    lam = theory.wishart_eigenvalues(d, n, draws, [seed, 2], spectrum(setup.ood_task))
    out["ood_iterates"] = theory.gd_error_monte_carlo(lam, eta, ks)
  if setup.unstable_task is not None:
    lam = theory.wishart_eigenvalues(d, n, draws, [seed, 3], spectrum(setup.unstable_task))
    out["unstable"] = theory.gd_growth_monte_carlo(lam, eta, big_k, [seed, 4])
  return out


def losses(params: dict, batch: dict[str, jax.Array], setup: CotSetup) -> tuple[jax.Array, jax.Array]:
  """The teacher-forced CoT loss ``E sum_{i<k} |f(Z_i^*)[:, -1] - (0, 0, w_{i+1}, 1)|^2`` (Huang et al. section 3) of
  ``params['cot']`` and the no-CoT loss ``E |f(Z_0)[:, -1] - (0, 0, w*, 1)|^2`` of ``params['no_cot']``.

  Args:
    params: ``{'cot': ..., 'no_cot': ...}``, each the model's parameters.
    batch: prompts with ``w``.
    setup: the run's specs.

  Returns:
    ``(cot_loss, no_cot_loss)``, means over the batch.

  Reference: Huang et al. (2025) section 3 (the teacher-forced CoT loss and the one-output loss of Theorem 3.1).
  """
  spec = setup.model
  chain = theory.gd_iterates(batch, setup.eta, setup.cot_steps)
  out = model.teacher_forced(params["cot"], batch, chain[:, :-1], spec)
  cot = jnp.mean(jnp.sum((out - model.token(chain[:, 1:], spec)) ** 2, axis=(1, 2)))
  one = model.teacher_forced(params["no_cot"], batch, chain[:, :1], spec)[:, 0]
  no_cot = jnp.mean(jnp.sum((one - model.token(batch["w"], spec)) ** 2, axis=1))
  return cot, no_cot


def weight_errors(params: dict, setup: CotSetup, step: float) -> dict[str, float]:
  """Relative Frobenius errors of the learned blocks against Theorems 3.1-3.2 (sparse: ``V_31 = -eta I``,
  ``W_13 = I``, no-CoT ``-V_31 = n/(n+d+1) I``; dense: ``V_31 W_13 = -eta I``, ``V_31 W_24 = eta I``).

  Args:
    params: ``{'cot': ..., 'no_cot': ...}``, each the model's parameters.
    setup: the run's specs.
    step: the no-CoT optimum's step n/(n + d + 1).

  Returns:
    Sparse: ``{'V31_err', 'W13_err', 'no_cot_V31_err'}``; dense: ``{'V31W13_err', 'V31W24_err'}``.

  Reference: Huang et al. (2025) Theorems 3.1 and 3.2; docs page "lsa_chain_of_thought", section "What is checked
  and why" (entries cot_weights, no_cot_step).
  """
  spec, eta = setup.model, setup.eta
  eye = np.eye(spec.d)
  rel = lambda a, b: float(np.linalg.norm(np.asarray(a) - b) / np.linalg.norm(b))
  if spec.parameterization == "sparse":
    return {"V31_err": rel(params["cot"]["V31"], -eta * eye), "W13_err": rel(params["cot"]["W13"], eye),
            "no_cot_V31_err": rel(params["no_cot"]["V31"], -step * eye)}
  v, w = (np.asarray(a) for a in model.full(params["cot"], spec))
  prods = theory.dense_products(v, w, spec.d)
  return {"V31W13_err": rel(prods["V31W13"], -eta * eye), "V31W24_err": rel(prods["V31W24"], eta * eye)}


def plan(setup: CotSetup) -> Plan[CotContext]:
  """The plan of a chain-of-thought run (keys: init, data, eval, test).

  Args:
    setup: the run's specs.

  Returns:
    The plan.

  Reference: docs page "lsa_chain_of_thought", section "Setting" (losses and optimiser).
  """
  seed, spec, task = setup.run.seed, setup.model, setup.task
  d, n = spec.d, spec.n
  ctx = CotContext(no_cot_step=theory.no_cot_step(d, n), no_cot_error=theory.no_cot_error(d, n),
                   gd_exact=tuple(theory.gd_error(d, n, setup.eta, k)
                                  for k in range(min(theory.EXACT_MAX_STEPS, setup.eval_steps) + 1)),
                   eval_key=prng.stream(seed, "eval"), **references(setup))
  k_cot, k_no = jax.random.split(prng.stream(seed, "init"))
  params = {"cot": model.init(k_cot, spec), "no_cot": model.init(k_no, spec)}
  probe = regression.sample(prng.stream(seed, "test"), task, 1024, weights=True)
  probe_losses = jax.jit(lambda p: losses(p, probe, setup))

  fresh = estimators.fresh(lambda p, b: sum(losses(p, b, setup)),   # type: ignore[arg-type,return-value]  # 2 arrays
                           lambda k, b: regression.sample(k, task, b, weights=True), setup.batch_size)

  def track(p) -> dict[str, float]:
    cot, no_cot = probe_losses(p)
    return {"cot_loss": float(cot), "no_cot_loss": float(no_cot), **weight_errors(p, setup, ctx.no_cot_step)}

  return Plan(objective=lambda p, key, hp: fresh(p, key), params=params, hparams=None,
              optimizer=setup.optimizer.build(),
              data_key=prng.stream(seed, "data"), context=ctx, track=track)
