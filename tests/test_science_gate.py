"""The science gate: every theorem's CI-sized config (``Experiment.gate``) whose theory checks must all pass (a
scientific regression fails the suite, not only the main job), and the proof that its checks can fail:

* the code-path mutant catalogue: every theorem's plausible bugs (``Experiment.mutants``), each planted in one
  library function, must make its gate run fail on the named checks (a surviving mutant, or one whose planted bug
  is never reached, fails the suite); mutants that leave training untouched reuse the gate's own training;
* trained parameters perturbed after training (one per theorem), which test the tolerances' calibration.

Each theorem's tests run in one xdist worker, which trains its gate once and shares it.
"""


import jax
import pytest

from icljax import runs, train
from icljax.experiment import configs, driver, mutants, registry

GATES = sorted(n for n in registry.names() if registry.get(n).gate is not None)
CATALOGUE = [(e.name, m) for e, m in mutants.catalogue([registry.get(n) for n in GATES])]


_RUNS: dict[str, object] = {}   # unmutated runs of this worker: each gate (and each mutant's own setting) once


def _run(spec: str, tmp_path_factory):
  """The unmutated run of a config spec, trained once per worker and shared by every test that reads it."""
  if spec not in _RUNS:
    workdir = tmp_path_factory.mktemp(spec.replace(":", "-").replace(",", "-")) / "run"
    _RUNS[spec] = (workdir, driver.run(configs.load(spec), workdir, printer=lambda s: None))
  return _RUNS[spec]


def _by_theorem(name, *values, test_id=None):
  """A parameter of one theorem's gate tests: all of them run in one xdist worker (the ``gate_<name>`` group), so
  that worker trains the gate once. (An indirectly parametrised module-scoped fixture was rebuilt whenever the
  theorem changed between consecutive tests, up to five times per theorem.)"""
  return pytest.param(name, *values, id=test_id or name, marks=pytest.mark.xdist_group(f"gate_{name}"))


@pytest.fixture
def gate(request, tmp_path_factory):
  """``(name, workdir, summary)`` of the theorem's gate run (trained once per worker)."""
  name = request.param
  return (name, *_run(registry.get(name).gate.spec, tmp_path_factory))


@pytest.mark.slow
@pytest.mark.parametrize(("gate", "mutant"), [_by_theorem(n, m, test_id=f"{n}:{m.name}") for n, m in CATALOGUE],
                         indirect=["gate"])
def test_mutant_is_killed_by_its_gate(gate, mutant, tmp_path, tmp_path_factory):
  name, workdir, _ = gate
  experiment = registry.get(name)
  reference = workdir
  if mutant.gate is not None:   # the mutant's own setting: its unmutated run, once per worker
    reference = _run(mutant.gate.spec, tmp_path_factory)[0]
  outcome = mutants.run(experiment, mutant, tmp_path / "run", reference=reference)
  assert outcome.calls > 0, f"the planted bug is never reached: {outcome.describe()}"
  assert outcome.killed, outcome.describe()


# Paper claims the theorems' docs pages report as contradicted, and the gate's runs contradict too (reported, not
# failed).
DISAGREEMENTS = {"nearest_neighbor_multiclass": {"lemma12", "random_guess", "log_rate"},
                 "linattn_dynamics": {"drop_times_late"}, "icl_denoising": {"eq4_printed"},
                 "softmax_as_linear": {"prop31_at_one"}}


@pytest.mark.parametrize("gate", [_by_theorem(n) for n in GATES], indirect=True)
def test_every_theory_check_of_the_gate_passes(gate):
  name, workdir, summary = gate
  theory = [c for c in summary["comparisons"] if c["kind"] == "theory"]
  assert len(theory) >= 5
  failed = [(c["quantity"], c["theory"], c["measured"], c["tolerance"]) for c in theory if not c["passed"]]
  assert not failed, failed
  assert summary["status"] != "fail" and (workdir / "params.npz").exists() and summary["figures"]
  assert {c["entry"] for c in summary["comparisons"] if c["status"] == "disagrees"} == DISAGREEMENTS.get(name, set())


