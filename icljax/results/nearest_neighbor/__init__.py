"""Softmax attention learns one-nearest-neighbour: a one-layer softmax attention trained by GD from W_0 stays on the
two-parameter family diag(xi1 I, 0, -xi2) and predicts like the 1-NN rule (Li et al. 2024).

Reference: Li et al. (2024), arXiv 2411.10830, Lemma 2, Theorem 1, Sec. 5 and Appendix B; docs page
"nearest_neighbor" (predictions P1-P11).
"""

from pathlib import Path

from icljax.experiment.api import Experiment, MainJobRun, RunRef
from icljax.results.nearest_neighbor import checks, config, figures, mutants, plan, setup, tolerances

EXPERIMENT = Experiment(
    name="nearest_neighbor",
    title="Result 2: softmax attention learns one-nearest-neighbour (Li et al. 2024)",
    claim=("A one-layer softmax attention trained by GD from W_0 = diag(0, 0, -sigma) stays on the two-parameter "
           "family diag(xi1 I, 0, -xi2), its loss goes to zero (in practice like t^-1/3) and it predicts like the "
           "1-NN rule, also under distribution shift."),
    config=config.NearestNeighborConfig,
    presets=config.PRESETS,
    variants=config.VARIANTS,
    quick=config.QUICK,
    setup=setup.parse,
    plan=plan.plan,
    evaluate=checks.evaluate,
    figures=figures.figures,
    tolerances=tolerances.TOLERANCES,
    stack_fields=("seed", "sigma"),
    run_name=config.run_name,
    aggregate=figures.aggregate,
    main_job=(MainJobRun("nearest_neighbor_dynamics"), MainJobRun("nearest_neighbor_long"),
              MainJobRun("nearest_neighbor_shift"), MainJobRun("nearest_neighbor_landscape")),
    gate=RunRef("nearest_neighbor_long", (), {"steps": 10_000, "log_every": 100, "eval_tau_samples": 20_000,
                                              "extras": ()}),
    mutants=mutants.MUTANTS,
    page=Path(__file__).with_name("page.md"),
)
