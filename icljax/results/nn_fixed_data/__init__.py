"""Result 2 in the paper's Fig. 3 setting (Li et al. 2024): full-W minibatch SGD on a fixed data set of 1e4 prompts
from a random initialisation, for several (N, d), against the reduced population system.

Reference: Li et al. (2024), arXiv 2411.10830, Fig. 3 and Appendix B; digest ``li_2411.10830.md`` (section 6, P3).
"""

from icljax.experiment.api import Experiment, MainJobRun
from icljax.results.nn_fixed_data import checks, figures, plan, setup, tolerances

EXPERIMENT = Experiment(
    name="nn_fixed_data",
    title="Result 2, Fig. 3 setting: full-W SGD on a fixed data set from random initialisation (Li et al. 2024)",
    claim=("Li et al. validate the theory with SGD on a fixed data set of 1e4 prompts from a random initialisation: "
           "the training loss converges for several (N, d) and the MSE against the 1-NN label on the shifted test "
           "set is low. Here each run has independent chains (data set, initialisation, population sample) beside "
           "the reduced population system from each chain's projected start."),
    setup=setup.parse,
    plan=plan.plan,
    evaluate=checks.evaluate,
    figures=figures.figures,
    tolerances=tolerances.TOLERANCES,
    stack_fields=("seed", "sigma", "eta", "init_scale"),
    group_figures=figures.group_figures,
    main_job=(MainJobRun("nn_fixed_data", figure="fig3"), MainJobRun("nn_fixed_data", "d8n8", figure="fig3"),
              MainJobRun("nn_fixed_data", "d4n4", figure="fig3"), MainJobRun("nn_fixed_data", "w0", figure="fig3")),
)
