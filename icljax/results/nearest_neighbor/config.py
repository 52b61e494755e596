"""The nearest-neighbour theorem's config fields (each declared once), its packaged configs and named variants.

:class:`NearestNeighborFields` holds the fields every nearest-neighbour theorem shares (the task, W_0, the step, the
population sample, the shifted tests' label bound); :class:`NearestNeighborConfig` adds this theorem's systems,
evaluation sizes, reference rows and extra computations. Reference rows hold the reference computation's numbers as
printed (strings: ``'3.400'`` is rounded to 5e-4; ``setup.reference_value``).

Reference: docs page "nearest_neighbor", sections "Setting" and "Fields".
"""

from __future__ import annotations

import dataclasses
import decimal
import functools
from collections.abc import Sequence
from typing import Any

from icljax.experiment import configs, fields
from icljax.experiment.api import Preset
from icljax.models import nearest_neighbor as model
from icljax.tasks import nearest_neighbor as task
from icljax.tasks import nearest_neighbor_shift as shift

SYSTEMS = ("both", "reduced", "full")
ESTIMATORS = ("symmetrized", "sgd")
EXTRAS = ("slopes", "sigma_ratio", "landscape", "sphere", "ensemble")


def _printed(x: Any) -> Any:
  """A reference value as printed (a string a decimal reads), a number, or None; raises ``ValueError`` otherwise."""
  if x is None or (isinstance(x, (int, float)) and not isinstance(x, bool)):
    return x
  try:
    if isinstance(x, str) and decimal.Decimal(x.strip()).is_finite():
      return x
  except decimal.InvalidOperation:
    pass
  raise ValueError(x)


_step = functools.partial(fields.Int(low=1).check, "t")                    # raise ConfigError (a ValueError)
_positive = functools.partial(fields.Real(low=0.0, low_open=True).check, "value")


def _point(x: Any) -> tuple[float, float]:
  if isinstance(x, str) or not isinstance(x, Sequence) or len(x) != 2:
    raise ValueError(x)
  return tuple(fields.Real().check("point", v) for v in x)


def _shift_name(x: Any) -> str:
  """``'appendix_b:<delta>'`` with delta in (0, 2), or a shift kind (``tasks.nearest_neighbor_shift.SHIFTS``)."""
  kind, colon, arg = str(x).partition(":")
  if not isinstance(x, str) or kind not in shift.SHIFTS or (colon and (kind != "appendix_b" or not 0 < float(arg) < 2)):
    raise ValueError(x)
  return x


def _rows(text: str, *columns) -> fields.Accept:
  """Reference rows: a tuple of rows, column ``k`` checked by ``columns[k]`` (raises ``ValueError`` on a bad value)."""
  def check(v):
    if isinstance(v, str) or not isinstance(v, Sequence):
      raise ValueError(v)
    out = []
    for row in v:
      if isinstance(row, str) or not isinstance(row, Sequence) or len(row) != len(columns):
        raise ValueError(row)
      out.append(tuple(col(x) for col, x in zip(columns, row)))
    return tuple(out)

  return fields.Custom(f"a tuple of rows {text} (values as printed, e.g. '3.400', or None where unknown)", check,
                       ("abc", ((0,) * (len(columns) + 1),)))


def _setting(v: Any) -> tuple[int, int, float, float]:
  if isinstance(v, str) or not isinstance(v, Sequence) or len(v) != 4:
    raise ValueError(v)
  return fields.Int(low=2).check("d", v[0]), _step(v[1]), _positive(v[2]), _positive(v[3])


def _shifts(v: Any) -> tuple[str, ...]:
  if isinstance(v, str) or not isinstance(v, Sequence) or len(set(v)) != len(v):
    raise ValueError(v)
  return tuple(_shift_name(x) for x in v)


