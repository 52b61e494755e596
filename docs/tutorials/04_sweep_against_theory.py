# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # A sweep and its phase diagram against theory
#
# Nguyen and Nguyen-Tang (2025) show that a one-layer transformer trained on **noisy in-context recall** reaches the
# Bayes risk: when the output token is replaced by a noise token with probability $\alpha$, the best achievable
# cross-entropy is the binary entropy $H(\alpha) = -\alpha\ln\alpha - (1-\alpha)\ln(1-\alpha)$, and the
# reparameterised model with linear attention reaches it at a linear rate under normalised gradient descent.
#
# A sweep over $\alpha$ draws the whole curve. Points that differ only in the theorem's `stack_fields` (here the
# seed and $\alpha$) train as **one compiled program**, vmapped and sharded over the available devices. From the
# command line:
#
# ```bash
# icljax-sweep --config=recall:steps=300,H=64,eval_size=1024,test_size=256 --workdir=sweeps/alpha \
#     --sweep="alpha=0.1,0.2,0.3,0.4,0.6,0.7,0.8,0.9"
# ```

# %%
import tempfile
from pathlib import Path

import numpy as np
from IPython.display import Image, Markdown, display
from matplotlib.figure import Figure

from icljax.experiment import configs, grid

base = configs.load("recall:steps=300,H=64,eval_size=1024,test_size=256")
alphas = "0.1,0.2,0.3,0.4,0.6,0.7,0.8,0.9"
workdir = Path(tempfile.mkdtemp()) / "sweep"
index = grid.run(base, workdir, grid.parse(f"alpha={alphas}", base), printer=print)

# %% [markdown]
# Every point is a complete run with its own checks (the index records how many passed), and the sweep writes the
# theorem's aggregate `SWEEP.md`:

# %%
display(Markdown((workdir / "SWEEP.md").read_text()))

# %% [markdown]
# ## The phase diagram
#
# The final population loss of every point against the Bayes risk $H(\alpha)$, computed here independently of the
# toolkit's theory module:

# %%
rows = sorted(index, key=lambda r: r["alpha"])
alpha = np.array([r["alpha"] for r in rows])
final = np.array([r["final_pop_loss"] for r in rows])
grid_a = np.linspace(0.01, 0.99, 200)
entropy = lambda a: -a * np.log(a) - (1 - a) * np.log(1 - a)

fig = Figure(figsize=(5, 3.5))
ax = fig.subplots()
ax.plot(grid_a, entropy(grid_a), "k--", lw=1, label="Bayes risk H(alpha)")
ax.plot(alpha, final, "o", label="trained, final population loss")
ax.set_xlabel("alpha (noise level)")
ax.set_ylabel("cross-entropy")
ax.legend()
fig.savefig(workdir / "phase.png", dpi=100, bbox_inches="tight")
display(Image(str(workdir / "phase.png")))
print("largest |final - H(alpha)|:", float(np.max(np.abs(final - entropy(alpha)))))
print("checks passed per point:", [f"{r['checks_passed']}/{r['checks']}" for r in rows])
