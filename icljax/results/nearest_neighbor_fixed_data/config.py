"""The Fig. 3 theorem's config fields (each declared once), its packaged config, named variants and run names.

The fields every nearest-neighbour theorem shares (the task, W_0 and its perturbation, the step, the population
sample, the shifted test's label bound and size) come from
:class:`icljax.results.nearest_neighbor.config.NearestNeighborFields`; this class adds the chains, their data sets,
the shifted test distribution and the reference rows.

Reference: docs page "nearest_neighbor_fixed_data", sections "Setting" and "Fields".
"""

from __future__ import annotations

import dataclasses
import decimal
from collections.abc import Sequence
from typing import Any

from icljax.experiment import configs, fields
from icljax.experiment.api import Preset
from icljax.results.nearest_neighbor.config import NearestNeighborFields
from icljax.tasks import nearest_neighbor_shift as shift


def _shift_name(x: Any) -> str:
  """``'appendix_b:<delta>'`` with delta in (0, 2), or a shift kind of ``tasks.nearest_neighbor_shift.SHIFTS``."""
  if not isinstance(x, str):
    raise ValueError(x)
  kind, colon, arg = x.partition(":")
  if kind not in shift.SHIFTS or (colon and (kind != "appendix_b" or not 0 < float(arg) < 2)):
    raise ValueError(x)
  return x


def _printed(x: Any) -> Any:
  """A reference value as printed (a string a decimal reads; its last decimal gives its rounding) or a number."""
  if isinstance(x, bool) or not isinstance(x, (str, int, float)):
    raise ValueError(x)
  try:
    if isinstance(x, str) and not decimal.Decimal(x.strip()).is_finite():
      raise ValueError(x)
  except decimal.InvalidOperation:
    raise ValueError(x) from None
  return x


def _reference_rows(v: Any) -> tuple:
  """Rows ``((d, N, sigma, eta), t, xi1, xi2)``: the setting of the reference computation, its step and its values."""
  if isinstance(v, str) or not isinstance(v, Sequence):
    raise ValueError(v)
  out = []
  for row in v:
    if isinstance(row, str) or not isinstance(row, Sequence) or len(row) != 4:
      raise ValueError(row)
    setting, t = row[0], row[1]
    if isinstance(setting, str) or not isinstance(setting, Sequence) or len(setting) != 4:
      raise ValueError(row)
    d, n = (fields.Int(low=low).check("setting", x) for x, low in zip(setting[:2], (2, 1)))
    sigma, eta = (fields.Real(low=0.0, low_open=True).check("setting", x) for x in setting[2:])
    if not isinstance(t, int) or isinstance(t, bool) or t < 1:
      raise ValueError(row)
    out.append(((d, n, sigma, eta), t, _printed(row[2]), _printed(row[3])))
  return tuple(out)


@dataclasses.dataclass(frozen=True, kw_only=True)
class FixedDataConfig(NearestNeighborFields):
  """Li et al.'s Fig. 3 setting: independent chains of full-W minibatch SGD, each on its own fixed data set, beside
  the reduced population system from each chain's projected start.

  Reference: Li et al. (2024), arXiv 2411.10830, Sec. 5 (Fig. 3) and Appendix B; docs page
  "nearest_neighbor_fixed_data", section "Fields".
  """

  replicas: int = fields.field(8, "independent chains (each its own data set, initialisation and population sample)",
                               fields.Int(low=2), names_run=False)
  dataset_size: int = fields.field(10_000, "prompts in each chain's fixed data set (the paper's 1e4), >= batch_size",
                                   fields.Int(low=1), names_run=False)
  eval_tau_samples: int = fields.field(20_000, "fresh inner products on which the population systems' loss is read",
                                       fields.Int(low=100), names_run=False)
  shift: str = fields.field(
      "appendix_b:0.5", "shifted test distribution: 'appendix_b:<delta>' (delta in (0, 2)) or another shift kind",
      fields.Custom("'appendix_b:<delta>' (0 < delta < 2) or one of " + ", ".join(repr(s) for s in shift.SHIFTS[1:]),
                    _shift_name, ("no-such-shift", "appendix_b:3")))
  # The reference computation's P6 rows (float64 population GD on 8000 prompts; the docs page of nearest_neighbor),
  # as printed: each applies to runs from W_0 at its (d, N, sigma), read at this run's step t eta_ref / eta.
  references: tuple = fields.field(
      (((8, 16, 3.0, 0.05), 10_000, "2.881", "3.400"), ((4, 4, 3.0, 0.05), 1000, "1.323", "3.102"),
       ((4, 4, 3.0, 0.05), 10_000, "4.526", "6.009")),
      "P6 rows ((d, N, sigma, eta), t, xi1, xi2) of the reference computation, applied from W_0 at equal eta t",
      fields.Custom("a tuple of rows ((d >= 2, N >= 1, sigma > 0, eta > 0), t >= 1, xi1, xi2) (values as printed, "
                    "e.g. '3.400')", _reference_rows, ("abc", (((8, 16, 3.0), 1, "1", "1"),))),
      names_run=False)