@dataclasses.dataclass(frozen=True, kw_only=True)
class NearestNeighborFields(fields.Config):
  """The fields of every nearest-neighbour theorem: 1-NN prompts (Assumption 1), the one-layer softmax attention
  from W_0 = diag(0, 0, -sigma) (Assumption 2), its GD step, the population sample and the label bound of the
  shifted tests (Assumption 3). A sibling theorem derives its config from this class.

  Reference: Li et al. (2024), arXiv 2411.10830, Assumptions 1-3 and Eq. (2.2); docs page "nearest_neighbor",
  section "Fields".
  """

  d: int = fields.field(8, "input dimension (inputs uniform on S^{d-1})", fields.Int(low=2))
  N: int = fields.field(16, "context examples per prompt", fields.Int(low=1))
  sigma: float = fields.field(3.0, "W_0 = diag(0, 0, -sigma): the query's initial self-score",
                              fields.Real(low=0.0, low_open=True))
  eta: float = fields.field(0.05, "GD step on W (xi1 moves by eta/d, xi2 by eta)", fields.Real(low=0.0, low_open=True))
  init: str = fields.field("paper", "'paper' (W_0) or 'random' (W_0 + N(0, init_scale^2) on every entry)",
                           fields.Choice(*model.INITS))
  init_scale: float = fields.field(0.0, "standard deviation of the random perturbation (init='random' only)",
                                   fields.Real(low=0.0))
  batch_size: int = fields.field(128, "prompts per SGD step", fields.Int(low=1), names_run=False)
  tau_samples: int = fields.field(8000, "prompts (inner products) of the reduced population system's sample",
                                  fields.Int(low=100), names_run=False)
  R: float = fields.field(3.0, "label bound of the shifted test sets (Assumption 3)",
                          fields.Real(low=0.0, low_open=True))
  test_prompts: int = fields.field(2000, "prompts per shifted test set", fields.Int(low=1), names_run=False)


