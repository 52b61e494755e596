"""The science gate: a CI-sized profile of the main job whose theory checks must all pass (a scientific regression
fails the suite, not only the main job), and the proof that it can fail: a deliberately broken estimator does.

Profile (~30 s on 2 cores): result 1 on the exact population loss (float precision), result 2's reduced
population system to 1e4 steps against the digest's P6 rows at d = N = 4, result 3's Reparam-Linear-FA at
alpha = 0.5 to 200 NGD steps (closed forms, Lam_t = eta t, the Bayes risk).
"""

import dataclasses

import pytest

from icljax import configs
from icljax.experiment import driver
from icljax.theory import regression_exact

GATE = ["lsa_isotropic:exact", "nn_long:steps=10000,log_every=100,eval_tau_samples=20000,extras=()",
        "recall:steps=200,H=64,eval_size=1024,test_size=256"]


@pytest.mark.parametrize("spec", GATE)
def test_every_theory_check_of_the_gate_passes(spec, tmp_path):
  summary = driver.run(configs.load(spec), tmp_path / "run", printer=lambda s: None)
  theory = [c for c in summary["comparisons"] if c["kind"] == "theory"]
  assert len(theory) >= 5
  failed = [(c["quantity"], c["theory"], c["measured"], c["tolerance"]) for c in theory if not c["passed"]]
  assert not failed, failed
  assert (tmp_path / "run" / "params.npz").exists() and summary["figures"]


def test_the_gate_fails_on_a_broken_estimator(monkeypatch, tmp_path):
  """A plausible bug: the exact estimator ignores the task prior (w* ~ N(0, I) always). On Theorem 2's setting the
  trained B then lands on Gamma*, not eta* Sigma^-1, and the theory checks say so."""
  correct = regression_exact.population_loss
  monkeypatch.setattr(regression_exact, "population_loss",
                      lambda p, m, s: correct(p, m, dataclasses.replace(s, prior="identity")))
  summary = driver.run(configs.load("lsa_preconditioned:exact,eval_prompts=20000"), tmp_path / "run",
                       printer=lambda s: None)
  failed = {c["entry"] for c in summary["comparisons"] if c["kind"] == "theory" and not c["passed"]}
  assert {"B_exact", "dist_whitened"} <= failed, summary["comparisons"]
