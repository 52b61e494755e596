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
# # Reproduce one result and read its checks
#
# Theorem 2 of Mahankali, Hashimoto and Ma (2023): for in-context linear regression with covariates
# $x \sim N(0, \Sigma)$ and weights $w^* \sim N(0, \Sigma^{-1})$, the one-layer linear self-attention that minimises
# the population loss implements one step of **preconditioned** gradient descent, $B = \eta^* \Sigma^{-1}$ with
# $\eta^* = n/(n+d+1+\sigma^2)$. The packaged config `lsa_preconditioned` with the variant `exact` trains the layer
# on the exact population loss (no sampling) by L-BFGS in float64, so the learned $B$ can be compared with theory at
# float rounding. The same run from the command line:
#
# ```bash
# icljax-run --config=lsa_preconditioned:exact --workdir=runs/preconditioned
# ```

# %%
import json
import tempfile
from pathlib import Path

from IPython.display import Image, Markdown, display

from icljax.experiment import configs, driver, registry, report

config = configs.load("lsa_preconditioned:exact")
print(config)
workdir = Path(tempfile.mkdtemp()) / "run"
summary = driver.run(config, workdir)

# %% [markdown]
# ## The run's checks
#
# Every check compares a measured value with a reference within a tolerance, and names an entry of the theorem's
# tolerance table, which says where the tolerance comes from. Its **kind** says what it is evidence of: `theory`
# (a trained value against an independent computation), `fit`, `identity` (true by construction: a correctness check
# of the code, not evidence), `claim` (a statement as the paper makes it) or `control` (a comparison that must *not*
# hold).

# %%
display(Markdown(report.run_section(summary, str(workdir))))

# %% [markdown]
# ## Where each tolerance comes from
#
# The tolerance table is part of the theorem: every entry states its value, how it applies, its kind, its source and
# why. The theorem's docs page derives each checked quantity.

# %%
experiment = registry.get(summary["experiment"])
used = {c["entry"] for c in summary["comparisons"]}
for entry, tolerance in experiment.tolerances.items():
  if entry in used:
    print(f"{entry:22s} {tolerance.kind:8s} {tolerance.text:14s} {tolerance.source:15s} {tolerance.why[:70]}...")

# %% [markdown]
# ## Figures and artefacts
#
# Figures are drawn from the run's artefacts (`metrics.jsonl`, `summary.json`, `params.npz`), never from live
# objects, so they can be redrawn later.

# %%
for figure in summary["figures"]:
  print(figure)
  display(Image(str(workdir / figure)))
print(sorted(p.name for p in workdir.iterdir()))
print(json.dumps(summary["counts"]))

# %% [markdown]
# ## The main job
#
# `icljax-reproduce` runs every theorem's key runs this way and writes `REPORT.md` with every check, the environment
# and the section "Where the papers and the numbers disagree"; `icljax-reproduce --only=lsa` runs one theorem,
# `--full` the whole archive.
