"""A theorem needs no new infrastructure: the README's outside theorem (one file) runs through a single run, a sweep
and the main job in process, its negative control fails the run when it holds, registration checks it against its
declarations, and an installed package that declares the entry-point group ``icljax.experiments`` is found by the
three commands with no flag (subprocesses).

The theorem: one-parameter linear attention y_hat = gamma x_q^T X^T y / n on x ~ N(0, I_d), w* ~ N(0, I/d), label
noise sigma; its population optimum is gamma* = n/(n+d+1+d sigma^2) (derived in the file's docstring).
"""

import dataclasses
import json
import os
import pathlib
import subprocess
import sys

import pytest

from icljax.experiment import configs, driver, fields, grid, main_job, registry
from tests.test_readme import readme_theorem


@pytest.fixture(scope="module")
def example(tmp_path_factory) -> pathlib.Path:
  """The README's theorem, saved as a file."""
  path = tmp_path_factory.mktemp("readme") / "ridge_shrinkage.py"
  path.write_text(readme_theorem()[0])
  return path


@pytest.fixture()
def ridge(example):
  [experiment] = registry.load_plugin(str(example))
  yield experiment
  registry.unregister(experiment.name)


def test_outside_theorem_runs_alone_in_a_sweep_and_in_the_report(ridge, tmp_path):
  summary = driver.run(configs.load("ridge_shrinkage"), tmp_path / "run", printer=lambda s: None)
  assert summary["status"] == "pass" and summary["name"] == "ridge_shrinkage"
  assert [(c["entry"], c["kind"], c["holds"]) for c in summary["comparisons"]] == [
      ("gamma_star", "theory", True), ("noise_free", "control", False)]
  assert (tmp_path / "run" / "figures" / "gamma.png").exists()

  base = configs.load("ridge_shrinkage:quick,prompts=20000,steps=60")
  index = grid.run(base, tmp_path / "sweep", grid.parse("sigma=0.0,1.0;seed=0,1", base), printer=lambda s: None)
  assert len(index) == 4 and all(r["status"] == "pass" for r in index)
  assert {r["dir"].split("-")[0] for r in index} == {"ridge_shrinkage", "ridge_shrinkage_seed1",
                                                     "ridge_shrinkage_sigma0", "ridge_shrinkage_seed1_sigma0"}
  # At sigma = 0 the noise-free step is the optimum: the control cannot tell them apart and is not emitted.
  rows = {(r["sigma"], r["seed"]): r for r in index}
  assert rows[(0.0, 0)]["checks"] == 1 and rows[(1.0, 0)]["checks"] == 2

  report, failed, table = main_job.run(tmp_path / "job", only=["ridge_shrinkage"], printer=lambda s: None)
  text = report.read_text()
  assert not failed and "ridge_shrinkage" in table and "over 1 runs." in text and "not finished" not in text
  assert "## Linear attention learns in-context ridge shrinkage" in text


def test_a_control_that_holds_fails_the_run(ridge, tmp_path, monkeypatch):
  """Mutation: a theorem whose training ignores the noise (the model sees noise-free labels) lands on the noise-free
  step, so its control holds and the run fails."""
  module = sys.modules[ridge.plan.__module__]
  original = module.features
  monkeypatch.setattr(module, "features", lambda key, c, m: original(key, fields.replace(c, sigma=0.0), m))
  summary = driver.run(configs.load("ridge_shrinkage"), tmp_path / "run", printer=lambda s: None)
  status = {c["entry"]: c["status"] for c in summary["comparisons"]}
  assert summary["status"] == "fail" and status == {"gamma_star": "fail", "noise_free": "fail"}


def test_registration_checks_the_declarations(ridge):
  with pytest.raises(ValueError, match="not a declared field"):
    registry.check(dataclasses.replace(ridge, quick={"promts": 10}))
  with pytest.raises(ValueError, match="stack_fields"):
    registry.check(dataclasses.replace(ridge, stack_fields=("seed", "sigmaa")))
  with pytest.raises(ValueError, match="names no preset"):
    registry.check(dataclasses.replace(ridge, main_job=(main_job.MainJobRun("ridge"),)))
  with pytest.raises(ValueError, match="is not a variant"):
    registry.check(dataclasses.replace(ridge, main_job=(main_job.MainJobRun("ridge_shrinkage", ("fast",)),)))
  with pytest.raises(ValueError, match="config.sigma"):
    registry.check(dataclasses.replace(ridge, main_job=(main_job.MainJobRun("ridge_shrinkage", (),
                                                                            {"sigma": -1.0}),)))


def _installed_package(root: pathlib.Path) -> dict[str, str]:
  """A package as pip installs it: the module and a dist-info whose entry points name the theorem."""
  site = root / "site"
  (site / "ridge_pkg").mkdir(parents=True)
  (site / "ridge_pkg" / "__init__.py").write_text(readme_theorem()[0])
  info = site / "ridge_pkg-0.1.dist-info"
  info.mkdir()
  (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ridge-pkg\nVersion: 0.1\n")
  (info / "entry_points.txt").write_text("[icljax.experiments]\nridge = ridge_pkg:EXPERIMENT\n")
  return dict(os.environ, PYTHONPATH=str(site) + os.pathsep + os.environ.get("PYTHONPATH", ""))


@pytest.mark.slow
def test_an_installed_package_is_found_by_its_entry_point_in_all_three_commands(tmp_path):
  env = _installed_package(tmp_path)
  bin_dir = pathlib.Path(sys.executable).parent
  run = lambda *args: subprocess.run([str(bin_dir / args[0]), *args[1:], "--quiet"], env=env, cwd=tmp_path,
                                     capture_output=True, text=True, timeout=300)
  listed = subprocess.run([str(bin_dir / "icljax-run"), "--list"], env=env, capture_output=True, text=True,
                          timeout=120)
  assert "ridge_shrinkage" in listed.stdout and "lsa_isotropic" in listed.stdout
  out = run("icljax-run", "--config=ridge_shrinkage:quick,prompts=20000,steps=60", "--workdir=run")
  assert out.returncode == 0, out.stderr
  assert json.loads((tmp_path / "run" / "summary.json").read_text())["status"] == "pass"
  out = run("icljax-sweep", "--config=ridge_shrinkage:quick,prompts=20000,steps=60", "--workdir=sweep",
            "--sweep=sigma=0.5,1.0")
  assert out.returncode == 0, out.stderr
  assert len((tmp_path / "sweep" / "runs.jsonl").read_text().splitlines()) == 2
  out = run("icljax-reproduce", "--only=ridge_shrinkage", "--workdir=job")
  assert out.returncode == 0, out.stderr
  assert "2/2 checks pass (theory 1/1, control 1/1) over 1 runs." in (tmp_path / "job" / "REPORT.md").read_text()
  # A sweep with a failing point exits 1 (so does a run): too few steps leave gamma far from gamma*.
  out = run("icljax-sweep", "--config=ridge_shrinkage:quick,steps=1,log_every=1", "--workdir=bad",
            "--sweep=seed=0,1")
  assert out.returncode == 1 and "with a failing check" in out.stdout + out.stderr
