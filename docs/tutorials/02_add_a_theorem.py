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
# # Add your own theorem in one file
#
# A theorem is one module whose `EXPERIMENT` is an `icljax.experiment.Experiment`. This tutorial takes the README's
# example, **in-context ridge shrinkage**, and runs it through the three commands: `icljax-run`, `icljax-sweep` and
# `icljax-reproduce`. The theorem: with $x_i \sim N(0, I_d)$, $w^* \sim N(0, I/d)$ and labels
# $y_i = w^{*\top} x_i + \varepsilon_i$, $\varepsilon_i \sim N(0, \sigma^2)$, the one-parameter linear attention
# $\hat y = \gamma\, x_q^\top X^\top y / n$ has population loss
#
# $$L(\gamma) = 1 + \sigma^2 - 2\gamma + \gamma^2\,\frac{n + d + 1 + d\sigma^2}{n},$$
#
# because $E[g^\top w^*] = E|w^*|^2 = 1$ and $E|g|^2 = (n+d+1)/n + d\sigma^2/n$ for $g = X^\top y/n$ (the Wishart
# moment $E[(X^\top X/n)^2] = \frac{n+d+1}{n} I$). It is minimised at $\gamma^* = n/(n+d+1+d\sigma^2)$: the noise
# shrinks the step below the noise-free $n/(n+d+1)$.
#
# The README's "Adding a theorem" holds the whole file: it declares its config fields once (default, accepted range,
# meaning), a plan (GD on one fixed sample of prompts), its checks and a figure. Its check of $\gamma$ has an **error
# bar computed in the run**: GD ends at the sample's least-squares $\hat\gamma$, whose standard error is the sandwich
# $\mathrm{sd}(\text{score})/ (\text{curvature}\sqrt{M})$. Its **negative control** says the noise-free step must
# *not* fit; it is emitted only where the two formulas are told apart (not at $\sigma = 0$).

# %%
import json
import pathlib
import re
import subprocess
import sys
import tempfile

from IPython.display import Image, Markdown, display

readme = next(p / "README.md" for p in [pathlib.Path.cwd(), *pathlib.Path.cwd().parents] if (p / "README.md").exists())
section = readme.read_text().split("## Adding a theorem")[1]
work = pathlib.Path(tempfile.mkdtemp(prefix="icljax-tutorial-"))
(work / "ridge_shrinkage.py").write_text(re.findall(r"```python\n(.*?)```", section, flags=re.S)[0])
print((work / "ridge_shrinkage.py").read_text())

# %% [markdown]
# ## 1. One run
#
# `--plugin` imports the file, which registers the theorem; `--config` names its preset. The run writes its
# artefacts; `summary.json` holds every check.

# %%
bin_dir = pathlib.Path(sys.executable).parent


def icljax(*args):
  out = subprocess.run([str(bin_dir / args[0]), "--plugin=ridge_shrinkage.py", *args[1:]], cwd=work,
                       capture_output=True, text=True)
  print(out.stdout[-1500:], out.stderr[-1500:], f"exit status {out.returncode}", sep="\n")
  return out.returncode


assert icljax("icljax-run", "--config=ridge_shrinkage", "--workdir=run") == 0
summary = json.loads((work / "run" / "summary.json").read_text())
for check in summary["comparisons"]:
  print(f"{check['kind']:8s} {check['quantity']:42s} theory {check['theory']:.4f}  measured {check['measured']:.4f}"
        f"  tolerance ±{check['tolerance']:.4f}  -> {check['status']}")
display(Image(str(work / "run" / "figures" / "gamma.png")))

# %% [markdown]
# The theory check passes within four sandwich standard errors; the control's comparison does **not** hold (the
# trained $\gamma$ is far from $n/(n+d+1)$), which is what a control must do, so it passes too.
#
# ## 2. A sweep
#
# `--sweep` takes a grid over declared fields; points that differ only in `stack_fields` (here the seed and
# $\sigma$) train as one compiled program. At $\sigma = 0$ the control is not emitted.

# %%
assert icljax("icljax-sweep", "--config=ridge_shrinkage", "--workdir=sweep", "--sweep=sigma=0.0,0.5,1.0") == 0
rows = [json.loads(line) for line in (work / "sweep" / "runs.jsonl").read_text().splitlines()]
display(Markdown("| sigma | gamma | gamma* | s.e. | checks |\n|---|---|---|---|---|\n" + "\n".join(
    f"| {r['sigma']} | {r['gamma']:.4f} | {r['gamma_star']:.4f} | {r['se']:.4f} | {r['checks_passed']}/{r['checks']} |"
    for r in rows)))

# %% [markdown]
# ## 3. The main job
#
# `icljax-reproduce --only=ridge_shrinkage` runs the theorem's key runs and writes REPORT.md; an installed package
# that declares the entry-point group `icljax.experiments` would need no `--plugin`.

# %%
assert icljax("icljax-reproduce", "--only=ridge_shrinkage", "--workdir=job", "--quiet") == 0
print((work / "job" / "REPORT.md").read_text()[:1200])

# %% [markdown]
# ## 4. A check must be able to fail
#
# A plausible bug: the sampler forgets the label noise. Training then lands on the noise-free step, the theory check
# fails **and the control holds**, so the run fails (exit status 1). `icljax.experiment.mutants` runs such bugs
# against a theorem's science gate; built-in theorems declare at least three each.

# %%
import importlib  # noqa: E402

sys.path.insert(0, str(work))
ridge = importlib.import_module("ridge_shrinkage")
from icljax.experiment import Mutant, configs, driver, fields, mutants  # noqa: E402

bug = Mutant("noise_ignored", "ridge_shrinkage:features",
             lambda original: lambda key, c, m: original(key, fields.replace(c, sigma=0.0), m),
             "the sampler forgets the label noise", ("gamma_star", "noise_free"))
with mutants.applied(bug):
  mutated = driver.run(configs.load("ridge_shrinkage"), work / "mutated", printer=lambda s: None)
print(mutated["status"], [(c["entry"], c["kind"], c["status"]) for c in mutated["comparisons"]])
assert mutated["status"] == "fail"
