"""The code-path mutant catalogue: every theorem's plausible bugs (``Experiment.mutants``), each planted in one
library function, must make the theorem's science-gate run fail on a named check. A surviving mutant, or one whose
planted bug is never reached by the run, fails the suite.

The catalogue (theorem, mutant, bug, the checks that kill it) is printed by
``python -m icljax.experiment.mutants`` and listed in the docs' check pages.
"""

import pytest

from icljax.experiment import mutants, registry

CATALOGUE = mutants.catalogue([registry.get(n) for n in registry.names()])


@pytest.mark.slow
@pytest.mark.parametrize(("experiment", "mutant"), CATALOGUE,
                         ids=[f"{e.name}:{m.name}" for e, m in CATALOGUE])
def test_mutant_is_killed_by_its_gate(experiment, mutant, tmp_path):
  outcome = mutants.run(experiment, mutant, tmp_path / "run")
  assert outcome.calls > 0, f"the planted bug is never reached: {outcome.describe()}"
  assert outcome.killed, outcome.describe()


def test_every_theorem_with_a_gate_has_at_least_three_mutants():
  for name in registry.names():
    experiment = registry.get(name)
    assert experiment.gate, f"{name} has no science gate"
    assert len(experiment.mutants) >= 3, f"{name} has {len(experiment.mutants)} mutants (at least 3 expected)"
    assert len({m.name for m in experiment.mutants}) == len(experiment.mutants), f"{name}: mutant names repeat"
    entries = set(experiment.tolerances)
    for m in experiment.mutants:
      assert set(m.killed_by) <= entries, f"{name}:{m.name} names unknown entries {set(m.killed_by) - entries}"


def test_every_theory_entry_is_killed_by_some_mutant():
  """A theory check that no plausible code-path bug makes fail proves nothing: it is an identity."""
  for name in registry.names():
    experiment = registry.get(name)
    killed = {entry for m in experiment.mutants for entry in m.killed_by}
    theory = {entry for entry, tol in experiment.tolerances.items() if tol.kind == "theory"}
    assert theory <= killed, f"{name}: theory entries no mutant kills: {sorted(theory - killed)}"
