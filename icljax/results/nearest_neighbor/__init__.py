"""Softmax attention learns one-nearest-neighbour: a one-layer softmax attention trained by GD from W_0 stays on the
two-parameter family diag(xi1 I, 0, -xi2) and predicts like the 1-NN rule (Li et al. 2024).

Reference: Li et al. (2024), arXiv 2411.10830, Lemma 2, Theorem 1, Sec. 5 and Appendix B; docs page
"nearest_neighbor" (predictions P1-P11).
"""

from pathlib import Path

from icljax.experiment.api import Experiment, MainJobRun, RunRef
from icljax.results.nearest_neighbor import checks, config, figures, mutants, plan, setup, tolerances

# The key runs (issue 31; variants key_dynamics and key_shift): the archive's trajectory and shift runs at step 0.5 for
# a tenth of the steps (the same eta t; each reference row is read at equal eta t with the Euler discretisation,
# estimated in the run from the population system at twice the step, added to its error bar), on smaller samples
# whose error bars are computed in the run.
_CLOCK = ("eta 0.5 x {steps} steps instead of 0.05 x {full} (the same eta t: every reference row read at equal eta t, "
          "its error bar plus the Euler discretisation from the population system at eta 1)")
REDUCED_DYNAMICS = (_CLOCK.format(steps=1000, full="10^4") + "; population sample 2000 prompts instead of 8000 and "
                    "20000 evaluation prompts instead of 10^5 (error bars of their size, computed in the run); the "
                    "sigma-ratio row's influence recursion at step 50 (within 0.1% of step 5's at its eta t = 5e4)")
REDUCED_SHIFT = (_CLOCK.format(steps="10^4", full="10^5") + "; 2000 population, 20000 evaluation and 5000 test prompts "
                 "per shifted set instead of 8000, 10^5 and 20000 (error bars of their size); only the paper's "
                 "Appendix-B test sets (delta 0.1, 0.5, 1.0): the clustered, low-dimensional and smooth-label sets "
                 "are in the archive run")

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
    main_job=(MainJobRun("nearest_neighbor_dynamics", ("key_dynamics",), key=True, reduced=REDUCED_DYNAMICS),
              MainJobRun("nearest_neighbor_shift", ("key_shift",), key=True, reduced=REDUCED_SHIFT),
              MainJobRun("nearest_neighbor_dynamics"), MainJobRun("nearest_neighbor_long"),
              MainJobRun("nearest_neighbor_shift"), MainJobRun("nearest_neighbor_landscape")),
    gate=RunRef("nearest_neighbor_long", (), {"steps": 10_000, "log_every": 100, "eval_tau_samples": 20_000,
                                              "extras": ()}),
    mutants=mutants.MUTANTS,
    page=Path(__file__).with_name("page.md"),
)
