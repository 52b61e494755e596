"""icljax-run --config=linattn_dynamics --workdir=runs/linattn_dynamics

Expected runtime: under a minute on a 2-core CPU.

Linear-attention training dynamics (Zhang et al. 2025) at example E1: d = 4, Sigma with eigenvalues
(4, 2, 1, 0.5) in a random basis, n = 32, w ~ N(0, I), noiseless. Default: ATTN_S with 5 rank-one heads from init
0.01, full-batch GD (lr 0.02) on P = 6000 fixed prompts, 8 replicas, 60000 steps: the four-step staircase of
in-context PCR plateaus, against the exact-gradient flow from the same initialisation. Variant ``merged``: ATTN_M
with 8 heads from init 1e-4, lr 1e-3 (one drop; its timing against ln(1/s)). Variant ``rank``: the paper's
Fig. 4 with rank-4 keys and queries (plateaus only at multiples of R; the paper's "m that divides R" disputed).
Variant ``fig3``: the paper's Fig. 3 (E0: spectrum (4, 3, 2, 1)/10, n = 31, 6 replicas of P = 80000). Variant
``sigmoid``: Eq. 10's time course (ATTN_M at Sigma = I from the aligned balanced init; the half-drop step).
"""

import ml_collections

from icljax.configs import apply_arg

QUICK = {"steps": 4000, "log_every": 100, "replicas": 2, "sample_size": 500, "eval_prompts": 256}
VARIANTS = {
    "merged": {"name": "linattn_dynamics_merged", "model": "merged", "heads": 8, "init_scale": 1e-4,
               "learning_rate": 0.001, "flow_inits": (1.0, 1e-1, 1e-2, 1e-3, 1e-4)},
    # Fig. 4: D = 8, spectrum (8..1)/36, N = 31, H = 9 heads of rank R = 4, s = 5e-3. lr = 1 (2 tau
    # per step): the flow's dwell per plateau agrees with lr = 0.25 to 0.006 e-folds. P = 80000 as the paper's runs.
    "rank": {"name": "linattn_dynamics_rank", "d": 8, "n": 31, "spectrum": tuple(k / 36 for k in range(8, 0, -1)),
             "heads": 9, "rank": 4, "init_scale": 5e-3, "learning_rate": 1.0, "steps": 20_000, "log_every": 40,
             "sample_size": 80_000},
    # Fig. 3 (the paper's E0): D = 4, spectrum (4, 3, 2, 1)/10, N = 31, H = 5 rank-one heads, P = 80000, 6 runs; the
    # code's init 1e-2 and lr 0.02 (no 1/N) are init 1e-2 31^(1/3) and lr 0.02 31^(2/3) here (Eq. 3 with 1/N).
    "fig3": {"name": "linattn_dynamics_fig3", "n": 31, "spectrum": (0.4, 0.3, 0.2, 0.1), "init_scale": 0.031414,
             "learning_rate": 0.19737, "steps": 40_000, "log_every": 40, "sample_size": 80_000, "replicas": 6},
    # Eq. 10 (P7): ATTN_M at Sigma = I from the aligned balanced init of norm 1e-3: g = tr(Gamma)/d reaches g(inf)/2
    # at t_half = 3.5909 tau; under GD at lr 0.05 at step 38.91 (35.91 for the flow read as steps: the discretisation
    # is ~3 steps at any lr, the replicas' spread ~1/lr, so a large lr resolves it); logged every step.
    "sigmoid": {"name": "linattn_dynamics_sigmoid", "model": "merged", "spectrum": (1.0, 1.0, 1.0, 1.0),
                "rotation": "none", "heads": 8, "init_mode": "aligned", "init_scale": 1e-3, "learning_rate": 0.05,
                "steps": 300, "log_every": 1, "replicas": 16, "sample_size": 20_000,
                "flow_inits": (1.0, 0.1, 0.01, 1e-3, 1e-4)},
}


def get_config(arg=None):
  c = ml_collections.ConfigDict()
  c.experiment = "linattn_dynamics"
  c.name = "linattn_dynamics"
  c.model = "separate"            # 'separate' (ATTN_S: rank-R keys and queries) or 'merged' (ATTN_M)
  c.d = 4                         # dimension, 1..16
  c.n = 32                        # context examples, >= 1
  c.spectrum = (4.0, 2.0, 1.0, 0.5)   # eigenvalues of Sigma (d positive numbers); distinct values fix the order
  c.rotation = "random"           # 'none' or 'random' (Haar basis)
  c.rotation_seed = 1             # >= 0
  c.sigma = 0.0                   # label noise, >= 0
  c.prior = "identity"            # 'identity' (w ~ N(0, I), the paper) or 'inv_cov' (w ~ N(0, Sigma^-1))
  c.heads = 5                     # H, 1..64
  c.rank = 1                      # R, rows of each head's key and query (ATTN_S), 1..d
  c.init_scale = 0.01             # s in (0, 1]: ATTN_M entries N(0, s^2); ATTN_S v ~ N(0, s^2), k, q ~ N(0, s^2/d)
  c.init_mode = "random"          # 'random' or 'aligned' (ATTN_M only: v = s h, U_i = s h_i I/sqrt(d), Eq. 10)
  c.learning_rate = 0.02          # full-batch GD step on the MSE (t/tau = 2 lr step), > 0
  c.steps = 60_000                # >= 1 (the last replica drops by ~32000)
  c.seed = 0                      # >= 0
  c.log_every = 60                # steps per metrics line, >= 1
  c.sample_size = 6000            # P fixed prompts per replica (the paper's protocol), > d^2
  c.replicas = 8                  # independent samples from the same init, 2..64 (their spread is the error bar)
  c.flow_inits = (1.0, 0.5)       # init multiples of the exact-gradient flows for the timing laws, >= 2 distinct
  c.noise_sigma = 0.5             # label noise of the extra flow for P10 (ATTN_S: same timing, shifted levels)
  c.eval_prompts = 2048           # fresh prompts of the identity checks, >= 1
  return apply_arg(c, arg, quick=QUICK, variants=VARIANTS)