# Sizes that set a run's error bars or which rows apply: they name runs, so a key run drawn at reduced sizes never
# shares its full-size twin's workdir.
SIZE_FIELDS = ("steps", "replicas", "dataset_size", "batch_size", "tau_samples", "eval_tau_samples", "test_prompts")


def run_name(config: FixedDataConfig) -> str:
  """``nearest_neighbor_fixed_data``, then ``d<d>n<N>`` where (d, N) differ from the preset's, ``w0`` from W_0
  (``init='paper'``), ``key`` at the sizes of the variant ``key``, and one part per other field that names runs or
  sets a size and differs from the preset.

  Args:
    config: the typed config.

  Returns:
    The run name (``nearest_neighbor_fixed_data_d4n4_steps1000`` for ``--config=nearest_neighbor_fixed_data:d4n4,
    steps=1000``).

  Reference: docs page "nearest_neighbor_fixed_data", section "Reproducing the figures" (the main job's run names).
  """
  base = fields.validate(FixedDataConfig, PRESETS[0].values)
  parts = [config.preset or PRESETS[0].name]
  if (config.d, config.N) != (base.d, base.N):
    parts.append(f"d{config.d}n{config.N}")
  if config.init == "paper":
    parts.append("w0")
  key_sizes = all(getattr(config, k) == v for k, v in VARIANTS["key"].items())
  if key_sizes:
    parts.append("key")
  for key, f in fields.declarations(FixedDataConfig).items():
    value = getattr(config, key)
    if (key in ("d", "N", "init") or (key == "init_scale" and config.init == "paper") or value == getattr(base, key)
        or (key_sizes and key in VARIANTS["key"])):
      continue
    if f.metadata["names_run"] or key in SIZE_FIELDS:
      parts.append(configs.name_part(key, value))
  return "_".join(parts)


PRESETS = (
    Preset("nearest_neighbor_fixed_data",
           """icljax-run --config=nearest_neighbor_fixed_data --workdir=runs/nearest_neighbor_fixed_data

About 20 seconds on a 2-core CPU. Result 2 in the paper's Fig. 3 setting (Li et al. 2024): full-W minibatch SGD on a
fixed data set of 10^4 prompts per chain, from a random initialisation (W_0 + N(0, 1) on every entry), 8 independent
chains (each its own data set and initialisation) beside the reduced population system from each chain's projected
start, each on its own sample of inner products. The training loss on the data set, the MSE on the Appendix-B shifted
test set and the distance of (xi1, xi2) from the population system are logged along the run. Variants: ``d4n4``
(d = N = 4), ``d8n8`` (d = N = 8), ``w0`` (the paper's W_0, no noise: Assumption 2's start on a finite data set).""",
           # eta 0.5 x 2000 steps covers eta t = 1000, 2e4 steps of the reference computation's 0.05 (the population
           # trajectory depends on eta t only); 2000 steps of batch 128 are 25.6 epochs of 1e4 prompts.
           {"init": "random", "init_scale": 1.0, "eta": 0.5, "steps": 2000, "log_every": 50}),
)
VARIANTS: dict[str, dict[str, Any]] = {
    "d4n4": {"d": 4, "N": 4}, "d8n8": {"d": 8, "N": 8}, "w0": {"init": "paper", "init_scale": 0.0},
    # The default profile's sizes (the key Fig. 3 runs): the first 1000 steps, population systems on 2000
    # inner products, their loss read on 2000 fresh ones (one compiled sampler instead of two).
    "key": {"steps": 1000, "log_every": 100, "tau_samples": 2000, "eval_tau_samples": 2000}}
QUICK = {"steps": 100, "log_every": 50, "replicas": 2, "dataset_size": 512, "tau_samples": 500,
         "eval_tau_samples": 500, "test_prompts": 200}