def _scale_xi(params, rows):
  """Result 2: the trained (xi1, xi2) and their logged trajectory scaled by 1.05."""
  keys = ("pop_xi1", "pop_xi2")
  return (dict(params, xi_pop=params["xi_pop"] * 1.05),
          [{**r, **{k: r[k] * 1.05 for k in keys if k in r}} for r in rows])


def _shift_lam(params, rows):
  """Result 3: Lam one NGD step (eta = 0.1) ahead, in the parameters and along the logged trajectory."""
  return dict(params, Lam=params["Lam"] + 0.1), [{**r, "Lam": r["Lam"] + 0.1} for r in rows]


def _scale_multiclass_xi(params, rows):
  """Multiclass: the K-class population system's (xi1, xi2) and their logged means scaled by 1.05."""
  keys = ("pop_xi1", "pop_xi2")
  return (dict(params, xi_pop=params["xi_pop"] * 1.05),
          [{**r, **{k: r[k] * 1.05 for k in keys}} for r in rows])


MUTATIONS = {"lsa": (lambda p, rows: (dict(p, h=p["h"] * 1.05), rows), {"B_exact", "exact_loss"}),
             "nearest_neighbor": (_scale_xi, {"reference"}),
             "recall": (_shift_lam, {"lam_trajectory"}),
             "nearest_neighbor_multiclass": (_scale_multiclass_xi, {"reference", "sgd_tracks"}),
             "linattn_dynamics": (lambda p, rows: (dict(p, v=p["v"] * 1.05), rows), {"gamma_final"}),
             "lsa_chain_of_thought": (lambda p, rows: ({**p, "cot": dict(p["cot"], V31=p["cot"]["V31"] * 1.05)}, rows),
                                      {"cot_weights", "gd_exact", "iterate_errors"}),
             "lsa_multilayer": (lambda p, rows: (dict(p, A=p["A"].at[0].multiply(1.08)), rows), {"steps"}),
             "nearest_neighbor_fixed_data": (lambda p, rows: (dict(p, W=p["W"] * 1.05), rows), {"gap_mean"}),
             "icl_denoising": (lambda p, rows: ({**p, "linear": dict(p["linear"], W_PV=p["linear"]["W_PV"] * 1.05)},
                                                rows), {"gamma_finite_L", "balanced"}),
             "softmax_as_linear": (lambda p, rows: ({**p, "softmax": dict(p["softmax"], A=p["softmax"]["A"] * 1.1)},
                                                    rows), {"finite_product"})}


@pytest.mark.parametrize("gate", [_by_theorem(n) for n in GATES], indirect=True)
def test_perturbed_trained_parameters_fail_a_theory_check(gate):
  """Mutation: the run's own final state (from its checkpoint) and metric rows, perturbed, evaluated again."""
  name, workdir, _ = gate
  experiment, (mutate, expected) = registry.get(name), MUTATIONS[name]
  config = configs.load(experiment.gate)
  setup = experiment.setup(config)
  with jax.enable_x64(setup.run.x64):
    plan = experiment.plan(setup)
    state = runs.load_checkpoint(workdir / runs.CHECKPOINT, train.init_state(plan.params, plan.optimizer))
    rows = runs.read_jsonl(workdir / runs.METRICS)
    unchanged = experiment.evaluate(setup, plan.context, state.params, rows)
    evaluation = experiment.evaluate(setup, plan.context, *mutate(state.params, rows))
  assert all(c.passed for c in unchanged.checks if c.kind == "theory")
  failed = {c.entry for c in evaluation.checks if c.kind == "theory" and not c.passed}
  assert expected <= failed, [(c.quantity, c.theory, c.measured) for c in evaluation.checks]
