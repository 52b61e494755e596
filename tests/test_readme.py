"""README.md's "Adding a theorem" runs as it stands: its Python block saved as ``ridge_shrinkage.py`` and its three
commands run verbatim (with this environment's executables), in subprocesses; the runs pass, including the negative
control, and the report names the theorem."""

import json
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def readme_theorem() -> tuple[str, list[str]]:
  """The README's theorem (its Python block) and the commands that follow it."""
  section = (ROOT / "README.md").read_text().split("## Adding a theorem")[1].split("\n## ")[0]
  [code] = re.findall(r"```python\n(.*?)```", section, flags=re.S)
  [commands] = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
  return code, [line for line in commands.splitlines() if line.strip()]


def test_the_readme_theorem_is_short_and_registers_itself():
  code, commands = readme_theorem()
  assert len(code.splitlines()) < 80 and "register(Experiment(" in code and 'kind="control"' in code
  assert [c.split()[0] for c in commands] == [".venv/bin/icljax-run", ".venv/bin/icljax-sweep",
                                              ".venv/bin/icljax-reproduce"]


@pytest.mark.slow
def test_the_readme_theorem_runs_through_the_three_commands_as_written(tmp_path):
  code, commands = readme_theorem()
  (tmp_path / "ridge_shrinkage.py").write_text(code)
  bin_dir = str(pathlib.Path(sys.executable).parent) + "/"
  for command in commands:
    out = subprocess.run(command.replace(".venv/bin/", bin_dir) + " --quiet", shell=True, cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, (command, out.stderr[-2000:])
  summary = json.loads((tmp_path / "runs" / "ridge" / "summary.json").read_text())
  assert [(c["entry"], c["kind"], c["status"]) for c in summary["comparisons"]] == [
      ("gamma_star", "theory", "pass"), ("noise_free", "control", "pass")]
  assert len((tmp_path / "sweeps" / "ridge" / "runs.jsonl").read_text().splitlines()) == 3
  assert "## Linear attention learns in-context ridge shrinkage" in (tmp_path / "reports" / "ridge" /
                                                                     "REPORT.md").read_text()


def test_ci_runs_exactly_the_readme_test_command():
  commands = re.findall(r"^(python3 -m venv .*)$", (ROOT / "README.md").read_text(), flags=re.M)
  assert len(commands) == 2 and "icljax-reproduce" in commands[0] and "pytest" in commands[1]
  assert commands[1] in (ROOT / ".ci" / "run").read_text()
  assert all("-c constraints.txt" in c for c in commands)
