"""Result 1's tolerance table: every check names one entry; each entry says where its number comes from."""

from icljax.experiment.checks import Tolerance

TOLERANCES = {
    "B_rel_err": Tolerance(0.03, "max", "digest", "CI-sized runs of digest 7.3 reach 0.4-1.7% relative Frobenius "
                           "error (MC gradient noise of 3000 steps of 4096 prompts)"),
    "B_rel_err_gamma": Tolerance(0.05, "max", "measured", "the Gamma* loss has condition number ~1500 in B: Adam "
                                 "stops 0.8% away at lr 1e-2 (BUILD_NOTES, disagreements)"),
    "step_size": Tolerance(0.03, "rel", "digest", "as B_rel_err, on tr(B)/d"),
    "dist_whitened": Tolerance(0.05, "max", "issue", "Dist(S^1/2 B S^1/2, I) is 0 at the optimum; 0.784 for plain "
                               "GD"),
    "dist_raw": Tolerance(0.3, "min", "issue", "theory value Dist(eta* Sigma^-1, I) = 0.784; plain GD would give 0",
                          kind="claim"),
    "not_plain_gd": Tolerance(0.1, "min", "issue", "negative control (prior not rotation invariant): the theory "
                              "B* = Psi Sigma G^-1 has Dist(B*, I) = 0.26 at the control's Psi; plain GD gives 0, "
                              "and the B check's tolerance moves Dist by < 0.03", kind="claim"),
    "sigma_free_gap": Tolerance(1e-5, "min", "float rounding", "exact float64 runs with sigma > 0: the "
                                "learned step differs from the sigma-free n/(n+d+1) (by sigma^2/(n+d+1+sigma^2) >= "
                                "2.9e-3 on the eta* grid), 10x above B_exact's float-rounding tolerance", kind="claim"),
    "dist_whitened_gamma": Tolerance(0.1, "abs", "issue", "theory value Dist(S^1/2 Gamma* S^1/2, I) = 0.311"),
    "mse_vs_L_star": Tolerance(4.0, "abs", "standard error", "eval MSE on fresh prompts against L*: 4 s.e. of the "
                               "MSE computed in the run (the trained B's own excess loss, O(|B - B*|^2), is < 1e-4 "
                               "of L* at the B tolerance)", per_se=True),
    "pred_rms": Tolerance(0.03, "max", "digest", "digest 7.3: relative RMS of predictions against one-step GD"),
    "sensitivity_cosine": Tolerance(0.99, "min", "issue", "implied by the B check (3% error in B gives cos >= "
                                    "0.999): a correctness check of the model, not extra evidence",
                                    kind="identity"),
    "leakage": Tolerance(0.02, "max", "digest", "digest 7.3 measured <= 2.6e-2 absolute, ~1% scale-free"),
    "B_exact": Tolerance(1e-6, "max", "float rounding", "estimator 'exact' in float64: L-BFGS on the exact loss "
                         "stops at ~1e-8 to 1e-15 relative (the issue's 1e-6)"),
    "leakage_exact": Tolerance(1e-6, "max", "float rounding", "as B_exact, on the scale-free leakage terms"),
    "exact_loss": Tolerance(1e-10, "rel", "float rounding", "the exact population loss at the trained parameters "
                            "against the closed-form L* (float64 sums of O(d^2) terms)"),
    "B_exact_f32": Tolerance(1e-3, "max", "float rounding", "estimator 'exact' in float32: the loss is flat to "
                             "~1e-7 relative within ~1e-3.5 of the optimum"),
    "leakage_exact_f32": Tolerance(1e-3, "max", "float rounding", "as B_exact_f32"),
    "exact_loss_f32": Tolerance(1e-5, "rel", "float rounding", "float32 sums of O(d^2) terms"),
    "eta_F_mc": Tolerance(4.0, "abs", "standard error", "closed-form eta_F against its Monte-Carlo estimate; "
                          "false-alarm rate ~6e-5", per_se=True),
}
