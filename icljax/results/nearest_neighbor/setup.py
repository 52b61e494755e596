"""The nearest-neighbour theorem's config, read once into frozen specs (its fields are declared in ``config.py``).

Reference: docs page "nearest_neighbor", section "Setting".
"""

from __future__ import annotations

import dataclasses
import decimal
from typing import Any

from icljax import validation
from icljax.experiment import specs
from icljax.models import nearest_neighbor as model
from icljax.results.nearest_neighbor.config import NearestNeighborConfig, NearestNeighborFields
from icljax.tasks import nearest_neighbor as task
from icljax.tasks import nearest_neighbor_shift as shift


@dataclasses.dataclass(frozen=True)
class NNSetup:
  """Everything a nearest-neighbour run reads.

  Attributes:
    run: name, seed, steps, logging.
    task: the training distribution of 1-NN prompts.
    model: W_0 and its perturbation.
    eta: the GD step on W (xi1 moves by eta/d).
    systems: ``'both'`` (W, xi on the same prompts, population xi), ``'reduced'`` or ``'full'``.
    estimator: full W: ``'symmetrized'`` fixed sample (a) or ``'sgd'`` fresh minibatches (c).
    sample_size, batch_size, tau_samples, eval_tau_samples, test_prompts: sample sizes.
    shifts: ``(name, spec)`` of each shifted test distribution; ``R`` their label bound.
    references: P6 rows ``(t, xi1, xi2, L, E[q_i*])`` of the reference computation that apply to this run (setting
      and steps), each value a :func:`reference_value` or None; ``skipped``: notes on the others.
    shift_references: P9 rows ``(t, shift, MSE)`` that apply to this run.
    sigma_references: P6 rows of the sigma_ratio runs ``(sigma, eta, t, xi1, xi2, L, E[q_i*])`` that apply.
    p7_references: P7 rows ``(t, L xi1)`` that apply.
    noise_eta: the step of the influence recursion that gives the rows' error bars (``noise.py``);
      ``ratio_noise_eta`` the same for the sigma_ratio runs' rows (their eta t is large: the recursion's step
      hardly matters there).
    extras: ``'slopes'``, ``'sigma_ratio'``, ``'landscape'``, ``'sphere'`` (sphere lemmas and P5), ``'ensemble'``
      (full-W vs population over seeds' samples).
    ratio_sigmas, ratio_eta, ratio_horizon: the sigma_ratio runs (horizon in eta t; 0: the run's own).
    landscape_*: the landscape grid and its reference values; hessian_references: P10's smallest Hessian
      eigenvalue at points ``((xi1, xi2), value)``.
    reference_match: whether the run is at the reference setting (the landscape's and Hessian's rows apply).
    reference_eta: the rows' step. A run at another step ``eta`` reads a row of step t at its own step
      ``t reference_eta / eta`` (equal eta t: the trajectory depends on eta t, P8) and adds the Euler
      discretisation between the two steps to the row's tolerance (``references.discretisation``); the rows in
      ``references``, ``shift_references`` and ``p7_references`` hold the run's step.

  Reference: docs page "nearest_neighbor", sections "Setting" and "What is checked and why".
  """

  run: specs.RunSpec
  task: task.NNSpec
  model: model.NNModelSpec
  eta: float
  systems: str
  estimator: str
  sample_size: int
  batch_size: int
  tau_samples: int
  eval_tau_samples: int
  test_prompts: int
  shifts: tuple[tuple[str, shift.ShiftSpec], ...]
  R: float
  references: tuple
  shift_references: tuple
  sigma_references: tuple
  p7_references: tuple
  noise_eta: float
  ratio_noise_eta: float
  skipped: tuple[str, ...]
  extras: tuple[str, ...]
  ratio_sigmas: tuple[float, ...]
  ratio_eta: float
  ratio_horizon: float
  landscape_xi1: tuple[float, float]
  landscape_xi2: tuple[float, float]
  landscape_points: int
  landscape_references: tuple
  hessian_references: tuple
  reference_match: bool
  reference_eta: float = 0.0

  def row_label(self, step: int) -> str:
    """A reference row's label: ``t=<t>`` at the rows' step; a run at another step also names its own step.

    Args:
      step: the run's step of the row.

    Returns:
      The label.

    Reference: docs page "nearest_neighbor", section "What is checked and why" (the reference rows).
    """
    if self.eta == self.reference_eta:
      return f"t={step}"
    return f"t={round(step * self.eta / self.reference_eta)} (eta {self.reference_eta:g}) at step {step} of eta " + \
        f"{self.eta:g}"


