"""The Fig. 3 run's tolerance table: every check names one entry; each entry says where its number comes from.

Reference: docs page "nearest_neighbor_fixed_data", section "What is checked and why" (one subsection per entry).
"""

from icljax.experiment.checks import Tolerance

TRACKS_WHY = ("'tracks the population system' read as: every chain's (xi1, xi2) within 5% (of max(1, |xi|)) of its "
              "population system at every logged step; a margin of our reading of 'tracks', set before measuring (an "
              "independent float64 run of fresh-minibatch SGD from W_0 is within 0.14% at t = 1e4, d = 8, N = 16)")

TOLERANCES = {
    "label_column_fixed": Tolerance(0.0, "max", "float rounding", "the label column multiplies the query's label "
                                    "slot (0): its gradient is exactly 0 for every prompt, so it keeps its random "
                                    "initial value", kind="identity"),
    "train_loss_falls": Tolerance(-4.0, "max", "standard error", "Fig. 3 left: the training loss on the data set "
                                  "falls; final - initial, mean over chains, <= -4 s.e. of the chains' differences",
                                  kind="claim", per_se=True),
    "shift_falls": Tolerance(-4.0, "max", "standard error", "Fig. 3 right: the MSE against the 1-NN label on the "
                             "shifted test set falls; final - initial (chains' mean per prompt) <= -4 s.e. over the "
                             "test prompts", kind="claim", per_se=True),
    "tracks_population_w0": Tolerance(0.05, "max", "issue", TRACKS_WHY + ". From W_0.", kind="claim"),
    "tracks_population_random": Tolerance(
        0.05, "max", "issue", TRACKS_WHY + ". From a random initialisation.", kind="claim",
        disputed="Li et al. 'validate the theory with SGD ... with random initialization'. From W_0 + N(0, 1) on every "
                 "entry (sigma = 3, eta = 0.5, 2000 steps of batch 128 on 1e4 prompts, 8 chains) the chains' (xi1, "
                 "xi2) leave the population system from their projected start by up to 41% (d = 8, N = 16), 47% "
                 "(d = N = 8), 80% (d = N = 4) early on, while the off-family part of W (Frobenius norm 9.0, 9.0, "
                 "5.1 at t = 0) changes the attention; as it decays (to 3.0, 2.2, 0.54) the chains' mean xi1 gap "
                 "closes to 8%, 4% and 0.5% at the end. The training loss and the shifted-test MSE fall in every "
                 "run (the figure the paper shows). Settled by the paper's initialisation scale and whether "
                 "'validates' means the loss curves or the trajectory.",
    ),
    "off_family_decays": Tolerance(-4.0, "max", "standard error", "from a random initialisation the part of W off "
                                   "diag(xi1 I, 0, -xi2) shrinks: final - initial Frobenius norm, mean over chains, "
                                   "<= -4 s.e.", kind="claim", per_se=True),
    "shift_vs_population": Tolerance(4.0, "abs", "standard error", "from W_0: the chains' MSE against the 1-NN label "
                                     "on the shifted test set against their own population systems' on the same "
                                     "prompts (paired): 4 s.e. of the mean difference, the chains' spread (Student-t, "
                                     "replicas - 1 dof) and the test prompts' combined", per_se=True),
    "reference": Tolerance(4.0, "abs", "standard error", "P6 rows of the reference computation (float64 population "
                           "GD on 8000 prompts; docs page of nearest_neighbor) against the population systems' mean "
                           "from W_0, as increments from (0, sigma): 4 s.e. of the difference (the systems' spread "
                           "over the chains for their mean, scaled by sqrt(tau_samples/8000) for the reference; "
                           "Student-t, replicas - 1 dof) plus the reference's rounding and the Euler discretisation "
                           "at this run's step (estimated from the systems rerun at twice the step)", per_se=True),
    "gap_mean": Tolerance(4.0, "abs", "standard error", "from W_0: the chains' mean gap (projection minus its own "
                          "population system, each chain its own data set and population sample) against 0 at the "
                          "end; 4 s.e. over the chains as the Student-t value for replicas - 1 dof", per_se=True),
}
