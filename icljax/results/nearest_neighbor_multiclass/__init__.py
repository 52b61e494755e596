"""Multiclass 1-NN: K-class softmax attention on the centred one-hot coding learns the 1-NN rule; its dynamics are
the binary ones with the clock slowed by f = (K-1)/K (Athreya & Wang 2026).

Reference: Athreya & Wang (2026), arXiv 2609.01311: Assumptions 1-2, Lemmas 1-4 and 12, Theorem 1, Corollary 1,
Section 5 and Figs. 1-6; docs page "nearest_neighbor_multiclass".
"""

from pathlib import Path

from icljax.experiment.api import Experiment, MainJobRun, RunRef
from icljax.results.nearest_neighbor_multiclass import (
    checks,
    config,
    figures,
    mutants,
    plan,
    setup,
    tolerances,
)

NAME = "nearest_neighbor_multiclass"
# 1e3 SGD steps (the first reference row), the flow run to 1e6 K-class steps on 16 x 25 inner products (the flow
# rows of every K, Lemma 12's disagreement), small evaluation samples.
GATE = RunRef(NAME, (), {"steps": 1000, "log_every": 500, "tau_samples": 2000, "eval_prompts": 2000,
                         "enum_prompts": 100, "lemma12_prompts": 25})

# The default job's headline (variant key) against the archive's full-size run.
REDUCED = ("the first 5000 of the archive run's 10^4 SGD steps (the same batches: the chains' rows at t = 1e3 and 5e3 "
           "are the archive's), the reduced system on 2000 instead of 8000 inner products per replica (the reference "
           "rows' bars 1.3x wider in expectation), 10^4 instead of 2 x 10^4 evaluation prompts and the flow run on "
           "125 instead of 250 inner products per replica (the flow rows' bars 1.35x wider in expectation); the "
           "trained row at t = 1e4 (xi, L_MC, accuracy) is checked in the archive run only")

EXPERIMENT = Experiment(
    name=NAME,
    title="Multiclass 1-NN: K-class softmax attention = binary dynamics at step (K-1)/K eta (Athreya & Wang 2026)",
    claim=("With the centred one-hot code, the K-class loss is (K-1)/K times the binary loss on the family "
           "diag(xi1 I, 0, -xi2) (Lemma 2), so K-class GD at step eta is binary GD at step (K-1)/K eta; the label "
           "columns never move, minibatch SGD tracks the reduced dynamics, and the argmax head agrees with the 1-NN "
           "class."),
    config=config.MulticlassConfig,
    presets=config.PRESETS,
    variants=config.VARIANTS,
    quick=config.QUICK,
    setup=setup.parse,
    plan=plan.plan,
    evaluate=checks.evaluate,
    figures=figures.figures,
    tolerances=tolerances.TOLERANCES,
    stack_fields=("seed", "sigma", "eta"),
    run_name=config.run_name,
    aggregate=figures.aggregate,
    main_job=(MainJobRun(NAME, ("key",), key=True, reduced=REDUCED), MainJobRun(NAME), MainJobRun(NAME, ("p4",))),
    gate=GATE,
    mutants=mutants.MUTANTS,
    page=Path(__file__).with_name("page.md"),
)