def reference_value(field: str, value) -> tuple[float, float] | None:
  """A printed reference number and its rounding (half a unit of its last printed decimal).

  Args:
    field: the config field (in error messages).
    value: a string as printed (``'3.400'``: rounding 5e-4), a float (its shortest repr: ``3.4`` reads as rounded
      to 0.05) or None (no value).

  Returns:
    ``(value, rounding)`` or None.

  Raises:
    ConfigError: the value is not a number.

  Reference: docs page "nearest_neighbor", section "What is checked and why" (the reference rows' rounding).
  """
  if value is None:
    return None
  try:
    number = decimal.Decimal(value.strip() if isinstance(value, str) else repr(float(value)))
    if not number.is_finite():   # nan, inf: their exponent is a letter, not a rounding
      raise ValueError(value)
  except (decimal.InvalidOperation, TypeError, ValueError):
    raise validation.ConfigError(f"config.{field}", value, "a finite number as printed, e.g. '3.400'") from None
  exponent = number.as_tuple().exponent
  assert isinstance(exponent, int)
  return float(number), 0.5 * 10.0 ** exponent


def _values(field: str, row: tuple, first: int) -> tuple:
  """The row with its entries from ``first`` on read by :func:`reference_value`."""
  return tuple(row[:first]) + tuple(reference_value(field, v) for v in row[first:])


def shift_spec(config: NearestNeighborFields, name: str, field: str = "config.shifts") -> shift.ShiftSpec:
  """``'appendix_b:0.5'`` (margin delta after the colon) or a kind name, as a validated spec at the config's d, N, R.

  Args:
    config: the typed config (d, N, R).
    name: the shift's name.
    field: the config field that names it (in error messages).

  Returns:
    The spec.

  Raises:
    ConfigError: the shift does not fit the config (Appendix B needs N >= 2), naming ``field`` or the config field.

  Reference: Li et al. (2024), Assumption 3 and Appendix B.
  """
  kind, _, arg = str(name).partition(":")
  validation.choice(field, kind, shift.SHIFTS)
  kwargs: dict[str, Any] = {}
  if arg:
    try:
      kwargs["delta"] = float(arg)
    except ValueError:
      raise validation.ConfigError(field, name, "'appendix_b:<delta>' with delta in (0, 2)") from None
  try:
    return shift.make_shift(kind, config.d, config.N, R=config.R, **kwargs)
  except validation.ConfigError as e:
    raise validation.ConfigError(field if e.field == "delta" else f"config.{e.field}", e.value,
                                 e.accepted) from None


def _applicable(config: NearestNeighborConfig, rows, field: str, first: int = 1,
                timed: bool = True) -> tuple[tuple, list[str]]:
  """Rows of a reference table that apply to this run (entries from ``first`` on read by :func:`reference_value`;
  a timed row's t becomes the run's step at the same eta t); a note for each group of rows that does not."""
  rows = [_values(field, tuple(r), first) for r in rows]
  setting = (config.d, config.N, config.sigma, config.eta)
  if rows and not _matches(config, eta=not timed):
    return (), [f"{field}: the reference rows are for (d, N, sigma, eta) = {tuple(config.reference_setting)} from "
                f"W_0; this run is {setting} (init {config.init}): skipped"]
  if not timed:
    return tuple(rows), []
  keep, skipped = [], []
  for r in rows:
    step = _run_step(config, r[0])
    if (step is None or step > config.steps or step % config.log_every
        or (field == "shift_references" and r[1] not in config.shifts)):
      skipped.append(f"{field}: row at t = {r[0]} skipped (beyond the run's {config.steps} steps, not a logged step, "
                     "or its test set is not among the run's shifts)")
    else:
      keep.append((step,) + r[1:])
  return tuple(keep), skipped


def _run_step(config: NearestNeighborConfig, t: int) -> int | None:
  """The run's step at the eta t of a row at step t of the rows' eta (None where it is not a whole step)."""
  ref_eta = config.reference_setting[3]
  if config.eta == ref_eta:
    return t
  step = round(t * ref_eta / config.eta)
  return step if step >= 1 and abs(step * config.eta - t * ref_eta) <= 1e-9 * t * ref_eta else None


