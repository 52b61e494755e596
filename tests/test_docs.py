"""The documentation ships the science: every registered theorem has its page with the seven required parts (the
docs build fills the field, tolerance, mutant and main-job tables from the declarations), the code cites papers
and pages, never a "digest", and the site builds strictly with the tutorials executed."""

import pathlib
import re
import subprocess
import sys

import pytest

from icljax.experiment import registry

ROOT = pathlib.Path(__file__).resolve().parents[1]
SECTIONS = ("## Claim", "## Setting", "## What is checked and why", "## Fields", "## Tolerances",
            "## Code-path mutants", "## Where the paper and the numbers disagree", "## Reproducing the figures")
MARKERS = ("<!-- fields -->", "<!-- tolerances -->", "<!-- mutants -->", "<!-- main_job -->", "<!-- presets -->")


@pytest.mark.parametrize("name", list(registry.names()))
def test_every_theorem_has_its_page_with_the_required_parts(name):
  experiment = registry.get(name)
  assert experiment.page is not None and experiment.page.exists(), f"{name} has no docs page"
  text = experiment.page.read_text()
  positions = [text.find(s + "\n") for s in SECTIONS]
  missing = [s for s, p in zip(SECTIONS, positions) if p < 0]
  assert not missing, f"{experiment.page}: missing sections {missing}"
  assert positions == sorted(positions), f"{experiment.page}: sections out of order"
  assert all(m in text for m in MARKERS), f"{experiment.page}: missing markers"
  assert text.startswith("# "), f"{experiment.page}: the page starts with its title"
  checked = text.split("## What is checked and why")[1].split("## Fields")[0]
  for entry in experiment.tolerances:
    assert f"`{entry}`" in checked, f"{experiment.page}: no derivation names the tolerance entry `{entry}`"


def test_the_code_never_cites_a_digest():
  hits = [f"{p.relative_to(ROOT)}:{i}" for p in (ROOT / "icljax").rglob("*") if p.suffix in (".py", ".md")
          for i, line in enumerate(p.read_text().splitlines(), 1) if re.search("digest", line, re.I)]
  assert not hits, hits[:20]


@pytest.mark.slow
def test_the_site_builds_strictly_with_the_tutorials_executed(tmp_path):
  """``mkdocs build --strict``: any warning (a broken link, a missing page, a docstring mkdocstrings cannot read, a
  tutorial cell that raises) fails the build."""
  out = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                       cwd=ROOT, capture_output=True, text=True, timeout=900)
  assert out.returncode == 0, out.stderr[-6000:]
  for name in registry.names():
    assert (tmp_path / "site" / "theorems" / name / "index.html").exists()
