"""icljax-run --config=icl_denoising --workdir=runs/icl_denoising

Expected runtime: about 20 seconds on a 2-core CPU (the sphere and mixture variants about a minute; 'paper' several).

In-context denoising with one-layer transformers (Smart, Bietti & Sengupta 2025). Default: the linear-subspace task
of the paper's Figs. 3-4 (n = 16, d = 8, sigma0^2 = 2, sigma_z^2 = 1) at L = 19 clean tokens (the shortest context
of Fig. 4(a)). Eight replicas (independent initialisations and data streams, fresh prompts every step) train both
denoisers: linear attention by plain GD (the trained gamma = <diag W_PV><diag W_KQ> against the exact finite-L
optimum gamma*_L = 1/[(sigma0^2 + sigma_z^2)(1 + (d+1)/L)] = 0.2262, not the paper's L -> infinity value 1/3; the
balanced end point fixed by the conserved ||W_PV||^2 - ||W_KQ||^2), softmax attention by Adam (its trained alpha on
the finite-L valley alpha*(beta)). Arguments: 'sphere' (the paper's case 2: d = 8, R = 1, sigma_z^2 = 0.1, L = 49;
with the Fig. 5 energy landscapes), 'mixture' (case 3: K = 8, sigma0^2 = 0.02, sigma_z^2 = 0.1, L = 49), 'paper'
(the paper's L = 499), 'grid' (names the run by task, L and sigma_z^2, e.g. 'L=49,grid'), 'gate' (the CI science
gate's sizes), 'quick' (tiny sizes; checks not expected to pass) and 'field=value' words, e.g.
--config=icl_denoising:sphere,L=99.
"""

import ml_collections

from icljax.configs import apply_arg

QUICK = {"steps": 60, "log_every": 20, "replicas": 2, "batch_size": 64, "eval_prompts": 2000,
         "theory_prompts": 2000}
# Plain GD's step scales as 1/curvature, which shrinks with the tokens' fourth moment: the sphere's and the
# mixture's tokens are ~10x smaller per coordinate than the subspace's, so their linear_lr is ~100x larger.
# Adam's softmax_lr 0.05: beta must travel to ~4 (the valley's floor) instead of ~0.2 (the subspace's).
SPHERE = {"task": "sphere", "d": 8, "radius": 1.0, "sigma_z_sq": 0.1, "L": 49, "linear_lr": 20.0, "softmax_lr": 0.05,
          "name": "icl_denoising_sphere"}
MIXTURE = {"task": "mixture", "K": 8, "sigma0_sq": 0.02, "sigma_z_sq": 0.1, "radius": 1.0, "L": 49,
           "linear_lr": 20.0, "softmax_lr": 0.05, "name": "icl_denoising_mixture"}
VARIANTS = {
    "sphere": SPHERE,
    "mixture": MIXTURE,
    # the paper's Fig. 3 context: L = 499 clean tokens (the code's context_len 500); fewer prompts per step (the
    # cost is ~ L)
    "paper": {"L": 499, "steps": 600, "batch_size": 128, "name": lambda c: c.name + "_paper"},
    "grid": {"name": lambda c: f"icl_denoising_{c.task}_L{c.L}_sz{c.sigma_z_sq:g}"},
    # the science gate's sizes (its subspace run also sets sigma_z^2 = 0.5, away from 1, so that a noise standard
    # deviation read as a variance shows). n = 16 as the paper: at n = 8 some replicas of both models end at
    # sign-twisted critical points (W_PV, W_KQ) ~ (alpha M, beta M), M a symmetric orthogonal matrix with mixed signs.
    "gate": {"d": 4, "L": 12, "batch_size": 128, "steps": 500, "eval_prompts": 10_000, "theory_prompts": 10_000,
             "name": lambda c: c.name + "_gate"},
}


def get_config(arg=None):
  c = _base()
  return apply_arg(c, arg, quick=QUICK, variants=VARIANTS)


def _base():
  c = ml_collections.ConfigDict()
  c.experiment = "icl_denoising"
  c.name = "icl_denoising"
  # Task (icljax.tasks.icl_denoising).
  c.task = "subspace"        # 'subspace' (Sec. 2.2.1), 'sphere' (2.2.2) or 'mixture' (2.2.3)
  c.n = 16                   # ambient dimension, >= 2
  c.d = 8                    # subspace dimension 1..n ('subspace') or sphere dimension 1..n-1 ('sphere'); unused
                             # by 'mixture'
  c.L = 19                   # clean context tokens (the query excluded), >= 1
  c.sigma0_sq = 2.0          # token variance per coordinate ('subspace', > 0) or cluster variance ('mixture', >= 0);
                             # unused by 'sphere'
  c.sigma_z_sq = 1.0         # variance of the query's corruption per coordinate, > 0
  c.radius = 1.0             # R: the sphere's radius or the mixture centres' norm, > 0
  c.K = 8                    # mixture components, >= 1
  # Training: population training (fresh prompts every step); each replica trains both denoisers.
  c.replicas = 8             # independent initialisations and data streams, 2..32 (their spread is the error bar)
  c.batch_size = 512         # fresh prompts per replica and step, >= 1 (the softmax valley's alpha relaxes at a
                             # rate ~ 1/noise under Adam: small batches leave it measurably behind alpha*(beta))
  c.steps = 800              # >= 1
  c.linear_lr = 0.05         # plain GD's initial step for linear attention on the total squared error, > 0 (stable
                             # while lr x curvature < 2; scale it with 1/(token variance)^2)
  c.softmax_lr = 0.01        # Adam's initial rate for softmax attention (the paper's 1e-2), > 0
  c.final_lr_fraction = 0.05  # both rates decay (cosine) to this fraction, in [0, 1]
  c.seed = 0                 # >= 0; init, data, eval and theory streams fold it in
  c.log_every = 50           # steps per metrics line, >= 1
  # Evaluation.
  c.eval_prompts = 10_000    # fresh prompts of the risks and the Bayes checks, >= 1000
  c.theory_prompts = 20_000  # the theory's own prompts for the finite-L valleys (and the mixture's gamma*), >= 1000
  return c