def _sigma_rows(config: NearestNeighborConfig) -> tuple[tuple, list[str]]:
  """The ``sigma_references`` rows ``(sigma, eta, t, xi1, xi2, L, E[q_i*])`` the sigma_ratio runs reach: same d
  and N as ``reference_setting``, sigma among ``ratio_sigmas``, eta t within their horizon."""
  rows = [(r[0], r[1]) + _values("sigma_references", tuple(r[2:]), 1) for r in config.sigma_references]
  horizon = config.ratio_horizon or config.steps * config.eta
  ok = (config.reference_setting[:2] == (config.d, config.N) and config.init == "paper"
        and "sigma_ratio" in config.extras)
  keep = tuple(r for r in rows if ok and r[0] in config.ratio_sigmas and r[1] * r[2] <= horizon * (1 + 1e-9))
  return keep, [f"sigma_references: row sigma = {r[0]:g}, t = {r[2]} at eta = {r[1]:g} skipped (no sigma_ratio run "
                "reaches it at this setting)" for r in rows if r not in keep]


def model_and_step(config: NearestNeighborFields) -> tuple[int, int, model.NNModelSpec, float]:
  """The fields every nearest-neighbour config shares: d, N, the model (W_0 and its perturbation), the step.

  Args:
    config: the typed config (its fields already checked against their declarations).

  Returns:
    ``(d, N, model spec, eta)``.

  Reference: Li et al. (2024), Assumption 2 (W_0) and Lemma 2 (the step on the family).
  """
  return config.d, config.N, model.NNModelSpec(config.d, config.sigma, config.init, config.init_scale), config.eta


def parse(config: NearestNeighborConfig) -> NNSetup:
  """Reads a validated nearest-neighbour config into specs; the rules that tie fields together raise
  ``ConfigError`` naming the field.

  Args:
    config: the typed config (every field already checked against its declaration).

  Returns:
    The setup.

  Raises:
    ConfigError: a shifted test set does not fit d, N (Appendix B needs N >= 2).

  Reference: docs page "nearest_neighbor", sections "Setting" and "Fields".
  """
  d, n, model_spec, eta = model_and_step(config)
  shifts = tuple((s, shift_spec(config, s)) for s in config.shifts)
  references, skipped = _applicable(config, config.references, "references")
  shift_refs, skipped2 = _applicable(config, config.shift_references, "shift_references", first=2)
  p7_refs, skipped3 = _applicable(config, config.p7_references, "p7_references")
  sigma_refs, skipped4 = _sigma_rows(config)
  landscape_refs, skipped5 = _applicable(config, config.landscape_references, "landscape_references", timed=False)
  hessian_refs, skipped6 = _applicable(config, config.hessian_references, "hessian_references", timed=False)
  return NNSetup(
      run=specs.run_spec(config), task=task.make_spec(d, n, config.labels), model=model_spec, eta=eta,
      systems=config.model, estimator=config.estimator, sample_size=config.sample_size,
      batch_size=config.batch_size, tau_samples=config.tau_samples, eval_tau_samples=config.eval_tau_samples,
      test_prompts=config.test_prompts, shifts=shifts, R=config.R, references=references,
      shift_references=shift_refs, sigma_references=sigma_refs, p7_references=p7_refs, noise_eta=config.noise_eta,
      ratio_noise_eta=config.ratio_noise_eta or config.noise_eta,
      skipped=tuple(skipped + skipped2 + skipped3 + skipped4 + skipped5 + skipped6), extras=config.extras,
      ratio_sigmas=config.ratio_sigmas, ratio_eta=config.ratio_eta, ratio_horizon=config.ratio_horizon,
      landscape_xi1=config.landscape_xi1, landscape_xi2=config.landscape_xi2,
      landscape_points=config.landscape_points, landscape_references=landscape_refs,
      hessian_references=hessian_refs, reference_match=not skipped5 and _matches(config),
      reference_eta=config.reference_setting[3])


def _matches(config: NearestNeighborConfig, eta: bool = True) -> bool:
  """Whether the run is at the reference setting from W_0 (with ``eta``: at the rows' step too)."""
  ref = config.reference_setting
  return config.init == "paper" and ref[:3] == (config.d, config.N, config.sigma) and (not eta or ref[3] == config.eta)
