"""The rules of the code-path mutant catalogue (the mutants themselves run in ``tests/test_science_gate.py``
beside their gates): at least three mutants per theorem, and every theory entry named by some mutant (a theory
check that no plausible code-path bug makes fail is an identity). The catalogue is printed by
``python -m icljax.experiment.mutants`` and generated into the docs (``reference/mutants.md``).
"""

from icljax.experiment import registry


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
