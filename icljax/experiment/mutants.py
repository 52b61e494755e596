"""Code-path mutants: a plausible bug planted in one library function, and the science-gate run that must catch it.

A check proves nothing unless a plausible bug in the code it covers makes it fail. Scaling trained parameters after
training shows that a tolerance is sane; it does not show that a check sees a sampler at the wrong noise level, a
theory function with a swapped argument or a training target shared with its reference. A :class:`Mutant` patches
one function (``module:attribute``) the way such a bug would, runs its theorem's science-gate config (the
theorem's ``Experiment.gate``) into a fresh workdir, and is *killed* when the run fails with every one of the named
tolerance entries (``killed_by``) failing. Every theorem declares its mutants beside its checks
(``Experiment.mutants``); ``tests/test_mutants.py`` runs them all and fails on a survivor.

    from icljax.experiment import mutants
    result = mutants.run(experiment, experiment.mutants[0], workdir)
    assert result.killed, result.describe()
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import jax
import numpy as np

from icljax import runs, train
from icljax.experiment import configs, driver, registry
from icljax.experiment.api import Experiment, Mutant
from icljax.experiment.markdown import markdown_table


@dataclasses.dataclass(frozen=True)
class Outcome:
  """What a mutated gate run came to.

  Attributes:
    mutant: the mutant.
    status: the run's status (``pass``, ``fail`` or ``disagrees``).
    failed: the tolerance entries of the checks that failed.
    calls: how many times the replacement was called (traced calls count once per trace); 0 means the target is
      not on the run's code path and the mutant proves nothing.
    retrained: False when training was left untouched by the mutant and reused from an unmutated reference run.
  """

  mutant: Mutant
  status: str
  failed: frozenset[str]
  calls: int
  retrained: bool = True

  @property
  def killed(self) -> bool:
    """The run failed, every entry of ``killed_by`` among its failures, and the planted bug was reached."""
    return self.calls > 0 and self.status == "fail" and set(self.mutant.killed_by) <= self.failed

  def describe(self) -> str:
    """One line for a test failure or a table.

    Returns:
      The mutant's name, target and bug, the run's status, the failed entries, the entries expected among them
      and how many times the replacement was called.

    Reference: docs page "concepts/checks", section "Code-path mutants: a check proves nothing unless a
    plausible bug makes it fail".
    """
    return (f"{self.mutant.name} ({self.mutant.target}: {self.mutant.bug}): status {self.status}, "
            f"failed {sorted(self.failed)}, expected {list(self.mutant.killed_by)} among them, "
            f"replacement called {self.calls} times")


@contextlib.contextmanager
def applied(mutant: Mutant) -> Iterator[list[int]]:
  """Replaces the mutant's target for the duration of the block; JAX's in-memory caches are cleared on entry and
  exit, so no program traced with the original (or the replacement) is reused.

  Args:
    mutant: the mutant.

  Yields:
    A one-element list counting the replacement's calls.

  Reference: docs page "concepts/checks", section "Code-path mutants: a check proves nothing unless a
  plausible bug makes it fail".
  """
  module_name, attribute = mutant.target.split(":")
  module = importlib.import_module(module_name)
  original = getattr(module, attribute)
  replacement = mutant.mutate(original)
  calls = [0]

  def counted(*args, **kwargs):
    calls[0] += 1
    return replacement(*args, **kwargs)

  jax.clear_caches()
  setattr(module, attribute, counted)
  try:
    yield calls
  finally:
    setattr(module, attribute, original)
    jax.clear_caches()


def run(experiment: Experiment, mutant: Mutant, workdir: str | Path, *, reference: str | Path | None = None) -> Outcome:
  """Runs the theorem's gate config with the mutant applied.

  When ``reference`` holds a finished run of the same config without the mutant, and the mutant leaves training
  untouched (the plan's parameters, per-run arrays, data key, the first two optimiser steps -- losses, parameters
  and optimiser state, bitwise -- and the logged metrics after them are those of the unmutated plan), the mutated
  run resumes from the reference's final checkpoint and metrics instead of training again: what it would have
  trained is what the reference trained. Planning and evaluation always run under the mutant.

  Args:
    experiment: the registered experiment the mutant belongs to.
    mutant: one of ``experiment.mutants``.
    workdir: a fresh directory for the run.
    reference: a finished, unmutated run of the mutant's gate config (optional).

  Returns:
    The outcome.

  Raises:
    ValueError: neither the mutant nor the theorem names a science gate.

  Reference: docs page "concepts/checks", section "Code-path mutants: a check proves nothing unless a
  plausible bug makes it fail".
  """
  ref = mutant.gate or experiment.gate
  if ref is None:
    raise ValueError(f"{experiment.name} has no science gate to run its mutant {mutant.name!r} against")
  config = configs.load(ref)
  reuse = reference is not None and (Path(reference) / runs.SUMMARY).exists()
  baseline = _training_fingerprint(experiment, config) if reuse else None
  with applied(mutant) as calls:
    if reuse and _same(_training_fingerprint(experiment, config), baseline):
      assert reference is not None   # reuse says so
      Path(workdir).mkdir(parents=True, exist_ok=True)
      for name in (runs.CONFIG, runs.METRICS, runs.CHECKPOINT):
        shutil.copyfile(Path(reference) / name, Path(workdir) / name)
      retrained = False
    else:
      retrained = True
    summary = driver.run(config, workdir, printer=lambda s: None, figures=False)
  failed = frozenset(c["entry"] for c in summary["comparisons"] if c["status"] == "fail")
  return Outcome(mutant, summary["status"], failed, calls[0], retrained)


def _training_fingerprint(experiment: Experiment, config: Any) -> list[Any]:
  """What training sees and does first: the plan's arrays and two optimiser steps, as bytes."""
  with jax.enable_x64(config.x64):
    plan = experiment.plan(experiment.setup(config))
    state = train.init_state(plan.params, plan.optimizer)
    state, losses = jax.jit(train.make_chunk(plan.objective, plan.optimizer, 2))(state, plan.data_key, plan.hparams)
    tracked = sorted(plan.track(state.params).items()) if plan.track is not None else []
    tree = (state, losses, plan.hparams, plan.data_key)
    leaves, treedef = jax.tree.flatten(tree)
    raw = [jax.random.key_data(x) if hasattr(x, "dtype") and jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key)
           else x for x in leaves]
    return [str(treedef), repr(tracked), *((np.asarray(x).dtype.str, np.asarray(x).shape, np.asarray(x).tobytes())
                                           for x in raw)]