@dataclasses.dataclass(frozen=True, kw_only=True)
class NearestNeighborConfig(NearestNeighborFields):
  """Softmax attention trained by GD from W_0 learns the 1-NN rule: the systems trained side by side (full W, the
  reduced system on the same prompts, the reduced population system), the evaluation sizes, shifted tests, the
  reference rows and the extra computations.

  Reference: Li et al. (2024), arXiv 2411.10830, Lemma 2, Theorem 1, Sec. 5 and Appendix B; docs page
  "nearest_neighbor", section "Fields".
  """

  labels: str = fields.field("rademacher", "training labels", fields.Choice(*task.LABELS))
  model: str = fields.field("reduced", "'reduced' (xi), 'full' (W) or 'both' (W and xi on the same prompts, and the "
                            "population xi)", fields.Choice(*SYSTEMS))
  estimator: str = fields.field("symmetrized", "full W: 'symmetrized' fixed sample closed under the family's "
                                "symmetries, or 'sgd' fresh minibatches", fields.Choice(*ESTIMATORS))
  sample_size: int = fields.field(64, "prompts of the full-W sample before symmetrisation (x d 2^m 2 images)",
                                  fields.Int(low=1), names_run=False)
  eval_tau_samples: int = fields.field(100_000, "fresh prompts on which the population loss and E[q] are read",
                                       fields.Int(low=100), names_run=False)
  shifts: tuple[str, ...] = fields.field(
      (), "shifted test sets: 'appendix_b:<delta>' (delta in (0, 2)), 'clustered', 'low_dim', 'smooth_labels'",
      fields.Custom("a tuple of distinct shifts 'appendix_b:<delta>' (0 < delta < 2) or " + ", ".join(
          repr(s) for s in shift.SHIFTS[1:]), _shifts, (("no-such-shift",), ("appendix_b:3",))))
  reference_setting: tuple = fields.field(
      (8, 16, 3.0, 0.05), "(d, N, sigma, eta) of the reference rows (they apply only there, from W_0)",
      fields.Custom("(d >= 2, N >= 1, sigma > 0, eta > 0)", _setting, ((8, 16, 3.0), (1, 16, 3.0, 0.05))),
      names_run=False)
  references: tuple = fields.field((), "P6 rows (t, xi1, xi2, L, E[q_i*]) of the reference computation",
                                   _rows("(t, xi1, xi2, L, E[q_i*])", _step, *(_printed,) * 4), names_run=False)
  shift_references: tuple = fields.field((), "P9 rows (t, shift, MSE against the 1-NN label)",
                                         _rows("(t, shift, MSE)", _step, _shift_name, _printed), names_run=False)
  p7_references: tuple = fields.field((), "P7 rows (t, L xi1)", _rows("(t, L xi1)", _step, _printed),
                                      names_run=False)
  sigma_references: tuple = fields.field(
      (), "P6 rows of the sigma_ratio runs (sigma, eta, t, xi1, xi2, L, E[q_i*]) at the reference setting's d, N",
      _rows("(sigma, eta, t, xi1, xi2, L, E[q_i*])", _positive, _positive, _step, *(_printed,) * 4),
      names_run=False)
  noise_eta: float = fields.field(5.0, "step of the influence recursion giving the reference rows' error bars "
                                  "(eta t is its clock)", fields.Real(low=0.0, low_open=True), names_run=False)
  ratio_noise_eta: float = fields.field(0.0, "step of the influence recursion of the sigma_ratio runs' rows; 0: "
                                        "noise_eta", fields.Real(low=0.0), names_run=False)
  extras: tuple[str, ...] = fields.field(
      (), "extra computations: 'slopes' (P7), 'sigma_ratio' (Lemma 12, P8), 'landscape' (Fig. 2, P1, P10), "
      "'sphere' (sphere lemmas, P5), 'ensemble' (full W over 64 seeds' samples)", fields.Items(*EXTRAS))
  ratio_sigmas: tuple[float, ...] = fields.field((3.0, 10.0, 20.0, 40.0), "initial sigma of the sigma_ratio runs",
                                                 fields.Vector(positive=True))
  ratio_eta: float = fields.field(0.5, "step of the sigma_ratio runs (the trajectory depends on eta t only, P8)",
                                  fields.Real(low=0.0, low_open=True))
  ratio_horizon: float = fields.field(0.0, "eta t of the sigma_ratio runs; 0: the run's own eta x steps",
                                      fields.Real(low=0.0))
  landscape_xi1: tuple[float, float] = fields.field((0.0, 20.0), "xi1 range of the landscape grid",
                                                  fields.Vector(length=2))
  landscape_xi2: tuple[float, float] = fields.field((-5.0, 20.0), "xi2 range of the landscape grid",
                                                  fields.Vector(length=2))
  landscape_points: int = fields.field(51, "grid points per axis of the landscape", fields.Int(low=2),
                                       names_run=False)
  landscape_references: tuple = fields.field((), "P10 values ((xi1, xi2), L) at the reference setting",
                                             _rows("((xi1, xi2), L)", _point, _printed), names_run=False)
  hessian_references: tuple = fields.field(
      (), "P10 smallest Hessian eigenvalues ((xi1, xi2), value) at the reference setting",
      _rows("((xi1, xi2), value)", _point, _printed), names_run=False)


# Letters of the run name for the sizes (the docs page's notation: t steps, M the population sample, B the fresh
# evaluation prompts, T the test prompts per shifted set, S the full-W sample).
SIZE_LETTERS = {"steps": "t", "tau_samples": "M", "eval_tau_samples": "B", "test_prompts": "T", "sample_size": "S"}


