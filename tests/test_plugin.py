"""A theorem needs no new infrastructure: this file defines a tiny experiment (its own sampler, model and one
closed-form check) and runs it through a single run, a sweep and the main job's report builder, with no change to
library code.

The theorem: prompts hold n draws x_i ~ N(mu, 1) with mu ~ N(0, 1); a one-parameter model predicts
mu_hat = w * mean(x). The population loss E(mu_hat - mu)^2 = (1 - w)^2 + w^2/n is minimised at the posterior-mean
shrinkage w* = n/(n+1), with loss 1/(n+1).
"""

import dataclasses

import jax
import jax.numpy as jnp
import ml_collections
import optax
import pytest

from icljax import plots, prng, validation
from icljax.experiment import (
  Checker,
  Evaluation,
  Experiment,
  MainJobRun,
  Plan,
  Tolerance,
  driver,
  grid,
  main_job,
  registry,
  specs,
)
from icljax.experiment import report as report_builder

TOLERANCES = {"w_star": Tolerance(0.02, "rel", "measured", "SGD on 256 fresh prompts for 300 steps with a decaying "
                                  "step: the stationary noise of w is < 0.5%"),
              "unbiased": Tolerance(0.99, "min", "paper", "a (made-up) paper's claim: the learned estimate is "
                                    "unbiased, w = 1", kind="claim",
                                    disputed="the posterior mean shrinks: w* = n/(n+1) < 1 at every n")}


@dataclasses.dataclass(frozen=True)
class Setup:
  run: specs.RunSpec
  n: int
  batch_size: int
  lr: float


def setup(config):
  return Setup(run=specs.run_spec(config), n=validation.integer("config.n", config.n, low=1),
               batch_size=validation.integer("config.batch_size", config.batch_size, low=1),
               lr=validation.real("config.lr", config.lr, low=0.0, low_open=True))


def sample(key, n, batch_size):
  k_mu, k_x = jax.random.split(key)
  mu = jax.random.normal(k_mu, (batch_size,))
  return {"x": mu[:, None] + jax.random.normal(k_x, (batch_size, n)), "mu": mu}


def apply(params, batch):
  return params["w"] * batch["x"].mean(-1)


def plan(s: Setup) -> Plan:
  def objective(params, key, hparams):
    del hparams
    batch = sample(key, s.n, s.batch_size)
    return jnp.mean((apply(params, batch) - batch["mu"]) ** 2)

  schedule = optax.cosine_decay_schedule(s.lr, s.run.steps, alpha=0.01)
  return Plan(objective=objective, params={"w": jnp.zeros(())}, hparams=None, optimizer=optax.sgd(schedule),
              data_key=prng.stream(s.run.seed, "data"), context=s.n / (s.n + 1),
              track=lambda p: {"w": float(p["w"])})


def evaluate(s, w_star, params, rows):
  c = Checker(TOLERANCES)
  c("w_star", "w vs n/(n+1)", w_star, float(params["w"]))
  c("unbiased", "w (claimed unbiased)", 1.0, float(params["w"]))
  return Evaluation(checks=c.checks, scalars={"setting": f"n={s.n}", "w": float(params["w"]), "w_star": w_star},
                    arrays={"w": params["w"]}, notes=[f"{len(rows)} logged steps"])


def figures(inp):
  return [plots.curves(inp.fig_dir / "w.png", inp.metrics, ["w"], references={"n/(n+1)": inp.summary["scalars"][
      "w_star"]}, title="shrinkage", ylabel="w")]


def get_config(arg=None):
  del arg
  c = ml_collections.ConfigDict()
  c.experiment, c.name = "mean_shrinkage", "mean_shrinkage"
  c.n, c.batch_size, c.lr, c.steps, c.seed, c.log_every = 4, 256, 0.3, 300, 0, 100
  return c


@pytest.fixture()
def plugin(tmp_path):
  config_file = tmp_path / "mean_shrinkage.py"
  config_file.write_text("from tests.test_plugin import get_config  # noqa: F401\n")
  experiment = registry.register(Experiment(
      name="mean_shrinkage", title="Plug-in: in-context mean estimation learns posterior shrinkage",
      claim="w -> n/(n+1).", setup=setup, plan=plan, evaluate=evaluate, figures=figures, tolerances=TOLERANCES,
      stack_fields=("seed",), main_job=(MainJobRun(str(config_file)),)))
  yield experiment
  registry.unregister("mean_shrinkage")


def test_plugin_runs_alone_in_a_sweep_and_in_the_report(plugin, tmp_path):
  summary = driver.run(get_config(), tmp_path / "run", printer=lambda s: None)
  assert summary["status"] == "disagrees" and not summary["all_passed"] and summary["title"] == plugin.title
  assert [c["status"] for c in summary["comparisons"]] == ["pass", "disagrees"]
  assert summary["comparisons"][0]["entry"] == "w_star" and (tmp_path / "run" / "figures" / "w.png").exists()

  index = grid.run(get_config(), tmp_path / "sweep", grid.parse("n=2,8;seed=0,1", get_config()),
                   printer=lambda s: None)
  assert len(index) == 4 and all(r["status"] == "disagrees" for r in index)
  assert {round(r["w_star"], 6) for r in index} == {round(2 / 3, 6), round(8 / 9, 6)}

  report, failed, table = main_job.run(tmp_path / "job", only=["mean_shrinkage"], printer=lambda s: None)
  assert table.startswith("| result |") and "mean_shrinkage" in table
  text = report.read_text()
  assert not failed and "## Plug-in: in-context mean estimation" in text and "w vs n/(n+1)" in text
  disagreements = text.split("## Where the papers and the numbers disagree")[1].split("\n## ")[0]
  assert "w (claimed unbiased)" in disagreements and "w* = n/(n+1) < 1" in disagreements


def test_headline_profile_reports_itself_and_the_full_job_reuses_its_runs(plugin, tmp_path):
  report, failed, _ = main_job.run(tmp_path / "job", profile="headline", only=["mean_shrinkage"],
                                   printer=lambda s: None)
  names = registry.names()
  full_runs = sum(len(registry.get(n).main_job) for n in names)
  assert not failed and f"**Headline profile**: the first run of each result at full size ({len(names)} of the " \
      f"main job's {full_runs} runs)" in report.read_text()
  lines = []
  main_job.run(tmp_path / "job", only=["mean_shrinkage"], printer=lines.append)
  assert "1 runs (1 finished, not redone)" in lines[0] and "Headline profile" not in report.read_text()


def test_plugin_check_can_fail(plugin, tmp_path):
  """Mutation: training too briefly leaves w far from n/(n+1), and the check says so."""
  config = get_config()
  config.steps, config.log_every = 3, 3
  summary = driver.run(config, tmp_path / "short", printer=lambda s: None)
  assert summary["status"] == "fail" and summary["comparisons"][0]["status"] == "fail"


def test_a_claim_contradicted_by_several_runs_is_stated_once(plugin, tmp_path):
  """REPORT.md's disagreement section: the disputed text once, each further run nested under it with its figure."""
  summary = driver.run(get_config(), tmp_path / "run", printer=lambda s: None)
  runs_ = [("first", tmp_path / "run", summary), ("second", tmp_path / "run", summary)]
  lines = report_builder.disagreement_section(runs_, tmp_path)
  text = "\n".join(lines)
  disputed = next(c["disputed"] for c in summary["comparisons"] if c["status"] == "disagrees")
  assert text.count(disputed) == 1 and "run `first`" in text
  nested = [line for line in lines if line.startswith("  - also ")]
  assert len(nested) == 1 and "run `second`" in nested[0] and "Figures:" in nested[0]