def _same(a: list[Any], b: list[Any] | None) -> bool:
  return b is not None and len(a) == len(b) and all(x == y for x, y in zip(a, b))


def catalogue(experiments: Sequence[Experiment]) -> list[tuple[Experiment, Mutant]]:
  """Every mutant of the given experiments, in order.

  Args:
    experiments: registered experiments.

  Returns:
    ``(experiment, mutant)`` pairs.

  Reference: docs page "concepts/checks", section "Code-path mutants: a check proves nothing unless a
  plausible bug makes it fail".
  """
  return [(e, m) for e in experiments for m in e.mutants]


def markdown(experiments: Sequence[Experiment]) -> str:
  """The catalogue as a markdown table: theorem, mutant, patched function, bug, killing entries.

  Args:
    experiments: registered experiments.

  Returns:
    Markdown text.

  Reference: docs page "concepts/checks", section "Code-path mutants: a check proves nothing unless a
  plausible bug makes it fail".
  """
  rows = [[e.name, m.name, f"`{m.target}`", m.bug, ", ".join(m.killed_by)] for e, m in catalogue(experiments)]
  return markdown_table(["theorem", "mutant", "patched", "plausible bug", "killed by"], rows)


if __name__ == "__main__":
  print(markdown([registry.get(n) for n in registry.names()]))
