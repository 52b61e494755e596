"""Result 2's tolerance table: every check names one entry; each entry says where its number comes from.

Kinds: ``theory`` only where the measured side is a trained trajectory (the run's population system, full-W GD on
samples, the sigma-ratio runs) and the reference an independent computation (the reference rows of the theorem's
docs page, float64 population GD on 8000 prompts; the population system with its closed-form gradient). Checks at
fixed parameters (the landscape, the sphere lemmas, the start) are ``identity``: they test the library's code against
independent numbers, not training; so are the inequalities that hold at any parameter value (P4, P11, descent).

Reference: docs page "nearest_neighbor", section "What is checked and why".
"""

from icljax.experiment.checks import Tolerance

ROWS_WHY = ("4 s.e. of the difference, from every prompt's influence on the trajectory (infinitesimal jackknife "
            "computed in the run, noise.py) at the run's sample size and the reference's 8000, plus the "
            "reference's printed rounding")

TOLERANCES = {
    "label_column": Tolerance(0.0, "max", "float rounding", "the label column multiplies the query's label slot (0): "
                              "its gradient is exactly 0 for every prompt", kind="identity"),
    "off_family": Tolerance(1e-4, "max", "float rounding", "estimator (a) makes the full-W gradient lie in the "
                            "family by construction; float32 rounding over 1e4 steps, relative to max(1, |W|_F); "
                            "measured 7e-7", kind="identity"),
    "same_prompts": Tolerance(2e-6, "rel", "float rounding", "full-W GD and reduced GD on the same symmetrised prompts "
                              "are one recursion in exact arithmetic and differ in summation order only: 16 ulps of "
                              "float32 (2^-19 relative); measured 4.5e-8", kind="identity"),
    "xi2_monotone": Tolerance(-1e-6, "min", "float rounding", "P4 (Li et al. Lemma 11): dl/dxi2 <= 0 for every prompt "
                              "at every xi with xi1 >= 0, so any GD run's xi2 never decreases; float32 steps of size "
                              "~1e-7", kind="identity"),
    "loss_monotone": Tolerance(1e-6, "max", "float rounding", "GD with a small step decreases the loss whose gradient "
                               "it follows, at any parameter value (descent); float32 rounding of O(1) losses (the "
                               "first step starts from P1's float64 closed form: 2e-7 apart at xi1 = 0)",
                               kind="identity"),
    "q_star_increasing": Tolerance(-1e-7, "min", "float rounding", "P6: attention concentrates on the nearest "
                                   "neighbour along the run", kind="claim"),
    "reference": Tolerance(4.0, "abs", "standard error", "P6 rows of the reference computation: xi as increments from "
                           "the start (a frozen xi2 fails), L and E[q_i*] on fresh prompts (their s.e. joins the "
                           "run's); " + ROWS_WHY + "; rows read from a run at another step add its Euler "
                           "discretisation (from the run at twice the step). Left out: the run's float32 accumulation "
                           "(-0.4% of xi at t = 1e6 against float64 reruns, 0.4 s.e.), O(1/M) biases and the "
                           "reference's evaluation noise (its rerun at 64000 prompts moved L by <= 1%): tighter than "
                           "the truth", per_se=True),
    "p7_product": Tolerance(4.0, "abs", "standard error", "P7: L xi1 = 0.421 at late times (d = N = 4), L on fresh "
                            "prompts; " + ROWS_WHY, per_se=True),
    "slope": Tolerance(0.05, "abs", "issue", "P7 (derived in the theorem's docs page from Li et al.'s top-two gap "
                       "lemma): L ~ C/xi1 gives xi1 ~ t^(1/3), L ~ t^(-1/3); the last decade's least-squares slope "
                       "approaches 1/3 from below (0.327 over t in [1e5, 1e6] in the reference rows) by more than its "
                       "noise, so a fixed margin: 0.05 separates it from the paper's worst-case log rate (slope "
                       "1/ln t = 0.07 at t = 1e6)", kind="claim"),
    "shift_falls": Tolerance(-4.0, "max", "standard error", "Fig. 3 right: GD lowers the shifted-test MSE against "
                             "the 1-NN label; final - initial <= -4 s.e. of the difference", kind="claim",
                             per_se=True),
    "p11_bound": Tolerance(1e-5, "max", "float rounding", "P11 is a pointwise inequality at any xi with xi1 >= 0; "
                           "float32 rounding of O(R) predictions", kind="identity"),
    "p9_at_zero": Tolerance(4.0, "abs", "standard error", "P9 closed form at xi1 = 0 (the start, not trained) against "
                            "the test set's mean: 4 s.e. over the test prompts", kind="identity", per_se=True),
    "shift_reference": Tolerance(4.0, "abs", "standard error", "P9 rows of the reference computation: the run's MSE "
                                 "against the 1-NN label on its Appendix-B test set; 4 s.e. of the difference: the "
                                 "run's test-set s.e. and both samples' noise on xi (influences times the MSE's "
                                 "gradient, the run's sample and the reference's 8000) plus the reference's rounding. "
                                 "The reference's own test-set size is not stated: its noise is left out, which makes "
                                 "the tolerance tighter than the truth", per_se=True),
    "landscape": Tolerance(4.0, "abs", "standard error", "P10 values at fixed (xi1, xi2), not trained: the library's "
                           "reduced loss on the run's sample against the reference computation; 4 s.e. of the "
                           "difference (our sample and the reference's 8000 prompts) plus its rounding",
                           kind="identity", per_se=True),
    "p1_closed_form": Tolerance(1e-5, "abs", "float rounding", "at xi1 = 0 every context weight is 1/c: the MC "
                                "estimate equals the closed form on any sample", kind="identity"),
    "lemma12": Tolerance(7 / 15, "max", "paper", "Li et al. Lemma 12: xi1 <= (7/15) xi2 for all t once sigma >= "
                         "3 log(2N^4 d/a_{N,d})", kind="claim",
                         disputed="Population GD passes 7/15 with sigma at the threshold: 0.67 at d = N = 4, sigma "
                         "= 40; 0.53 at t = 1e6 and 1.09 at 1e7 at d = 8, N = 16, sigma = 47 (the theorem's docs "
                         "page). As restated by Athreya & Wang, Lemma 9's condition cannot hold on the ray xi1 = "
                         "(7/15) xi2. The loss still falls in every run. Settled by the paper's full proof of Lemmas "
                         "9 and 12, or a larger (d, N) with the hidden constants stated."),
    "hessian": Tolerance(4.0, "abs", "standard error", "P10 smallest Hessian eigenvalue at a fixed point (not "
                         "trained) against the reference computation: 4 s.e. of the difference (per-prompt second "
                         "derivative along the eigenvector, over our sample and the reference's 8000 prompts) plus "
                         "its rounding", kind="identity", per_se=True),
    "p10_limit_xi1": Tolerance(1e-3, "abs", "measured", "P10 (derived in the docs page): L -> 1/2 as xi1 -> infinity "
                               "(xi2 fixed); at xi1 = 1e4 the context wins only where tau_(1) > 1 - 3e-4 (probability "
                               "~3e-5 at d = N = 4), so the margin 1e-3 (ours) is 30x that; measured 4e-10",
                               kind="claim"),
    "p10_limit_xi2": Tolerance(1e-5, "abs", "float rounding", "P10: at xi2 = 60 the query's weight is e^-60: the "
                               "library's loss equals the context-only softmax's (NumPy, same inner products) to "
                               "float32 rounding, at any xi1", kind="identity"),
    "ensemble": Tolerance(4.0, "abs", "standard error", "full-W end point averaged over 64 seeds' samples against "
                          "the population system averaged over 8 population samples: 4 s.e. of the difference "
                          "(both means' s.e. combined)", per_se=True),
    "sphere_tau": Tolerance(4.0, "abs", "standard error", "E[tau_(1)] on the run's fresh prompts (not trained) against "
                            "its quadrature (trapezoid on 20001 points, error < 1e-8): 4 s.e.", kind="identity",
                            per_se=True),
    "sphere_bound": Tolerance(0.0, "min", "paper", "Li et al.'s sphere lemma E[tau_{i*}] >= 2/(N+1)^2, as stated "
                              "(no margin: the measured values are 0.52 and 0.60 against bounds of 0.08 and 0.007)",
                              kind="claim"),
    "sphere_gap": Tolerance(4.0, "abs", "standard error", "xi E[exp(-xi G)] on the fresh prompts (not trained) "
                            "against the quadrature (80 Gauss-Laguerre nodes x 4001 points, error < 1e-4 relative): "
                            "4 s.e.", kind="identity", per_se=True),
    "sphere_gap_rate": Tolerance(0.25, "rel", "paper", "the top-two gap lemma's Theta(1/xi): xi E[exp(-xi G)] at "
                                 "xi = 1000 and 100 agree within 25% (the quadrature gives 1.009 at d = N = 4, "
                                 "1.036 at d = 8, N = 16)", kind="claim"),
    "p5_slope": Tolerance(4.0, "abs", "standard error", "P5: the library's gradient at initialisation (not trained) "
                          "on the fresh prompts against the closed form with E[tau_(1)] by quadrature: 4 s.e.",
                          kind="identity", per_se=True),
    "p8_eta_t": Tolerance(0.01, "max", "measured", "P8: the reduced GD trajectory depends on eta t only (gradient-"
                          "flow limit for eta <= 5; the reference computation finds xi1 = 21.52 at three step sizes): "
                          "relative gap <= 1%, a margin of ours (measured 0.3% between eta = 0.05 and 0.5, 0.25% "
                          "between 0.5 and 5)", kind="claim"),
}
