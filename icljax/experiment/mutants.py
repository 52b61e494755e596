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
from collections.abc import Iterator, Sequence
from pathlib import Path

import jax

from icljax.experiment import configs, driver, registry
from icljax.experiment.api import Experiment, Mutant
from icljax.experiment.checks import markdown_table


@dataclasses.dataclass(frozen=True)
class Outcome:
  """What a mutated gate run came to.

  Attributes:
    mutant: the mutant.
    status: the run's status (``pass``, ``fail`` or ``disagrees``).
    failed: the tolerance entries of the checks that failed.
    calls: how many times the replacement was called (traced calls count once per trace); 0 means the target is
      not on the run's code path and the mutant proves nothing.
  """

  mutant: Mutant
  status: str
  failed: frozenset[str]
  calls: int

  @property
  def killed(self) -> bool:
    """The run failed, every entry of ``killed_by`` among its failures, and the planted bug was reached."""
    return self.calls > 0 and self.status == "fail" and set(self.mutant.killed_by) <= self.failed

  def describe(self) -> str:
    """One line for a test failure or a table."""
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


def run(experiment: Experiment, mutant: Mutant, workdir: str | Path) -> Outcome:
  """Runs the theorem's gate config with the mutant applied.

  Args:
    experiment: the registered experiment the mutant belongs to.
    mutant: one of ``experiment.mutants``.
    workdir: a fresh directory for the run.

  Returns:
    The outcome.
  """
  spec = mutant.gate or experiment.gate
  if spec is None:
    raise ValueError(f"{experiment.name} has no science gate to run its mutant {mutant.name!r} against")
  with applied(mutant) as calls:
    summary = driver.run(configs.load(spec), workdir, printer=lambda s: None)
  failed = frozenset(c["entry"] for c in summary["comparisons"] if c["status"] == "fail")
  return Outcome(mutant, summary["status"], failed, calls[0])


def catalogue(experiments: Sequence[Experiment]) -> list[tuple[Experiment, Mutant]]:
  """Every mutant of the given experiments, in order.

  Args:
    experiments: registered experiments.

  Returns:
    ``(experiment, mutant)`` pairs.
  """
  return [(e, m) for e in experiments for m in e.mutants]


def markdown(experiments: Sequence[Experiment]) -> str:
  """The catalogue as a markdown table: theorem, mutant, patched function, bug, killing entries.

  Args:
    experiments: registered experiments.

  Returns:
    Markdown text.
  """
  rows = [[e.name, m.name, f"`{m.target}`", m.bug, ", ".join(m.killed_by)] for e, m in catalogue(experiments)]
  return markdown_table(["theorem", "mutant", "patched", "plausible bug", "killed by"], rows)


if __name__ == "__main__":
  print(markdown([registry.get(n) for n in registry.names()]))
