"""Result 2's tolerance table: every check names one entry; each entry says where its number comes from."""

from icljax.experiment.checks import Tolerance

TOLERANCES = {
    "label_column": Tolerance(0.0, "max", "float rounding", "the label column multiplies the query's label slot (0): "
                              "its gradient is exactly 0 for every prompt", kind="identity"),
    "off_family": Tolerance(1e-4, "max", "float rounding", "estimator (a) makes the full-W gradient lie in the "
                            "family by construction; float32 rounding over 1e4 steps, relative to max(1, |W|_F); "
                            "measured 7e-7", kind="identity"),
    "same_prompts": Tolerance(0.01, "rel", "issue", "full-W GD and reduced GD on the same symmetrised prompts are "
                              "the same recursion; measured 1e-7 relative", kind="identity"),
    "xi2_monotone": Tolerance(-1e-6, "min", "float rounding", "P4: dL/dxi2 <= 0 for every prompt, so xi2 never "
                              "decreases; float32 steps of size ~1e-7"),
    "loss_monotone": Tolerance(1e-7, "max", "float rounding", "P6: GD on the sample's smooth loss decreases it; "
                               "float32 rounding of O(1) losses"),
    "q_star_increasing": Tolerance(-1e-7, "min", "float rounding", "P6: attention concentrates on the nearest "
                                   "neighbour along the run", kind="claim"),
    "reference": Tolerance(0.02, "rel", "digest", "digest reruns at 8000 vs 64000 prompts moved <= 2%"),
    "reference_late": Tolerance(0.08, "rel", "measured", "xi at t = 1e6 against the digest's single 8000-prompt "
                                "sample: 4 x the combined sample-to-sample sd (1.5% at this run's 4000 prompts, "
                                "1.06% at the digest's 8000; 8 samples) plus float32's drift (-0.4%, float64 "
                                "reruns)"),
    "slope": Tolerance(0.05, "abs", "issue", "P7 late-time slopes fitted over the last decade of t"),
    "shift_falls": Tolerance(-4.0, "max", "standard error", "Fig. 3 right: GD lowers the shifted-test MSE against "
                             "the 1-NN label; final - initial <= -4 s.e. of the difference", kind="claim",
                             per_se=True),
    "p11_bound": Tolerance(1e-5, "max", "float rounding", "P11 is a pointwise inequality; float32 rounding of "
                           "O(R) predictions"),
    "p9_at_zero": Tolerance(4.0, "abs", "standard error", "P9 closed form at xi1 = 0 against the test set's mean; "
                            "floor 1e-3", per_se=True),
    "shift_reference": Tolerance(4.0, "abs", "standard error", "digest P9 rows: 4 s.e. of the difference (ours "
                                 "computed in the run; the digest's own, its test sets taken as 2000 prompts) plus "
                                 "its rounding (5e-4 from 0.01 up, 5e-5 below)", per_se=True),
    "landscape": Tolerance(4.0, "abs", "standard error", "P10 values against MC of the reduced loss; floor 1e-3 "
                           "(digest rounding)", per_se=True),
    "p1_closed_form": Tolerance(1e-5, "abs", "float rounding", "at xi1 = 0 every context weight is 1/c: the MC "
                                "estimate equals the closed form on any sample", kind="identity"),
    "lemma12": Tolerance(7 / 15, "max", "paper", "Li et al. Lemma 12: xi1 <= (7/15) xi2 for all t once sigma >= "
                         "3 log(2N^4 d/a_{N,d})", kind="claim",
                         disputed="Population GD passes 7/15 with sigma at the threshold: 0.67 at d = N = 4, sigma "
                         "= 40 (li digest); 0.53 at t = 1e6 and 1.09 at 1e7 at d = 8, N = 16, sigma = 47 (athreya "
                         "digest P14). As restated, Lemma 9's condition cannot hold on the ray xi1 = (7/15) xi2. The "
                         "loss still falls in every run. Settled by the paper's full proof of Lemmas 9 and 12, or a "
                         "larger (d, N) with the hidden constants stated."),
    "hessian": Tolerance(4.0, "abs", "standard error", "P10 Hessian min eigenvalue at (0, 0) against the digest's "
                         "-0.0053: 4 s.e. of the difference (per-prompt second derivative along the eigenvector, over "
                         "our sample and the digest's 8000 prompts) plus its rounding 5e-5", per_se=True),
    "p10_limit_xi1": Tolerance(1e-3, "abs", "digest", "P10: L -> 1/2 as xi1 -> infinity (xi2 fixed); at xi1 = 1e4 the "
                               "context wins only where tau_(1) > 1 - 3e-4 (probability ~3e-5 at d = N = 4)",
                               kind="claim"),
    "p10_limit_xi2": Tolerance(1e-5, "abs", "float rounding", "P10: at xi2 = 60 the query's weight is e^-60: the "
                               "library's loss equals the context-only softmax's (NumPy, same inner products) to "
                               "float32 rounding"),
    "ensemble": Tolerance(4.0, "abs", "standard error", "full-W end point averaged over 64 seeds' samples against "
                          "the population system averaged over 8 population samples: 4 s.e. of the difference "
                          "(both means' s.e. combined)", per_se=True),
    "sphere_tau": Tolerance(4.0, "abs", "standard error", "E[tau_(1)] on the run's fresh prompts against its "
                            "quadrature (trapezoid on 20001 points, error < 1e-8): 4 s.e.", per_se=True),
    "sphere_bound": Tolerance(0.0, "min", "paper", "Li et al.'s sphere lemma E[tau_{i*}] >= 2/(N+1)^2, as stated "
                              "(no margin: the measured values are 0.52 and 0.60 against bounds of 0.08 and 0.007)",
                              kind="claim"),
    "sphere_gap": Tolerance(4.0, "abs", "standard error", "xi E[exp(-xi G)] on the fresh prompts against the "
                            "quadrature (80 Gauss-Laguerre nodes x 4001 points, error < 1e-4 relative): 4 s.e.",
                            per_se=True),
    "sphere_gap_rate": Tolerance(0.25, "rel", "paper", "the top-two gap lemma's Theta(1/xi): xi E[exp(-xi G)] at "
                                 "xi = 1000 and 100 agree within 25% (the quadrature gives 1.009 at d = N = 4, "
                                 "1.036 at d = 8, N = 16)", kind="claim"),
    "p5_slope": Tolerance(4.0, "abs", "standard error", "P5: the library's gradient at initialisation on the "
                          "fresh prompts against the closed form with E[tau_(1)] by quadrature: 4 s.e.",
                          per_se=True),
    "p8_eta_t": Tolerance(0.01, "max", "digest", "P8: the reduced GD trajectory depends on eta t only (gradient-"
                          "flow limit; the digest finds xi1 = 21.52 at three step sizes): relative gap <= 1%",
                          kind="claim"),
}
