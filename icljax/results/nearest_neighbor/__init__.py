"""Result 2: one-layer softmax attention trained by GD from W_0 learns the one-nearest-neighbour rule (Li et al.
2024).

Reference: Li et al. (2024), arXiv 2411.10830; predictions P1-P11 of the theorem's docs page.
"""

from icljax.experiment.api import Experiment, MainJobRun
from icljax.results.nearest_neighbor import checks, figures, mutants, plan, setup, tolerances

EXPERIMENT = Experiment(
    name="nn",
    title="Result 2: softmax attention learns one-nearest-neighbour (Li et al. 2024)",
    claim=("A one-layer softmax attention trained by GD from W_0 = diag(0, 0, -sigma) stays on the two-parameter "
           "family diag(xi1 I, 0, -xi2), its loss goes to zero (in practice like t^-1/3) and it predicts like the "
           "1-NN rule, also under distribution shift."),
    setup=setup.parse,
    plan=plan.plan,
    evaluate=checks.evaluate,
    figures=figures.figures,
    tolerances=tolerances.TOLERANCES,
    stack_fields=("seed", "sigma"),
    aggregate=figures.aggregate,
    main_job=(MainJobRun("nn_dynamics"), MainJobRun("nn_long"), MainJobRun("nn_shift"), MainJobRun("nn_landscape")),
    gate='nn_long:steps=10000,log_every=100,eval_tau_samples=20000,extras=()',
    mutants=mutants.MUTANTS,
)
