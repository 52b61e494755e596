"""mkdocs hooks: the pages generated from the code's own declarations, so the site cannot drift from it.

* ``theorems/<name>.md``: every registered theorem's page, from the ``page.md`` in its folder, with the markers
  ``<!-- fields -->`` (the field table of each preset, from the config declaration), ``<!-- tolerances -->`` (its
  tolerance table with each source), ``<!-- mutants -->`` (its code-path mutants and the checks that kill them),
  ``<!-- presets -->`` (each packaged config's command and runtime) and ``<!-- main_job -->`` (its main-job runs,
  key figures marked) replaced;
* ``reference/tolerances.md`` and ``reference/mutants.md``: every theorem's table in one page;
* ``api/<module>.md``: the API reference of every public module (mkdocstrings);
* the navigation, with the theorems in registration order.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from mkdocs.structure.files import File

import icljax
from icljax.experiment import configs, fields, markdown, mutants, registry

ROOT = Path(__file__).resolve().parents[1]
API_SKIP = ("icljax.apps", "icljax.results", "icljax._pytree")


def _theorem_page(name: str) -> str:
  experiment = registry.get(name)
  if experiment.page is None or not Path(experiment.page).exists():
    raise FileNotFoundError(f"theorem {name} has no docs page (Experiment.page = {experiment.page})")
  text = Path(experiment.page).read_text()
  presets = "\n".join(f"### `{p.name}`\n\n```bash\n{p.doc.strip().splitlines()[0]}\n```\n\n"
                      + markdown.plain_text("\n".join(p.doc.strip().splitlines()[1:]).strip()) + "\n"
                      for p in experiment.presets)
  field_tables = "\n".join(f"#### `{p.name}`\n\n" + fields.markdown(experiment.config, configs.load(p.name).to_dict())
                           + "\n" for p in experiment.presets)
  variants = "\n".join(f"- `{k}`: " + ", ".join(f"`{f}={v!r}`" for f, v in vals.items())
                       for k, vals in experiment.variants.items())
  if variants:
    field_tables += "\n**Named variants** (`--config=PRESET:<variant>`):\n\n" + variants + "\n"
  field_tables += "\n**`quick`**: " + ", ".join(f"`{f}={v!r}`" for f, v in experiment.quick.items()) + "\n"
  runs = markdown.markdown_table(["run (`--config=`)", "figure", "key figure"],
                               [[f"`{r.spec}`", r.figure or "", "yes" if r.key else ""] for r in experiment.main_job])
  replacements = {"<!-- presets -->": presets, "<!-- fields -->": field_tables,
                  "<!-- tolerances -->": markdown.table_markdown(f"{name}: tolerance table", experiment.tolerances),
                  "<!-- mutants -->": mutants.markdown([experiment]), "<!-- main_job -->": runs}
  for marker, content in replacements.items():
    text = text.replace(marker, content)
  return text


def _api_modules() -> list[str]:
  out = ["icljax"]
  for info in pkgutil.walk_packages(icljax.__path__, "icljax."):
    if info.name.startswith(API_SKIP) or info.name.rsplit(".", 1)[-1].startswith("_"):
      continue
    module = importlib.import_module(info.name)
    if not info.ispkg or getattr(module, "__all__", None):
      out.append(info.name)
  return out


def on_files(files, config):
  del config
  for name in registry.names():
    files.append(File.generated(_CONFIG[0], f"theorems/{name}.md", content=_theorem_page(name)))
  every = [registry.get(n) for n in registry.names()]
  tables = "\n\n".join(markdown.table_markdown(f"{e.name}: {e.title}", e.tolerances) for e in every)
  files.append(File.generated(_CONFIG[0], "reference/tolerances.md", content=(
      "# Tolerance tables\n\nEvery check of every theorem names one entry of its theorem's table: its value, how it "
      "applies, its kind and where the number comes from. Generated from the code.\n\n" + tables + "\n")))
  files.append(File.generated(_CONFIG[0], "reference/mutants.md", content=(
      "# Code-path mutants\n\nEach row plants one plausible bug in one library function and runs the theorem's "
      "science gate, which must fail on every named check (`tests/test_mutants.py`). Generated from the code.\n\n"
      + mutants.markdown(every) + "\n")))
  for module in _api_modules():
    files.append(File.generated(_CONFIG[0], f"api/{module}.md", content=f"# `{module}`\n\n::: {module}\n"))
  return files


_CONFIG: list = [None]


def on_config(config):
  _CONFIG[0] = config
  theorems = [{registry.get(n).title: f"theorems/{n}.md"} for n in registry.names()]
  tutorials = sorted(p.name for p in (ROOT / "docs" / "tutorials").glob("*.py"))
  config["nav"] = [
      {"Home": "index.md"},
      {"Concepts": ["concepts/checks.md", "concepts/configs.md", "concepts/runs.md"]},
      {"Theorems": theorems},
      {"Tutorials": [f"tutorials/{t}" for t in tutorials]},
      {"Reference": ["reference/tolerances.md", "reference/mutants.md",
                     *({m: f"api/{m}.md"} for m in _api_modules())]},
  ]
  return config
