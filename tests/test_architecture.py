"""The layout's rules, checked on the source: small modules and functions, one-way imports (models never import
theory; the library floors never import the experiment layer), no function-local imports, Google docstrings with
Args/Returns and a Reference line on every public function and method, a sweep engine that knows no theorem, one
name per theorem across its layers, and a wheel with one top-level name that carries the theorems' pages."""

import ast
import pathlib
import re
import subprocess
import sys
import zipfile

import pytest

from icljax.experiment import registry

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "icljax"
SOURCES = sorted(PACKAGE.rglob("*.py"))
OPTIONAL = {"flax", "torch"}    # the only modules a function may import locally (optional extras)


def _tree(path):
  return ast.parse(path.read_text())


def _functions(tree):
  return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_and_functions_are_small(path):
  assert len(path.read_text().splitlines()) <= 300, f"{path} has more than 300 lines"
  for fn in _functions(_tree(path)):
    assert fn.end_lineno - fn.lineno + 1 <= 60, f"{path}:{fn.lineno} {fn.name} has more than 60 lines"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_function_local_imports_but_optional_dependencies(path):
  for fn in _functions(_tree(path)):
    for node in ast.walk(fn):
      if isinstance(node, ast.Import | ast.ImportFrom):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
        assert all(n.split(".")[0] in OPTIONAL for n in names), f"{path}:{node.lineno} imports {names} locally"


def _imports(path):
  out = set()
  for node in ast.walk(_tree(path)):
    if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("icljax"):
      out.add(node.module)
      out.update(f"{node.module}.{a.name}" for a in node.names)
    elif isinstance(node, ast.Import):
      out.update(a.name for a in node.names if a.name.startswith("icljax"))
  return out


def test_imports_flow_one_way():
  """theory never imports estimators (or anything above it); the library floors never import the experiment
  layer, the results or the apps."""
  floors = ["tasks", "models", "theory", "estimators", "structure", "train", "sweep", "runs", "artefacts", "plots",
            "stats", "optim", "prng", "validation"]
  above = ("icljax.experiment", "icljax.results", "icljax.apps")
  for path in SOURCES:
    rel = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
    imports = _imports(path)
    if rel == "theory":
      assert not any(i.startswith("icljax.estimators") for i in imports), path
    if rel in ("models", "tasks"):
      assert not any(i.startswith(("icljax.theory", "icljax.estimators")) for i in imports), f"{path} imports theory"
    if rel in floors:
      assert not any(i.startswith(above) for i in imports), f"{path} imports {sorted(imports)}"


def test_the_sweep_engine_and_driver_know_no_experiment():
  names = registry.names()
  for module in ("sweep.py", "experiment/driver.py", "experiment/grid.py", "experiment/main_job.py",
                 "experiment/report.py"):
    text = (PACKAGE / module).read_text()
    for name in names:
      assert not re.search(rf"['\"]{name}['\"]", text), f"{module} names the experiment {name!r}"


def _public_functions():
  for path in SOURCES:
    if any(part.startswith("_") for part in path.relative_to(PACKAGE).with_suffix("").parts):
      continue
    tree = _tree(path)
    nodes = list(tree.body)
    for node in tree.body:
      if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
        nodes += [n for n in node.body if isinstance(n, ast.FunctionDef)]
    for node in nodes:
      if isinstance(node, ast.FunctionDef) and not node.name.startswith("_") and not _is_property(node):
        yield pytest.param(path, node, id=f"{path.relative_to(PACKAGE)}:{node.lineno}:{node.name}")


def _is_property(node) -> bool:
  return any(getattr(d, "id", getattr(d, "attr", "")) in ("property", "cached_property") for d in node.decorator_list)


@pytest.mark.parametrize(("path", "node"), list(_public_functions()))
def test_public_functions_have_google_docstrings_and_a_reference(path, node):
  doc = ast.get_docstring(node) or ""
  has_args = bool([a for a in node.args.args + node.args.kwonlyargs if a.arg not in ("self", "cls")])
  assert not has_args or "Args:" in doc, f"{path}:{node.name} has no Args: section"
  assert any(s in doc for s in ("Returns:", "Yields:", "Raises:")), f"{path}:{node.name} has no Returns: section"
  assert "Reference:" in doc, f"{path}:{node.name} names no Reference: (the paper's section, or the docs page)"


def test_each_theorem_carries_one_name_across_its_layers():
  """A built-in theorem's model and theory modules start with its name (tasks are families shared by theorems)."""
  for name in registry.names():
    module = registry.get(name).plan.__module__
    if not module.startswith("icljax.results."):
      continue
    folder = module.split(".")[2]
    assert folder == name, f"theorem {name} lives in results/{folder}"
    plan_imports = {i for i in _imports(PACKAGE / "results" / folder / "plan.py") if i.startswith("icljax.models.")}
    for imported in plan_imports:
      module_name = imported.split(".")[2]
      assert module_name.startswith(name.split("_")[0]), f"{name}'s plan imports the model {imported}"


def test_the_wheel_installs_one_top_level_package(tmp_path):
  proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
                        capture_output=True, text=True, timeout=300)
  assert proc.returncode == 0, proc.stderr[-2000:]
  wheel = next(tmp_path.glob("icljax-*.whl"))
  with zipfile.ZipFile(wheel) as zf:
    top = {n.split("/")[0] for n in zf.namelist() if not n.split("/")[0].endswith((".dist-info", ".data"))}
    assert top == {"icljax"}, top
    pages = {n for n in zf.namelist() if n.endswith("/page.md")}
    assert {f"icljax/results/{name}/page.md" for name in registry.names()} <= pages