def run_name(config: NearestNeighborConfig) -> str:
  """The run's name: the preset, then one part per field that names runs or sets a size (the steps decide which
  reference rows apply; the sample sizes decide the error bars) and differs from the preset: ``_<field><value>``,
  sizes as ``_<letter><value>`` (:data:`SIZE_LETTERS`), shifts as ``_b<delta>`` (Appendix B) or their kind.

  Args:
    config: the typed config.

  Returns:
    The name, e.g. ``nearest_neighbor_dynamics`` or ``nearest_neighbor_long_t10000_B20000_no_extras``.

  Reference: docs page "nearest_neighbor", section "Reproducing the figures".
  """
  base = configs.load(config.preset)
  suffix = ""
  for key, f in fields.declarations(type(config)).items():
    value = getattr(config, key)
    if value == getattr(base, key) or not (f.metadata["names_run"] or key in SIZE_LETTERS):
      continue
    if key in SIZE_LETTERS:
      suffix += f"_{SIZE_LETTERS[key]}{value}"
    elif key == "shifts" and value:
      suffix += "_" + "-".join(s.replace("appendix_b:", "b") for s in value)
    else:
      suffix += "_" + configs.name_part(key, value)
  return config.preset + suffix


PRESETS = (
    Preset("nearest_neighbor_dynamics",
           """icljax-run --config=nearest_neighbor_dynamics --workdir=runs/nearest_neighbor_dynamics

About 2 minutes on a 2-core CPU. Full-W population GD from W_0 (d = 8, N = 16, sigma = 3, eta = 0.05, 10^4 steps) on
a sample closed under the symmetries of ``tasks.nearest_neighbor.symmetrize`` stays in the family
diag(xi1 I, 0, -xi2) to float rounding, beside the reduced system on the same prompts and the reduced population
system (the reference rows P6 at t = 1e4, and at eta t = 5e4 from the sigma-ratio run); the full-W end point over 64
seeds' samples against the population system; the sphere lemmas and P5; Lemma 12's 7/15 from sigma = 47.5.""",
           {"model": "both", "steps": 10_000, "log_every": 100,
            "references": ((10_000, "2.881", "3.400", "0.3343", None),),
            "extras": ("sphere", "ensemble", "sigma_ratio"),
            # Lemma 12's 7/15 at d = 8, N = 16 from sigma = 47.5 > its threshold 47.0, to eta t = 5e4 (t = 1e6 at
            # eta = 0.05) in 1e4 steps of eta = 5 (P8: the trajectory depends on eta t only; eta = 0.5 gives the same
            # ratio to 1e-4), and from sigma = 3 the P6 row at eta = 0.5, t = 1e5.
            "ratio_sigmas": (3.0, 47.5), "ratio_eta": 5.0, "ratio_horizon": 5e4,
            "sigma_references": ((3.0, 0.5, 100_000, "27.72", "24.61", "0.0432", "0.853"),),
            # The influences' step at d = 8: within 3% of eta = 0.5's (tests).
            "noise_eta": 10.0}),
    Preset("nearest_neighbor_long",
           """icljax-run --config=nearest_neighbor_long --workdir=runs/nearest_neighbor_long

About 1 minute on a 2-core CPU (10^6 reduced GD steps, then the sigma-ratio runs). The reduced population system
(d = N = 4, sigma = 3, eta = 0.05) to 10^6 steps: the reference rows P6 (also from sigma = 20), P7 (late-time slopes
of log xi1 and log L against log t, +1/3 and -1/3, and L xi1) and P9 (the Appendix-B test at delta = 0.5), and
xi1/xi2 for several sigma against the paper's xi1 <= (7/15) xi2 claim.""",
           {"d": 4, "N": 4, "steps": 1_000_000, "log_every": 1000, "tau_samples": 4000,
            "reference_setting": (4, 4, 3.0, 0.05),
            "references": ((1000, "1.323", "3.102", "0.2322", "0.417"), (10_000, "4.526", "6.009", "0.0942", "0.696"),
                           (100_000, "10.14", "14.12", "0.0415", "0.857"),
                           (1_000_000, "21.52", "31.44", "0.01954", "0.932")),
            "p7_references": ((100_000, "0.421"), (1_000_000, "0.421")),
            "sigma_references": ((20.0, 0.05, 100_000, "11.42", "20.02", "0.0359", None),
                                 (20.0, 0.05, 1_000_000, "22.13", "32.38", "0.0190", None)),
            "shifts": ("appendix_b:0.5",), "shift_references": ((10_000, "appendix_b:0.5", "0.0259"),),
            "test_prompts": 20_000, "extras": ("slopes", "sigma_ratio", "sphere")}),
    Preset("nearest_neighbor_shift",
           """icljax-run --config=nearest_neighbor_shift --workdir=runs/nearest_neighbor_shift

About 1 minute on a 2-core CPU. Along reduced population GD (d = 8, N = 16, sigma = 3, eta = 0.05, 10^5 steps), the
test MSE against the 1-NN label and the agreement with it on shifted distributions: the Appendix-B construction
(delta = 0.1, 0.5, 1.0; the reference rows P9), clustered (von Mises-Fisher mixture) inputs, inputs near a great
circle, and smooth labels; the pointwise P11 bound holds on every prompt.""",
           {"steps": 100_000, "log_every": 1000, "test_prompts": 20_000,
            "shifts": ("appendix_b:0.1", "appendix_b:0.5", "appendix_b:1.0", "clustered", "low_dim", "smooth_labels"),
            "references": ((100_000, "12.42", "11.03", "0.0993", "0.684"),),
            "shift_references": ((30_000, "appendix_b:0.1", "0.035"), (30_000, "appendix_b:0.5", "0.019"),
                                 (30_000, "appendix_b:1.0", "0.0026"), (100_000, "appendix_b:0.1", "0.0047"),
                                 (100_000, "appendix_b:0.5", "0.0006"), (100_000, "appendix_b:1.0", "0.0000")),
            "noise_eta": 10.0}),
    Preset("nearest_neighbor_landscape",
           """icljax-run --config=nearest_neighbor_landscape --workdir=runs/nearest_neighbor_landscape

About 30 seconds on a 2-core CPU. The paper's Fig. 2: the loss landscape L(xi1, xi2) for d = N = 4 (nonconvex: an
indefinite Hessian at (0, 0) and (0, -3)), with the reduced GD trajectory (sigma = 3, eta = 0.05, 10^5 steps) drawn
on it; the reference values P1 and P10.""",
           {"d": 4, "N": 4, "steps": 100_000, "log_every": 500, "tau_samples": 20_000, "extras": ("landscape",),
            "reference_setting": (4, 4, 3.0, 0.05),
            "landscape_references": (((4.0, 4.0), "0.120"), ((8.0, 8.0), "0.069"), ((10.0, 15.0), "0.041"),
                                     ((15.0, 20.0), "0.029")),
            "hessian_references": (((0.0, 0.0), "-0.0053"), ((0.0, -3.0), "-0.0150"))}),
)
# The key runs of the main job (issue 31): the dynamics and shift presets at step 0.5 for a tenth of their steps (the
# same eta t; the reference rows are read at equal eta t with the Euler discretisation in their error bars) on
# smaller samples; the full-size presets are the archive.
VARIANTS: dict[str, dict[str, Any]] = {
    "key_dynamics": {"eta": 0.5, "steps": 1000, "log_every": 10, "tau_samples": 2000, "eval_tau_samples": 20_000,
                     "ratio_noise_eta": 50.0},
    "key_shift": {"eta": 0.5, "steps": 10_000, "log_every": 100, "tau_samples": 2000, "eval_tau_samples": 20_000,
                  "test_prompts": 5000, "shifts": ("appendix_b:0.1", "appendix_b:0.5", "appendix_b:1.0")},
}
# Tiny sizes of the word 'quick' (smoke tests: the checks are not expected to pass).
QUICK = {"steps": 200, "log_every": 50, "sample_size": 2, "tau_samples": 500, "eval_tau_samples": 1000,
         "test_prompts": 100, "landscape_points": 11}
