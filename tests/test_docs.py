"""The documentation ships the science: every registered theorem has its page with the required parts (the docs
build fills the field, tolerance, mutant and main-job tables from the declarations) and a derivation naming each of
its tolerance entries, and the code cites papers and pages, never a "digest". The site itself is built strictly,
tutorials executed, by README command (2) (``mkdocs build --strict``), which ``.ci/run`` runs."""

import pathlib
import re

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
          for i, line in enumerate(p.read_text().splitlines(), 1) if re.search(r"(?<!hex)digest", line, re.I)]
  assert not hits, hits[:20]
